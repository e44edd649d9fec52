"""Unanswered questions and guide feedback, stored without personal identifiers."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import Session, col, delete, select

from bot.text import clean
from db.models import GuideFeedback, UnansweredQuestion

MAX_STORED = 300
_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+")
_DIGITS = re.compile(r"\d[\d .\-]{4,}\d")  # phone, ID and account numbers


def anonymise(text: str) -> str:
    """Normalise a question and strip what could identify someone (numbers, links, e-mails)."""
    text = clean(text).lower()
    text = _URL.sub("<link>", text)
    text = _EMAIL.sub("<email>", text)
    text = _DIGITS.sub("<số>", text)
    return " ".join(text.split())[:MAX_STORED]


def record_unanswered(
    session: Session, question: str, now: dt.datetime, retention_days: int
) -> None:
    """Count an unanswered question (normalised) and forget ones past the retention period."""
    text = anonymise(question)
    if not text:
        return
    row = session.exec(select(UnansweredQuestion).where(UnansweredQuestion.text == text)).first()
    if row is None:
        session.add(UnansweredQuestion(text=text, first_at=now, last_at=now))
    else:
        row.count += 1
        row.last_at = now
        session.add(row)
    prune(session, now, retention_days)


def record_feedback(
    session: Session, slug: str, helpful: bool, query: str, now: dt.datetime
) -> None:
    """Store a 👍/👎 on a guide with the (anonymised) question that led to it."""
    session.add(GuideFeedback(slug=slug, helpful=helpful, query=anonymise(query), at=now))


def prune(session: Session, now: dt.datetime, retention_days: int) -> None:
    """Delete questions and feedback older than the retention period."""
    cutoff = now - dt.timedelta(days=retention_days)
    session.exec(delete(UnansweredQuestion).where(col(UnansweredQuestion.last_at) < cutoff))  # type: ignore[call-overload]
    session.exec(delete(GuideFeedback).where(col(GuideFeedback.at) < cutoff))  # type: ignore[call-overload]


def unanswered(session: Session, limit: int = 100) -> list[UnansweredQuestion]:
    """The most frequent unanswered questions first."""
    return list(
        session.exec(
            select(UnansweredQuestion)
            .order_by(col(UnansweredQuestion.count).desc(), col(UnansweredQuestion.last_at).desc())
            .limit(limit)
        ).all()
    )


def feedback_summary(session: Session) -> list[tuple[str, int, int]]:
    """Per guide: (slug, helpful count, not helpful count), most 👎 first."""
    rows = session.exec(select(GuideFeedback.slug, GuideFeedback.helpful)).all()
    counts: dict[str, list[int]] = {}
    for slug, helpful in rows:
        counts.setdefault(slug, [0, 0])[0 if helpful else 1] += 1
    return sorted(((s, c[0], c[1]) for s, c in counts.items()), key=lambda r: (-r[2], r[0]))
