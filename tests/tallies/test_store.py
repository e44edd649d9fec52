"""Recording tallies: upserts, corrections with audit, what is still missing."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.services import Services
from bot.tallies.store import audit_trail, load_facts, missing_codes, record_report
from db.models import Person, Tally, Village
from tests.conftest import START
from tests.factories import add_person, village_id

MARCH = dt.date(2026, 3, 1)


def test_record_upsert_correction_and_audit(services: Services) -> None:
    person_id = add_person(services, name="Lê Văn Ba", roles=("team",), village="Xóm 3")
    with Session(services.engine) as session:
        village = session.get(Village, village_id(services, "Xóm 3"))
        actor = session.get(Person, person_id)
        assert village is not None and actor is not None
        first = record_report(
            session,
            village=village,
            period=MARCH,
            values={"vneid": 45, "cks": 12},
            actor=actor,
            now=START,
        )
        assert first.recorded == {"vneid": 45, "cks": 12} and not first.corrected
        assert first.missing == ["ssk", "tknh", "dvc", "kns", "ttktm"]
        again = record_report(
            session, village=village, period=MARCH, values={"vneid": 45}, actor=actor, now=START
        )
        assert again.recorded == {} and again.unchanged == {"vneid": 45}
        later = START + dt.timedelta(hours=1)
        fixed = record_report(
            session, village=village, period=MARCH, values={"vneid": 50}, actor=actor, now=later
        )
        assert fixed.corrected == {"vneid": (45, 50)}
        session.commit()
        rows = session.exec(select(Tally).where(Tally.village_id == village.id)).all()
        assert sorted((r.code, r.value) for r in rows) == [("cks", 12), ("vneid", 50)]
        [entry] = audit_trail(session, village.id or 0)
        assert (entry.actor_id, entry.actor_name, entry.action) == (
            person_id,
            "Lê Văn Ba",
            "tally.correct",
        )
        assert entry.old == {"value": 45} and entry.new is not None and entry.new["value"] == 50
        assert entry.at == later and entry.reason == "correction"


def test_flagged_value_is_audited_with_last_month(services: Services) -> None:
    person_id = add_person(services, roles=("team",), village="Xóm 1")
    with Session(services.engine) as session:
        village = session.get(Village, village_id(services, "Xóm 1"))
        actor = session.get(Person, person_id)
        assert village is not None and actor is not None
        record_report(
            session,
            village=village,
            period=dt.date(2026, 2, 1),
            values={"ssk": 80},
            actor=actor,
            now=START,
        )
        facts, current = load_facts(session, village.id or 0, MARCH)
        assert facts["ssk"].previous == 80 and current == {}
        assert facts["vneid"].previous is None and facts["vneid"].denominator == 563
        record_report(
            session,
            village=village,
            period=MARCH,
            values={"ssk": 70},
            actor=actor,
            now=START,
            flagged={"ssk": "drop confirmed by the reporter"},
            previous={"ssk": 80},
        )
        session.commit()
        row = session.exec(select(Tally).where(Tally.period == MARCH, Tally.code == "ssk")).one()
        assert row.flagged and row.value == 70
        [entry] = audit_trail(session, village.id or 0)
        assert entry.action == "tally.flag" and entry.old == {"value": 80}
        assert entry.reason == "drop confirmed by the reporter"
        assert missing_codes(session, village.id or 0, MARCH) == [
            "vneid",
            "cks",
            "tknh",
            "dvc",
            "kns",
            "ttktm",
        ]
