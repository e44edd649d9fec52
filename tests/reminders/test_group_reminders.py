"""The tally-cycle reminder also goes to the group chat of a village that has not reported."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from bot.core.messages import Reply
from bot.handlers.nontext import count_message
from bot.reminders.delivery import OutboxDelivery
from bot.reminders.policy import DeliveryLimits
from bot.reminders.ratelimit import RateLimiter
from bot.services import Services
from db.models import GroupChat, OutboxMessage, Tally
from tests.factories import add_person, village_id
from tests.helpers import FakeClock
from tests.reminders.util import FakeTime, RecordingSender, local, only_test_plan, rows, run_pass


def _link(services: Services, village: str, chat_id: str, channel: str = "zalo") -> None:
    with Session(services.engine) as session:
        session.add(
            GroupChat(channel=channel, chat_id=chat_id, village_id=village_id(services, village))
        )
        session.commit()


def test_the_first_tally_reminder_goes_to_the_village_group(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services)
    add_person(services, name="Tổ xóm 2", roles=("team",), village="Xóm 2", chat_id="5002")
    _link(services, "Xóm 2", "zgr-xom2")
    _link(services, "Xóm 2", "-100222", channel="telegram")
    _link(services, "Xóm 1", "zgr-xom1")
    with Session(services.engine) as session:
        session.add(
            Tally(
                village_id=village_id(services, "Xóm 1"),
                period=dt.date(2026, 3, 1),
                code="vneid",
                value=4,
            )
        )
        session.commit()
    for day in (19, 20, 20, 25, 31):
        clock.set(local(2026, 3, day, 8))
        run_pass(services)
    groups = rows(services, kind="tally_group")
    assert sorted((r.channel, r.chat_id, r.person_id) for r in groups) == [
        ("telegram", "-100222", None),
        ("zalo", "zgr-xom2", None),
    ]
    assert all(r.dedupe_key.startswith("tally:2026-03:20:") for r in groups)
    text = groups[0].content["text"]
    assert "Xóm 2" in text and "vneid 45 cks 12" in text and "Tổ xóm 2" not in text


def test_the_group_reminder_is_cancelled_when_the_village_reports(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services)
    _link(services, "Xóm 2", "zgr-xom2")
    clock.set(local(2026, 3, 20, 8))
    run_pass(services)
    with Session(services.engine) as session:
        session.add(
            Tally(
                village_id=village_id(services, "Xóm 2"),
                period=dt.date(2026, 3, 1),
                code="vneid",
                value=4,
            )
        )
        session.commit()
    clock.set(local(2026, 3, 20, 8, 1))
    run_pass(services)
    assert [r.status for r in rows(services, kind="tally_group")] == ["cancelled"]


async def test_rate_limiter_paces_a_group_at_its_own_limit() -> None:
    fake_time = FakeTime()
    limiter = RateLimiter(
        30, 1, monotonic=fake_time, sleep=fake_time.sleep, margin=0, group_per_minute=20
    )
    await limiter.acquire("-100", group=True)
    await limiter.acquire("-100", group=True)
    assert fake_time.now - 1000 >= 3.0  # 20 a minute: one every 3 s
    start = fake_time.now
    await limiter.acquire("person")
    await limiter.acquire("person")
    assert 1.0 <= fake_time.now - start < 1.5  # a person's chat keeps its 1 s gap


async def test_outbox_paces_rows_to_a_linked_group(services: Services, clock: FakeClock) -> None:
    _link(services, "Xóm 2", "zgr-xom2")
    add_person(services, name="Người 1", channel="zalo", chat_id="zu-1")
    with Session(services.engine) as session:
        for index, chat in enumerate(["zgr-xom2", "zgr-xom2", "zgr-xom2", "zu-1"]):
            session.add(
                OutboxMessage(
                    channel="zalo",
                    chat_id=chat,
                    kind="tally_group",
                    content=Reply(text=f"tin {index}").to_dict(),
                    dedupe_key=f"g:{index}",
                    due_at=clock(),
                )
            )
        session.commit()
    fake_time = FakeTime()
    sender = RecordingSender("zalo")
    delivery = OutboxDelivery(
        services.engine,
        {"zalo": sender},
        clock=clock,
        monotonic=fake_time,
        sleep=fake_time.sleep,
        concurrency=1,
        limits=DeliveryLimits(zalo_per_group_per_minute=12),
    )
    await delivery.run_until_idle()
    assert [chat for chat, _text in sender.delivered].count("zgr-xom2") == 3
    assert fake_time.now - 1000 >= 10.0  # 12 a minute: 5 s between the group's messages


def test_the_monday_digest_counts_unreadable_messages(services: Services, clock: FakeClock) -> None:
    only_test_plan(services)
    add_person(services, name="Văn phòng", roles=("office",), chat_id="4001")
    with Session(services.engine) as session:
        count_message(session, dt.date(2026, 3, 12), "zalo", "voice")
        count_message(session, dt.date(2026, 3, 13), "zalo", "voice")
        count_message(session, dt.date(2026, 3, 13), "telegram", "voice")
        count_message(session, dt.date(2026, 3, 14), "zalo", "protected")
        count_message(session, dt.date(2026, 3, 1), "zalo", "voice")  # more than 7 days ago
        session.commit()
    clock.set(local(2026, 3, 16, 8))  # Monday
    run_pass(services)
    [digest] = rows(services, kind="digest")
    assert "3 tin nhắn thoại, 1 tin từ tài khoản được bảo vệ" in digest.content["text"]


def test_an_announcement_can_go_to_a_village_group_chat(services: Services) -> None:
    from bot.core.people import default_commune_id
    from bot.reminders.broadcasts import create_broadcast, group_label, parse_group

    _link(services, "Xóm 3", "zgr-xom3")
    _link(services, "Xóm 3", "-100333", channel="telegram")
    _link(services, "Xóm 1", "zgr-xom1")
    with Session(services.engine) as session:
        commune = default_commune_id(session)
        assert commune is not None
        group = parse_group(session, commune, "nhom:Xóm 3")
        assert group_label(session, group, "vi") == "nhóm chat của Xóm 3"
        _broadcast, queued = create_broadcast(
            session,
            commune_id=commune,
            group=group,
            text="Chủ nhật họp thôn lúc 8 giờ.",
            sender_name="UBND xã",
            now=services.clock(),
        )
        session.commit()
    assert queued == 2
    sent = rows(services, kind="broadcast_group")
    assert sorted((r.channel, r.chat_id, r.person_id) for r in sent) == [
        ("telegram", "-100333", None),
        ("zalo", "zgr-xom3", None),
    ]
    assert "Chủ nhật họp thôn" in sent[0].content["text"]
