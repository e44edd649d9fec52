"""Announcements on the web: write, choose a group, preview, send now or later, follow delivery."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from collections import Counter

from sqlmodel import Session, col, select

from bot.reminders.delivery import OutboxDelivery
from bot.services import Services
from bot.web.forms import parse_moment
from db.models import AuditEntry, Broadcast, GroupChat, OutboxMessage, Person, Unit
from tests.factories import unit_id, village_id
from tests.helpers import FakeClock, add_person
from tests.reminders.util import RecordingSender
from tests.web.conftest import OWN_UNIT, Client, Seeded, SignIn, form_token

HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def _people_of_xom3(services: Services) -> dict[str, int]:
    """Team members of Xóm 3 on each channel (the seeded one is on the console), one unlinked."""
    return {
        "zalo": add_person(
            services,
            name="Vũ Thị Zalo",
            roles=("team",),
            village="Xóm 3",
            channel="zalo",
            chat_id="z-31",
        ),
        "telegram": add_person(
            services,
            name="Ngô Văn Telegram",
            roles=("leader",),
            village="Xóm 3",
            channel="telegram",
            chat_id="4031",
        ),
        "none": add_person(
            services, name="Đinh Thị Chưa Liên Kết", roles=("team",), village="Xóm 3"
        ),
        "elsewhere": add_person(
            services,
            name="Lý Văn Xóm Khác",
            roles=("team",),
            village="Xóm 1",
            channel="telegram",
            chat_id="4011",
        ),
    }


def _outbox(services: Services) -> list[OutboxMessage]:
    with Session(services.engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "broadcast")
                .order_by(col(OutboxMessage.id))
            )
        )


def _audit(services: Services) -> list[AuditEntry]:
    with Session(services.engine) as session:
        return [e for e in session.exec(select(AuditEntry)) if e.action.startswith("broadcast.")]


def _reach_of(page: str, value: str) -> str:
    """The reach line printed next to one group's radio button."""
    match = re.search(
        rf'value="{re.escape(value)}"[^>]*>\s*<span><span class="audience-name">[^<]*</span>\s*'
        r'<span class="audience-reach">([^<]*)</span>',
        page,
    )
    assert match, f"no radio for {value}"
    return html_lib.unescape(match.group(1))


async def _post(client: Client, action: str, data: dict[str, str], token: str) -> str:
    response = await client.post(action, data={"csrf": token, **data}, allow_redirects=False)
    return f"{response.status}\n" + await response.text()


def _senders() -> dict[str, RecordingSender]:
    return {name: RecordingSender(name) for name in ("console", "zalo", "telegram")}


def _received(senders: dict[str, RecordingSender], text: str) -> dict[str, int]:
    """How many chats of each channel received the announcement (other messages aside)."""
    return {
        name: sum(1 for _chat, body in s.delivered if body.endswith(text))
        for name, s in senders.items()
    }


async def test_compose_preview_send_reaches_exactly_the_group(
    services: Services, seeded: Seeded, sign_in: SignIn, clock: FakeClock
) -> None:
    people = _people_of_xom3(services)
    xom3 = f"village:{village_id(services, 'Xóm 3')}"
    client = await sign_in(seeded.office)
    page = await (await client.get("/announcements")).text()
    assert 'href="/announcements" aria-current="page"' in page
    # Each group with who it reaches on each chat, the sender left out.
    assert (
        _reach_of(page, xom3)
        == "Zalo: 1 · Telegram: 1 · Trò chuyện trên màn hình: 1 · chưa liên kết chat: 1"
    )
    assert (
        _reach_of(page, "team")
        == "Zalo: 1 · Telegram: 2 · Trò chuyện trên màn hình: 1 · chưa liên kết chat: 1"
    )
    assert _reach_of(page, "residents") == "chưa ai nhận được"
    assert re.search(r'value="residents"[^>]* disabled', page)
    # The preview shows the message as received, and sends nothing yet.
    text = "Tối nay 19 giờ họp tổ tại nhà văn hóa.\nMang theo điện thoại."
    token = form_token(page)
    response = await client.post(
        "/announcements/preview",
        data={"csrf": token, "text": text, "audience": xom3, "send_at": ""},
    )
    preview = await response.text()
    assert response.status == 200
    assert "3 người (Tổ CNS Xóm 3) sẽ nhận được tin sau:" in preview
    bubble = re.search(r'<div class="bubble" id="preview-text">(.*?)</div>', preview, re.S)
    assert bubble and "Lê Thị Thường Trực" in bubble.group(1)
    assert html_lib.unescape(bubble.group(1)).endswith(text)
    assert "📢 Gửi ngay" in preview and _outbox(services) == []
    # Send: one outbox row per reachable member of Xóm 3, on their own chat.
    fields = {k: html_lib.unescape(v) for k, v in HIDDEN.findall(preview) if k != "csrf"}
    assert fields == {"text": text, "audience": xom3, "send_at": ""}
    sent = await client.post(
        "/announcements", data={"csrf": form_token(preview), **fields}, allow_redirects=False
    )
    assert sent.status == 303 and sent.headers["Location"] == "/announcements?done=sent"
    rows = _outbox(services)
    assert {(r.person_id, r.channel) for r in rows} == {
        (seeded.member, "console"),
        (people["zalo"], "zalo"),
        (people["telegram"], "telegram"),
    }
    assert all(r.kind == "broadcast" and r.due_at == clock() for r in rows)
    # Pressed twice (or the form sent again): refused, nothing queued a second time.
    twice = await client.post("/announcements", data={"csrf": form_token(preview), **fields})
    assert twice.status == 409 and "Bạn vừa gửi thông báo này" in await twice.text()
    assert len(_outbox(services)) == 3
    listing = await (await client.get(sent.headers["Location"])).text()
    assert "Đã xếp hàng gửi" in listing
    assert "Đã gửi: 0" in listing and "Đang chờ: 3" in listing
    assert "Không gửi được: 1" in listing
    # The outbox sender delivers them; the list follows.
    senders = _senders()
    await OutboxDelivery(services.engine, senders, clock=clock).run_until_idle()
    assert _received(senders, text) == {"console": 1, "zalo": 1, "telegram": 1}
    assert senders["zalo"].delivered[0][1].endswith(text)
    listing = await (await client.get("/announcements")).text()
    assert "Đã gửi: 3" in listing and "Đang chờ: 0" in listing
    [entry] = _audit(services)
    assert entry.action == "broadcast.send" and entry.actor_id == seeded.office
    assert entry.new is not None and entry.new["recipients"] == 3
    audit = await (await client.get("/audit")).text()
    assert "Gửi một thông báo" in audit and "Gửi tới: Tổ CNS Xóm 3" in audit


async def test_a_scheduled_announcement_waits_for_its_time(
    services: Services, seeded: Seeded, sign_in: SignIn, clock: FakeClock
) -> None:
    people = _people_of_xom3(services)
    client = await sign_in(seeded.office)
    token = form_token(await (await client.get("/announcements")).text())
    local = clock().astimezone(services.tz) + dt.timedelta(days=1)
    when = local.replace(hour=7, minute=30, second=0, microsecond=0)
    data = {
        "text": "Mai tiêm phòng.",
        "audience": "team",
        "send_at": when.strftime("%Y-%m-%dT%H:%M"),
    }
    preview = await client.post("/announcements/preview", data={"csrf": token, **data})
    page = await preview.text()
    shown = when.strftime("%H:%M %d/%m/%Y")
    assert preview.status == 200 and f"⏰ Hẹn gửi lúc {shown}" in page
    response = await client.post(
        "/announcements", data={"csrf": token, **data}, allow_redirects=False
    )
    assert response.headers["Location"] == "/announcements?done=scheduled"
    with Session(services.engine) as session:
        broadcast = session.exec(select(Broadcast)).one()
        assert broadcast.send_at == when.astimezone(dt.UTC) and broadcast.audience == 5
    rows = _outbox(services)
    assert {r.person_id for r in rows} == {
        seeded.member,
        people["zalo"],
        people["telegram"],
        people["elsewhere"],
    }
    assert {r.due_at for r in rows} == {when.astimezone(dt.UTC)}
    # Nothing goes out before the time.
    senders = _senders()
    delivery = OutboxDelivery(services.engine, senders, clock=clock)
    await delivery.run_until_idle()
    listing = await (await client.get(response.headers["Location"])).text()
    assert "Đã hẹn giờ" in listing and f"Hẹn gửi lúc {shown}" in listing
    assert "Đang chờ: 4" in listing and "Hủy thông báo này" in listing
    clock.set(when.astimezone(dt.UTC) - dt.timedelta(minutes=1))
    await delivery.run_until_idle()
    assert _received(senders, data["text"]) == {"console": 0, "zalo": 0, "telegram": 0}
    # Then it does.
    clock.set(when.astimezone(dt.UTC))
    await delivery.run_until_idle()
    assert _received(senders, data["text"]) == {"console": 1, "zalo": 1, "telegram": 2}
    client = await sign_in(seeded.office)  # the day-old session has expired
    listing = await (await client.get("/announcements")).text()
    assert "Đã gửi: 4" in listing and "Hủy thông báo này" not in listing
    assert [e.action for e in _audit(services)] == ["broadcast.schedule"]


async def test_a_scheduled_announcement_can_be_cancelled(
    services: Services, seeded: Seeded, sign_in: SignIn, clock: FakeClock
) -> None:
    _people_of_xom3(services)
    client = await sign_in(seeded.office)
    token = form_token(await (await client.get("/announcements")).text())
    when = (clock() + dt.timedelta(hours=3)).astimezone(services.tz)
    data = {"text": "Hoãn họp.", "audience": "team", "send_at": when.strftime("%d/%m/%Y %H:%M")}
    await client.post("/announcements", data={"csrf": token, **data}, allow_redirects=False)
    with Session(services.engine) as session:
        broadcast_id = session.exec(select(Broadcast.id)).one()
    response = await client.post(
        f"/announcements/{broadcast_id}/cancel", data={"csrf": token}, allow_redirects=False
    )
    assert response.headers["Location"] == "/announcements?done=cancelled"
    assert Counter(r.status for r in _outbox(services)) == {"cancelled": 4}
    clock.advance(hours=4)
    senders = _senders()
    await OutboxDelivery(services.engine, senders, clock=clock).run_until_idle()
    assert _received(senders, data["text"]) == {"console": 0, "zalo": 0, "telegram": 0}
    listing = await (await client.get("/announcements")).text()
    assert "Đã hủy: 4" in listing
    again = await client.post(f"/announcements/{broadcast_id}/cancel", data={"csrf": token})
    assert again.status == 409 and "không còn gì để hủy" in await again.text()
    assert [e.action for e in _audit(services)] == ["broadcast.schedule", "broadcast.cancel"]
    audit = await (await client.get("/audit")).text()
    assert "Hủy một thông báo đã hẹn giờ" in audit and "Số tin đã hủy: 4" in audit


async def test_text_group_and_time_are_checked_in_vietnamese(
    services: Services, seeded: Seeded, sign_in: SignIn, clock: FakeClock
) -> None:
    client = await sign_in(seeded.office)
    token = form_token(await (await client.get("/announcements")).text())
    police = f"unit:{unit_id(services, OWN_UNIT)}"
    checks = [
        ({"text": "  ", "audience": "team"}, "Thông báo đang trống. Hãy gõ nội dung."),
        (
            {"text": "a" * 3501, "audience": "team"},
            "Thông báo dài quá (3501 ký tự). Hãy viết dưới 3500 ký tự.",
        ),
        ({"text": "Xin chào"}, "Vui lòng chọn trong danh sách."),
        ({"text": "Xin chào", "audience": "village:999999"}, "Vui lòng chọn trong danh sách."),
        (
            {"text": "Xin chào", "audience": "team", "send_at": "mai"},
            "Ghi ngày giờ theo dạng ngày/tháng/năm giờ:phút",
        ),
        (
            {"text": "Xin chào", "audience": "team", "send_at": "10/03/2026 08:00"},
            "Hãy chọn một thời điểm sau bây giờ.",
        ),
        (
            {"text": "Xin chào", "audience": "team", "send_at": "10/06/2026 08:00"},
            "Hãy chọn thời điểm trong vòng 60 ngày tới.",
        ),
    ]
    for data, expected in checks:
        for action in ("/announcements/preview", "/announcements"):
            answer = await _post(client, action, data, token)
            assert answer.startswith("400\n"), (action, data)
            assert expected in html_lib.unescape(answer), (action, data)
    assert 'aria-invalid="true"' in answer
    assert 'value="10/06/2026 08:00"' in answer  # what was typed is kept
    # A group nobody in it can be reached on is refused, even if posted by hand.
    with Session(services.engine) as session:
        staffed = {p.unit_id for p in session.exec(select(Person)) if p.unit_id}
        empty = session.exec(select(Unit.id).where(col(Unit.id).not_in(staffed))).first()
    answer = await _post(
        client, "/announcements", {"text": "Hi", "audience": f"unit:{empty}"}, token
    )
    assert answer.startswith("400\n") and "Chưa ai trong nhóm này nhận được tin nhắn" in answer
    preview = await _post(
        client, "/announcements/preview", {"text": "Hi", "audience": police}, token
    )
    assert (
        preview.startswith("200\n")
        and "1 người (cán bộ Công an xã) sẽ nhận được tin sau:" in preview
    )
    with Session(services.engine) as session:
        assert session.exec(select(Broadcast)).all() == []
    assert _outbox(services) == [] and _audit(services) == []


async def test_only_the_office_leaders_and_admins_announce(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    member = await sign_in(seeded.member)
    officer = await sign_in(seeded.officer)
    for client in (member, officer):
        page = await (await client.get("/")).text()
        assert 'href="/announcements"' not in page
        assert (await client.get("/announcements")).status == 403
        token = form_token(page)
        for action in ("/announcements", "/announcements/preview"):
            refused = await client.post(
                action, data={"csrf": token, "text": "Tin giả", "audience": "team"}
            )
            assert refused.status == 403
    leader = add_person(services, name="Chủ Tịch Xã", roles=("commune_leader",))
    page = await (await (await sign_in(leader)).get("/")).text()
    assert 'href="/announcements"' in page
    assert _outbox(services) == []


async def test_a_form_without_its_token_is_refused(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.office)
    for data in ({}, {"csrf": "0" * 64}):
        refused = await client.post(
            "/announcements", data={**data, "text": "Tin giả", "audience": "team"}
        )
        assert refused.status == 403
    token = form_token(await (await client.get("/announcements")).text())
    cross = await client.post(
        "/announcements",
        data={"csrf": token, "text": "Tin giả", "audience": "team"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status == 403
    with Session(services.engine) as session:
        assert session.exec(select(Broadcast)).all() == []


def test_day_and_time_as_typed_or_picked() -> None:
    expected = (dt.date(2026, 6, 30), dt.time(8, 5))
    for raw in ("2026-06-30T08:05", "30/06/2026 08:05", "08:05 30/06/2026", "30/6/2026 8h05"):
        assert parse_moment(raw) == expected, raw
    for raw in ("", "30/06/2026", "31/02/2026 08:00", "30/06/2026 24:00", "hôm nay 8:00"):
        assert parse_moment(raw) is None, raw


def _link_group_chats(services: Services, village: str, chats: dict[str, str]) -> None:
    with Session(services.engine) as session:
        for channel, chat_id in chats.items():
            session.add(
                GroupChat(
                    channel=channel, chat_id=chat_id, village_id=village_id(services, village)
                )
            )
        session.commit()


async def test_an_announcement_to_a_villages_group_chats(
    services: Services, seeded: Seeded, sign_in: SignIn, clock: FakeClock
) -> None:
    _people_of_xom3(services)
    _link_group_chats(services, "Xóm 3", {"zalo": "zgr-xom3", "telegram": "-100333"})
    chats = f"chats:{village_id(services, 'Xóm 3')}"
    client = await sign_in(seeded.office)
    page = await (await client.get("/announcements")).text()
    # Offered as the chat's /thongbao offers it: only villages with a linked group chat,
    # counted in group chats per channel.
    assert "Nhóm chat của một thôn" in page
    assert _reach_of(page, chats) == "nhóm chat: Zalo: 1 · Telegram: 1"
    assert f"chats:{village_id(services, 'Xóm 1')}" not in page
    text = "Chiều nay 15:00 có lớp hướng dẫn VNeID tại nhà văn hóa."
    preview = await (
        await client.post(
            "/announcements/preview",
            data={"csrf": form_token(page), "text": text, "audience": chats, "send_at": ""},
        )
    ).text()
    assert "Nội dung 2 nhóm chat (nhóm chat của Xóm 3) sẽ nhận:" in html_lib.unescape(preview)
    fields = {k: html_lib.unescape(v) for k, v in HIDDEN.findall(preview) if k != "csrf"}
    sent = await client.post(
        "/announcements", data={"csrf": form_token(preview), **fields}, allow_redirects=False
    )
    assert sent.headers["Location"] == "/announcements?done=sent"
    with Session(services.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "broadcast_group"))
        assert sorted((r.channel, r.chat_id, r.person_id) for r in rows) == [
            ("telegram", "-100333", None),
            ("zalo", "zgr-xom3", None),
        ]
    assert _outbox(services) == []  # nobody's private chat: the groups only
    listing = await (await client.get("/announcements")).text()
    assert "nhóm chat của Xóm 3" in listing
    assert "Đang chờ: 2" in listing and "Không gửi được: 0" in listing
    senders = _senders()
    await OutboxDelivery(services.engine, senders, clock=clock).run_until_idle()
    assert senders["zalo"].delivered[0][0] == "zgr-xom3"
    assert senders["telegram"].delivered[0][0] == "-100333"
    assert _received(senders, text) == {"console": 0, "zalo": 1, "telegram": 1}
    listing = await (await client.get("/announcements")).text()
    assert "Đã gửi: 2" in listing and "Đang chờ: 0" in listing
    [entry] = _audit(services)
    assert entry.new is not None and entry.new["recipients"] == 2
