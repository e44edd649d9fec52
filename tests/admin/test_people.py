"""People import from CSV: Vietnamese headers, all or nothing, pre-registered chats."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.admin.people import import_people, read_people_csv
from bot.core.dispatcher import Dispatcher
from bot.core.people import default_commune_id, roles_of
from bot.services import Services
from db.models import ChatIdentity, Person
from tests.helpers import Chat

GOOD = (
    "Họ và tên;Vai trò;Thôn/Xóm;Đơn vị;Telegram ID;Zalo ID\n"
    "Lê Văn Ba;Thành viên tổ;Xóm 3;;5550001;\n"
    "Nguyễn Thị Hoa;Tổ trưởng, thành viên;xom 5;;;88001122\n"
    "Trần Công;Cán bộ;;CA xã;;\n"
    "Đỗ Văn Thường;thường trực | quản trị;;Phòng VH-XH;;\n"
)


def _import(services: Services, raw: str) -> object:
    with Session(services.engine) as session:
        commune_id = default_commune_id(session)
        assert commune_id is not None
        result = import_people(session, commune_id, raw)
        session.commit()
        return result


def test_headers_and_roles_are_read_the_vietnamese_way() -> None:
    rows, problems = read_people_csv(GOOD)
    assert problems == []
    assert [r.roles for r in rows] == [
        ("team",),
        ("leader", "team"),
        ("unit",),
        ("office", "admin"),
    ]
    assert rows[1].village == "xom 5" and rows[1].zalo_id == "88001122"


def test_import_creates_people_and_pre_registers_chats(services: Services) -> None:
    result = _import(services, GOOD)
    assert (result.created, result.updated, result.identities, result.problems) == (4, 0, 2, [])  # type: ignore[attr-defined]
    with Session(services.engine) as session:
        identity = session.exec(select(ChatIdentity).where(ChatIdentity.chat_id == "5550001")).one()
        person = session.get(Person, identity.person_id)
        assert person is not None and person.display_name == "Lê Văn Ba"
        assert roles_of(session, identity.person_id) == {"resident", "team"}
    # The pre-registered team member can report from their first message.
    chat = Chat(Dispatcher(services), chat_id="5550001", channel="telegram")
    assert "Đã ghi cho Xóm 3" in chat.say("vneid 45")
    again = _import(services, GOOD)
    assert (again.created, again.updated) == (0, 4)  # type: ignore[attr-defined]


def test_any_bad_row_means_nothing_is_imported(services: Services) -> None:
    bad = GOOD + "Ai Đó;phi hành gia;;;;\nBa Bốn;thành viên;Xóm 99;;abc;\n,thành viên,Xóm 1,,,\n"
    result = _import(services, bad)
    problems = result.problems  # type: ignore[attr-defined]
    assert any("unknown role 'phi hành gia'" in p for p in problems)
    assert any("unknown village 'Xóm 99'" in p for p in problems)
    assert any("Telegram id 'abc'" in p for p in problems)
    with Session(services.engine) as session:
        assert (
            session.exec(select(Person).where(Person.display_name == "Lê Văn Ba")).first() is None
        )


def test_missing_columns_and_duplicate_ids(services: Services) -> None:
    assert read_people_csv("Tên,Thôn\nA,Xóm 1\n")[1] == [
        "no roles column (expected 'Vai trò' or 'roles')"
    ]
    dup = "name,roles,village,telegram_id\nA,team,Xóm 1,123456\nB,team,Xóm 2,123456\n"
    problems = _import(services, dup).problems  # type: ignore[attr-defined]
    assert problems == ["line 3: telegram id 123456 is also on line 2"]
