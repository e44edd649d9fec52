"""The process killed (SIGKILL) in the middle of reporting: nothing partial, nothing lost."""

from __future__ import annotations

import random

from sqlmodel import Session, select

from bot.services import Services
from db.models import ProcessedUpdate, Tally
from tests.faults import killing
from tests.faults.report_worker import report_text
from tests.helpers import add_member_villages

MEMBERS = 120


def make_members(services: Services) -> dict[int, int]:
    """One village and one team member per report, so each report is checkable alone."""
    ids = add_member_villages(services, MEMBERS, lambda index: ("telegram", f"k{index}"))
    return dict(enumerate(ids))


def run_worker(services: Services, first: int, count: int, kill_after: int | None) -> None:
    settings = services.settings
    args = [settings.effective_database_url, str(settings.data_dir), str(first), str(count)]
    killing.run_worker("tests.faults.report_worker", args, kill_after)


def state(
    services: Services, villages: dict[int, int]
) -> tuple[set[str], dict[int, dict[str, int]]]:
    with Session(services.engine) as session:
        processed = {row.update_key for row in session.exec(select(ProcessedUpdate)).all()}
        tallies: dict[int, dict[str, int]] = {}
        for row in session.exec(select(Tally)).all():
            tallies.setdefault(row.village_id, {})[row.code] = row.value
    by_index = {index: tallies.get(village_id, {}) for index, village_id in villages.items()}
    return processed, by_index


def expected(index: int) -> dict[str, int]:
    numbers = [int(part) for part in report_text(index).split()[1::2]]
    return dict(zip(("vneid", "cks", "ssk"), numbers, strict=True))


def test_kill_during_reports_leaves_no_partial_data_and_resumes(services: Services) -> None:
    villages = make_members(services)
    kill_after = random.Random().randint(5, MEMBERS - 20)
    run_worker(services, 0, MEMBERS, kill_after)
    processed, tallies = state(services, villages)
    assert kill_after <= len(processed) < MEMBERS
    for index in range(MEMBERS):
        if f"r{index}" in processed:
            assert tallies[index] == expected(index), f"report {index} partly written"
        else:
            assert tallies[index] == {}, f"report {index} written without being marked handled"
    # The platform delivers again everything it did not see confirmed: all of it, here.
    run_worker(services, 0, MEMBERS, None)
    processed, tallies = state(services, villages)
    assert {f"r{i}" for i in range(MEMBERS)} <= processed
    assert all(tallies[index] == expected(index) for index in range(MEMBERS))
    with Session(services.engine) as session:
        rows = session.exec(
            select(Tally).where(Tally.village_id.in_(list(villages.values())))
        ).all()  # type: ignore[attr-defined]
        assert len(rows) == 3 * MEMBERS, "nothing counted twice"
