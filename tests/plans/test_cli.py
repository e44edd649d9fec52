"""``tocns plan parse-deadline`` and ``parse-target``: exact JSON, errors, batches."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli import main
from db.models import AuditEntry, Task

DATA = Path(__file__).parent.parent / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict]]:
    code = main(list(argv))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return code, lines


def test_parse_deadline_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "plan", "parse-deadline", "Quý III/2025", "--json") == (
        0,
        [{"kind": "once", "due": "2025-09-30", "repeat": None}],
    )
    assert run(capsys, "plan", "parse-deadline", "Tháng 7/2025, duy trì hàng năm", "--json") == (
        0,
        [{"kind": "recurring", "due": "2025-07-31", "repeat": "yearly"}],
    )
    code, [answer] = run(capsys, "plan", "parse-deadline", "Tháng 13/2025", "--json")
    assert code == 1 and set(answer) == {"error"} and "tháng 13" in answer["error"].lower()


def test_parse_deadline_human(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "parse-deadline", "Hàng năm"]) == 0
    assert "định kỳ" in capsys.readouterr().out


def test_parse_target_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "plan", "parse-target", "$\\geq 70$", "--json") == (
        0,
        [{"op": ">=", "value": 70}],
    )
    assert run(capsys, "plan", "parse-target", "15-17%", "--json") == (
        0,
        [{"op": "between", "low": 15, "high": 17}],
    )
    code, [answer] = run(capsys, "plan", "parse-target", "", "--json")
    assert code == 1 and "error" in answer


@pytest.mark.parametrize(
    ("command", "name"),
    [("parse-deadline", "deadlines_dev.jsonl"), ("parse-target", "targets_dev.jsonl")],
)
def test_batches_match_the_dev_examples(
    capsys: pytest.CaptureFixture[str], command: str, name: str
) -> None:
    examples = [
        json.loads(line)
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    extra = ["--today", "2025-11-23"] if command == "parse-deadline" else []
    code, answers = run(capsys, "plan", command, "--batch", str(DATA / name), *extra)
    assert code == 0
    assert len(answers) == len(examples)
    for example, answer in zip(examples, answers, strict=True):
        if example.get("error"):
            assert "error" in answer, example["text"]
        else:
            expected = {k: v for k, v in example.items() if k != "text"}
            assert {k: answer.get(k) for k in expected} == expected, example["text"]


def test_set_due_of_an_on_event_task(
    services, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOCNS_DATABASE_URL", services.settings.effective_database_url)
    monkeypatch.setenv("TOCNS_DATA_DIR", str(services.settings.data_dir))
    assert main(["plan", "set-due", "--plan", "trung-hoi", "43", "2026-12-31"]) == 0
    assert main(["plan", "set-due", "--plan", "trung-hoi", "43", "31/12/2026"]) == 1
    with Session(services.engine) as session:
        task = session.exec(select(Task).where(Task.number == "43")).one()
        assert task.kind == "on_event" and task.due == dt.date(2026, 12, 31)
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "task.set_due")).one()
