"""Questions about one commune that several features ask the same way."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from db.models import Village


def villages_of(session: Session, commune_id: int | None) -> Sequence[Village]:
    """The commune's villages in their set-up order (none for a person without a commune)."""
    if commune_id is None:
        return []
    return session.exec(
        select(Village)
        .where(Village.commune_id == commune_id)
        .order_by(col(Village.position), col(Village.id))
    ).all()
