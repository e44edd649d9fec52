"""The audit log as people read it: Vietnamese labels, names instead of ids, every action labelled."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlmodel import Session, select

from bot.admin.invites import create_invite
from bot.audit import ACTION_LABELS, FIELD_LABELS, HIDDEN_FIELDS, describe, record
from bot.i18n import translator
from bot.services import Services
from bot.web.auth import create_login_link
from db.models import AuditEntry, Person, Unit, Village
from tests.web.conftest import OWN_UNIT, Seeded, SignIn

BOT = Path(__file__).resolve().parents[2] / "bot"
T = translator("vi")


def _strings(node: ast.expr) -> list[str]:
    """The action ids an expression can give: literals, both sides of an if, f-string heads."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.JoinedStr):
        head = node.values[0]
        prefix = head.value if isinstance(head, ast.Constant) else ""
        return [f"{prefix}*"]
    return [f"<not a literal: {ast.unparse(node)}>"]


def audit_calls() -> list[tuple[str, list[str], list[str]]]:
    """(where, action ids, detail keys) of every ``audit.record`` call under bot/."""
    found = []
    for path in sorted(BOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            actions = _strings(keywords["action"])
            fields = [
                key.value
                for name in ("old", "new")
                if isinstance(keywords.get(name), ast.Dict)
                for key in keywords[name].keys  # type: ignore[union-attr]
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            ]
            found.append((f"{path.relative_to(BOT)}:{node.lineno}", actions, fields))
    return found


def test_every_audited_action_and_field_has_a_label() -> None:
    calls = audit_calls()
    assert len(calls) >= 10
    unlabelled = []
    for where, actions, fields in calls:
        for action in actions:
            known = (
                any(a.startswith(action[:-1]) for a in ACTION_LABELS)
                if action.endswith("*")
                else action in ACTION_LABELS
            )
            if not known:
                unlabelled.append(f"{where}: action {action}")
        unlabelled += [
            f"{where}: field {f}"
            for f in fields
            if f not in FIELD_LABELS and f not in HIDDEN_FIELDS
        ]
    assert unlabelled == []


def test_details_read_as_names_not_ids(services: Services) -> None:
    with Session(services.engine) as session:
        unit = session.exec(select(Unit).where(Unit.name == OWN_UNIT)).one()
        village = session.exec(select(Village)).first()
        assert village is not None and village.id is not None
        record(
            session,
            commune_id=unit.commune_id,
            action="invite.create",
            entity="invite",
            new={"role": "unit", "village_id": None, "unit_id": unit.id, "person_id": None},
        )
        record(
            session,
            commune_id=unit.commune_id,
            action="something.new",
            entity="thing",
            old={"colour": "blue", "village_id": 987654, "due": "2026-06-30"},
            reason="correction",
        )
        session.flush()
        entries = list(session.exec(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(2)))  # type: ignore[union-attr]
        other, invite = describe(session, entries, T)
    assert invite.action == "Tạo mã mời"
    assert invite.after == f"Vai trò: cán bộ đơn vị, Đơn vị: {OWN_UNIT}"
    assert invite.actor == "Dòng lệnh"
    assert other.action == "Thay đổi khác: Quản trị"
    assert other.before == "Khác: blue, Thôn/xóm: (đã xoá), Hạn: 30/06/2026"
    assert other.reason == "Sửa số liệu"


async def test_audit_page_shows_labels(seeded: Seeded, sign_in: SignIn, services: Services) -> None:
    with Session(services.engine) as session:
        office = session.get(Person, seeded.office)
        unit = session.exec(select(Unit).where(Unit.name == OWN_UNIT)).one()
        assert office is not None and office.commune_id is not None
        create_invite(
            session,
            commune_id=office.commune_id,
            role="unit",
            unit_id=unit.id,
            created_by=seeded.office,
            now=services.clock(),
        )
        session.commit()
    client = await sign_in(seeded.office)
    html = await (await client.get("/audit")).text()
    assert "Tạo mã mời" in html and f"Vai trò: cán bộ đơn vị, Đơn vị: {OWN_UNIT}" in html
    assert "Trả lại minh chứng" in html and "Trạng thái: Bị trả lại" in html
    assert "Thiết lập xã" in html and "Dòng lệnh" in html  # the sample commune, set up by the CLI
    for raw in ("invite.create", "evidence.reject", "commune.setup", "village_id", "None", ">CLI<"):
        assert raw not in html, raw
    admin = await (await client.get("/audit?kind=admin")).text()
    assert "Tạo mã mời" in admin and "Trả lại minh chứng" not in admin


async def test_sign_in_links_and_sign_ins_are_audited(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    with Session(services.engine) as session:
        create_login_link(session, seeded.officer, services.clock(), "", via="cli")
        session.commit()
    client = await sign_in(seeded.office)  # a link asked in the chat, then a sign-in
    with Session(services.engine) as session:
        entries = list(
            session.exec(
                select(AuditEntry).where(AuditEntry.entity == "web").order_by(AuditEntry.id)  # type: ignore[arg-type]
            )
        )
    assert [(e.action, e.actor_id, e.entity_id) for e in entries] == [
        ("web.link", None, str(seeded.officer)),
        ("web.link", seeded.office, str(seeded.office)),
        ("web.sign_in", seeded.office, str(seeded.office)),
    ]
    html = await (await client.get("/audit?kind=web")).text()
    assert html.count("Nhận đường dẫn đăng nhập bảng điều khiển") == 2
    assert "Đăng nhập bảng điều khiển" in html and "Qua: dòng lệnh" in html
    assert "web.sign_in" not in html
