"""Files the bot shares by link (charts and exports for Zalo), served by our web server."""

from __future__ import annotations

import secrets
from pathlib import Path

from bot.settings import Settings

MEDIA_ROUTE = "/media"


def media_dir(settings: Settings) -> Path:
    """Where shared files are kept."""
    return settings.data_dir / "media"


def save_media(media_dir: Path, payload: bytes, suffix: str) -> str:
    """Store bytes under an unguessable name and return that name."""
    media_dir.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(16)}{suffix}"
    (media_dir / name).write_bytes(payload)
    return name


def media_url(public_base_url: str, name: str) -> str:
    """The public address of a stored media file."""
    return f"{public_base_url.rstrip('/')}{MEDIA_ROUTE}/{name}"
