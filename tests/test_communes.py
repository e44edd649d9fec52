"""The villages of a commune, asked one way everywhere."""

from __future__ import annotations

from sqlmodel import Session

from bot.communes import villages_of
from bot.core.people import default_commune_id
from bot.services import Services
from db.models import Village


def test_villages_in_set_up_order_and_none_without_a_commune(services: Services) -> None:
    with Session(services.engine) as session:
        commune_id = default_commune_id(session)
        assert commune_id is not None
        session.add(Village(commune_id=commune_id, name="Thôn cuối", position=-1))
        session.flush()
        names = [v.name for v in villages_of(session, commune_id)]
        assert names[0] == "Thôn cuối"
        assert names[1:] == [f"Xóm {n}" for n in range(1, len(names))]
        assert villages_of(session, None) == []
