"""The office's queue of flagged figures: accept, ask to correct, and when a figure leaves it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from bot.core.errors import UserError
from bot.services import Services
from bot.tallies.flags import accept_flag, ask_correction, flagged_queue
from bot.tallies.store import audit_trail, record_report
from db.models import Commune, OutboxMessage, Person, Tally, Village
from tests.conftest import START
from tests.factories import add_person, commune_id, village_id

FEBRUARY = dt.date(2026, 2, 1)
MARCH = dt.date(2026, 3, 1)
TODAY = dt.date(2026, 3, 11)


def _flag_a_drop(services: Services, reporter: int) -> int:
    """Xóm 1 sent 80 in February, then confirmed a drop to 70 in March."""
    with Session(services.engine) as session:
        village = session.get(Village, village_id(services, "Xóm 1"))
        actor = session.get(Person, reporter)
        assert village is not None and actor is not None
        record_report(
            session, village=village, period=FEBRUARY, values={"ssk": 80}, actor=actor, now=START
        )
        record_report(
            session,
            village=village,
            period=MARCH,
            values={"ssk": 70},
            actor=actor,
            now=START + dt.timedelta(hours=1),
            flagged={"ssk": "drop confirmed by the reporter"},
        )
        session.commit()
        row = session.exec(select(Tally).where(Tally.period == MARCH, Tally.code == "ssk")).one()
        assert row.id is not None and row.flagged
        return row.id


def test_the_queue_names_the_figure_and_accepting_clears_it(services: Services) -> None:
    reporter = add_person(services, name="Lê Văn Ba", roles=("team",), village="Xóm 1")
    office = add_person(services, name="Văn Phòng", roles=("office",))
    tally_id = _flag_a_drop(services, reporter)
    with Session(services.engine) as session:
        [figure] = flagged_queue(session, commune_id(services))
        assert (figure.tally_id, figure.village, figure.code, figure.period) == (
            tally_id,
            "Xóm 1",
            "ssk",
            MARCH,
        )
        assert (figure.previous, figure.value, figure.reporter) == (80, 70, "Lê Văn Ba")
        assert figure.dropped and figure.asked_at is None
        actor = session.get(Person, office)
        assert actor is not None
        accept_flag(session, tally_id, actor=actor, now=START + dt.timedelta(days=1))
        session.commit()
        assert flagged_queue(session, commune_id(services)) == []
        entry = audit_trail(session, village_id(services, "Xóm 1"))[-1]
        assert (entry.action, entry.actor_id) == ("tally.accept", office)
        with pytest.raises(UserError):  # accepted already
            accept_flag(session, tally_id, actor=actor, now=START)


def test_another_communes_office_cannot_decide(services: Services) -> None:
    reporter = add_person(services, roles=("team",), village="Xóm 1")
    tally_id = _flag_a_drop(services, reporter)
    with Session(services.engine) as session:
        other = Commune(slug="xa-khac", name="Xã Khác")
        session.add(other)
        session.flush()
        stranger = Person(commune_id=other.id, display_name="Người xã khác")
        session.add(stranger)
        session.flush()
        with pytest.raises(UserError):
            accept_flag(session, tally_id, actor=stranger, now=START)
        with pytest.raises(UserError):
            ask_correction(session, tally_id, actor=stranger, now=START, today=TODAY)
        assert session.get(Tally, tally_id).flagged  # type: ignore[union-attr]


def test_asking_reaches_the_village_team_once_and_a_new_value_leaves_the_queue(
    services: Services,
) -> None:
    reporter = add_person(services, roles=("team",), village="Xóm 1", chat_id="c-1")
    leader = add_person(services, roles=("leader",), village="Xóm 1", chat_id="c-2")
    add_person(services, roles=("team",), village="Xóm 2", chat_id="c-3")  # another village
    add_person(services, roles=("team",), village="Xóm 1")  # no chat: cannot be reached
    office = add_person(services, roles=("office",))
    tally_id = _flag_a_drop(services, reporter)
    asked = START + dt.timedelta(days=1)
    with Session(services.engine) as session:
        actor = session.get(Person, office)
        assert actor is not None
        assert ask_correction(session, tally_id, actor=actor, now=asked, today=TODAY) == 2
        assert (
            ask_correction(session, tally_id, actor=actor, now=asked, today=TODAY) == 0
        )  # asked already
        session.commit()
        messages = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "tally_fix"))
        assert sorted(m.person_id for m in messages) == [reporter, leader]
        [figure] = flagged_queue(session, commune_id(services))
        assert figure.asked_at == asked
        # The village sends a value that needs no confirmation: it replaces the flagged one.
        village = session.get(Village, village_id(services, "Xóm 1"))
        member = session.get(Person, reporter)
        assert village is not None and member is not None
        record_report(
            session, village=village, period=MARCH, values={"ssk": 85}, actor=member, now=asked
        )
        session.commit()
        assert flagged_queue(session, commune_id(services)) == []
        with pytest.raises(UserError):
            ask_correction(session, tally_id, actor=actor, now=asked, today=TODAY)


def test_the_same_value_sent_again_stays_flagged(services: Services) -> None:
    reporter = add_person(services, roles=("team",), village="Xóm 1")
    tally_id = _flag_a_drop(services, reporter)
    with Session(services.engine) as session:
        village = session.get(Village, village_id(services, "Xóm 1"))
        actor = session.get(Person, reporter)
        assert village is not None and actor is not None
        again = record_report(
            session, village=village, period=MARCH, values={"ssk": 70}, actor=actor, now=START
        )
        assert again.unchanged == {"ssk": 70}
        session.commit()
        assert session.get(Tally, tally_id).flagged  # type: ignore[union-attr]


def test_last_month_is_asked_through_the_guided_report_until_it_closes(
    services: Services,
) -> None:
    reporter = add_person(services, roles=("team",), village="Xóm 1", chat_id="c-1")
    office = add_person(services, roles=("office",))
    tally_id = _flag_a_drop(services, reporter)  # a March figure
    with Session(services.engine) as session:
        actor = session.get(Person, office)
        assert actor is not None
        closed = dt.date(2026, 4, 20)  # past April's grace days: March is locked
        with pytest.raises(UserError) as refused:
            ask_correction(session, tally_id, actor=actor, now=START, today=closed)
        assert refused.value.params == {"month": "3/2026"}
        in_grace = dt.date(2026, 4, 2)
        assert ask_correction(session, tally_id, actor=actor, now=START, today=in_grace) == 1
        [message] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "tally_fix"))
        assert "/baocao" in str(message.content) and "tháng 3/2026" in str(message.content)
