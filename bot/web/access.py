"""What a person may see on the dashboard: pure rules over their roles, unit and village.

* the standing office, commune leaders and admins see everything;
* unit officers see the tasks their unit leads or coordinates, and their evidence;
* team members and team leaders see their own village's figures;
* province officers belong to no commune: they see every commune of their province,
  read-only (the province page, each commune's overview, the province workbook);
* residents (and anyone else) see nothing.

Every query of a page is narrowed by a ``Scope``: everything, or only rows with these
ids — possibly none. There is no "None means all": a viewer without a unit sees no task.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

OVERSEERS = frozenset({"office", "commune_leader", "admin"})
UNIT_ROLES = frozenset({"unit"})
VILLAGE_ROLES = frozenset({"team", "leader"})
PROVINCE_ROLES = frozenset({"province"})
DASHBOARD_ROLES = OVERSEERS | UNIT_ROLES | VILLAGE_ROLES | PROVINCE_ROLES
# Who may change things from the dashboard (the same roles as in the chat).
REVIEWERS = frozenset({"office", "admin"})  # /duyet
PLANNERS = frozenset({"office", "admin"})  # the plan: import, deadlines, lead units
ADMINS = frozenset({"admin"})  # people, invites, the commune's set-up
# Report categories: each one's lead unit, deadlines, urgency (as `tocns feedback category`)
FEEDBACK_EDITORS = frozenset({"office", "admin"})
# /thongbao to any group (a unit officer's chat announcements to their own unit stay chat-only)
ANNOUNCERS = frozenset({"office", "commune_leader", "admin"})


class Page(StrEnum):
    """The dashboard's pages and downloads."""

    OVERVIEW = "overview"
    VILLAGES = "villages"
    TASKS = "tasks"
    UNITS = "units"
    CONTENT = "content"
    AUDIT = "audit"
    REVIEW = "review"
    FLAGGED = "flagged"  # figures confirmed despite a drop or a jump, for the office
    PLAN = "plan"
    PEOPLE = "people"
    SETUP = "setup"
    ANNOUNCEMENTS = "announcements"
    EXPORT_INDICATORS = "export_indicators"
    EXPORT_TASKS = "export_tasks"
    EXPORT_TALLIES = "export_tallies"
    FEEDBACK = "feedback"  # residents' reports (#17)
    EXPORT_FEEDBACK = "export_feedback"
    PROVINCE = "province"  # the province tier (#18): communes ranked, one commune's overview
    EXPORT_PROVINCE = "export_province"


PROVINCE_PAGES = frozenset({Page.PROVINCE, Page.EXPORT_PROVINCE})


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as far as access rules are concerned."""

    person_id: int
    name: str
    commune_id: int | None
    roles: frozenset[str]
    unit_id: int | None = None
    village_id: int | None = None
    province: str | None = None  # a province officer's province
    # A province officer reading one commune of their province (``reading_commune``).
    reading: bool = False

    @property
    def sees_all(self) -> bool:
        return bool(self.roles & OVERSEERS) or self.reading

    @property
    def reads_province(self) -> bool:
        """A province officer: no commune of their own, a province to read."""
        return bool(self.roles & PROVINCE_ROLES) and bool(self.province)

    @property
    def reviews(self) -> bool:
        return bool(self.roles & REVIEWERS)

    @property
    def plans(self) -> bool:
        return bool(self.roles & PLANNERS)

    @property
    def announces(self) -> bool:
        return bool(self.roles & ANNOUNCERS)

    @property
    def edits_feedback_categories(self) -> bool:
        return bool(self.roles & FEEDBACK_EDITORS) and not self.reading

    @property
    def administers(self) -> bool:
        return bool(self.roles & ADMINS)

    @property
    def is_unit_officer(self) -> bool:
        return bool(self.roles & UNIT_ROLES) and self.unit_id is not None

    @property
    def is_village_member(self) -> bool:
        return bool(self.roles & VILLAGE_ROLES) and self.village_id is not None


def reading_commune(viewer: Viewer, commune_id: int) -> Viewer:
    """A province officer as the reader of one commune: sees all of it, changes nothing.

    Only for building that commune's read-only pages; the caller checked the commune is
    in the officer's province. No role of the commune is given, so nothing is writable.
    """
    assert viewer.reads_province
    return Viewer(
        person_id=viewer.person_id,
        name=viewer.name,
        commune_id=commune_id,
        roles=viewer.roles & PROVINCE_ROLES,
        province=viewer.province,
        reading=True,
    )


def may_sign_in(roles: Iterable[str]) -> bool:
    """Whether someone with these roles may use the dashboard at all."""
    return bool(frozenset(roles) & DASHBOARD_ROLES)


def can_open(viewer: Viewer, page: Page) -> bool:
    """Whether a viewer may open a page (what it shows is narrowed by the rules below)."""
    if page in PROVINCE_PAGES:
        return viewer.reads_province and not viewer.reading
    if viewer.commune_id is None or viewer.reading or not may_sign_in(viewer.roles):
        return False
    if page in (Page.REVIEW, Page.FLAGGED):
        return viewer.reviews
    if page == Page.PLAN:
        return viewer.plans
    if page in (Page.PEOPLE, Page.SETUP):
        return viewer.administers
    if page == Page.ANNOUNCEMENTS:
        return viewer.announces
    if viewer.sees_all:
        return True
    if page in (Page.OVERVIEW, Page.CONTENT, Page.EXPORT_INDICATORS):
        return True
    if page in (Page.TASKS, Page.UNITS, Page.EXPORT_TASKS):
        return viewer.is_unit_officer
    if page in (Page.VILLAGES, Page.EXPORT_TALLIES):
        return viewer.is_village_member
    if page in (Page.FEEDBACK, Page.EXPORT_FEEDBACK):
        return viewer.is_unit_officer  # their unit's reports (bot.web.routes.feedback)
    return False  # the audit log is for the office, leaders and admins


@dataclass(frozen=True)
class Scope:
    """The rows of the viewer's commune a query may return: all, or those with these ids."""

    everything: bool = False
    ids: frozenset[int] = frozenset()

    def allows(self, row_id: int | None) -> bool:
        return self.everything or (row_id is not None and row_id in self.ids)

    @property
    def empty(self) -> bool:
        return not self.everything and not self.ids


EVERYTHING = Scope(everything=True)
NOTHING = Scope()


def unit_scope(viewer: Viewer) -> Scope:
    """The units whose tasks (led or coordinated) a viewer sees."""
    if viewer.commune_id is None or not may_sign_in(viewer.roles):
        return NOTHING
    if viewer.sees_all:
        return EVERYTHING
    if viewer.is_unit_officer and viewer.unit_id is not None:
        return Scope(ids=frozenset({viewer.unit_id}))
    return NOTHING


def village_scope(viewer: Viewer) -> Scope:
    """The villages whose figures a viewer sees."""
    if viewer.commune_id is None or not may_sign_in(viewer.roles):
        return NOTHING
    if viewer.sees_all:
        return EVERYTHING
    if viewer.is_village_member and viewer.village_id is not None:
        return Scope(ids=frozenset({viewer.village_id}))
    return NOTHING


def can_see_task(
    viewer: Viewer, commune_id: int, lead_unit_id: int | None, coordinating: Iterable[int]
) -> bool:
    """Whether a viewer may open a task (and its evidence)."""
    if viewer.commune_id is None or viewer.commune_id != commune_id:
        return False
    scope = unit_scope(viewer)
    return scope.everything or any(scope.allows(u) for u in (lead_unit_id, *coordinating))


def can_update_task(viewer: Viewer, commune_id: int, lead_unit_id: int | None) -> bool:
    """Whether a viewer may report progress and evidence on a task: its lead unit's officer."""
    return (
        viewer.commune_id == commune_id
        and viewer.is_unit_officer
        and lead_unit_id is not None
        and viewer.unit_id == lead_unit_id
    )


def can_see_village(viewer: Viewer, village_id: int) -> bool:
    """Whether a viewer may see one village's figures."""
    return village_scope(viewer).allows(village_id)


def visible_pages(viewer: Viewer) -> list[Page]:
    """The navigation entries a viewer may use, in menu order."""
    menu = (
        Page.PROVINCE,
        Page.OVERVIEW,
        Page.VILLAGES,
        Page.TASKS,
        Page.FEEDBACK,
        Page.UNITS,
        Page.REVIEW,
        Page.FLAGGED,
        Page.PLAN,
        Page.ANNOUNCEMENTS,
        Page.PEOPLE,
        Page.SETUP,
        Page.CONTENT,
        Page.AUDIT,
    )
    return [page for page in menu if can_open(viewer, page)]
