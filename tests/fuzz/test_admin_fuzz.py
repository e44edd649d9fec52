"""People import, commune setup and invite codes under hostile input.

Allowed outcomes:
- ``read_people_csv`` returns rows and problems, never raises;
  ``import_people`` either writes every row or returns problems and writes NOTHING;
- ``read_setup_file`` returns the setup structure or raises ``UserError`` (never a YAML,
  CSV or decoding error): ``tocns admin setup`` says in Vietnamese what to fix;
  ``apply_setup`` never raises: it writes everything or returns problems and writes nothing;
- every problem is a Vietnamese catalog entry, rendered in Vietnamese with the values it
  quotes kept short (no English problem text, no traceback or repr);
- ``parse_duration`` returns a positive duration or raises ``InviteError`` whose message
  is a Vietnamese catalog entry;
- ``/lienket <anything>`` answers with the Vietnamese "code not right" (or "send the code",
  or "too many tries") message, never the crash apology.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from bot.admin.invites import MSG_RATE_LIMITED, MSG_UNKNOWN, InviteError, parse_duration
from bot.admin.people import HEADERS, import_people, read_people_csv
from bot.admin.setup import COLUMN_LABELS, SetupProblem, apply_setup, read_setup_file
from bot.core.dispatcher import Dispatcher
from bot.core.errors import UserError
from bot.core.people import default_commune_id
from bot.handlers.join import ASK_CODE
from bot.i18n import translator
from bot.services import Services
from bot.text import clean
from db.models import (
    AuditEntry,
    ChatIdentity,
    Commune,
    JoinAttempt,
    Person,
    PersonRole,
    Role,
    Unit,
    UnitAlias,
    Village,
    VillageDenominator,
)
from tests.fuzz.strategies import NASTY, NASTY_OR_LONG, assert_vietnamese, cell, is_clean_stored
from tests.helpers import Chat

TODAY = dt.date(2026, 3, 10)
SETTINGS_DB = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _counts(session: Session, models: tuple[type, ...]) -> dict[str, int]:
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in models
    }


# Words of English problem texts: none may reach the admin.
ENGLISH = (" line ", "unknown", " must ", " is not ", "expected", "required", " need")


def _check_problems(problems: list[SetupProblem]) -> None:
    """Each problem renders as a short Vietnamese catalog entry, quoting values short."""
    t = translator("vi")
    for problem in problems:
        assert isinstance(problem, SetupProblem)
        text = problem.text(t)
        assert_vietnamese(problem.message_id, text)
        assert "object at 0x" not in text
        assert not any(word in f" {text.lower()} " for word in ENGLISH), text
        for key, value in problem.params.items():
            assert isinstance(value, int | str)
            if key == "column":
                assert value in COLUMN_LABELS
            elif key != "known":  # the commune's villages, cut at 120 characters
                assert len(str(value)) <= 61, (key, value)
        assert problem.to_json(t)["message"] == text


# ------------------------------------------------------------------ people

ROLE_WORDS = ["Thành viên tổ", "tổ trưởng", "cán bộ", "quản trị", "dân", "phi hành gia", "team"]
PEOPLE_HEADER = ["Họ và tên", "Vai trò", "Thôn/Xóm", "Đơn vị", "Telegram ID", "Zalo ID"]
people_row = st.tuples(
    st.one_of(st.sampled_from(["Lê Văn Ba", "Nguyễn Thị Hoa"]), NASTY_OR_LONG),
    st.one_of(st.lists(st.sampled_from(ROLE_WORDS), min_size=1, max_size=3).map(", ".join), NASTY),
    st.one_of(st.sampled_from(["Xóm 1", "xom 3", "Xóm 99", ""]), NASTY),
    st.one_of(st.sampled_from(["Công an xã", "CA xã", ""]), NASTY),
    st.one_of(st.integers(100, 10**12).map(str), st.sampled_from(["", "١٢٣٤", "abc"]), NASTY),
    st.one_of(st.integers(100, 10**12).map(str), st.just(""), NASTY),
)
people_header = st.one_of(
    st.just(PEOPLE_HEADER),
    st.lists(
        st.one_of(st.sampled_from([n for names in HEADERS.values() for n in names]), NASTY),
        max_size=7,
    ),
)


def _people_csv(header: list[str], rows: list[tuple[str, ...]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


filled = NASTY_OR_LONG.filter(lambda value: bool(clean(value)))
# Rows that are right but for hostile names and places, so they reach the database.
good_people_row = st.tuples(
    filled,
    st.sampled_from(["dân", "quản trị", "thường trực, lãnh đạo xã"]),
    st.just(""),
    st.one_of(st.just(""), st.sampled_from(["Công an xã", "CA xã"])),
    st.one_of(st.just(""), st.integers(100, 10**12).map(str)),
    st.just(""),
)
people_text = st.one_of(
    st.builds(
        _people_csv,
        st.just(PEOPLE_HEADER),
        st.lists(good_people_row, max_size=4, unique_by=lambda row: row[4] or row[0]),
        st.sampled_from([",", ";"]),
    ),
    st.builds(
        _people_csv, people_header, st.lists(people_row, max_size=5), st.sampled_from([",", ";"])
    ),
    NASTY_OR_LONG,
    st.sampled_from(
        [
            "Tên,Vai trò\n" + "a" * 200_000 + ",dân\n",  # beyond the csv module's field limit
            "Tên,Vai trò\rAn,dân\r",  # old Mac line ends
            'Tên,Vai trò\n"An,dân',  # a quote never closed
            "\ufeffTên;Vai trò\nAn;dân\n",
        ]
    ),
)
ROLES = {str(role) for role in Role}


@settings(max_examples=150, deadline=None)
@given(raw=people_text)
def test_read_people_csv_never_crashes(raw: str) -> None:
    rows, problems = read_people_csv(raw)
    _check_problems(problems)
    for row in rows:
        assert len(row.name) <= 200 and set(row.roles) <= ROLES
    if not problems:
        for row in rows:
            assert row.name and row.roles
            assert all(value == "" or value.isascii() for value in (row.telegram_id, row.zalo_id))


PEOPLE_TABLES = (Person, PersonRole, ChatIdentity, AuditEntry)


@SETTINGS_DB
@given(raw=people_text)
def test_people_import_is_all_or_nothing(services: Services, raw: str) -> None:
    with Session(services.engine) as session:
        commune_id = default_commune_id(session)
        assert commune_id is not None
        before = _counts(session, PEOPLE_TABLES)
        result = import_people(session, commune_id, raw)
        event("refused" if result.problems else "imported")
        if result.problems:
            _check_problems(result.problems)
            assert not (session.new or session.dirty or session.deleted)
            session.commit()  # even committing writes nothing
            assert _counts(session, PEOPLE_TABLES) == before
            return
        session.commit()
        after = _counts(session, PEOPLE_TABLES)
        assert after["Person"] == before["Person"] + result.created
        assert after["AuditEntry"] == before["AuditEntry"] + 1
        for person in session.exec(select(Person).where(Person.commune_id == commune_id)):
            assert is_clean_stored(person.display_name, 200), person.display_name
        for identity in session.exec(select(ChatIdentity)):
            assert is_clean_stored(identity.chat_id, 64)


# ------------------------------------------------------------------ commune setup

NUMBERS = [1200, "1.200", 850, "0", -3, 1200.0, 2.5, 10**12, "١٢٠٠", True, None, ""]
village = st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(["Ấp 1", "Xóm 2"]), NASTY_OR_LONG)},
    optional={
        "kind": st.one_of(st.sampled_from(["ấp", "thôn"]), NASTY_OR_LONG),
        "valid_from": cell(["2026-01-01", "2026-13-01", dt.date(2025, 1, 1), 2026]),
        **{key: cell(NUMBERS) for key in ("population", "adults", "aged15", "households")},
        "businesses": cell(NUMBERS),
    },
)
unit = st.one_of(
    st.fixed_dictionaries(
        {"name": st.one_of(st.sampled_from(["Công an xã", "Trạm Y tế"]), NASTY_OR_LONG)},
        optional={
            "aliases": st.one_of(
                st.lists(st.one_of(NASTY_OR_LONG, st.none(), st.integers()), max_size=3),
                NASTY,
                cell(["CA xã|Công an"]),
            )
        },
    ),
    cell(["Công an xã"]),
)
commune = st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(["Xã An Bình", "Xã Trung Hội"]), NASTY_OR_LONG)},
    optional={
        "slug": st.one_of(st.sampled_from(["an-binh", "trung-hoi"]), NASTY_OR_LONG, st.none()),
        "province": st.one_of(NASTY_OR_LONG, st.none()),
    },
)
good_setup_doc = st.fixed_dictionaries(
    {
        "commune": st.fixed_dictionaries(
            {"name": filled, "slug": st.sampled_from(["an-binh", "trung-hoi"])},
            optional={"province": NASTY_OR_LONG},
        ),
        "villages": st.lists(
            st.fixed_dictionaries(
                {
                    "name": filled,
                    "kind": NASTY_OR_LONG,
                    "population": st.integers(2000, 5000),
                    "adults": st.integers(0, 2000),
                    "aged15": st.sampled_from([1500, "1.500", 1500.0]),
                    "households": st.integers(0, 2000),
                    "businesses": st.integers(0, 2000),
                    "valid_from": st.sampled_from(["2026-01-01", dt.date(2025, 1, 1)]),
                }
            ),
            max_size=3,
        ),
        "units": st.lists(
            st.fixed_dictionaries({"name": filled, "aliases": st.lists(NASTY_OR_LONG, max_size=2)}),
            max_size=3,
        ),
    }
)
setup_doc = st.fixed_dictionaries(
    {"commune": st.one_of(commune, commune, cell(["x"]))},
    optional={
        "villages": st.one_of(st.lists(village, max_size=3), cell(["x"])),
        "units": st.one_of(st.lists(unit, max_size=3), cell(["x"])),
    },
)
CSV_COLUMNS = [
    "loai",
    "ten",
    "ma",
    "tinh",
    "kieu",
    "dan_so",
    "truong_thanh",
    "tu_15_tuoi",
    "so_ho",
    "ho_kinh_doanh",
    "ap_dung_tu",
    "ten_khac",
]
setup_csv_row = st.lists(
    st.one_of(
        st.sampled_from(["xa", "thon", "don_vi", "ấp", "Xã An Bình", "1.200", "2026-01-01"]),
        NASTY_OR_LONG,
    ),
    max_size=len(CSV_COLUMNS) + 2,  # more cells than the header, too
)


def _setup_file(directory: Path, kind: str, doc: Any, rows: list[list[str]]) -> Path:
    if kind == "yaml":
        path = directory / "xa.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    elif kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)
        path = directory / "xa.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
    else:
        path = directory / ("xa.csv" if kind == "raw-csv" else "xa.yaml")
        path.write_text(str(doc), encoding="utf-8")
    return path


SETUP_TABLES = (Commune, Village, VillageDenominator, Unit, UnitAlias, AuditEntry)


@SETTINGS_DB
@given(
    file=st.one_of(
        st.tuples(st.just("yaml"), good_setup_doc, st.just([])),
        st.tuples(
            st.sampled_from(["yaml", "csv", "raw-csv", "raw-yaml"]),
            st.one_of(setup_doc, NASTY_OR_LONG),
            st.lists(setup_csv_row, max_size=4),
        ),
    )
)
def test_setup_files_apply_all_or_nothing(
    services: Services, file: tuple[str, Any, list[list[str]]]
) -> None:
    kind, doc, rows = file
    with tempfile.TemporaryDirectory() as directory:
        path = _setup_file(Path(directory), kind, doc, rows)
        try:
            data = read_setup_file(path)
        except UserError as error:
            event("unreadable")
            assert_vietnamese(
                error.message_id, translator("vi").gettext(error.message_id, **error.params)
            )
            return
    assert isinstance(data, dict)
    with Session(services.engine) as session:
        before = _counts(session, SETUP_TABLES)
        result = apply_setup(session, data, today=TODAY)
        event("refused" if result.problems else "applied")
        if result.problems:
            _check_problems(result.problems)
            assert not (session.new or session.dirty or session.deleted)
            session.commit()
            assert _counts(session, SETUP_TABLES) == before
            return
        session.commit()
        assert _counts(session, (AuditEntry,))["AuditEntry"] == before["AuditEntry"] + 1
        for stored in session.exec(select(Commune)):
            assert stored.slug and is_clean_stored(stored.slug, 80)
            assert stored.name and is_clean_stored(stored.name, 200)
            assert stored.province is None or is_clean_stored(stored.province, 200)
        for stored_village in session.exec(select(Village)):
            assert stored_village.name and is_clean_stored(stored_village.name, 200)
            assert stored_village.kind and is_clean_stored(stored_village.kind, 40)
        for denominator in session.exec(select(VillageDenominator)):
            assert isinstance(denominator.valid_from, dt.date)
            numbers = [getattr(denominator, key) for key in ("population", "adults", "aged15")]
            assert all(isinstance(n, int) and 0 <= n < 2**31 for n in numbers)
        for stored_unit in session.exec(select(Unit)):
            assert stored_unit.name and is_clean_stored(stored_unit.name, 300)
        for alias in session.exec(select(UnitAlias)):
            assert alias.folded and is_clean_stored(alias.alias, 300)


# ------------------------------------------------------------------ invites


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        NASTY_OR_LONG,
        st.from_regex(r"\s*[0-9]{1,6}\s*[wdhmWDHMx]?\s*", fullmatch=True),
        st.sampled_from(["7d", "12h", "30m", "2w", "0d", "9999w", "١٢d", "-1d", "1.5d"]),
    )
)
def test_parse_duration_returns_a_positive_duration_or_a_vietnamese_refusal(text: str) -> None:
    try:
        duration = parse_duration(text)
    except InviteError as error:
        assert error.kind == "duration"
        assert_vietnamese(
            error.message_id, translator("vi").gettext(error.message_id, **error.params)
        )
        assert len(error.params["text"]) <= 20
        return
    assert dt.timedelta(0) < duration <= dt.timedelta(weeks=9999)
    assert math.isfinite(duration.total_seconds())


_chats = itertools.count(1)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    code=st.one_of(NASTY_OR_LONG, st.from_regex(r"[A-Z2-9]{8}", fullmatch=True)), step=st.booleans()
)
def test_lienket_with_any_code_answers_in_vietnamese(
    services: Services, code: str, step: bool
) -> None:
    t = translator("vi")
    chat = Chat(Dispatcher(services), chat_id=f"fuzz-{next(_chats)}")
    if step:
        chat.send("/lienket")
        replies = chat.send(code)
    else:
        replies = chat.send("/lienket " + code)
    assert replies, "always an answer"
    expected = {
        t.gettext(MSG_UNKNOWN),
        t.gettext(ASK_CODE),
        t.gettext(MSG_RATE_LIMITED, minutes=15),
    }
    if step:
        # The code step reads whatever comes next; a command-looking text is a command.
        assert not replies[0].text.startswith("Xin lỗi, mình vừa gặp trục trặc"), code
        event("step")
    else:
        assert replies[0].text in expected, (code, replies[0].text)
    with Session(services.engine) as session:
        attempts = session.exec(
            select(JoinAttempt).where(JoinAttempt.chat_id == chat.chat_id)
        ).all()
        assert len(attempts) <= 1
