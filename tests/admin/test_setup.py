"""Commune setup from a file, through the CLI (tocns admin setup / invite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.admin.setup import (
    MSG_BAD_YAML_AT,
    MSG_NEGATIVE,
    MSG_NOT_UTF8,
    MSG_OVER_POPULATION,
    apply_setup,
    read_setup_file,
)
from bot.cli import main
from bot.core.errors import UserError
from bot.i18n import translator
from bot.services import Services
from db.models import Commune, InviteCode, Unit, Village, VillageDenominator
from tests.conftest import START

VI = translator("vi")

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
        "problem_details": [],
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
    assert out.splitlines() == [
        "Tệp có 3 lỗi, chưa lưu gì. Hãy sửa rồi chạy lại:",
        "  - Thôn/xóm thứ 1 (Ấp 1): Số người trưởng thành và số người từ 15 tuổi không được lớn "
        "hơn dân số (1200).",
        "  - Thôn/xóm thứ 2 (Ấp 2): Dân số không được là số âm (-1).",
        "  - Thôn/xóm thứ 2 (Ấp 2): Số người trưởng thành và số người từ 15 tuổi không được lớn "
        "hơn dân số (-1).",
    ]
    assert main(["admin", "setup", str(cli_env / "bad.yaml"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["problems"] == [line[4:] for line in out.splitlines()[1:]]
    assert data["problem_details"][1] == {
        "section": "villages",
        "row": 2,
        "name": "Ấp 2",
        "message_id": MSG_NEGATIVE,
        "params": {"column": "population", "value": "-1"},
        "message": "Thôn/xóm thứ 2 (Ấp 2): Dân số không được là số âm (-1).",
    }
    assert data["problem_details"][0]["message_id"] == MSG_OVER_POPULATION
    assert main(["admin", "setup", str(cli_env / "missing.yaml")]) == 1
    assert capsys.readouterr().out.startswith("Không tìm thấy tệp")


def test_setup_problems_are_vietnamese(services: Services) -> None:
    data = {
        "commune": {"name": ""},
        "villages": [
            {"name": "Ấp 1", "population": "", "adults": "1,5", "valid_from": "31/2/2026"},
            "Ấp 2",
        ],
        "units": [{"aliases": ["CA"]}, {"name": "Công an xã"}],
    }
    shape = {"commune": "x", "villages": "x", "units": 3}
    with Session(services.engine) as session:
        result = apply_setup(session, data, today=START.date())
        shapes = apply_setup(session, shape, today=START.date())
        assert not (session.new or session.dirty)
    assert [p.text(VI) for p in result.problems] == [
        "Chưa có tên xã. Hãy ghi tên, ví dụ “Xã An Bình”.",
        "Thôn/xóm thứ 1 (Ấp 1): Dân số còn trống. Hãy ghi một số nguyên (ghi 0 nếu không có).",
        "Thôn/xóm thứ 1 (Ấp 1): Số người trưởng thành “1,5” không phải số nguyên. "
        "Hãy viết dạng 1200.",
        "Thôn/xóm thứ 1 (Ấp 1): Ngày áp dụng “31/2/2026” không phải là ngày. Hãy viết theo dạng "
        "ngày/tháng/năm, ví dụ 01/01/2026.",
        "Thôn/xóm thứ 2: Hãy ghi tên thôn/xóm và các số liệu (dân số, số người trưởng thành…).",
        "Đơn vị thứ 1: Chưa có tên đơn vị.",
    ]
    assert [p.text(VI) for p in shapes.problems] == [
        "Phần thông tin xã cần có tên (name), mã (slug) và tỉnh (province).",
        "Chưa có tên xã. Hãy ghi tên, ví dụ “Xã An Bình”.",
        "Phần thôn/xóm (villages) phải là một danh sách, mỗi thôn/xóm một mục.",
        "Phần đơn vị (units) phải là một danh sách, mỗi đơn vị một mục.",
    ]


def test_unreadable_setup_files_are_explained(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli_env / "broken.yaml").write_text("commune:\n  name: [Xã An Bình\n", encoding="utf-8")
    with pytest.raises(UserError) as raised:
        read_setup_file(cli_env / "broken.yaml")
    assert raised.value.message_id == MSG_BAD_YAML_AT
    assert main(["admin", "setup", str(cli_env / "broken.yaml")]) == 1
    out = capsys.readouterr().out
    assert "Tệp YAML bị lỗi ở dòng 3, cột 1." in out and "dấu ngoặc kép" in out
    (cli_env / "date.yaml").write_text("villages:\n  - {valid_from: 2026-13-01}\n", "utf-8")
    assert main(["admin", "setup", str(cli_env / "date.yaml"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert "một ngày không có thật như 2026-13-01" in data["error"]
    (cli_env / "ansi.csv").write_bytes("loai,ten\nthon,Xóm 1\n".encode("cp1252"))
    assert main(["admin", "setup", str(cli_env / "ansi.csv")]) == 1
    assert "không được lưu dạng UTF-8" in capsys.readouterr().out
    (cli_env / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    assert main(["admin", "setup", str(cli_env / "list.yaml")]) == 1
    assert "Tệp thiết lập phải có thông tin xã" in capsys.readouterr().out


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
        "Họ và tên,Vai trò,Thôn\nLê Văn Ba,thành viên,Xóm 99\nAn,phi hành gia,Xóm 1\n",
        encoding="utf-8",
    )
    assert main(["admin", "people", "import", str(cli_env / "bad.csv")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Tệp có 2 lỗi, chưa nhập ai. Hãy sửa rồi chạy lại:"
    assert lines[1].startswith(
        "  - Dòng 2: Xã không có thôn/xóm “Xóm 99”. Các thôn/xóm của xã: Xóm 1"
    )
    assert lines[2].startswith("  - Dòng 3: Không hiểu vai trò “phi hành gia”. Hãy dùng:")
    assert main(["admin", "people", "import", str(cli_env / "bad.csv"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"created", "updated", "identities", "problems", "problem_details"}
    assert data["problems"] == [line[4:] for line in lines[1:]]
    assert data["problem_details"][1] == {
        "line": 3,
        "message_id": "Unknown role “{role}”. Use: thành viên tổ, tổ trưởng, cán bộ, thường trực, "
        "lãnh đạo xã, quản trị or người dân.",
        "params": {"role": "phi hành gia"},
        "message": lines[2][4:],
    }
    # Excel's plain "CSV" is not UTF-8: say how to save it, no traceback.
    (cli_env / "ansi.csv").write_bytes("Tên,Vai trò\nAn,dân\n".encode("cp1252"))
    assert main(["admin", "people", "import", str(cli_env / "ansi.csv"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["message_id"] == MSG_NOT_UTF8 and "CSV UTF-8" in data["error"]


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
