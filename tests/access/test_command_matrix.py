"""Role × chat command matrix: every command, every role; nobody sees what is not theirs."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.services import Services
from db.models import AuditEntry, Role
from tests.factories import add_person
from tests.helpers import Chat

ROLES = {
    "resident": {"roles": ("resident",)},
    "team": {"roles": ("team",), "village": "Xóm 2"},
    "leader": {"roles": ("leader", "team"), "village": "Xóm 2"},
    "unit": {"roles": ("unit",), "unit": "Công an xã"},
    "office": {"roles": ("office",)},
    "commune_leader": {"roles": ("commune_leader",)},
    "admin": {"roles": ("admin",)},
}
REFUSAL = "Lệnh này dành cho"  # to someone with no role: how to link with an invite
NOT_YOUR_ROLE = "không thuộc việc của bạn"  # to someone registered with another role
APOLOGY = "Xin lỗi, mình vừa gặp trục trặc"


def chat_as(services: Services, role: str) -> Chat:
    chat_id = f"matrix-{role}"
    add_person(services, name=f"Người {role}", chat_id=chat_id, **ROLES[role])  # type: ignore[arg-type]
    return Chat(Dispatcher(services), chat_id=chat_id)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_command_for_every_role(services: Services, role: str) -> None:
    chat = chat_as(services, role)
    for entry in services.registry.ordered_commands:
        name = entry.names[0]
        replies = chat.send(f"/{name}")
        text = "\n".join(reply.text for reply in replies)
        assert replies, f"/{name} gave no answer to {role}"
        assert APOLOGY not in text, f"/{name} crashed for {role}"
        allowed = entry.roles is None or any(r in ROLES[role]["roles"] for r in entry.roles)
        refusal = REFUSAL if role == "resident" else NOT_YOUR_ROLE
        if allowed:
            assert REFUSAL not in text and NOT_YOUR_ROLE not in text, f"/{name} refused to {role}"
        else:
            assert refusal in text, f"/{name} not refused to {role}"
        chat.send("/huy")
        if name == "xoadulieu":
            continue  # asks first: nothing is deleted without a confirmation


def test_internal_commands_are_closed_to_residents(services: Services) -> None:
    internal = {
        "baocao",
        "nhiemvu",
        "chitieu",
        "duyet",
        "moi",
        "thongbao",
        "dashboard",
        "xuatbaocao",
    }
    registered = {entry.names[0]: entry for entry in services.registry.ordered_commands}
    assert internal <= set(registered)
    for name in internal:
        assert registered[name].roles is not None and Role.RESIDENT not in registered[name].roles


def test_admin_actions_are_audited(services: Services) -> None:
    chat = chat_as(services, "admin")
    chat.send("/moi")
    chat.send("1")  # first role offered
    chat.send("1")  # first village or unit offered
    with Session(services.engine) as session:
        actions = [entry.action for entry in session.exec(select(AuditEntry)).all()]
    assert any(action.startswith("invite") for action in actions), actions
