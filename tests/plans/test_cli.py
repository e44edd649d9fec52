"""``tocns plan parse-deadline`` and ``parse-target``: exact JSON, errors, batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

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
