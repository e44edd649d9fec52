"""Broadcast groups and queuing an announcement (DB work in the caller's transaction).

The chat's /thongbao, ``tocns broadcast`` and the dashboard's announcements page all
queue through ``create_broadcast``; the outbox sender delivers the rows (a scheduled
announcement's rows are simply due later). ``reach`` and ``progress`` say how many
people a group reaches on each channel and how far delivery has got.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from bot import audit
from bot.admin.setup import find_unit
from bot.communes import villages_of
from bot.core.errors import UserError
from bot.core.people import village_groups
from bot.i18n import DEFAULT_LOCALE, N_, translator
from bot.reminders import messages
from bot.reminders.outbox import enqueue
from bot.text import clean, fold
from db.engine import rowcount
from db.models import (
    Broadcast,
    ChatIdentity,
    GroupChat,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonRole,
    Role,
    Unit,
    Village,
)

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
    send_at: dt.datetime | None = None,
) -> tuple[Broadcast, int]:
    """Record a broadcast and queue one outbox row per reachable recipient.

    With ``send_at`` the rows are due then: the outbox sender leaves them until that time.
    """
    text = check_text(text)
    members = [pid for pid in group_members(session, commune_id, group) if pid != created_by]
    due = send_at if send_at is not None and send_at > now else now
    broadcast = Broadcast(
        commune_id=commune_id,
        group=group[:120],
        text=text,
        created_by=created_by,
        created_at=now,
        audience=len(members),
        send_at=send_at if due != now else None,
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
            due_at=due,
        )
        queued += row is not None
    chats = group_chats_of(session, commune_id, group)
    if chats:
        queued += _queue_group_chats(session, broadcast, chats, sender_name, text, due)
    broadcast.recipients = queued
    session.add(broadcast)
    return broadcast, queued


def _queue_group_chats(
    session: Session,
    broadcast: Broadcast,
    chats: list[GroupChat],
    sender: str,
    text: str,
    now: dt.datetime,
) -> int:
    """Queue the announcement to each of a village's group chats."""
    reply = messages.broadcast(translator(DEFAULT_LOCALE), sender, text)
    queued = 0
    for chat in chats:
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


# ------------------------------------------------------------------ reach and progress

PENDING_STATUSES = frozenset({OutboxStatus.PENDING, OutboxStatus.CLAIMED, OutboxStatus.SENDING})
# Not delivered and never retried by itself ("unknown": may not have arrived).
UNDELIVERED_STATUSES = frozenset(
    {OutboxStatus.FAILED, OutboxStatus.MISSED, OutboxStatus.BLOCKED, OutboxStatus.UNKNOWN}
)


@dataclass(frozen=True)
class Reach:
    """How many people of a group an announcement would reach now, on which channel."""

    by_channel: dict[str, int] = field(default_factory=dict)
    unreachable: int = 0  # in the group, but no chat linked (or every chat blocked)

    @property
    def reachable(self) -> int:
        return sum(self.by_channel.values())

    @property
    def total(self) -> int:
        return self.reachable + self.unreachable


def preferred_channels(session: Session, person_ids: list[int]) -> dict[int, str]:
    """The channel each person would be written to (``outbox.preferred_identity``, in bulk)."""
    if not person_ids:
        return {}
    rows = session.exec(
        select(ChatIdentity)
        .where(
            col(ChatIdentity.person_id).in_(person_ids),
            col(ChatIdentity.blocked).is_(False),
            col(ChatIdentity.private).is_(True),
        )
        .order_by(
            col(ChatIdentity.person_id),
            col(ChatIdentity.last_seen_at).desc().nulls_last(),
            col(ChatIdentity.id).desc(),
        )
    ).all()
    chosen: dict[int, str] = {}
    for identity in rows:
        chosen.setdefault(identity.person_id, identity.channel)
    return chosen


def group_chats_of(session: Session, commune_id: int, group: str) -> list[GroupChat]:
    """The group chats an announcement to ``group`` goes to (only ``chats:<village>``)."""
    kind, _, value = group.partition(":")
    if kind != GROUP_CHATS or not value.isdigit():
        return []
    village = session.get(Village, int(value))
    if village is None or village.id is None or village.commune_id != commune_id:
        return []
    return village_groups(session, [village.id])


def chat_villages(session: Session, commune_id: int) -> list[tuple[Village, int]]:
    """The commune's villages that have linked group chats, with how many, in their order."""
    villages = villages_of(session, commune_id)
    counts = Counter(
        chat.village_id for chat in village_groups(session, [v.id for v in villages if v.id])
    )
    return [(v, counts[v.id]) for v in villages if v.id is not None and counts[v.id]]


def reach(session: Session, commune_id: int, group: str, sender_id: int | None = None) -> Reach:
    """Who of ``group`` (the sender excepted) an announcement reaches, counted per channel.

    For a village's group chats (``chats:<village>``) the count is of chats, not people.
    """
    chats = group_chats_of(session, commune_id, group)
    if chats:
        return Reach(by_channel=dict(Counter(chat.channel for chat in chats)))
    members = [pid for pid in group_members(session, commune_id, group) if pid != sender_id]
    channels = preferred_channels(session, members)
    return Reach(
        by_channel=dict(Counter(channels.values())), unreachable=len(members) - len(channels)
    )


@dataclass(frozen=True)
class Progress:
    """How far one announcement's delivery has got."""

    broadcast: Broadcast
    sent: int = 0
    pending: int = 0
    unreachable: int = 0  # no chat to write to, or the send failed, was blocked or missed
    cancelled: int = 0

    @property
    def scheduled(self) -> bool:
        return self.broadcast.send_at is not None and self.pending > 0


def _prefix(broadcast_id: int | None) -> str:
    return f"broadcast:{broadcast_id}:"


def progress(session: Session, commune_id: int, limit: int = 50) -> list[Progress]:
    """The commune's latest announcements, newest first, with their outbox rows counted."""
    broadcasts = list(
        session.exec(
            select(Broadcast)
            .where(Broadcast.commune_id == commune_id)
            .order_by(col(Broadcast.created_at).desc(), col(Broadcast.id).desc())
            .limit(limit)
        ).all()
    )
    if not broadcasts:
        return []
    counts: dict[int, Counter[str]] = {b.id: Counter() for b in broadcasts if b.id is not None}
    rows = session.exec(
        select(OutboxMessage.dedupe_key, OutboxMessage.status).where(
            col(OutboxMessage.kind).in_(("broadcast", "broadcast_group")),
            or_(*(col(OutboxMessage.dedupe_key).startswith(_prefix(i)) for i in counts)),
        )
    ).all()
    for key, status in rows:
        head = key.split(":")[1]
        if head.isdigit() and int(head) in counts:
            counts[int(head)][status] += 1
    result = []
    for b in broadcasts:
        c = counts.get(b.id or 0, Counter())
        result.append(
            Progress(
                broadcast=b,
                sent=c[OutboxStatus.SENT],
                pending=sum(c[s] for s in PENDING_STATUSES),
                unreachable=max(0, b.audience - b.recipients)
                + sum(c[s] for s in UNDELIVERED_STATUSES),
                cancelled=c[OutboxStatus.CANCELLED],
            )
        )
    return result


REPEAT_WINDOW = dt.timedelta(minutes=10)
ALREADY_SENT = N_(
    "You sent this announcement to this group a moment ago. It was not sent a second time."
)


def announce(
    session: Session,
    *,
    actor: Person,
    group: str,
    text: str,
    sender_name: str,
    now: dt.datetime,
    send_at: dt.datetime | None = None,
    tz: dt.tzinfo = dt.UTC,
) -> tuple[Broadcast, int]:
    """Queue an announcement written on the dashboard (now, or at ``send_at``), audited.

    The same text to the same group for the same time, by the same person, minutes after
    the first (a double tap, a form sent twice) is refused rather than sent twice.
    """
    assert actor.commune_id is not None
    same_time = (
        col(Broadcast.send_at).is_(None) if send_at is None else col(Broadcast.send_at) == send_at
    )
    twice = session.exec(
        select(Broadcast.id).where(
            Broadcast.commune_id == actor.commune_id,
            Broadcast.created_by == actor.id,
            Broadcast.group == group,
            Broadcast.text == check_text(text),
            col(Broadcast.created_at) >= now - REPEAT_WINDOW,
            same_time,
        )
    ).first()
    if twice is not None:
        raise UserError(ALREADY_SENT)
    broadcast, queued = create_broadcast(
        session,
        commune_id=actor.commune_id,
        group=group,
        text=text,
        sender_name=sender_name,
        now=now,
        created_by=actor.id,
        send_at=send_at,
    )
    when = (
        broadcast.send_at.astimezone(tz).isoformat(timespec="minutes") if broadcast.send_at else ""
    )
    audit.record(
        session,
        commune_id=actor.commune_id,
        action="broadcast.schedule" if broadcast.send_at else "broadcast.send",
        entity="broadcast",
        entity_id=broadcast.id,
        actor=actor,
        new={
            "audience": group_label(session, group, DEFAULT_LOCALE),
            "recipients": queued,
            "send_at": when,
            "text": broadcast.text[:200],
        },
        at=now,
    )
    return broadcast, queued


NOT_FOUND = N_("This announcement does not exist.")
NOTHING_TO_CANCEL = N_("This announcement was already sent: nothing is left to cancel.")


def cancel(session: Session, broadcast_id: int, *, actor: Person, now: dt.datetime) -> int:
    """Cancel what of a scheduled announcement was not sent yet; how many messages."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.commune_id != actor.commune_id:
        raise UserError(NOT_FOUND)
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.dedupe_key).startswith(_prefix(broadcast.id)),
            col(OutboxMessage.kind).in_(("broadcast", "broadcast_group")),
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED, last_error="cancelled on the dashboard")
    )
    cancelled = rowcount(result)
    if not cancelled:
        raise UserError(NOTHING_TO_CANCEL)
    audit.record(
        session,
        commune_id=broadcast.commune_id,
        action="broadcast.cancel",
        entity="broadcast",
        entity_id=broadcast.id,
        actor=actor,
        new={
            "audience": group_label(session, broadcast.group, DEFAULT_LOCALE),
            "cancelled": cancelled,
        },
        at=now,
    )
    return cancelled
