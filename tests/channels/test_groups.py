"""The bot in a village's group chat, with three people, on Zalo and on Telegram.

Each platform runs the whole app (python-telegram-bot against the fake Telegram Bot
API; the Zalo client against the fake Zalo Bot API). Identity, roles and state go by
the person who wrote, every reply goes to the group, and the group never sees a
person's details nor starts a flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.core.messages import Incoming, Reply
from bot.reminders.outbox import enqueue
from bot.services import Services
from db.models import ChatIdentity, ConversationState, GroupChat, Person, Tally
from tests.conftest import channel_settings
from tests.factories import add_person, village_id
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI
from tests.helpers import FakeClock


@dataclass
class Group:
    """One group chat on one platform, and three people in it."""

    fake: Any
    chat: Any  # the group's chat id as the fake reports it
    people: dict[str, Any]  # name → user id
    channel: str

    def say(self, who: str, text: str) -> None:
        user = self.people[who]
        if self.channel == "zalo":
            self.fake.push_group_text(self.chat, user, text, display_name=who)
        else:
            self.fake.push_group_text(self.chat, user, text)

    async def answer(self, count: int) -> str:
        sent = await self.fake.wait_sent(count=count, chat_id=self.chat, method="sendMessage")
        return sent[count - 1].text or ""


def _people(services: Services, channel: str, ids: dict[str, Any]) -> dict[str, int]:
    return {
        "An": add_person(
            services, name="Nguyễn Văn An", roles=("team",), village="Xóm 3",
            channel=channel, chat_id=str(ids["An"]),
        ),
        "Bình": add_person(
            services, name="Trần Thị Bình", roles=("team",), village="Xóm 3",
            channel=channel, chat_id=str(ids["Bình"]),
        ),
    }  # fmt: skip


async def _conversation(group: Group, services: Services, person_ids: dict[str, int]) -> None:
    """Chi (a resident), An and Bình (team members of Xóm 3) talk to the bot in the group."""
    group.say("Chi", "/lienket")
    assert "Chỉ thành viên tổ hoặc cán bộ xã" in await group.answer(1)
    group.say("An", "/lienket")
    assert "nhóm của Xóm 3" in await group.answer(2)
    group.say("An", "vneid 45 cks 12")
    recorded = await group.answer(3)
    assert "Đã ghi cho Xóm 3" in recorded and "45" in recorded and "12" in recorded
    group.say("Bình", "vneid 50")
    assert "thành viên tổ khác đã ghi" in await group.answer(4)
    group.say("An", "vneid 47")
    corrected = await group.answer(5)
    assert "47" in corrected and "45" in corrected
    group.say("Chi", "vneid 60")
    assert "Chỉ thành viên tổ" in await group.answer(6)
    group.say("Chi", "cách kích hoạt định danh điện tử mức 2")
    brief = await group.answer(7)
    assert "Nhắn riêng cho mình để xem đầy đủ" in brief
    group.say("Chi", "/phananh")  # asks for private details: not in a group
    assert "nhắn riêng cho mình" in await group.answer(8)

    texts = [call.text or "" for call in group.fake.sent_to(group.chat, "sendMessage")]
    assert len(texts) == 8  # one answer each, all of them to the group
    for text in texts:
        assert "Nguyễn Văn An" not in text and "Trần Thị Bình" not in text
        assert "1." not in text  # no numbered choices: nobody chooses in a group
    for user in group.people.values():
        assert group.fake.sent_to(user) == []  # nothing went to anyone privately
    if group.channel == "telegram":  # each answer is a reply to the message it answers
        calls = group.fake.sent_to(group.chat, "sendMessage")
        assert all(call.params["reply_parameters"]["message_id"] for call in calls)
    with Session(services.engine) as session:
        tallies = {t.code: (t.value, t.reported_by) for t in session.exec(select(Tally)).all()}
        assert tallies == {"vneid": (47, person_ids["An"]), "cks": (12, person_ids["An"])}
        [link] = session.exec(select(GroupChat)).all()
        assert (link.channel, link.chat_id) == (group.channel, str(group.chat))
        assert link.village_id == village_id(services, "Xóm 3")
        assert link.linked_by == person_ids["An"]
        states = session.exec(select(ConversationState)).all()
        assert all(state.flow is None and state.choices == [] for state in states)
        assert {s.chat_id for s in states} == {f"{group.chat}|{u}" for u in group.people.values()}


async def test_zalo_group_with_three_people(running, settings, fake_zalo: FakeZaloAPI) -> None:
    ids = {"An": "zu-an", "Bình": "zu-binh", "Chi": "zu-chi"}
    async with running(channel_settings(settings, zalo=fake_zalo)) as app:
        person_ids = _people(app.services, "zalo", ids)
        group = Group(fake_zalo, "zgr-xom3", ids, "zalo")
        await _conversation(group, app.services, person_ids)
        # Chi was only ever seen in the group: Zalo does not document that her from.id
        # there is a chat the bot may write to privately.
        assert _private_of(app.services, "zalo") == {
            "zu-an": True,
            "zu-binh": True,
            "zu-chi": False,
        }


async def test_telegram_group_with_three_people(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    ids = {"An": 7001, "Bình": 7002, "Chi": 7003}
    for name, user in ids.items():
        fake_telegram.add_user(user, first_name=name)
    async with running(channel_settings(settings, fake_telegram)) as app:
        person_ids = _people(app.services, "telegram", ids)
        group = Group(fake_telegram, -1001234, ids, "telegram")
        await _conversation(group, app.services, person_ids)
        # On Telegram a private chat's id is the user's id (documented): Chi is reachable.
        assert _private_of(app.services, "telegram") == {"7001": True, "7002": True, "7003": True}


def _private_of(services: Services, channel: str) -> dict[str, bool]:
    with Session(services.engine) as session:
        rows = session.exec(select(ChatIdentity).where(ChatIdentity.channel == channel))
        return {row.chat_id: row.private for row in rows}


def _reply_row(services: Services, person_id: int, key: str, clock: FakeClock) -> str | None:
    """Where a message to this person would go privately (None: nowhere yet)."""
    with Session(services.engine) as session:
        row = enqueue(
            session,
            person_id=person_id,
            kind="reminder",
            reply=Reply(text="Nhắc việc"),
            dedupe_key=key,
            due_at=clock(),
        )
        session.commit()
        return None if row is None else row.chat_id


def test_a_zalo_group_member_is_written_to_privately_only_from_a_private_chat(
    services: Services, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    group = Incoming(
        "zalo", "zgr-1", "Chi", text="xin chào", sender_id="zu-chi", group=True, update_key="g1"
    )
    assert dispatcher.handle(group)  # answered in the group
    with Session(services.engine) as session:
        [chi] = session.exec(select(Person).where(Person.display_name == "Chi")).all()
        assert chi.id is not None
    assert _reply_row(services, chi.id, "k1", clock) is None
    # She writes to the bot privately: the private chat's id is her from.id, as in the docs'
    # private sample (from.id == chat.id): the same person, now reachable there.
    assert dispatcher.handle(Incoming("zalo", "zu-chi", "Chi", text="xin chào", update_key="p1"))
    assert _reply_row(services, chi.id, "k2", clock) == "zu-chi"
    # Writing in the group again does not take that back.
    again = Incoming(
        "zalo", "zgr-1", "Chi", text="xin chào", sender_id="zu-chi", group=True, update_key="g2"
    )
    dispatcher.handle(again)
    assert _private_of(services, "zalo") == {"zu-chi": True}
    with Session(services.engine) as session:
        assert len(session.exec(select(Person).where(Person.display_name == "Chi")).all()) == 1
    # Telegram documents that a user's id is their private chat's id.
    telegram = Incoming(
        "telegram", "-100", "Dũng", text="xin chào", sender_id="7004", sender_private=True,
        group=True, update_key="t1",
    )  # fmt: skip
    dispatcher.handle(telegram)
    with Session(services.engine) as session:
        [dung] = session.exec(select(Person).where(Person.display_name == "Dũng")).all()
        assert dung.id is not None
    assert _reply_row(services, dung.id, "k3", clock) == "7004"


async def test_telegram_group_ignores_what_is_not_for_the_bot(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    async with running(channel_settings(settings, fake_telegram)):
        fake_telegram.push_group_text(-1005, 7001, "mai họp lúc 8 giờ nhé", mention=False)
        fake_telegram.push_group_text(-1005, 7001, "/trogiup@another_bot", mention=False)
        fake_telegram.push_group_text(-1005, 7002, "/trogiup", mention=False)
        [help_text] = await fake_telegram.wait_sent(chat_id=-1005, method="sendMessage")
        assert "Trong nhóm này bạn có thể" in (help_text.text or "")
        assert len(fake_telegram.sent_to(-1005, "sendMessage")) == 1


async def test_zalo_groups_can_be_switched_off(running, settings, fake_zalo: FakeZaloAPI) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo, group_chats=False)):
        fake_zalo.push_group_text("zgr-off", "zu-1", "/trogiup")
        fake_zalo.push_text("zu-1", "/trogiup")
        await fake_zalo.wait_sent(chat_id="zu-1", method="sendMessage")
        assert fake_zalo.sent_to("zgr-off") == []


async def test_group_message_keeps_the_private_conversation(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    """A question in the group does not move the person's private flow along."""
    async with running(channel_settings(settings, zalo=fake_zalo)) as app:
        add_person(app.services, roles=("team",), village="Xóm 3", channel="zalo", chat_id="zu-an")
        fake_zalo.push_text("zu-an", "/baocao")
        [codes] = await fake_zalo.wait_sent(chat_id="zu-an", method="sendMessage")
        assert "1. " in (codes.text or "")
        fake_zalo.push_group_text("zgr-1", "zu-an", "1")
        await fake_zalo.wait_sent(chat_id="zgr-1", method="sendMessage")
        fake_zalo.push_text("zu-an", "1")  # still the private flow's first choice
        sent = await fake_zalo.wait_sent(count=2, chat_id="zu-an", method="sendMessage")
        assert "Ví dụ: 45" in (sent[-1].text or "") or "45" in (sent[-1].text or "")


async def test_linking_by_invite_code_and_by_an_officer(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    from bot.admin.invites import create_invite
    from bot.core.people import default_commune_id

    async with running(channel_settings(settings, zalo=fake_zalo)) as app:
        services = app.services
        add_person(services, name="Văn phòng", roles=("office",), channel="zalo", chat_id="zu-vp")
        with Session(services.engine) as session:
            commune = default_commune_id(session)
            assert commune is not None
            code = create_invite(
                session,
                commune_id=commune,
                role="team",
                village_id=village_id(services, "Xóm 2"),
                now=services.clock(),
            )
            session.commit()
        group = Group(fake_zalo, "zgr-x", {"Dũng": "zu-dung", "VP": "zu-vp"}, "zalo")
        group.say("Dũng", f"/lienket {code}")
        joined = await group.answer(1)
        assert "Xóm 2" in joined and "nhóm của Xóm 2" in joined
        # Dũng never wrote privately: reminders cannot reach him until he does.
        assert "Hãy nhắn riêng cho mình một tin để nhận được lời nhắc." in joined
        group.say("Dũng", f"/lienket {code}")  # used: refused, the link stays
        assert "Xóm 2" not in await group.answer(2)
        group.say("VP", "/lienket")
        assert "/lienket Xóm" in await group.answer(3)
        group.say("VP", "/lienket Xóm 1")
        assert "nhóm của Xóm 1" in await group.answer(4)
        group.say("Dũng", "/lienket")  # a team member cannot move it back
        assert "Chỉ cán bộ xã" in await group.answer(5)
        with Session(services.engine) as session:
            [link] = session.exec(select(GroupChat)).all()
            assert link.village_id == village_id(services, "Xóm 1")


async def test_erasing_my_data_also_forgets_me_in_groups(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo)) as app:
        add_person(app.services, roles=("team",), village="Xóm 3", channel="zalo", chat_id="zu-an")
        fake_zalo.push_group_text("zgr-1", "zu-an", "/lienket")
        await fake_zalo.wait_sent(chat_id="zgr-1", method="sendMessage")
        fake_zalo.push_text("zu-an", "/xoadulieu")
        await fake_zalo.wait_sent(chat_id="zu-an", method="sendMessage")
        fake_zalo.push_text("zu-an", "1")
        [_ask, done] = await fake_zalo.wait_sent(count=2, chat_id="zu-an", method="sendMessage")
        assert "Đã xóa dữ liệu" in (done.text or "")
        with Session(app.services.engine) as session:
            assert session.exec(select(ConversationState)).all() == []
            [link] = session.exec(select(GroupChat)).all()
            assert (link.chat_id, link.linked_by) == ("zgr-1", None)  # the village's, kept


async def test_telegram_privacy_mode_report_by_command(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    """With privacy mode on, a member reports with /baocao@bot (commands always arrive)."""
    async with running(channel_settings(settings, fake_telegram)) as app:
        add_person(
            app.services, roles=("team",), village="Xóm 3", channel="telegram", chat_id="7001"
        )
        username = fake_telegram.bot_user["username"]
        fake_telegram.push_group_text(-1007, 7001, f"/lienket@{username}", mention=False)
        await fake_telegram.wait_sent(chat_id=-1007, method="sendMessage")
        fake_telegram.push_group_text(-1007, 7001, f"/baocao@{username} vneid 45", mention=False)
        sent = await fake_telegram.wait_sent(count=2, chat_id=-1007, method="sendMessage")
        assert "Đã ghi cho Xóm 3" in (sent[-1].text or "") and "45" in (sent[-1].text or "")


async def test_zalo_group_command_after_an_unknown_mention(
    running, settings, fake_zalo: FakeZaloAPI, caplog
) -> None:
    """A bot renamed on Zalo: the name is not known, the command after it still counts."""
    async with running(channel_settings(settings, zalo=fake_zalo, zalo_bot_names="")):
        fake_zalo.push_group_text("zgr-2", "zu-1", "@Trợ lý Xã /trogiup", mention=False)
        [help_text] = await fake_zalo.wait_sent(chat_id="zgr-2", method="sendMessage")
        assert "Trong nhóm này bạn có thể" in (help_text.text or "")
    assert "TOCNS_ZALO_BOT_NAMES" in caplog.text
