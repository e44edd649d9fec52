"""Commune setup from a file, through the CLI (tocns admin setup / invite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.admin.setup import apply_setup, read_setup_file
from bot.cli import main
from bot.services import Services
from db.models import Commune, InviteCode, Unit, Village, VillageDenominator
from tests.conftest import START

YAML = """
commune: {slug: an-binh, name: "Xã An Bình", province: "Bình Dương"}
villages:
  - {name: "Ấp 1", kind: ấp, valid_from: 2026-01-01, population: 1200, adults: 850, aged15: 950, households: 300, businesses: 20}
  - {name: "Ấp 2", kind: ấp, population: 900, adults: 600, aged15: 700, households: 220, businesses: 9}
units:
  - {name: "Công an xã", aliases: ["CA xã"]}
"""
CSV = (
    "loai,ten,ma,tinh,kieu,dan_so,truong_thanh,tu_15_tuoi,so_ho,ho_kinh_doanh,ap_dung_tu,ten_khac\n"
    "xa,Xã An Bình,an-binh,Bình Dương,,,,,,,,\n"
    "thon,Ấp 1,,,ấp,1.200,850,950,300,20,2026-01-01,\n"
    "don_vi,Trạm Y tế xã,,,,,,,,,,TYT|Trạm Y tế\n"
)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOCNS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TOCNS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    return tmp_path


def test_setup_yaml_then_csv_is_idempotent(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli_env / "xa.yaml").write_text(YAML, encoding="utf-8")
    assert main(["admin", "setup", str(cli_env / "xa.yaml")]) == 0
    assert "Xã An Bình: 2 thôn/xóm, 1 đơn vị" in capsys.readouterr().out
    (cli_env / "xa.csv").write_text(CSV, encoding="utf-8")
    assert main(["admin", "setup", str(cli_env / "xa.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "commune": "Xã An Bình",
        "villages": 1,
        "units": 1,
        "problems": [],
    }
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{cli_env / 'cli.sqlite3'}")
    with Session(engine) as session:
        assert [c.slug for c in session.exec(select(Commune))] == ["an-binh"]  # no sample data
        assert sorted(v.name for v in session.exec(select(Village))) == ["Ấp 1", "Ấp 2"]
        assert len(session.exec(select(VillageDenominator)).all()) == 2
        assert sorted(u.name for u in session.exec(select(Unit))) == ["Công an xã", "Trạm Y tế xã"]
    engine.dispose()


def test_setup_refuses_a_bad_file(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = YAML.replace("adults: 850", "adults: 5000").replace("population: 900", "population: -1")
    (cli_env / "bad.yaml").write_text(bad, encoding="utf-8")
    assert main(["admin", "setup", str(cli_env / "bad.yaml")]) == 1
    out = capsys.readouterr().out
    assert "chưa lưu gì" in out and "cannot exceed the population" in out and "negative" in out
    assert main(["admin", "setup", str(cli_env / "missing.yaml")]) == 1


def test_cli_invite_prints_code_and_deep_link(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            ["admin", "invite", "--role", "team", "--village", "xom 3", "--expires", "2d", "--json"]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["place"] == "Xóm 3" and len(data["code"]) == 8
    assert data["link"] == f"https://t.me/tocns_bot?start=j_{data['code']}"
    assert main(["admin", "invite", "--role", "unit", "--unit", "CA xã"]) == 0
    out = capsys.readouterr().out
    assert "Mã mời:" in out and "Công an xã" in out and "/lienket " in out
    assert main(["admin", "invite", "--role", "team", "--village", "Xóm 99"]) == 1
    assert main(["admin", "invite", "--role", "team"]) == 1
    assert main(["admin", "invite", "--role", "office", "--expires", "soon"]) == 1
    capsys.readouterr()
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{cli_env / 'cli.sqlite3'}")
    with Session(engine) as session:
        assert len(session.exec(select(InviteCode)).all()) == 2
    engine.dispose()


def test_cli_people_import(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (cli_env / "people.csv").write_text(
        "Họ và tên,Vai trò,Thôn\nLê Văn Ba,thành viên,Xóm 3\n", encoding="utf-8"
    )
    assert main(["admin", "people", "import", str(cli_env / "people.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == 1
    (cli_env / "bad.csv").write_text(
        "Họ và tên,Vai trò,Thôn\nLê Văn Ba,thành viên,Xóm 99\n", encoding="utf-8"
    )
    assert main(["admin", "people", "import", str(cli_env / "bad.csv")]) == 1
    assert "chưa nhập ai" in capsys.readouterr().out


def test_apply_setup_in_a_session(services: Services, tmp_path: Path) -> None:
    (tmp_path / "xa.yaml").write_text(YAML, encoding="utf-8")
    with Session(services.engine) as session:
        result = apply_setup(session, read_setup_file(tmp_path / "xa.yaml"), today=START.date())
        session.commit()
        assert (result.villages, result.units, result.problems) == (2, 1, [])
        ap2 = session.exec(select(Village).where(Village.name == "Ấp 2")).one()
        denominator = session.exec(
            select(VillageDenominator).where(VillageDenominator.village_id == ap2.id)
        ).one()
        assert denominator.valid_from == START.date() and denominator.population == 900
