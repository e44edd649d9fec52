"""The commune progress view cache: hits while nothing changed, and every kind of write
to its inputs (through the real write paths) makes the next view a fresh one."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

from sqlmodel import Session, select

from bot.admin.setup import apply_setup
from bot.core.people import default_commune_id
from bot.plans.imports import PLANS_DIR, import_plan, read_plan_file
from bot.services import Services
from bot.tallies.progress import CommuneProgress, commune_progress
from bot.tallies.store import (
    VIEWS,
    ViewCache,
    commune_view,
    load_inputs,
    load_targets,
    record_report,
)
from db.models import Commune, Person, ProgressVersion, Village, VillageDenominator
from tests.conftest import START
from tests.factories import record_figure, village_id

MARCH = dt.date(2026, 3, 1)


def _view(services: Services, months: int = 6) -> CommuneProgress:
    with Session(services.engine) as session:
        commune = default_commune_id(session)
        assert commune is not None
        return commune_view(session, commune, MARCH, months)


def _uncached(services: Services, months: int = 6) -> CommuneProgress:
    """The same view computed from the inputs, bypassing the cache."""
    with Session(services.engine) as session:
        commune = default_commune_id(session)
        assert commune is not None
        inputs = load_inputs(session, [commune], MARCH, months).get(commune, [])
        return commune_progress(inputs, MARCH, load_targets(session, commune, 2026), months)


def _setup(services: Services, villages: list[dict[str, object]]) -> None:
    with Session(services.engine) as session:
        commune = session.get(Commune, default_commune_id(session))
        assert commune is not None
        info = {"slug": commune.slug, "name": commune.name, "province": commune.province}
        result = apply_setup(session, {"commune": info, "villages": villages}, today=START.date())
        assert result.problems == [], result.problems
        session.commit()


def _changes(
    services: Services, write: Callable[[], None]
) -> tuple[CommuneProgress, CommuneProgress]:
    before = _view(services)
    assert _view(services) is before  # a hit
    write()
    after = _view(services)
    assert after is not before and after == _uncached(services)
    return before, after


def test_a_hit_is_the_same_view_and_other_keys_are_their_own(services: Services) -> None:
    VIEWS.clear()
    record_figure(services, MARCH, "vneid", 45)
    first = _view(services)
    hits = VIEWS.hits
    assert _view(services) is first and VIEWS.hits == hits + 1
    assert first == _uncached(services)
    assert first.totals["vneid"].value >= 45
    three = _view(services, months=3)
    assert three is not first and three == _uncached(services, months=3)


def test_a_new_report_and_a_correction_invalidate(services: Services) -> None:
    record_figure(services, MARCH, "vneid", 45)
    before, after = _changes(services, lambda: record_figure(services, MARCH, "cks", 12))
    assert after.totals["cks"].value == before.totals["cks"].value + 12
    before, after = _changes(services, lambda: record_figure(services, MARCH, "vneid", 50))
    assert after.totals["vneid"].value == before.totals["vneid"].value + 5


def test_a_denominator_change_invalidates(services: Services) -> None:
    with Session(services.engine) as session:
        row = session.exec(
            select(VillageDenominator)
            .where(VillageDenominator.village_id == village_id(services, "Xóm 1"))
            .order_by(VillageDenominator.valid_from.desc())  # type: ignore[attr-defined]
        ).first()
        assert row is not None
        numbers = {k: getattr(row, k) for k in ("population", "adults", "aged15", "households")}
    grown = {k: v + 100 for k, v in numbers.items()}
    before, after = _changes(
        services,
        lambda: _setup(services, [{"name": "Xóm 1", "valid_from": "2026-03-01", **grown}]),
    )
    assert after.totals["vneid"].denominator == (before.totals["vneid"].denominator or 0) + 100
    # The same date again: the row is updated in place, and that too is seen.
    more = {k: v + 200 for k, v in numbers.items()}
    before, after = _changes(
        services,
        lambda: _setup(services, [{"name": "Xóm 1", "valid_from": "2026-03-01", **more}]),
    )
    assert after.totals["vneid"].denominator == (before.totals["vneid"].denominator or 0) + 100


def test_a_new_village_invalidates(services: Services) -> None:
    counts = {"population": 500, "adults": 300, "aged15": 350, "households": 120}
    before, after = _changes(services, lambda: _setup(services, [{"name": "Xóm Mới", **counts}]))
    assert [v.name for v in after.villages if v.name not in {v.name for v in before.villages}] == [
        "Xóm Mới"
    ]


def test_a_plan_target_import_invalidates(services: Services) -> None:
    raw = read_plan_file(PLANS_DIR / "trung-hoi.yaml")
    edited = copy.deepcopy(raw)
    [dvc] = [i for i in edited.indicators if i.get("tally_code") == "dvc"]
    dvc["targets"] = {"2026": "≥ 70%"}

    def reimport() -> None:
        with Session(services.engine) as session:
            commune = default_commune_id(session)
            assert commune is not None
            result = import_plan(session, edited, commune_id=commune, today=MARCH, now=START)
            assert result.problems == [], result.problems
            session.commit()

    before, after = _changes(services, reimport)
    assert before.totals["dvc"].target != 0.7
    assert (after.totals["dvc"].target, after.totals["dvc"].target_year) == (0.7, 2026)


def test_a_rolled_back_write_leaves_no_wrong_view(services: Services) -> None:
    record_figure(services, MARCH, "vneid", 45)
    committed = _view(services)
    with Session(services.engine) as session:
        village = session.get(Village, village_id(services, "Xóm 3"))
        actor = session.exec(select(Person)).first()
        assert village is not None and actor is not None
        record_report(
            session, village=village, period=MARCH, values={"vneid": 99}, actor=actor, now=START
        )
        inside = commune_view(session, village.commune_id, MARCH, 6)  # sees its own write
        assert inside.totals["vneid"].value == committed.totals["vneid"].value + 54
        session.rollback()
    again = _view(services)
    assert again == committed == _uncached(services)
    # A later committed write gets a token of its own, never the rolled-back one.
    record_figure(services, MARCH, "vneid", 99)
    assert _view(services) == _uncached(services) != committed


def test_every_write_changes_the_commune_token_in_its_transaction(services: Services) -> None:
    with Session(services.engine) as session:
        commune = default_commune_id(session)
        tokens = dict(session.exec(select(ProgressVersion.commune_id, ProgressVersion.token)).all())
        assert 0 in tokens  # seeded by the migration: the cache trusts this database
    record_figure(services, MARCH, "ssk", 7)
    with Session(services.engine) as session:
        after = dict(session.exec(select(ProgressVersion.commune_id, ProgressVersion.token)).all())
    assert commune is not None and after[commune] != tokens.get(commune)
    assert after[0] == tokens[0]  # a known commune leaves the global token alone


def test_the_cache_is_bounded_least_recently_used_first(services: Services) -> None:
    assert VIEWS.size == 256
    cache = ViewCache(size=2)
    with Session(services.engine) as session:
        commune = default_commune_id(session)
        assert commune is not None
        one = cache.view(session, commune, MARCH, 1)
        two = cache.view(session, commune, MARCH, 2)
        assert cache.view(session, commune, MARCH, 1) is one  # now the most recent
        cache.view(session, commune, MARCH, 3)  # evicts months=2
        assert cache.view(session, commune, MARCH, 1) is one
        assert cache.view(session, commune, MARCH, 2) is not two
