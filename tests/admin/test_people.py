"""People import from CSV: Vietnamese headers, all or nothing, pre-registered chats."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.admin.people import (
    MSG_BAD_CHAT_ID,
    MSG_DUPLICATE_ID,
    MSG_NO_NAME,
    MSG_NO_ROLE,
    MSG_NO_ROLES_COLUMN,
    MSG_UNKNOWN_ROLE,
    MSG_UNKNOWN_VILLAGE,
    PeopleImportResult,
    import_people,
    read_people_csv,
)
from bot.admin.setup import SetupProblem
from bot.core.dispatcher import Dispatcher
from bot.core.people import default_commune_id, roles_of
from bot.i18n import load_catalog, translator
from bot.services import Services
from db.models import ChatIdentity, Person
from tests.helpers import Chat

VI = translator("vi")

GOOD = (
    "Họ và tên;Vai trò;Thôn/Xóm;Đơn vị;Telegram ID;Zalo ID\n"
    "Lê Văn Ba;Thành viên tổ;Xóm 3;;5550001;\n"
    "Nguyễn Thị Hoa;Tổ trưởng, thành viên;xom 5;;;88001122\n"
    "Trần Công;Cán bộ;;CA xã;;\n"
    "Đỗ Văn Thường;thường trực | quản trị;;Phòng VH-XH;;\n"
)


# Words of the old English problem lines: none may be left in what the admin reads.
ENGLISH = ("line ", "unknown", "must", "empty", "expected", "need", "also on", "column")


def assert_vietnamese(problems: list[SetupProblem]) -> list[str]:
    """Every problem has a Vietnamese catalog entry and reads as Vietnamese; the texts."""
    catalog = load_catalog("vi")
    texts = [problem.text(VI) for problem in problems]
    for problem, text in zip(problems, texts, strict=True):
        entry = catalog.get(problem.message_id)
        assert entry is not None and entry.string, problem.message_id
        assert not any(word in text.lower() for word in ENGLISH), text
    return texts


def _import(services: Services, raw: str) -> PeopleImportResult:
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
    assert (result.created, result.updated, result.identities, result.problems) == (4, 0, 2, [])
    with Session(services.engine) as session:
        identity = session.exec(select(ChatIdentity).where(ChatIdentity.chat_id == "5550001")).one()
        person = session.get(Person, identity.person_id)
        assert person is not None and person.display_name == "Lê Văn Ba"
        assert roles_of(session, identity.person_id) == {"resident", "team"}
    # The pre-registered team member can report from their first message.
    chat = Chat(Dispatcher(services), chat_id="5550001", channel="telegram")
    assert "Đã ghi cho Xóm 3" in chat.say("vneid 45")
    again = _import(services, GOOD)
    assert (again.created, again.updated) == (0, 4)


def test_any_bad_row_means_nothing_is_imported(services: Services) -> None:
    bad = GOOD + "Ai Đó;phi hành gia;;;;\nBa Bốn;thành viên;Xóm 99;;abc;\n,thành viên,Xóm 1,,,\n"
    result = _import(services, bad)
    texts = assert_vietnamese(result.problems)
    assert texts[0] == (
        "Dòng 6: Không hiểu vai trò “phi hành gia”. Hãy dùng: thành viên tổ, tổ trưởng, cán bộ, "
        "thường trực, lãnh đạo xã, quản trị hoặc người dân."
    )
    assert "Dòng 7: Telegram ID “abc” chỉ được gồm chữ số (từ 3 đến 25 số), ví dụ 5550001." in texts
    assert any(t.startswith("Dòng 7: Xã không có thôn/xóm “Xóm 99”. Các thôn/xóm") for t in texts)
    # A comma row in a semicolon file is one cell: a name without a role.
    assert "Dòng 8: Chưa ghi vai trò, ví dụ: thành viên tổ." in texts
    assert [p.line for p in result.problems] == sorted(p.line or 0 for p in result.problems)
    # The machine-readable side: message ids and the values, not the words.
    by_id = {p.message_id: p for p in result.problems}
    assert by_id[MSG_UNKNOWN_ROLE].params == {"role": "phi hành gia"}
    assert by_id[MSG_BAD_CHAT_ID].params == {"channel": "Telegram", "value": "abc"}
    assert by_id[MSG_UNKNOWN_VILLAGE].params["village"] == "Xóm 99"
    assert by_id[MSG_NO_ROLE].line == 8
    nameless = read_people_csv("Họ và tên;Vai trò\n;dân\n")[1]
    assert [(p.message_id, p.line) for p in nameless] == [(MSG_NO_NAME, 2)]
    assert assert_vietnamese(nameless) == ["Dòng 2: Chưa ghi họ và tên."]
    with Session(services.engine) as session:
        assert (
            session.exec(select(Person).where(Person.display_name == "Lê Văn Ba")).first() is None
        )


def test_missing_columns_and_duplicate_ids(services: Services) -> None:
    problems = read_people_csv("Tên,Thôn\nA,Xóm 1\n")[1]
    assert [p.message_id for p in problems] == [MSG_NO_ROLES_COLUMN]
    assert assert_vietnamese(problems) == [
        "Thiếu cột vai trò. Hãy thêm cột “Vai trò” ở dòng đầu tiên."
    ]
    assert problems[0].to_json(VI) == {  # about the whole file: no location
        "message_id": MSG_NO_ROLES_COLUMN,
        "params": {},
        "message": "Thiếu cột vai trò. Hãy thêm cột “Vai trò” ở dòng đầu tiên.",
    }
    dup = "name,roles,village,telegram_id\nA,team,Xóm 1,123456\nB,team,Xóm 2,123456\n"
    problems = _import(services, dup).problems
    assert [(p.message_id, p.line, p.params) for p in problems] == [
        (MSG_DUPLICATE_ID, 3, {"channel": "Telegram", "value": "123456", "first": 2})
    ]
    assert assert_vietnamese(problems) == [
        "Dòng 3: Telegram ID 123456 đã có ở dòng 2. Mỗi tài khoản chỉ dùng cho một người."
    ]


def test_long_values_are_cut_in_problems() -> None:
    role = "x" * 500
    problems = read_people_csv(f"Họ và tên,Vai trò,Telegram ID\nAn,{role},{'9' * 50}a\n")[1]
    assert problems[0].params["role"] == "x" * 60 + "…"
    assert problems[1].params["value"] == "9" * 40 + "…"
    assert all(len(text) < 250 for text in assert_vietnamese(problems))
