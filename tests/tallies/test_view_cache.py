"""The commune progress view cache: hits while nothing changed, and every kind of write
to its inputs (through the real write paths) makes the next view a fresh one."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session, create_engine, select

from bot.admin.setup import apply_setup
from bot.core.people import default_commune_id
from bot.plans.imports import PLANS_DIR, import_plan, read_plan_file
from bot.services import Services
from bot.tallies.flags import accept_flag
from bot.tallies.progress import CommuneProgress, commune_progress
from bot.tallies.store import (
    VIEWS,
    MonthMarks,
    ViewCache,
    commune_view,
    commune_view_and_marks,
    flagged_figures,
    load_inputs,
    load_targets,
    missing_codes,
    month_marks,
    record_report,
)
from db.models import Commune, Person, ProgressVersion, Tally, Village, VillageDenominator
from tests.conftest import START
from tests.factories import add_person, record_figure, village_id

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


# ------------------------------------------------------------------ month marks


def _marks(services: Services, engine: Engine | None = None) -> MonthMarks:
    with Session(engine or services.engine) as session:
        commune = default_commune_id(session)
        assert commune is not None
        return month_marks(session, commune, MARCH)


def _uncached_marks(
    services: Services,
) -> tuple[dict[int, list[str]], dict[int, tuple[str, list[str]]]]:
    """Every village's missing codes and the flagged figures, straight from the tables."""
    with Session(services.engine) as session:
        commune = default_commune_id(session)
        assert commune is not None
        villages = session.exec(select(Village.id).where(Village.commune_id == commune)).all()
        missing = {vid: missing_codes(session, vid, MARCH) for vid in villages if vid is not None}
        return missing, flagged_figures(session, commune, MARCH)


def _as_plain(
    marks: MonthMarks, villages: list[int]
) -> tuple[dict[int, list[str]], dict[int, tuple[str, list[str]]]]:
    return (
        {vid: marks.missing(vid) for vid in villages},
        {vid: (name, list(codes)) for vid, (name, codes) in marks.flagged.items()},
    )


def _marks_change(
    services: Services, write: Callable[[], None], engine: Engine | None = None
) -> tuple[MonthMarks, MonthMarks]:
    before = _marks(services, engine)
    assert _marks(services, engine) is before  # a hit
    write()
    after = _marks(services, engine)
    expected = _uncached_marks(services)
    assert after is not before and _as_plain(after, list(expected[0])) == expected
    return before, after


def _flag(services: Services, code: str, value: int) -> None:
    with Session(services.engine) as session:
        village = session.get(Village, village_id(services, "Xóm 1"))
        actor = session.exec(select(Person)).first()
        assert village is not None and actor is not None
        record_report(
            session,
            village=village,
            period=MARCH,
            values={code: value},
            actor=actor,
            now=START,
            flagged={code: "drop confirmed by the reporter"},
        )
        session.commit()


def _flagged_id(services: Services, code: str) -> int:
    with Session(services.engine) as session:
        row = session.exec(
            select(Tally).where(
                Tally.village_id == village_id(services, "Xóm 1"),
                Tally.period == MARCH,
                Tally.code == code,
            )
        ).one()
        assert row.id is not None and row.flagged
        return row.id


def test_month_marks_hit_and_match_the_tables(services: Services) -> None:
    record_figure(services, MARCH, "vneid", 45)
    first = _marks(services)
    hits = VIEWS.hits
    assert _marks(services) is first and VIEWS.hits == hits + 1
    missing, flagged = _uncached_marks(services)
    assert _as_plain(first, list(missing)) == (missing, flagged)
    xom3 = village_id(services, "Xóm 3")
    assert "vneid" not in first.missing(xom3) and "cks" in first.missing(xom3)


def test_a_report_a_flag_and_accepting_it_change_the_marks(services: Services) -> None:
    xom3 = village_id(services, "Xóm 3")
    xom1 = village_id(services, "Xóm 1")
    before, after = _marks_change(services, lambda: record_figure(services, MARCH, "cks", 12))
    assert "cks" in before.missing(xom3) and "cks" not in after.missing(xom3)
    before, after = _marks_change(services, lambda: _flag(services, "ssk", 3))
    assert xom1 not in before.flagged and after.flagged[xom1][1] == ("ssk",)
    office = add_person(services, name="Văn Phòng", roles=("office",))

    def accept() -> None:
        with Session(services.engine) as session:
            actor = session.get(Person, office)
            assert actor is not None
            accept_flag(session, _flagged_id(services, "ssk"), actor=actor, now=START)
            session.commit()

    before, after = _marks_change(services, accept)
    assert xom1 in before.flagged and xom1 not in after.flagged
    # A flagged figure replaced by a value that needs no confirmation leaves the marks too.
    _flag(services, "cks", 4)
    assert _marks(services).flagged[xom1][1] == ("cks",)
    before, after = _marks_change(
        services, lambda: record_figure(services, MARCH, "cks", 5, "Xóm 1")
    )
    assert xom1 not in after.flagged


def test_a_write_by_another_worker_changes_the_marks_and_the_view(services: Services) -> None:
    """Another process: its own engine and pool; only the database token tells this one."""
    reporter = add_person(services, name="Lê Văn Ba", roles=("team",), village="Xóm 2")
    other = create_engine(services.engine.url)
    try:

        def elsewhere() -> None:
            with Session(other) as session:
                village = session.get(Village, village_id(services, "Xóm 2"))
                actor = session.get(Person, reporter)
                assert village is not None and actor is not None
                record_report(
                    session,
                    village=village,
                    period=MARCH,
                    values={"dvc": 9},
                    actor=actor,
                    now=START,
                )
                session.commit()

        view = _view(services)
        before, after = _marks_change(services, elsewhere)
        xom2 = village_id(services, "Xóm 2")
        assert "dvc" in before.missing(xom2) and "dvc" not in after.missing(xom2)
        assert _view(services) is not view and _view(services) == _uncached(services)
    finally:
        other.dispose()


def test_inside_a_writing_transaction_the_marks_are_its_own_and_not_kept(
    services: Services,
) -> None:
    reporter = add_person(services, name="Lê Văn Ba", roles=("team",), village="Xóm 3")
    committed = _marks(services)
    xom3 = village_id(services, "Xóm 3")
    with Session(services.engine) as session:
        village = session.get(Village, xom3)
        actor = session.get(Person, reporter)
        assert village is not None and actor is not None
        record_report(
            session, village=village, period=MARCH, values={"ssk": 2}, actor=actor, now=START
        )
        view, inside = commune_view_and_marks(session, village.commune_id, MARCH)
        assert "ssk" not in inside.missing(xom3) and inside is not committed
        session.rollback()
    assert _marks(services) is committed
