"""Broadcast groups and queuing an announcement (DB work in the caller's transaction)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from bot.admin.setup import find_unit
from bot.core.errors import UserError
from bot.core.people import village_groups
from bot.i18n import DEFAULT_LOCALE, N_, translator
from bot.reminders import messages
from bot.reminders.outbox import enqueue
from bot.text import clean, fold
from db.models import Broadcast, OutboxMessage, Person, PersonRole, Role, Unit, Village

MAX_TEXT = 3500
GROUP_TEAM = "team"
GROUP_RESIDENTS = "residents"

LABEL_TEAM = N_("all team members")
LABEL_RESIDENTS = N_("residents who signed up for announcements")
LABEL_VILLAGE = N_("the team of {village}")
LABEL_UNIT = N_("the officers of {unit}")
LABEL_CHATS = N_("the group chat of {village}")
GROUP_CHATS = "chats"  # "chats:<village id>": the village's group chats, not its people
UNKNOWN_GROUP = N_(
    "I don't know the group “{group}”. Use: team, residents, village:NAME or unit:NAME."
)
EMPTY_TEXT = N_("The announcement is empty. Please type its text.")
TOO_LONG = N_("The announcement is too long ({length} characters). Keep it under {limit}.")


def _ids_with_roles(session: Session, commune_id: int, roles: set[str]) -> set[int]:
    rows = session.exec(
        select(Person.id)
        .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(Person.commune_id == commune_id, col(PersonRole.role).in_(sorted(roles)))
    ).all()
    return {int(r) for r in rows if r is not None}


def group_members(session: Session, commune_id: int, group: str) -> list[int]:
    """Person ids in a broadcast group, sorted."""
    kind, _, value = group.partition(":")
    if kind == GROUP_TEAM:
        return sorted(_ids_with_roles(session, commune_id, {Role.TEAM, Role.LEADER}))
    if kind == GROUP_RESIDENTS:
        rows = session.exec(
            select(Person.id).where(Person.commune_id == commune_id, col(Person.opted_in).is_(True))
        ).all()
        return sorted(int(r) for r in rows if r is not None)
    if kind == "village" and value.isdigit():
        team = _ids_with_roles(session, commune_id, {Role.TEAM, Role.LEADER})
        rows = session.exec(select(Person.id).where(Person.village_id == int(value))).all()
        return sorted(team & {int(r) for r in rows if r is not None})
    if kind == GROUP_CHATS and value.isdigit():
        return []  # a group chat is not a person: see create_broadcast
    if kind == "unit" and value.isdigit():
        officers = _ids_with_roles(session, commune_id, {Role.UNIT})
        rows = session.exec(select(Person.id).where(Person.unit_id == int(value))).all()
        return sorted(officers & {int(r) for r in rows if r is not None})
    raise UserError(UNKNOWN_GROUP, group=group[:60])


def parse_group(session: Session, commune_id: int, text: str) -> str:
    """A group from the command line: team, residents, village:Xóm 3, unit:Công an xã (or ids)."""
    kind, _, value = text.strip().partition(":")
    kind = fold(kind)
    if kind in ("team", "to", "doi"):
        return GROUP_TEAM
    if kind in ("residents", "dan", "nguoidan"):
        return GROUP_RESIDENTS
    value = value.strip()
    if kind in ("village", "xom", "thon"):
        if value.isdigit():
            return f"village:{int(value)}"
        for village in session.exec(select(Village).where(Village.commune_id == commune_id)).all():
            if fold(village.name) == fold(value):
                return f"village:{village.id}"
    if kind in ("chats", "nhom", "group"):
        for village in session.exec(select(Village).where(Village.commune_id == commune_id)).all():
            if fold(village.name) == fold(value) or value == str(village.id):
                return f"{GROUP_CHATS}:{village.id}"
    if kind in ("unit", "donvi"):
        if value.isdigit():
            return f"unit:{int(value)}"
        unit = find_unit(session, commune_id, value)
        if unit is not None:
            return f"unit:{unit.id}"
    raise UserError(UNKNOWN_GROUP, group=text[:60])


def group_label(session: Session, group: str, locale: str) -> str:
    """A group as people read it."""
    t = translator(locale)
    kind, _, value = group.partition(":")
    if kind == GROUP_TEAM:
        return t.gettext(LABEL_TEAM)
    if kind == GROUP_RESIDENTS:
        return t.gettext(LABEL_RESIDENTS)
    if kind == "village" and value.isdigit():
        village = session.get(Village, int(value))
        return t.gettext(LABEL_VILLAGE, village=village.name if village else value)
    if kind == GROUP_CHATS and value.isdigit():
        village = session.get(Village, int(value))
        return t.gettext(LABEL_CHATS, village=village.name if village else value)
    if kind == "unit" and value.isdigit():
        unit = session.get(Unit, int(value))
        return t.gettext(LABEL_UNIT, unit=unit.name if unit else value)
    return group


def check_text(text: str) -> str:
    """The cleaned announcement text, or a UserError."""
    value = clean(text or "")
    if not value:
        raise UserError(EMPTY_TEXT)
    if len(value) > MAX_TEXT:
        raise UserError(TOO_LONG, length=len(value), limit=MAX_TEXT)
    return value


def create_broadcast(
    session: Session,
    *,
    commune_id: int,
    group: str,
    text: str,
    sender_name: str,
    now: dt.datetime,
    created_by: int | None = None,
) -> tuple[Broadcast, int]:
    """Record a broadcast and queue one outbox row per reachable recipient."""
    text = check_text(text)
    members = [pid for pid in group_members(session, commune_id, group) if pid != created_by]
    broadcast = Broadcast(
        commune_id=commune_id, group=group[:120], text=text, created_by=created_by, created_at=now
    )
    session.add(broadcast)
    session.flush()
    locales = (
        {
            p.id: p.locale
            for p in session.exec(select(Person).where(col(Person.id).in_(members))).all()
        }
        if members
        else {}
    )
    queued = 0
    for pid in members:
        reply = messages.broadcast(translator(locales.get(pid, DEFAULT_LOCALE)), sender_name, text)
        row = enqueue(
            session,
            person_id=pid,
            kind="broadcast",
            reply=reply,
            dedupe_key=f"broadcast:{broadcast.id}:{pid}",
            due_at=now,
        )
        queued += row is not None
    kind, _, value = group.partition(":")
    if kind == GROUP_CHATS and value.isdigit():
        queued += _queue_group_chats(session, broadcast, int(value), sender_name, text, now)
    broadcast.recipients = queued
    session.add(broadcast)
    return broadcast, queued


def _queue_group_chats(
    session: Session,
    broadcast: Broadcast,
    village_id: int,
    sender: str,
    text: str,
    now: dt.datetime,
) -> int:
    """Queue the announcement to each group chat linked to the village."""
    reply = messages.broadcast(translator(DEFAULT_LOCALE), sender, text)
    queued = 0
    for chat in village_groups(session, [village_id]):
        session.add(
            OutboxMessage(
                commune_id=broadcast.commune_id,
                channel=chat.channel,
                chat_id=chat.chat_id,
                kind="broadcast_group",
                content=reply.to_dict(),
                dedupe_key=f"broadcast:{broadcast.id}:g{chat.id}",
                due_at=now,
            )
        )
        queued += 1
    return queued
