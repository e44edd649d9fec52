"""Uploaded files between "check" and "confirm": kept on disk, named by a random token.

A file checked (dry run) on one request is applied on the next one only if the same
person confirms it; the token carries no meaning and the file is deleted once used or
after a day. Nothing in a file name comes from the upload.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from bot.i18n import N_

STAGING_TTL = dt.timedelta(days=1)
MSG_STAGED_GONE = N_("The checked file is no longer kept (older than a day). Upload it again.")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
_SUFFIX = re.compile(r"\.(xlsx|csv|yaml|yml)")


def staging_dir(data_dir: Path) -> Path:
    return data_dir / "web-uploads"


def stage(data_dir: Path, person_id: int, suffix: str, data: bytes) -> str:
    """Keep an uploaded file for its confirmation; return the token that names it."""
    if not _SUFFIX.fullmatch(suffix):
        raise ValueError(f"cannot stage a {suffix!r} file")
    directory = staging_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    (directory / f"{person_id}-{token}{suffix}").write_bytes(data)
    return token


def take_confirmed(
    data_dir: Path, person_id: int, form: Mapping[str, object], now: dt.datetime
) -> tuple[str, bytes] | None:
    """The file a confirm form names (its ``staged`` field), as ``take`` gives it."""
    token = form.get("staged", "")
    return take(data_dir, person_id, token if isinstance(token, str) else "", now)


def take(data_dir: Path, person_id: int, token: str, now: dt.datetime) -> tuple[str, bytes] | None:
    """The staged file (file name, bytes) of this person, removed from staging; or None."""
    if not _TOKEN.fullmatch(token):
        return None
    directory = staging_dir(data_dir)
    for path in directory.glob(f"{person_id}-{token}.*"):
        if not _SUFFIX.fullmatch(path.suffix):
            continue
        data = path.read_bytes()
        fresh = now.timestamp() - path.stat().st_mtime < STAGING_TTL.total_seconds()
        path.unlink(missing_ok=True)
        return (path.name, data) if fresh else None
    return None


def sweep(data_dir: Path, now: dt.datetime) -> int:
    """Delete staged files older than a day; return how many."""
    directory = staging_dir(data_dir)
    if not directory.is_dir():
        return 0
    removed = 0
    for path in directory.iterdir():
        if now.timestamp() - path.stat().st_mtime >= STAGING_TTL.total_seconds():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
