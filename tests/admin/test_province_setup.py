"""tocns province setup: the official list of communes and villages, all or nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from bot.admin.invites import hash_code
from bot.admin.province_setup import apply_province, read_province_xlsx
from bot.cli import main
from bot.i18n import translator
from bot.services import Services
from db.models import Commune, InviteCode, Village


def workbook(communes: list[list[object]], villages: list[list[object]], extra: str = "") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Xã"
    sheet.append(["Tên xã", "Mã xã"])
    for row in communes:
        sheet.append(row)
    thon = book.create_sheet("Thôn")
    thon.append(["Mã xã", "Tên thôn"])
    for row in villages:
        thon.append(row)
    if extra:
        book.create_sheet(extra)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_creates_communes_villages_and_an_admin_invite_each(services: Services) -> None:
    data = workbook(
        [["Xã Đông Sơn", "07001"], ["Xã Tây Sơn", 7002]],
        [["07001", "Thôn 1"], ["07001", "Thôn 2"], [7002, "Bản Mường"]],
    )
    with Session(services.engine) as session:
        result = apply_province(
            session, read_province_xlsx(data), province="Tỉnh Mẫu", now=services.clock()
        )
        assert result.problems == []
        session.commit()
    assert [(code, name) for code, name, _ in result.communes] == [
        ("07001", "Xã Đông Sơn"),
        ("7002", "Xã Tây Sơn"),
    ]
    assert result.villages == 3
    with Session(services.engine) as session:
        east = session.exec(select(Commune).where(Commune.slug == "07001")).one()
        assert east.province == "Tỉnh Mẫu"
        names = session.exec(select(Village.name).where(Village.commune_id == east.id)).all()
        assert sorted(names) == ["Thôn 1", "Thôn 2"]
        for code, _name, invite in result.communes:
            row = session.exec(
                select(InviteCode).where(InviteCode.code_hash == hash_code(invite))
            ).one()
            commune = session.get(Commune, row.commune_id)
            assert commune is not None and commune.slug == code and row.role == "admin"


def test_every_problem_by_sheet_and_row_and_nothing_created(services: Services) -> None:
    with Session(services.engine) as session:
        before = len(session.exec(select(Commune)).all())
        existing = session.exec(select(Commune)).first()
        assert existing is not None
        taken = existing.slug
    data = workbook(
        [["Xã Một", "01"], ["", "02"], ["Xã Ba", "01"], ["Xã Cũ", taken]],
        [["01", "Thôn A"], ["01", "thôn a"], ["99", "Thôn Lạ"], ["01", ""]],
        extra="Ghi chú",
    )
    with Session(services.engine) as session:
        result = apply_province(
            session, read_province_xlsx(data), province=None, now=services.clock()
        )
        session.rollback()
    t = translator("vi")
    texts = [problem.text(t) for problem in result.problems]
    assert "Trang “Ghi chú” không thuộc danh sách. Chỉ dùng hai trang Xã và Thôn." in texts
    assert any(text.startswith("Trang “Xã”, dòng 3: Chưa có tên xã") for text in texts)
    assert "Trang “Xã”, dòng 4: Mã 01 đã có ở dòng 2." in texts
    assert f"Trang “Xã”, dòng 5: Xã có mã {taken} đã được tạo rồi." in texts
    assert "Trang “Thôn”, dòng 3: Thôn “thôn a” đã có ở dòng 2." in texts
    assert "Trang “Thôn”, dòng 4: Không có xã nào mang mã 99 trong trang “Xã”." in texts
    assert any(text.startswith("Trang “Thôn”, dòng 5: ") for text in texts), texts
    assert result.communes == []
    with Session(services.engine) as session:
        assert len(session.exec(select(Commune)).all()) == before


def test_an_unreadable_file_and_missing_sheets() -> None:
    t = translator("vi")
    broken = read_province_xlsx(b"not a workbook")
    assert len(broken.problems) == 1 and broken.problems[0].text(t)
    book = Workbook()
    buffer = io.BytesIO()
    assert book.active is not None
    book.active.title = "Xã"
    book.save(buffer)
    listed = read_province_xlsx(buffer.getvalue())
    assert [p.text(t) for p in listed.problems] == ["Tệp thiếu trang “Thôn”."]


def test_cli_prints_an_invite_per_commune_then_refuses_a_second_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOCNS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TOCNS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    sheet = tmp_path / "tinh.xlsx"
    sheet.write_bytes(workbook([["Xã Đông Sơn", "07001"]], [["07001", "Thôn 1"]]))
    assert main(["province", "setup", str(sheet), "--province", "Tỉnh Mẫu"]) == 0
    out = capsys.readouterr().out
    assert "Đã tạo 1 xã với 1 thôn." in out
    assert "07001 Xã Đông Sơn: mã mời quản trị " in out
    assert main(["province", "setup", str(sheet), "--json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["communes"] == []
    assert answer["problems"] == ["Trang “Xã”, dòng 2: Xã có mã 07001 đã được tạo rồi."]
