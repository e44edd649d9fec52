"""Who sees what on the dashboard (pure rules)."""

from __future__ import annotations

import pytest

from bot.web.access import (
    EVERYTHING,
    NOTHING,
    PROVINCE_PAGES,
    Page,
    Scope,
    Viewer,
    can_open,
    can_see_task,
    can_see_village,
    can_update_task,
    may_sign_in,
    reading_commune,
    unit_scope,
    village_scope,
    visible_pages,
)

COMMUNE = 1


def viewer(
    *roles: str, unit: int | None = None, village: int | None = None, commune: int | None = COMMUNE
) -> Viewer:
    return Viewer(1, "A", commune, frozenset(roles), unit, village)


WORKPLACE = {Page.REVIEW, Page.FLAGGED, Page.PLAN, Page.ANNOUNCEMENTS, Page.PEOPLE, Page.SETUP}
MAY_CHANGE = {
    "office": {Page.REVIEW, Page.FLAGGED, Page.PLAN, Page.ANNOUNCEMENTS},
    "commune_leader": {Page.ANNOUNCEMENTS},  # /thongbao to any group, as in the chat
    "admin": WORKPLACE,
}


@pytest.mark.parametrize("role", ["office", "commune_leader", "admin"])
def test_office_leaders_and_admins_see_everything(role: str) -> None:
    v = viewer(role)
    assert all(can_open(v, page) for page in Page if page not in WORKPLACE | PROVINCE_PAGES)
    assert not any(can_open(v, page) for page in PROVINCE_PAGES)  # the province tier's
    assert {page for page in WORKPLACE if can_open(v, page)} == MAY_CHANGE[role]
    assert can_see_task(v, COMMUNE, lead_unit_id=7, coordinating=[])
    assert can_see_village(v, 99)
    assert unit_scope(v) == EVERYTHING and village_scope(v) == EVERYTHING
    menu = [Page.REVIEW, Page.FLAGGED, Page.PLAN, Page.ANNOUNCEMENTS, Page.PEOPLE, Page.SETUP]
    assert visible_pages(v) == [
        Page.OVERVIEW,
        Page.VILLAGES,
        Page.TASKS,
        Page.FEEDBACK,
        Page.UNITS,
        *[page for page in menu if page in MAY_CHANGE[role]],
        Page.CONTENT,
        Page.AUDIT,
    ]


def test_a_province_officer_opens_the_province_pages_only() -> None:
    officer = Viewer(1, "A", None, frozenset({"province"}), province="Tỉnh Mẫu")
    assert may_sign_in(officer.roles) and officer.reads_province
    assert {page for page in Page if can_open(officer, page)} == PROVINCE_PAGES
    assert visible_pages(officer) == [Page.PROVINCE]
    assert unit_scope(officer) == NOTHING and village_scope(officer) == NOTHING
    assert not can_see_task(officer, COMMUNE, lead_unit_id=7, coordinating=[])
    without = Viewer(1, "A", None, frozenset({"province"}))  # no province: nothing
    assert not any(can_open(without, page) for page in Page)


def test_a_province_officer_reads_one_commune_and_changes_nothing() -> None:
    officer = Viewer(1, "A", None, frozenset({"province"}), province="Tỉnh Mẫu")
    reader = reading_commune(officer, COMMUNE)
    assert unit_scope(reader) == EVERYTHING and village_scope(reader) == EVERYTHING
    assert can_see_task(reader, COMMUNE, lead_unit_id=7, coordinating=[])
    assert not can_see_task(reader, 2, lead_unit_id=7, coordinating=[])
    assert not can_update_task(reader, COMMUNE, lead_unit_id=7)
    assert not any(can_open(reader, page) for page in Page)  # pages go by the officer
    assert not (reader.reviews or reader.plans or reader.announces or reader.administers)


def test_the_workplace_is_refused_to_units_and_villages() -> None:
    for v in (viewer("unit", unit=5), viewer("team", village=3), viewer("leader", village=3)):
        assert not any(can_open(v, page) for page in WORKPLACE)


def test_unit_officer_sees_own_unit_tasks_only() -> None:
    v = viewer("unit", unit=5)
    assert can_see_task(v, COMMUNE, lead_unit_id=5, coordinating=[])
    assert can_see_task(v, COMMUNE, lead_unit_id=6, coordinating=[5])  # coordinating
    assert not can_see_task(v, COMMUNE, lead_unit_id=6, coordinating=[7])
    assert not can_see_task(v, COMMUNE, lead_unit_id=None, coordinating=[])
    assert not can_see_task(v, 2, lead_unit_id=5, coordinating=[])  # another commune
    assert unit_scope(v) == Scope(ids=frozenset({5})) and village_scope(v) == NOTHING
    assert can_open(v, Page.TASKS) and can_open(v, Page.EXPORT_TASKS) and can_open(v, Page.UNITS)
    assert (
        not can_open(v, Page.VILLAGES)
        and not can_open(v, Page.AUDIT)
        and not can_open(v, Page.EXPORT_TALLIES)
    )


def test_unit_role_without_a_unit_sees_no_tasks() -> None:
    v = viewer("unit")
    assert unit_scope(v) == NOTHING and unit_scope(v).empty
    assert not can_open(v, Page.TASKS)
    assert not can_see_task(v, COMMUNE, lead_unit_id=5, coordinating=[])


@pytest.mark.parametrize("role", ["team", "leader"])
def test_team_members_see_their_village(role: str) -> None:
    v = viewer(role, village=3)
    assert can_see_village(v, 3) and not can_see_village(v, 4)
    assert village_scope(v) == Scope(ids=frozenset({3}))
    assert unit_scope(v) == NOTHING  # no unit: no task at all, never "every task"
    assert (
        can_open(v, Page.VILLAGES)
        and can_open(v, Page.EXPORT_TALLIES)
        and can_open(v, Page.OVERVIEW)
    )
    assert not can_open(v, Page.TASKS) and not can_open(v, Page.AUDIT)
    assert not can_see_task(v, COMMUNE, lead_unit_id=5, coordinating=[])


def test_residents_and_people_without_a_commune_see_nothing() -> None:
    assert not may_sign_in({"resident"})
    assert not any(can_open(viewer("resident"), page) for page in Page)
    assert not any(can_open(viewer("office", commune=None), page) for page in Page)
    assert unit_scope(viewer("resident")) == NOTHING == village_scope(viewer("resident"))
    assert unit_scope(viewer("office", commune=None)) == NOTHING
    assert visible_pages(viewer("resident")) == []


def test_several_roles_add_up() -> None:
    v = viewer("unit", "team", unit=5, village=3)
    assert can_open(v, Page.TASKS) and can_open(v, Page.VILLAGES)
    assert not can_open(v, Page.AUDIT)
