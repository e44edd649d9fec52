"""Role × route: who may open what, and what each page and file shows them.

Statuses alone prove little (the overview is open to everyone with a dashboard role):
each page is read and the tasks, villages and evidence it names are compared with what
the role may see, computed here from the database and the rules of PRODUCT.md, not
from ``bot.web.access``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from bot.admin.province_officers import add_officer
from bot.services import Services
from db.models import Commune, Evidence, Plan, Tally, Task, Unit, Village
from tests.helpers import add_person
from tests.web.conftest import OTHER_UNIT, OWN_UNIT, Seeded, SignIn

OVERSEERS = {"office", "commune_leader", "admin"}
DASHBOARD = OVERSEERS | {"unit", "team", "leader", "province"}


@dataclass(frozen=True)
class Who:
    roles: tuple[str, ...]
    unit: str | None = None
    village: str | None = None  # "LAST": the village that has not reported this month


WHO = {
    "office": Who(("office",)),
    "commune_leader": Who(("commune_leader",)),
    "admin": Who(("admin",)),
    "unit_officer": Who(("unit",), unit=OWN_UNIT),
    "unit_role_without_unit": Who(("unit",)),
    "team_member": Who(("team",), village="Xóm 3"),
    "team_leader_of_late_village": Who(("leader",), village="LAST"),
    "team_member_and_officer": Who(("team", "unit"), unit=OTHER_UNIT, village="Xóm 3"),
    "resident": Who(("resident",)),
}


@dataclass
class World:
    """What a role may see, computed from the database."""

    tasks: dict[int, str]  # id -> number
    villages: set[str]
    all_villages: list[str]
    evidence: set[int]
    sees_all: bool
    unit_id: int | None
    village: str | None


def world(services: Services, who: Who) -> World:
    with Session(services.engine) as session:
        plan = session.exec(select(Plan)).one()
        villages = list(session.exec(select(Village).order_by(col(Village.position))))
        names = [v.name for v in villages]
        unit = session.exec(select(Unit).where(Unit.name == who.unit)).first() if who.unit else None
        tasks = list(session.exec(select(Task).where(Task.plan_id == plan.id, col(Task.active))))
        evidence = list(session.exec(select(Evidence)))
    village = names[-1] if who.village == "LAST" else who.village
    roles = set(who.roles)
    sees_all = bool(roles & OVERSEERS)
    unit_id = unit.id if unit is not None and "unit" in roles else None
    if sees_all:
        visible = tasks
    elif unit_id is not None:
        visible = [t for t in tasks if t.lead_unit_id == unit_id or unit_id in t.coordinating]
    else:
        visible = []
    task_ids = {t.id: t.number for t in visible if t.id is not None}
    own_village = village if roles & {"team", "leader"} else None
    return World(
        tasks=task_ids,
        villages=set(names) if sees_all else ({own_village} if own_village else set()),
        all_villages=names,
        evidence={e.id for e in evidence if e.task_id in task_ids and e.id is not None},
        sees_all=sees_all,
        unit_id=unit_id,
        village=own_village,
    )


def task_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/tasks/(\d+)"', html)}


def evidence_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r"/evidence/(\d+)", html)}


def villages_named(html: str, names: list[str]) -> set[str]:
    return {n for n in names if re.search(re.escape(n) + r"(?!\d)", html)}


@pytest.mark.parametrize("name", list(WHO))
async def test_role_route_matrix(
    name: str, seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    who = WHO[name]
    expected = world(services, who)
    village = expected.village if who.village == "LAST" else who.village
    person = add_person(
        services, name=f"Người {name}", roles=who.roles, unit=who.unit, village=village
    )
    if not set(who.roles) & DASHBOARD:
        with pytest.raises(AssertionError):
            await sign_in(person)  # refused at sign-in (403)
        return
    client = await sign_in(person)
    may_tasks = expected.sees_all or expected.unit_id is not None
    may_villages = expected.sees_all or expected.village is not None

    async def page(path: str, allowed: bool) -> str:
        response = await client.get(path)
        body = await response.read()
        assert response.status == (200 if allowed else 403), path
        html = response.content_type == "text/html"
        return body.decode("utf-8") if allowed and html else ""

    # The overview: open to all, but it names only what the role may see.
    overview = await page("/", True)
    assert task_links(overview) <= set(expected.tasks), "overview names tasks of other units"
    assert evidence_links(overview) <= expected.evidence
    assert villages_named(overview, expected.all_villages) <= expected.villages
    if expected.sees_all:
        assert task_links(overview) and expected.all_villages[-1] in overview  # not vacuous
    if not may_tasks:
        assert "Nhiệm vụ cảnh báo đỏ" not in overview and "Minh chứng chờ duyệt" not in overview
    # The task list, one task, one piece of evidence.
    tasks = await page("/tasks", may_tasks)
    if may_tasks:
        assert task_links(tasks) == set(expected.tasks)
        assert evidence_links(tasks) <= expected.evidence
    for task_id in (seeded.own_task, seeded.other_task):
        await page(f"/tasks/{task_id}", task_id in expected.tasks)
    for evidence_id in (seeded.own_evidence, seeded.other_evidence):
        await page(f"/evidence/{evidence_id}", evidence_id in expected.evidence)
    # Villages, units, guides, audit log.
    villages = await page("/villages", may_villages)
    if may_villages:
        rows = re.findall(
            r"<tr[^>]*>\s*<td class=\"num-col\">[^<]*</td>\s*<td>([^<]+)</td>", villages
        )
        assert set(rows) == expected.villages
        assert villages_named(villages, expected.all_villages) == expected.villages
    units = await page("/units", may_tasks)
    assert task_links(units) == set()
    await page("/content", True)
    await page("/audit", expected.sees_all)
    # The workplace: changes only for the roles that make them (as in the chat).
    roles = set(who.roles)
    review = await page("/review", bool(roles & {"office", "admin"}))
    assert evidence_links(review) <= expected.evidence
    with Session(services.engine) as session:  # one flagged figure of Xóm 3 to check
        xom3 = session.exec(select(Village).where(Village.name == "Xóm 3")).one()
        figure = session.exec(select(Tally).where(Tally.village_id == xom3.id)).first()
        assert figure is not None
        figure.flagged = True
        session.add(figure)
        session.commit()
        figure_id = figure.id
    flagged = await page("/tallies/flagged", bool(roles & {"office", "admin"}))
    if flagged:
        assert villages_named(flagged, expected.all_villages) == {"Xóm 3"}
        assert f"/tallies/flagged/{figure_id}/accept" in flagged
    await page("/plan", bool(roles & {"office", "admin"}))
    announcements = await page("/announcements", bool(roles & OVERSEERS))
    if announcements:  # every village of the commune is a group to write to, and no task
        assert villages_named(announcements, expected.all_villages) == expected.villages
        assert task_links(announcements) == set()
    await page("/people", "admin" in roles)
    await page("/setup", "admin" in roles)
    for task_id in (seeded.own_task, seeded.other_task):
        if task_id in expected.tasks:
            html = await page(f"/tasks/{task_id}", True)
            editable = f"/tasks/{task_id}/edit" in html
            assert editable == bool(roles & {"office", "admin"})
            with Session(services.engine) as session:
                lead = session.get(Task, task_id).lead_unit_id  # type: ignore[union-attr]
            reports = f"/tasks/{task_id}/progress" in html
            assert reports == (expected.unit_id is not None and lead == expected.unit_id)
    # The files follow the same rules.
    indicators = await client.get("/export/indicators.xlsx")
    assert indicators.status == 200
    sheet = await client.get("/export/tasks.xlsx")
    assert sheet.status == (200 if may_tasks else 403)
    if may_tasks:
        rows_ = list(
            load_workbook(io.BytesIO(await sheet.read())).active.iter_rows(values_only=True)
        )  # type: ignore[union-attr]
        start = next(i for i, row in enumerate(rows_) if row[0] == "TT")
        tasks = [row for row in rows_[start + 1 :] if any(row[2:])]  # not the group rows
        assert {str(row[0]) for row in tasks} == set(expected.tasks.values())
    tallies = await client.get("/export/tallies.csv")
    assert tallies.status == (200 if may_villages else 403)
    if may_villages:
        text = (await tallies.read()).decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text), delimiter=";")
        assert {row[2] for row in list(reader)[1:]} == expected.villages
    workbook = await client.get("/export/tallies.xlsx")
    assert workbook.status == (200 if may_villages else 403)
    if may_villages:
        book = load_workbook(io.BytesIO(await workbook.read()))
        rows_ = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
        start = next(i for i, row in enumerate(rows_) if row[0] == "Tháng")
        assert {row[1] for row in rows_[start + 1 :]} == expected.villages


async def test_province_officer_route_matrix(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    """The province role: no commune page, the province pages, the commune read-only."""
    with Session(services.engine) as session:
        commune = session.exec(select(Commune)).one()
        commune.province = "Tỉnh Mẫu"
        session.add(commune)
        officer = add_officer(session, "Cán bộ tỉnh", "Tỉnh Mẫu", services.clock())
        session.commit()
        assert officer.id is not None and commune.id is not None
        officer_id, commune_id = officer.id, commune.id
    expected = world(services, Who(("province",)))
    everything = world(services, Who(("office",)))
    client = await sign_in(officer_id)
    home = await client.get("/", allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/province"
    for path in (
        "/villages",
        "/tasks",
        f"/tasks/{seeded.own_task}",
        f"/evidence/{seeded.own_evidence}",
        "/units",
        "/content",
        "/audit",
        "/review",
        "/tallies/flagged",
        "/plan",
        "/announcements",
        "/people",
        "/setup",
        "/feedback",
        "/export/indicators.xlsx",
        "/export/tasks.xlsx",
        "/export/tallies.csv",
        "/export/tallies.xlsx",
    ):
        assert (await client.get(path)).status == 403, path
    province = await client.get("/province")
    assert province.status == 200
    assert f'href="/province/communes/{commune_id}"' in await province.text()
    page = await client.get(f"/province/communes/{commune_id}")
    assert page.status == 200
    html = await page.text()
    assert task_links(html) == set() and evidence_links(html) == set()  # no page of theirs
    assert expected.tasks == {}  # the officer opens no task page…
    assert villages_named(html, everything.all_villages) == set(everything.all_villages)
    assert "Nhiệm vụ cảnh báo đỏ" in html and "Minh chứng chờ duyệt" in html  # …but reads them
    workbook = await client.get("/province/export.xlsx")
    assert workbook.status == 200
    sheets = load_workbook(io.BytesIO(await workbook.read())).sheetnames
    assert sheets == ["Tổng hợp", commune.name]
