"""`tocns tally parse` and `tocns tally status`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

DEV = Path(__file__).parent.parent / "data" / "tallies_dev.jsonl"


def test_parse_matches_every_dev_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tally", "parse", "--batch", str(DEV)]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    assert len(results) == len(expected)
    for got, want in zip(results, expected, strict=True):
        if want.get("error"):
            assert set(got) == {"error"} and got["error"], want["text"]
        else:
            assert got == {"values": want["values"]}, want["text"]


def test_parse_one_json_and_human(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tally", "parse", "vneid 45 cks 12", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"values": {"vneid": 45, "cks": 12}}
    assert main(["tally", "parse", "xyz 5", "--json"]) == 1
    assert "xyz" in json.loads(capsys.readouterr().out)["error"]
    assert main(["tally", "parse", "CKS12"]) == 0
    assert capsys.readouterr().out.strip() == "cks (Chữ ký số): 12"


def test_parse_reads_a_month_and_bc_as_the_chat_does(capsys: pytest.CaptureFixture[str]) -> None:
    # The chat reads "tháng 2 vneid 45" as a February report (tests/tallies/test_flow.py);
    # the CLI used to answer that it did not understand "tháng".
    assert main(["tally", "parse", "tháng 2/2026 vneid 45", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"period": "2026-02", "values": {"vneid": 45}}
    assert main(["tally", "parse", "tháng 2 vneid 45", "--json"]) == 0
    read = json.loads(capsys.readouterr().out)
    assert read["values"] == {"vneid": 45} and read["period"].endswith("-02")
    assert main(["tally", "parse", "bc T12/2025: cks 12"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Tháng 12/2025", "cks (Chữ ký số): 12"]


def test_status_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOCNS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TOCNS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    assert main(["tally", "status", "--json", "--month", "2026-03"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == "2026-03" and data["reported"] == [] and len(data["missing"]) == 12
    assert main(["tally", "status"]) == 0
    assert "Đã báo cáo: 0/12" in capsys.readouterr().out
