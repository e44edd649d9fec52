"""Open311 API keys of a commune: issued once, stored only as their SHA-256.

A key is shown to the person who asked for it and never again; the commune's settings
(``Commune.settings["feedback"]["open311_keys"]``) keep the hashes that
``open311.check_api_key`` compares with, so a copy of the database leaks no key.
"""

from __future__ import annotations

import secrets

from sqlmodel import Session

from bot.feedback.open311 import hash_api_key
from bot.feedback.policy import FeedbackPolicy, load_feedback_policy
from db.models import Commune

KEY_BYTES = 24
MAX_KEYS = 20


def key_hashes(commune: Commune) -> list[str]:
    """The hashes of the commune's valid Open311 API keys."""
    return list(load_feedback_policy(commune.settings).open311_keys)


def _store(session: Session, commune: Commune, policy: FeedbackPolicy) -> None:
    raw = policy.model_dump(mode="json", exclude_defaults=True)
    commune.settings = {**commune.settings, "feedback": raw}  # a new dict: JSON columns
    session.add(commune)
    session.flush()


def issue_api_key(session: Session, commune: Commune) -> str:
    """A new API key for the commune (its hash stored; the oldest dropped past 20)."""
    key = secrets.token_urlsafe(KEY_BYTES)
    policy = load_feedback_policy(commune.settings)
    hashes = [*policy.open311_keys, hash_api_key(key)][-MAX_KEYS:]
    _store(session, commune, policy.model_copy(update={"open311_keys": hashes}))
    return key


def revoke_api_keys(session: Session, commune: Commune) -> int:
    """Withdraw every Open311 API key of the commune; how many there were."""
    policy = load_feedback_policy(commune.settings)
    count = len(policy.open311_keys)
    _store(session, commune, policy.model_copy(update={"open311_keys": []}))
    return count
