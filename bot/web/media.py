"""Files the bot shares by link (charts and exports for Zalo, which cannot receive files).

A link is an unguessable name that also carries when it stops working
(``<random>.<unix expiry><suffix>``), so a request can refuse a stale link without a
database, and a sweep can delete what has expired. Links last
``TOCNS_MEDIA_LINK_HOURS`` (24) hours.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path

from bot.settings import Settings

log = logging.getLogger(__name__)

MEDIA_ROUTE = "/media"


def media_dir(settings: Settings) -> Path:
    """Where shared files are kept."""
    return settings.data_dir / "media"


def link_expiry(settings: Settings, now: dt.datetime) -> dt.datetime:
    """When a link made now stops working."""
    return now + dt.timedelta(hours=settings.media_link_hours)


def save_media(media_dir: Path, payload: bytes, suffix: str, *, expires_at: dt.datetime) -> str:
    """Store bytes under an unguessable name that expires; return that name."""
    media_dir.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(16)}.{int(expires_at.timestamp())}{suffix}"
    (media_dir / name).write_bytes(payload)
    return name


def expiry_of(name: str) -> dt.datetime | None:
    """When the link of a stored name expires (None: not a name we wrote)."""
    parts = name.split(".")
    if len(parts) < 2 or not parts[0] or not (parts[1].isascii() and parts[1].isdigit()):
        return None
    if len(parts[1]) > 12:
        return None
    return dt.datetime.fromtimestamp(int(parts[1]), dt.UTC)


def stored_media(media_dir: Path, name: str) -> tuple[Path, dt.datetime] | None:
    """The file of a name we wrote and when its link expires (None: no such link)."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    expires = expiry_of(name)
    path = media_dir / name
    if expires is None or not path.is_file():
        return None
    return path, expires


def sweep_media(media_dir: Path, now: dt.datetime) -> int:
    """Delete expired files (and files without an expiry); return how many went."""
    if not media_dir.is_dir():
        return 0
    removed = 0
    for path in media_dir.iterdir():
        expires = expiry_of(path.name)
        if path.is_file() and (expires is None or expires <= now):
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("media sweep: %d expired file(s) removed", removed)
    return removed


def media_url(public_base_url: str, name: str) -> str:
    """The public address of a stored media file."""
    return f"{public_base_url.rstrip('/')}{MEDIA_ROUTE}/{name}"
