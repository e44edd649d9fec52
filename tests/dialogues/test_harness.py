"""The dialogue harness itself: the file format, answer checks and database resets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bot.admin.invites import create_invite
from bot.core.people import default_commune_id
from db.engine import make_engine
from db.models import InviteCode, Tally
from tests.conftest import DATABASES, START
from tests.dialogues.channels import Bubble, Option, numbered_options
from tests.dialogues.runner import Database, PostgresDatabase, SqliteDatabase, find_option
from tests.dialogues.script import (
    ISSUE_ITEMS,
    Pattern,
    ScriptError,
    all_dialogues,
    fold,
    read_file,
)


def test_numbered_options_are_the_last_run_of_numbered_lines() -> None:
    text = (
        "Các bước:\n1. Mở VNeID.\n2. Đăng nhập.\n3. Xem.\n\n"
        "Hướng dẫn này có giúp được bạn không?\n\n1. 👍 Có\n2. 👎 Chưa\n\n"
        "Gõ số từ 1 đến 2 để chọn."
    )
    assert [(o.number, o.label) for o in numbered_options(text)] == [(1, "👍 Có"), (2, "👎 Chưa")]
    assert numbered_options("Không có lựa chọn nào.") == []


def test_two_numbers_on_a_line_keep_the_label_whole() -> None:
    [first, second] = numbered_options("1. 🔴 1. Tuyên truyền…\n2. 🔵 9. Xây dựng…")
    assert (first.label, second.label) == ("🔴 1. Tuyên truyền…", "🔵 9. Xây dựng…")


def test_patterns_plain_loose_and_regex() -> None:
    answer = "✅ Đã ghi cho Xóm 3:\n• VNeID mức 2: 45"
    assert Pattern("Đã ghi").found_in(answer)
    assert not Pattern("đã ghi").found_in(answer)
    assert Pattern("~da ghi cho xom 3").found_in(answer)
    assert Pattern(r"re:VNeID mức 2: \d+$").found_in(answer)
    assert not Pattern("re:^Xóm").found_in(answer)
    assert fold("Đúng, GHI lại") == "dung, ghi lai"


def test_choices_are_found_by_number_or_label() -> None:
    options = [Option("✅ Xác nhận", 1), Option("✏️ Sửa / thêm mục", 2), Option("❌ Hủy", 3)]
    assert find_option(options, "2") is options[1]
    assert find_option(options, "sua") is options[1]
    assert find_option(options, "Hủy") is options[2]
    assert find_option(options, "4") is None
    assert find_option(options, "Tiếp") is None


def test_telegram_buttons_render_after_the_text() -> None:
    bubble = Bubble("Chọn:", [Option("Có", 1, "a:1"), Option("Không", 2, "a:2")], buttons=True)
    assert bubble.render() == "Chọn:\n[Có]\n[Không]"
    assert bubble.lines == 1


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "role" / "feature.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_file_defaults_apply_to_each_dialogue(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "who: {role: team, name: Hà Thị Mai}\n"
        "unanswered: no\n"
        "dialogues:\n"
        "  - name: one\n"
        "    turns: [vneid 45]\n"
        "  - name: two\n"
        "    who: {role: officer}\n"
        '    xfail: "#13: choice numbers"\n'
        "    xfail_on: [zalo]\n"
        "    turns:\n"
        "      - pick: 2\n"
        "        telegram: {expect: [x]}\n",
    )
    one, two = read_file(path, tmp_path)
    assert one.id == "role/feature::one"
    assert one.who.village == "Xóm 3" and one.turns[0].checks.unanswered is False
    assert two.who.unit == "Phòng Văn hóa - Xã hội" and two.who.name == "Hà Thị Mai"
    assert two.expected_to_fail_on("zalo") and not two.expected_to_fail_on("console")
    assert [p.source for p in two.turns[0].checks_on("telegram").expect] == ["x"]
    assert two.turns[0].checks_on("zalo").expect == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  - name: a\n    turns: [{say: hi}]\n", "unknown key"),
        ("  - name: a\n    who: {role: mayor}\n    turns: [hi]\n", "roles are"),
        ('  - name: a\n    xfail: "broken"\n    turns: [hi]\n', "item of issue #13"),
        ("  - name: a\n    launch: tocns chat\n    turns: [hi]\n", "console only"),
        ("  - name: a\n    turns: [{type: hi, pick: 1}]\n", "exactly one"),
        ('  - name: a\n    turns: [{type: hi, expect: ["re:("]}]\n', "bad regex"),
    ],
)
def test_mistakes_in_a_file_are_reported(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, "dialogues:\n" + body)
    with pytest.raises(ScriptError, match=message):
        read_file(path, tmp_path)


def test_every_dialogue_file_reads_and_every_issue_item_has_a_dialogue() -> None:
    dialogues = list(all_dialogues())
    assert len(dialogues) >= 120
    # Each item of #13 has a dialogue: expected to fail (xfail) until fixed, then `covers`.
    named = {item for d in dialogues for item in (d.xfail, d.covers) if item}
    items = {item.removeprefix("#13: ") for item in named if item.startswith("#13: ")}
    assert items == set(ISSUE_ITEMS)


@pytest.mark.parametrize("kind", DATABASES)
def test_a_reset_puts_back_the_prepared_commune(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    database: Database
    if kind == "sqlite":
        template = request.getfixturevalue("_template_dir") / "tocns.sqlite3"
        database = SqliteDatabase(template, tmp_path / "tocns.sqlite3")
    else:
        server = request.getfixturevalue("_postgres")
        if server is None:
            pytest.skip("PostgreSQL not installed")
        database = PostgresDatabase(server, f"dialogues_reset_{os.getpid()}")
    try:
        engine = make_engine(database.url)

        def counts() -> tuple[int, int]:
            with Session(engine) as session:
                invites = session.exec(select(func.count()).select_from(InviteCode)).one()
                tallies = session.exec(select(func.count()).select_from(Tally)).one()
                return invites, tallies

        assert counts() == (0, 0)
        with Session(engine) as session:
            commune_id = default_commune_id(session)
            assert commune_id is not None
            create_invite(session, commune_id=commune_id, role="office", now=START)
            session.commit()
        assert counts() == (1, 0)
        engine.dispose()
        database.reset(history=True)
        invites, tallies = counts()
        assert invites == 0 and tallies > 0
        engine.dispose()
        database.reset()
        assert counts() == (0, 0)
        with Session(engine) as session:  # ids continue where the prepared copy left off
            commune_id = default_commune_id(session)
            assert commune_id is not None
            create_invite(session, commune_id=commune_id, role="office", now=START)
            session.commit()
        engine.dispose()
    finally:
        database.drop()
