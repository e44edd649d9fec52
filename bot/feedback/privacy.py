"""Decree 13/2023 for reports: a person can leave their reports; old ones forget their people.

* ``erase_reporter`` — what ``/xoadulieu`` does to feedback: the person's reports, events,
  ratings and photos lose the link to them (and permission to contact them); the reports
  themselves stay, anonymous, for the commune's statistics.
* ``forget_closed`` — retention: reports closed longer ago than the retention period keep
  their content for statistics but lose the resident (link and contact permission) and the
  resident's photos. Files are returned, to delete once the transaction is committed.
* ``sweep_orphans`` — photo files nobody refers to (a report abandoned while being written).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select, update

from db.models import (
    ConversationState,
    FeedbackEvent,
    FeedbackPhoto,
    FeedbackRating,
    FeedbackReport,
)

RESIDENT_PHOTOS = ("report", "info")
DRAFT_FLOWS = ("feedback", "fbwork")


def erase_reporter(session: Session, person_id: int) -> int:
    """Take a person out of their reports; how many reports stay (without them)."""
    reports = session.exec(
        select(FeedbackReport.id).where(FeedbackReport.reporter_id == person_id)
    ).all()
    session.exec(
        update(FeedbackReport)  # type: ignore[call-overload]
        .where(col(FeedbackReport.reporter_id) == person_id)
        .values(reporter_id=None, contact_allowed=False)
    )
    session.exec(
        update(FeedbackEvent)  # type: ignore[call-overload]
        .where(col(FeedbackEvent.actor_id) == person_id)
        .values(actor_id=None)
    )
    session.exec(
        update(FeedbackRating)  # type: ignore[call-overload]
        .where(col(FeedbackRating.rated_by) == person_id)
        .values(rated_by=None)
    )
    session.exec(
        update(FeedbackPhoto)  # type: ignore[call-overload]
        .where(col(FeedbackPhoto.uploaded_by) == person_id)
        .values(uploaded_by=None)
    )
    session.flush()
    return len(reports)


@dataclass
class Forgotten:
    """What retention removed; ``files`` are deleted by the caller after the commit."""

    reports: int = 0
    photos: int = 0
    files: list[Path] = field(default_factory=list)


def forget_closed(
    session: Session, *, now: dt.datetime, retention_days: int, directory: Path
) -> Forgotten:
    """Anonymise reports closed more than ``retention_days`` ago and drop the residents' photos."""
    cutoff = now - dt.timedelta(days=retention_days)
    old = session.exec(
        select(FeedbackReport).where(
            col(FeedbackReport.closed_at).is_not(None),
            col(FeedbackReport.closed_at) < cutoff,
        )
    ).all()
    result = Forgotten()
    ids = [r.id for r in old if r.id is not None]
    for report in old:
        if report.reporter_id is not None or report.contact_allowed:
            report.reporter_id, report.contact_allowed = None, False
            session.add(report)
            result.reports += 1
    if not ids:
        return result
    photos = session.exec(
        select(FeedbackPhoto).where(
            col(FeedbackPhoto.report_id).in_(ids), col(FeedbackPhoto.purpose).in_(RESIDENT_PHOTOS)
        )
    ).all()
    paths = {p.storage_path for p in photos if p.storage_path}
    for photo in photos:
        session.delete(photo)
        result.photos += 1
    session.flush()
    still_used = _referenced(session, paths)
    result.files = [directory / path for path in sorted(paths - still_used)]
    return result


def _referenced(session: Session, paths: Iterable[str]) -> set[str]:
    wanted = sorted(set(paths))
    if not wanted:
        return set()
    rows = session.exec(
        select(FeedbackPhoto.storage_path).where(col(FeedbackPhoto.storage_path).in_(wanted))
    ).all()
    return set(rows)


def _in_drafts(session: Session) -> set[str]:
    """Photo files held by reports still being written (kept in conversation state)."""
    found: set[str] = set()
    for state in session.exec(
        select(ConversationState).where(col(ConversationState.flow).in_(DRAFT_FLOWS))
    ).all():
        for photo in (state.data or {}).get("photos", []) or []:
            if isinstance(photo, dict) and photo.get("storage_path"):
                found.add(str(photo["storage_path"]))
    return found


def sweep_orphans(session: Session, directory: Path, *, older_than: dt.datetime) -> list[Path]:
    """Delete photo files no report or draft refers to, last changed before ``older_than``."""
    if not directory.is_dir():
        return []
    files = {
        path.relative_to(directory).as_posix(): path
        for path in directory.glob("*/*")
        if path.is_file() and not path.name.startswith(".")
    }
    keep = _referenced(session, files) | _in_drafts(session)
    removed = []
    for relative, path in sorted(files.items()):
        if relative in keep:
            continue
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        if modified < older_than:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def remove_files(paths: Iterable[Path]) -> int:
    """Delete files (after the transaction that stopped referring to them committed)."""
    count = 0
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
            count += 1
    return count


def retention_sweep(
    engine: Engine, *, now: dt.datetime, retention_days: int, directory: Path
) -> Forgotten:
    """``forget_closed`` in its own transaction, then the files it freed are deleted."""
    with Session(engine) as session:
        result = forget_closed(session, now=now, retention_days=retention_days, directory=directory)
        session.commit()
    remove_files(result.files)
    return result
