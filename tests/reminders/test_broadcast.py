"""Announcements: group → text → preview → confirm; opt in/out; the command line."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.admin.sample import load_sample_chats, load_sample_people
from bot.cli import main
from bot.core.dispatcher import Dispatcher
from bot.services import Services
from db.models import Broadcast, GroupChat, Person
from tests.helpers import Chat, add_person, unit_id, village_id
from tests.reminders.util import rows


def _office(dispatcher: Dispatcher, services: Services) -> Chat:
    add_person(services, name="Nguyễn Thị Văn Phòng", roles=("office",), chat_id="9001")
    return Chat(dispatcher, chat_id="9001", name="Nguyễn Thị Văn Phòng")


def test_office_announces_to_all_team_members_after_preview(
    services: Services, dispatcher: Dispatcher
) -> None:
    members = [
        add_person(
            services, name=f"Tổ viên {i}", roles=("team",), village="Xóm 3", chat_id=f"910{i}"
        )
        for i in range(3)
    ]
    add_person(services, name="Người dân", roles=("resident",), chat_id="9200")
    office = _office(dispatcher, services)
    menu = office.send("/thongbao")[0]
    # Only audiences somebody is in are offered (no officer, no resident signed up here).
    assert [c.value for c in menu.choices] == ["bc-group:team", "bc-villages:"]
    assert menu.choices[0].label == "👥 Tất cả thành viên Tổ CNS (3 người)"
    asked = office.press("bc-group:team")[0].text
    assert "3 người" in asked
    preview = office.send("Họp Tổ CNS lúc 14:00 thứ Sáu tại hội trường xã.")
    assert "3 người" in preview[0].text
    assert (
        "Họp Tổ CNS lúc 14:00" in preview[1].text
        and "Thông báo từ Nguyễn Thị Văn Phòng" in preview[1].text
    )
    assert rows(services) == []  # nothing before the confirmation
    done = office.press("bc-send:")[0].text
    assert "3 người" in done
    queued = rows(services, kind="broadcast")
    with Session(services.engine) as session:
        broadcast = session.exec(select(Broadcast)).one()
    assert broadcast.recipients == 3 and broadcast.group == "team"
    assert sorted(r.person_id for r in queued) == sorted(members)
    assert {r.dedupe_key for r in queued} == {f"broadcast:{broadcast.id}:{m}" for m in members}
    assert (
        "Đã xử lý" in office.press("bc-send:")[0].text
        or "đã xử lý" in office.press("bc-send:")[0].text
    )
    assert len(rows(services, kind="broadcast")) == 3  # pressing twice sends nothing more


def test_one_village_and_cancel(services: Services, dispatcher: Dispatcher) -> None:
    add_person(services, name="Tổ xóm 3", roles=("team",), village="Xóm 3", chat_id="9301")
    add_person(services, name="Tổ xóm 4", roles=("team",), village="Xóm 4", chat_id="9302")
    office = _office(dispatcher, services)
    office.send("/thongbao")
    villages = office.press("bc-villages:")[0]
    assert f"bc-group:village:{village_id(services, 'Xóm 3')}" in [
        c.value for c in villages.choices
    ]
    office.press(f"bc-group:village:{village_id(services, 'Xóm 3')}")
    office.send("Nhắc xóm 3")
    assert "Đã hủy" in office.press("bc-cancel:")[0].text
    assert rows(services) == []
    office.send("/thongbao")
    office.press(f"bc-group:village:{village_id(services, 'Xóm 3')}")
    office.send("Nhắc xóm 3")
    office.press("bc-send:")
    assert [r.chat_id for r in rows(services)] == ["9301"]


def test_unit_officer_may_only_write_to_their_unit(
    services: Services, dispatcher: Dispatcher
) -> None:
    add_person(services, name="Cán bộ A", roles=("unit",), unit="Công an xã", chat_id="9401")
    colleague = add_person(
        services, name="Cán bộ B", roles=("unit",), unit="Công an xã", chat_id="9402"
    )
    add_person(services, name="Tổ viên", roles=("team",), village="Xóm 1", chat_id="9403")
    officer = Chat(dispatcher, chat_id="9401", name="Cán bộ A")
    asked = officer.send("/thongbao")[0].text
    assert "1 người" in asked
    assert "đơn vị của mình" in officer.press("bc-group:team")[0].text
    officer.send("/thongbao")
    officer.send("Họp đơn vị")
    officer.press("bc-send:")
    assert [r.person_id for r in rows(services)] == [colleague]
    resident = Chat(dispatcher, chat_id="9499", name="Khách")
    assert "/lienket" in resident.send("/thongbao")[0].text  # not for residents
    assert unit_id(services, "Công an xã")


def test_residents_opt_in_and_out(services: Services, dispatcher: Dispatcher) -> None:
    resident = Chat(dispatcher, chat_id="9501", name="Bà Tư")
    assert "/huydangky" in resident.send("/dangky")[0].text
    assert "đã đăng ký" in resident.send("/dangky")[0].text
    office = _office(dispatcher, services)
    office.send("/thongbao")
    office.press("bc-group:residents")
    office.send("Lịch tiêm chủng tháng 4")
    office.press("bc-send:")
    assert [r.chat_id for r in rows(services)] == ["9501"]
    assert "/dangky" in resident.send("/huydangky")[0].text
    with Session(services.engine) as session:
        person = session.exec(select(Person).where(Person.display_name == "Bà Tư")).one()
        assert not person.opted_in
    office.send("/thongbao")
    assert "Chưa có ai" in office.press("bc-group:residents")[0].text


def test_broadcast_send_command(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_person(services, name="Tổ xóm 5", roles=("team",), village="Xóm 5", chat_id="9601")
    monkeypatch.setenv("TOCNS_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("TOCNS_DATA_DIR", str(services.settings.data_dir))
    command = ["broadcast", "send", "--text", "Họp tổ", "--json", "--group"]
    assert main([*command, "village:Xóm 5"]) == 0
    assert '"recipients": 1' in capsys.readouterr().out
    assert main([*command, "xyz"]) == 1


def test_the_sample_people_give_every_sample_audience_somebody(
    services: Services, dispatcher: Dispatcher
) -> None:
    with Session(services.engine) as session:
        assert load_sample_people(session) == 6
        assert load_sample_people(session) == 6  # a second load adds nobody
        session.commit()
    office = _office(dispatcher, services)
    # Without a chat nobody can be reached: no audience of theirs is offered.
    assert not any("(3 người)" in c.label for c in office.send("/thongbao")[0].choices)
    with Session(services.engine) as session:
        assert load_sample_chats(session) == 6
        session.commit()
        assert len(session.exec(select(Person)).all()) == 7
    labels = [c.label for c in office.send("/thongbao")[0].choices]
    assert "👥 Tất cả thành viên Tổ CNS (3 người)" in labels
    assert "🔔 Người dân đã đăng ký nhận tin (3 người)" in labels
    office.press("bc-group:residents")
    office.send("Họp dân tối thứ Bảy")
    assert "Đã xếp hàng gửi cho 3 người" in office.press("bc-send:")[0].text
    assert {r.channel for r in rows(services)} == {"console"}  # printed by `tocns run`


def test_office_announces_to_a_village_group_chat(
    services: Services, dispatcher: Dispatcher
) -> None:
    with Session(services.engine) as session:
        for channel, chat in (("zalo", "zgr-xom3"), ("telegram", "-100333")):
            session.add(
                GroupChat(channel=channel, chat_id=chat, village_id=village_id(services, "Xóm 3"))
            )
        session.commit()
    office = _office(dispatcher, services)
    menu = office.send("/thongbao")[0]
    assert "bc-chats:" in [c.value for c in menu.choices]
    villages = office.press("bc-chats:")[0]
    [choice] = villages.choices  # only the village that has group chats
    assert choice.label == "Xóm 3 (2 nhóm chat)"
    asked = office.press(choice.value)[0].text
    assert "2 nhóm chat" in asked and "Mọi người trong nhóm" in asked
    preview = office.send("Chiều nay 15:00 có lớp hướng dẫn VNeID tại nhà văn hóa Xóm 3.")
    assert "2 nhóm chat" in preview[0].text and "nhóm chat của Xóm 3" in preview[0].text
    assert "2 nhóm chat" in office.press("bc-send:")[0].text
    queued = rows(services, kind="broadcast_group")
    assert sorted((r.channel, r.chat_id) for r in queued) == [
        ("telegram", "-100333"),
        ("zalo", "zgr-xom3"),
    ]
    assert all(r.person_id is None and "lớp hướng dẫn VNeID" in r.content["text"] for r in queued)
