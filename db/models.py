"""Database tables (SQLModel). Schema changes go through Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Enum, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

# Re-exported: their home is db.enums, importable by pure rules.
from db.enums import EvidenceStatus as EvidenceStatus
from db.enums import OutboxStatus as OutboxStatus
from db.enums import Role as Role
from db.types import UTCDateTime, utcnow


def _ts(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kwargs)


def _ts_opt(**kwargs: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kwargs)


# ---------------------------------------------------------------- who is who


class Commune(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=80)
    name: str = Field(max_length=200)
    province: str | None = Field(default=None, max_length=200)
    is_sample: bool = False
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = _ts()


class Village(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("commune_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="commune.id", index=True)
    name: str = Field(max_length=200)
    kind: str = Field(default="thôn", max_length=40)
    position: int = 0


class VillageDenominator(SQLModel, table=True):
    """A village's denominators from a given date (they change rarely)."""

    __table_args__ = (UniqueConstraint("village_id", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    valid_from: dt.date
    population: int = Field(ge=0)
    adults: int = Field(ge=0)
    aged15: int = Field(ge=0)
    households: int = Field(ge=0)
    businesses: int = Field(ge=0)


class Unit(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("commune_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="commune.id", index=True)
    name: str = Field(max_length=300)


class UnitAlias(SQLModel, table=True):
    """A raw spelling of a unit name mapped to its canonical unit (reviewable)."""

    __table_args__ = (UniqueConstraint("commune_id", "folded"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="commune.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    alias: str = Field(max_length=300)
    folded: str = Field(max_length=300)


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    commune_id: int | None = Field(default=None, foreign_key="commune.id", index=True)
    display_name: str = Field(default="", max_length=200)
    locale: str = Field(default="vi", max_length=8)
    village_id: int | None = Field(default=None, foreign_key="village.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    # A province officer's province (``Commune.province``); they belong to no commune.
    province: str | None = Field(default=None, max_length=200)
    opted_in: bool = False
    created_at: dt.datetime = _ts()


class PersonRole(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=20)


class ChatIdentity(SQLModel, table=True):
    """One chat account of a person on one channel (a person may have several)."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64)
    blocked: bool = False
    # Whether ``chat_id`` is a private chat with the bot (it wrote there, or an admin
    # linked it). False for an id only seen as a sender in a group, where the channel
    # does not document that a user id is also their private chat id (Zalo): nothing
    # is sent to it until the person writes privately.
    private: bool = True
    created_at: dt.datetime = _ts()
    last_seen_at: dt.datetime | None = _ts_opt()


class ConversationState(SQLModel, table=True):
    """Where a chat is in a multi-step flow, plus the choices last offered to it."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64)
    flow: str | None = Field(default=None, max_length=60)
    step: str | None = Field(default=None, max_length=60)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    choices: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = _ts()


class GroupChat(SQLModel, table=True):
    """A group chat (a village's Zalo or Telegram group) linked to its village."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64)
    village_id: int = Field(foreign_key="village.id", index=True)
    linked_by: int | None = Field(default=None, foreign_key="person.id")
    linked_at: dt.datetime = _ts()


class MessageKindCount(SQLModel, table=True):
    """How many messages of a kind the bot cannot read (voice notes...) came in a day.

    Only the count: officers see how many people try voice, never what they said.
    """

    __table_args__ = (UniqueConstraint("day", "channel", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    day: dt.date
    channel: str = Field(max_length=20)
    kind: str = Field(max_length=20)
    count: int = 0


class ProcessedUpdate(SQLModel, table=True):
    """An update already handled, so a duplicate delivery is ignored."""

    __table_args__ = (UniqueConstraint("channel", "update_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    update_key: str = Field(max_length=120)
    processed_at: dt.datetime = _ts(index=True)
    # The replies committed with the update, until the channel has sent them: a process
    # killed between the commit and the send leaves them for ``bot.core.unanswered``.
    chat_id: str | None = Field(default=None, max_length=64)
    replies: list[Any] | None = Field(default=None, sa_column=Column(JSON))
    answered_at: dt.datetime | None = _ts_opt()


class InboxUpdate(SQLModel, table=True):
    """A polled update fetched and not yet handled (see ``bot.core.inbox``)."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: dt.datetime = _ts()


class InviteCode(SQLModel, table=True):
    """A one-time code that links a chat to a role (stored hashed)."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    commune_id: int = Field(foreign_key="commune.id")
    role: str = Field(max_length=20)
    village_id: int | None = Field(default=None, foreign_key="village.id")
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = _ts()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = _ts_opt()
    used_by: int | None = Field(default=None, foreign_key="person.id")


class JoinAttempt(SQLModel, table=True):
    """A failed invite-code guess, for rate limiting."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64, index=True)
    at: dt.datetime = _ts()


class AuditEntry(SQLModel, table=True):
    """Who changed what, when and why (corrections, reviews, admin actions)."""

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int | None = Field(default=None, foreign_key="commune.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_name: str = Field(default="", max_length=200)
    action: str = Field(max_length=60)
    entity: str = Field(max_length=60)
    entity_id: str = Field(default="", max_length=60)
    old: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    new: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str = Field(default="", max_length=500)
    at: dt.datetime = _ts(index=True)


# ---------------------------------------------------------------- tallies


class Tally(SQLModel, table=True):
    """A village's cumulative count for one code at the end of one month."""

    __table_args__ = (
        UniqueConstraint("village_id", "period", "code"),
        Index("ix_tally_period_code", "period", "code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    period: dt.date  # first day of the month
    code: str = Field(max_length=10)
    value: int = Field(ge=0)
    flagged: bool = False
    reported_by: int | None = Field(default=None, foreign_key="person.id")
    updated_at: dt.datetime = _ts()


class ProgressVersion(SQLModel, table=True):
    """A token that changes whenever a commune's progress inputs change (villages,
    denominators, tallies, plan targets), written in the writing transaction by
    ``db.progress_version``. Commune 0 is the global token: any write whose commune is
    unknown changes it. Progress caches compare tokens instead of reloading the inputs."""

    commune_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    token: str = Field(max_length=32)


# ---------------------------------------------------------------- guides


class GuideFeedback(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, index=True)
    helpful: bool
    query: str = Field(default="", max_length=300)
    at: dt.datetime = _ts(index=True)


class UnansweredQuestion(SQLModel, table=True):
    """A question no guide answered, normalised and with no personal identifiers."""

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=300, index=True)
    count: int = 1
    first_at: dt.datetime = _ts()
    last_at: dt.datetime = _ts(index=True)


# ---------------------------------------------------------------- plans


class Plan(SQLModel, table=True):
    """A commune's plan (kế hoạch) with its indicator and task appendices."""

    __table_args__ = (UniqueConstraint("commune_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="commune.id", index=True)
    slug: str = Field(max_length=80)
    title: str = Field(max_length=1000)
    number: str | None = Field(default=None, max_length=80)
    issued: dt.date | None = None
    period: str | None = Field(default=None, max_length=80)
    source: str | None = Field(default=None, max_length=500)
    monitoring: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    imported_at: dt.datetime = _ts()


class Indicator(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    number: str = Field(max_length=40)
    position: int = 0
    group: str | None = Field(default=None, max_length=500)
    text: str = Field(max_length=2000)
    unit_of_measure: str | None = Field(default=None, max_length=80)
    lead_unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    coordinating: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    result_text: str | None = Field(default=None, max_length=2000)
    tally_code: str | None = Field(default=None, max_length=10)
    active: bool = True


class IndicatorTarget(SQLModel, table=True):
    """An indicator's target for one year, as written and as parsed."""

    __table_args__ = (UniqueConstraint("indicator_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    year: int
    raw: str = Field(max_length=500)
    op: str = Field(max_length=12)
    value: float | None = None
    low: float | None = None
    high: float | None = None


class IndicatorValue(SQLModel, table=True):
    """An actual value entered by the lead unit for an indicator not fed by tallies."""

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    value: float
    note: str = Field(default="", max_length=1000)
    entered_by: int | None = Field(default=None, foreign_key="person.id")
    at: dt.datetime = _ts()


class Task(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    number: str = Field(max_length=40)
    position: int = 0
    group: str | None = Field(default=None, max_length=500)
    text: str = Field(max_length=4000)
    lead_unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    coordinating: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    output: str | None = Field(default=None, max_length=4000)
    budget: float | None = None  # triệu đồng
    deadline_raw: str | None = Field(default=None, max_length=300)
    kind: str = Field(default="once", max_length=12)  # once | recurring | ongoing | on_event
    due: dt.date | None = None
    repeat: str | None = Field(default=None, max_length=12)
    start: dt.date | None = None
    active: bool = True


class TaskProgress(SQLModel, table=True):
    """A progress report on a task (for recurring tasks: on one period)."""

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    period: str = Field(default="", max_length=20)  # "" for once; "2026-03", "2026-Q1", "2026"
    percent: int = Field(ge=0, le=100)
    note: str = Field(default="", max_length=2000)
    reported_by: int | None = Field(default=None, foreign_key="person.id")
    at: dt.datetime = _ts(index=True)


class Evidence(SQLModel, table=True):
    """A file or link proving a task's result, with its review decision."""

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    period: str = Field(default="", max_length=20)
    kind: str = Field(max_length=12)  # photo | document | link
    file_name: str = Field(default="", max_length=300)
    mime_type: str = Field(default="", max_length=120)
    size: int = 0
    sha256: str = Field(default="", max_length=64)
    storage_path: str = Field(default="", max_length=500)
    url: str = Field(default="", max_length=1000)
    uploaded_by: int | None = Field(default=None, foreign_key="person.id")
    uploaded_at: dt.datetime = _ts()
    status: EvidenceStatus = Field(
        default=EvidenceStatus.PENDING,
        # Stored as the value in a plain VARCHAR(12), as before the enum existed.
        sa_type=Enum(
            EvidenceStatus,
            native_enum=False,
            create_constraint=False,
            length=12,
            values_callable=lambda members: [member.value for member in members],
        ),
        index=True,
    )
    reviewed_by: int | None = Field(default=None, foreign_key="person.id")
    reviewed_at: dt.datetime | None = _ts_opt()
    review_reason: str = Field(default="", max_length=1000)


# ---------------------------------------------------------------- delivery


class OutboxMessage(SQLModel, table=True):
    """Something to send; the outbox delivery claims due rows and never sends a dedupe key twice."""

    __table_args__ = (Index("ix_outbox_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int | None = Field(default=None, foreign_key="commune.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64)
    kind: str = Field(max_length=30)
    task_id: int | None = Field(default=None, foreign_key="task.id")
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedupe_key: str = Field(unique=True, max_length=200)
    due_at: dt.datetime = Field(sa_type=UTCDateTime)
    # An OutboxStatus: pending|claimed|sending|sent|failed|missed|blocked|cancelled|unknown
    status: str = Field(default=OutboxStatus.PENDING, max_length=12)
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    claimed_by: str = Field(default="", max_length=80)
    claimed_at: dt.datetime | None = _ts_opt()
    sent_at: dt.datetime | None = _ts_opt()
    created_at: dt.datetime = _ts()


class Broadcast(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    commune_id: int | None = Field(default=None, foreign_key="commune.id")
    group: str = Field(max_length=120)
    text: str = Field(max_length=4000)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = _ts()
    recipients: int = 0  # outbox rows queued (people reachable, plus group chats)
    audience: int = 0  # people in the group when it was queued
    send_at: dt.datetime | None = _ts_opt()  # scheduled for later (None: sent at once)


class SendSlot(SQLModel, table=True):
    """The last moment reserved to send on a channel, or to one chat of it.

    Several workers pace their sends through these rows (PostgreSQL), so together they
    stay within a platform's limit instead of each one using all of it.
    """

    key: str = Field(primary_key=True, max_length=100)  # "telegram" or "telegram:chat:123"
    next_at: dt.datetime = Field(sa_type=UTCDateTime)


# ---------------------------------------------------------------- dashboard


class WebLoginToken(SQLModel, table=True):
    """A one-time sign-in link (stored hashed), valid 15 minutes."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    person_id: int = Field(foreign_key="person.id")
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = _ts_opt()


class WebSession(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: dt.datetime = _ts()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    revoked: bool = False


# ---------------------------------------------------------------- reminders


class RedEpisode(SQLModel, table=True):
    """A period during which a task is red; its unit is alerted once per episode.

    At most one episode per task is open (``ended_at`` is NULL): two planning passes
    running at once (several workers) share it instead of alerting twice.
    """

    __table_args__ = (
        Index(
            "uq_redepisode_open_task",
            "task_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    reason: str = Field(default="", max_length=500)
    started_at: dt.datetime = _ts()
    ended_at: dt.datetime | None = _ts_opt()


class JobMark(SQLModel, table=True):
    """When a background job (the reminder planner) last ran, to catch up after downtime."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=80)
    at: dt.datetime = Field(sa_type=UTCDateTime)


# ---------------------------------------------------------------- residents' feedback
# Phản ánh, kiến nghị (bot/feedback). Owned by the feedback feature; see bot/feedback/store.py.


class FeedbackCategory(SQLModel, table=True):
    """A kind of report a commune accepts, with the unit it goes to and its deadlines."""

    __table_args__ = (UniqueConstraint("commune_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="commune.id", index=True)
    code: str = Field(max_length=40)  # stable: the Open311 service_code
    name: str = Field(max_length=200)
    group: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=500)
    keywords: str = Field(default="", max_length=1000)  # comma separated
    lead_unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    urgent: bool = False  # its notifications ignore quiet hours
    answer_days: int = Field(default=2, ge=0, le=60)  # working days to the first answer
    close_days: int = Field(default=10, ge=0, le=120)  # working days to closing
    position: int = 0
    active: bool = True


class FeedbackReport(SQLModel, table=True):
    """One resident's report (phản ánh), from receipt to closing."""

    __table_args__ = (
        UniqueConstraint("commune_id", "number"),
        Index("ix_feedbackreport_commune_status", "commune_id", "status"),
        Index("ix_feedbackreport_reporter_text", "reporter_id", "text_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="commune.id", index=True)
    number: int = Field(ge=1)
    code: str = Field(max_length=20, index=True)  # "PA-0427"
    category_id: int = Field(foreign_key="feedbackcategory.id", index=True)
    text: str = Field(max_length=4000)
    text_key: str = Field(max_length=64)  # checksum of the folded text (duplicates)
    village_id: int | None = Field(default=None, foreign_key="village.id", index=True)
    landmark: str = Field(default="", max_length=300)
    latitude: float | None = None
    longitude: float | None = None
    contact_allowed: bool = False
    reporter_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    source: str = Field(default="chat", max_length=20)  # chat | open311 | web | sample
    channel: str = Field(default="", max_length=20)
    status: str = Field(default="received", max_length=12)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    urgent: bool = False
    reopened: int = Field(default=0, ge=0)
    created_at: dt.datetime = _ts(index=True)
    updated_at: dt.datetime = _ts()
    answered_at: dt.datetime | None = _ts_opt()
    closed_at: dt.datetime | None = _ts_opt()
    answer_due_at: dt.datetime = Field(sa_type=UTCDateTime)
    close_due_at: dt.datetime = Field(sa_type=UTCDateTime)


class FeedbackEvent(SQLModel, table=True):
    """Every change to a report, in order; internal notes are never shown to the resident."""

    __table_args__ = (UniqueConstraint("report_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="feedbackreport.id", index=True)
    seq: int = Field(ge=1)
    kind: str = Field(max_length=20)
    actor_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    actor_role: str = Field(default="system", max_length=12)  # resident|unit|office|system
    from_status: str | None = Field(default=None, max_length=12)
    to_status: str | None = Field(default=None, max_length=12)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    text: str = Field(default="", max_length=4000)
    internal: bool = False
    at: dt.datetime = _ts(index=True)


class FeedbackPhoto(SQLModel, table=True):
    """A photo of a report: the resident's, or the unit's proof of the fix."""

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="feedbackreport.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="feedbackevent.id")
    purpose: str = Field(default="report", max_length=12)  # report | info | fix
    kind: str = Field(default="photo", max_length=12)  # photo | link
    mime_type: str = Field(default="", max_length=120)
    size: int = 0
    sha256: str = Field(default="", max_length=64)
    storage_path: str = Field(default="", max_length=500)
    url: str = Field(default="", max_length=1000)
    metadata_removed: bool = False  # EXIF location and camera details stripped
    uploaded_by: int | None = Field(default=None, foreign_key="person.id", index=True)
    at: dt.datetime = _ts()


class FeedbackRating(SQLModel, table=True):
    """The resident's verdict on an answer: one per round (before and after a reopening)."""

    __table_args__ = (UniqueConstraint("report_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="feedbackreport.id", index=True)
    round: int = Field(default=0, ge=0)
    satisfied: bool
    comment: str = Field(default="", max_length=1000)
    rated_by: int | None = Field(default=None, foreign_key="person.id")
    at: dt.datetime = _ts()


# ---------------------------------------------------------------- end of residents' feedback
