"""The tables' enumerations, importable without SQLAlchemy (pure rules use them)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a person may do; one person can hold several roles."""

    RESIDENT = "resident"
    TEAM = "team"
    LEADER = "leader"
    UNIT = "unit"
    OFFICE = "office"
    COMMUNE_LEADER = "commune_leader"
    ADMIN = "admin"
    PROVINCE = "province"  # a province officer: every commune of the province, read-only


class EvidenceStatus(StrEnum):
    """Where a piece of evidence stands in the standing office's review."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class OutboxStatus(StrEnum):
    """Where an outbox row stands (``bot/reminders/delivery.py`` explains the moves).

    pending → claimed → sending → sent; or failed, missed, blocked, cancelled (by the
    planner, when the reason to send went away) or unknown (interrupted mid-send: may
    or may not have arrived, never resent automatically).
    """

    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    MISSED = "missed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
