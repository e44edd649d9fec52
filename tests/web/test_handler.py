"""``/dashboard`` and ``/xuatbaocao`` in the chat, and the CLI commands."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from bot.app import build_services
from bot.cli import main
from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.web.auth import LOGIN_PATH, redeem_login_token
from tests.conftest import make_settings
from tests.helpers import Chat, add_person
from tests.web.conftest import Seeded

LINK = re.compile(r"https?://\S+" + LOGIN_PATH + r"/(\S+)")


def test_dashboard_sends_a_one_time_link_bound_to_the_person(
    services: Services, dispatcher: Dispatcher
) -> None:
    person = add_person(services, name="Cán Bộ", roles=("unit",), unit="Công an xã", chat_id="4001")
    reply = Chat(dispatcher, chat_id="4001").say("/dashboard")
    match = LINK.search(reply)
    assert match, reply
    assert "15 phút" in reply and "một lần" in reply
    with Session(services.engine) as session:
        assert redeem_login_token(session, match.group(1), services.clock()) == person
        assert redeem_login_token(session, match.group(1), services.clock()) is None


def test_dashboard_refused_to_residents(services: Services, dispatcher: Dispatcher) -> None:
    add_person(services, roles=("resident",), chat_id="4002")
    reply = Chat(dispatcher, chat_id="4002").say("/dashboard")
    assert LINK.search(reply) is None


def test_dashboard_uses_the_public_address(services: Services) -> None:

    settings = make_settings(
        services.settings.data_dir,
        services.settings.database_url,
        public_base_url="https://tocns.example.vn/",
    )
    public = build_services(settings, services.clock)
    add_person(public, roles=("office",), chat_id="4003")
    reply = Chat(Dispatcher(public), chat_id="4003").say("/bangdieukhien")
    assert "https://tocns.example.vn/login/" in reply
    public.engine.dispose()


def test_export_in_the_chat(seeded: Seeded, services: Services, dispatcher: Dispatcher) -> None:
    chat = Chat(dispatcher, chat_id="3001")  # the office
    [offer] = chat.send("/xuatbaocao")
    assert [c.value for c in offer.choices] == ["dashx:indicators", "dashx:tasks", "dashx:tallies"]
    [sent] = chat.press("dashx:indicators")
    assert sent.file is not None and sent.file_name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(sent.file)).active
    assert sheet is not None and any(row[0] == "TT" for row in sheet.iter_rows(values_only=True))
    [tasks] = chat.send("/export nhiem vu")
    assert tasks.file is not None and tasks.file_name.startswith("nhiem-vu-")


def test_export_choices_follow_the_role(seeded: Seeded, dispatcher: Dispatcher) -> None:
    [offer] = Chat(dispatcher, chat_id="3002").send("/xuatbaocao")  # unit officer
    assert [c.value for c in offer.choices] == ["dashx:indicators", "dashx:tasks"]
    [offer] = Chat(dispatcher, chat_id="3004").send("/xuatbaocao")  # team member
    assert [c.value for c in offer.choices] == ["dashx:indicators", "dashx:tallies"]
    [refused] = Chat(dispatcher, chat_id="3004").press("dashx:tasks")
    assert refused.file is None


def test_zalo_without_a_public_address_gets_a_hint(
    services: Services, dispatcher: Dispatcher
) -> None:
    add_person(services, roles=("office",), channel="zalo", chat_id="z-1")
    [reply] = Chat(dispatcher, chat_id="z-1", channel="zalo").press("dashx:indicators")
    assert reply.file is None and "/dashboard" in reply.text


def test_cli_link_and_export(
    seeded: Seeded, services: Services, monkeypatch: object, capsys: object, tmp_path: object
) -> None:
    mp: pytest.MonkeyPatch = monkeypatch  # type: ignore[assignment]
    mp.setenv("TOCNS_DATA_DIR", str(services.settings.data_dir))
    mp.setenv("TOCNS_DATABASE_URL", services.settings.database_url)
    mp.setenv("TOCNS_LISTEN_PORT", "8099")
    assert main(["web", "link", "--person", "Lê Thị Thường Trực"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "http://127.0.0.1:8099/login/" in out
    assert main(["web", "link", "--person", "Bà Dân"]) == 1  # a resident
    assert main(["web", "link", "--person", "không có ai"]) == 1
    assert main(["web", "link", "--person", str(seeded.officer), "--json"]) == 0
    assert '"link": "http://127.0.0.1:8099/login/' in capsys.readouterr().out  # type: ignore[attr-defined]
    target = Path(str(tmp_path)) / "chi-tieu.xlsx"
    assert main(["export", "indicators", "-o", str(target)]) == 0
    assert load_workbook(target).active is not None
    assert main(["export", "indicators", "--year", "2027", "-o", str(target)]) == 0
    sheet = load_workbook(target).active
    assert sheet is not None
    assert "Chỉ tiêu năm 2027" in {c.value for row in sheet.iter_rows() for c in row}
    csv_path = Path(str(tmp_path)) / "so-lieu.csv"
    assert main(["export", "tallies", "-o", str(csv_path)]) == 0
    assert csv_path.read_text(encoding="utf-8-sig").startswith("Năm;Tháng;Thôn/Xóm;VNeID mức 2;")
