"""Commune isolation: a user of commune A never sees nor changes commune B.

Two communes share one database (one bot serves a province). Commune B gets its own
village, unit, person, plan, task and figures with names found nowhere in A. Every
dashboard route is taken from the app's router, so a new route is covered without
editing this file (a new path parameter fails loudly until it is given a B id here).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from bot.admin.province_officers import add_officer
from bot.core.dispatcher import Dispatcher
from bot.core.errors import UserError
from bot.core.people import default_commune_id
from bot.feedback.store import ensure_categories
from bot.plans import store
from bot.services import Services
from bot.web.server import build_web_app
from db.models import (
    AuditEntry,
    Broadcast,
    Commune,
    OutboxMessage,
    Person,
    PersonRole,
    Plan,
    Tally,
    Task,
    Unit,
    Village,
)
from tests.helpers import Chat, add_person
from tests.web.conftest import OWN_UNIT, Seeded, SignIn, form_token

B_VILLAGE = "Thôn Bê Cách Biệt"
B_UNIT = "Ban Bê Riêng"
B_PERSON = "Trần Bê Người Xã Khác"
B_TASK = "Việc riêng của xã Bê"
B_PLAN = "Kế hoạch xã Bê"
B_MARKERS = (B_VILLAGE, B_UNIT, B_PERSON, B_TASK, B_PLAN, "Xã Bê Cách Biệt")

ROLES = {
    "office": (("office",), None, None),
    "commune_leader": (("commune_leader",), None, None),
    "admin": (("admin",), None, None),
    "unit": (("unit",), OWN_UNIT, None),
    "team": (("team",), None, "Xóm 3"),
    "leader": (("leader",), None, "Xóm 3"),
}
# Not part of the signed-in dashboard: sign-in links, webhooks, the public Open311 API
# (its own tests), health, static files and media served by signed name.
OUTSIDE = ("/login", "/webhooks", "/open311", "/healthz", "/static", "/media", "/logout")


def seed_commune_b(services: Services) -> dict[str, int]:
    """Commune B with a village, unit, person, plan, task and this month's figure."""
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        commune = Commune(slug="xa-be", name="Xã Bê Cách Biệt", province="Tỉnh Mẫu")
        session.add(commune)
        session.flush()
        assert commune.id is not None
        village = Village(commune_id=commune.id, name=B_VILLAGE)
        unit = Unit(commune_id=commune.id, name=B_UNIT)
        person = Person(commune_id=commune.id, display_name=B_PERSON)
        session.add_all([village, unit, person])
        session.flush()
        assert village.id is not None and unit.id is not None and person.id is not None
        session.add(PersonRole(person_id=person.id, role="unit"))
        plan = Plan(commune_id=commune.id, slug="ke-hoach-be", title=B_PLAN)
        session.add(plan)
        session.flush()
        assert plan.id is not None
        task = Task(
            plan_id=plan.id,
            number="99.9",
            text=B_TASK,
            lead_unit_id=unit.id,
            due=today + dt.timedelta(days=10),
        )
        session.add(task)
        tally = Tally(
            village_id=village.id, period=today.replace(day=1), code="vneid", value=7, flagged=True
        )
        session.add(tally)
        broadcast = Broadcast(
            commune_id=commune.id,
            group=f"village:{village.id}",
            text=f"Thông báo riêng của {B_VILLAGE}",
            send_at=services.clock() + dt.timedelta(days=1),
        )
        session.add(broadcast)
        session.flush()
        assert task.id is not None and broadcast.id is not None and tally.id is not None
        category = ensure_categories(session, commune.id)[0]  # B's report categories
        session.add(  # still to send: no one of A may cancel it
            OutboxMessage(
                commune_id=commune.id,
                person_id=person.id,
                channel="console",
                chat_id="b-1",
                kind="broadcast",
                dedupe_key=f"broadcast:{broadcast.id}:{person.id}",
                due_at=services.clock() + dt.timedelta(days=1),
            )
        )
        ids = {
            "commune": commune.id,
            "village": village.id,
            "unit": unit.id,
            "person": person.id,
            "task": task.id,
            "broadcast": broadcast.id,
            "tally": tally.id,
            "category": category.id or 0,
        }
        session.commit()
    return ids


def dashboard_routes(services: Services) -> list[tuple[str, str]]:
    """(method, path template) of every dashboard route of the app's router."""
    app = build_web_app(services, Dispatcher(services))
    found: list[tuple[str, str]] = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix") or ""
        if route.method not in ("GET", "POST") or not path or path.startswith(OUTSIDE):
            continue
        found.append((route.method, path))
    return found


def fill(path: str, b: dict[str, int]) -> str:
    """The path with commune B's ids in its parameters."""
    values = {
        "task_id": b["task"],
        "evidence_id": b["evidence"],
        "person_id": b["person"],
        "report_id": b["report"],
        "photo_id": b["photo"],
        "broadcast_id": b["broadcast"],
        "commune_id": b["commune"],
        "action": "note",  # a report action both the unit and the office may take
        "tally_id": b["tally"],
        "category_id": b["category"],
    }
    try:
        return path.format(**values)
    except KeyError as missing:  # a new route parameter: give it a B id above
        pytest.fail(f"{path}: no commune B id for parameter {missing}")


def leaks(text: str) -> list[str]:
    return [marker for marker in B_MARKERS if marker in text]


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_commune_a_never_sees_nor_changes_commune_b(
    services: Services, seeded: Seeded, sign_in: SignIn, role: str
) -> None:
    b = seed_commune_b(services)
    b.update(evidence=10**6, report=10**6, photo=10**6)  # B has none: any id is not A's
    roles, unit, village = ROLES[role]
    viewer = add_person(
        services, name=f"Người xã A {role}", roles=roles, unit=unit, village=village
    )
    client = await sign_in(viewer)
    token = form_token(await (await client.get("/")).text())
    problems: list[str] = []
    routes = dashboard_routes(services)
    assert len(routes) > 20 and ("GET", "/tasks/{task_id}") in routes
    shown = 0  # pages that really opened and show commune A (the check is not vacuous)
    for method, template in routes:
        path = fill(template, b)
        if method == "GET":
            response = await client.get(path, allow_redirects=False)
            body = await response.read()
            text = body.decode("utf-8", "replace")
            if "xlsx" in path or response.content_type.endswith("sheet"):
                text = xlsx_text(body)
            shown += response.status == 200 and (unit or "Xóm 3") in text
            if response.status < 400 and (found := leaks(text)):
                problems.append(f"GET {path} → {response.status} shows {found}")
        else:
            response = await client.post(
                path,
                data={"csrf": token, "village_id": b["village"], "unit_id": b["unit"]},
                allow_redirects=False,
            )
            if "{" in template and response.status < 400:
                problems.append(f"POST {path} (B's id) → {response.status}")
            if (found := leaks(await response.text())) and response.status < 400:
                problems.append(f"POST {path} → {response.status} shows {found}")
    assert not problems, "\n".join(problems)
    assert shown >= 2
    with Session(services.engine) as session:
        task = session.get(Task, b["task"])
        person = session.get(Person, b["person"])
        assert task is not None and task.text == B_TASK and task.active
        assert person is not None and person.display_name == B_PERSON
        assert person.unit_id is None and person.commune_id == b["commune"]
        assert session.exec(select(Village).where(Village.name == B_VILLAGE)).one()
        assert session.exec(select(Unit).where(Unit.name == B_UNIT)).one()
        assert session.exec(
            select(OutboxMessage.status).where(OutboxMessage.commune_id == b["commune"])
        ).all() == ["pending"]
        b_tally = session.get(Tally, b["tally"])
        assert b_tally is not None and b_tally.flagged  # neither accepted nor asked about
        assert not session.exec(
            select(AuditEntry).where(AuditEntry.commune_id == b["commune"])
        ).all()


def xlsx_text(body: bytes) -> str:
    """Every cell of a workbook as text (the exports are read like a user reads them)."""
    import io

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(body), read_only=True)
    except Exception:  # not a workbook (an error page): read as text
        return body.decode("utf-8", "replace")
    return "\n".join(
        " ".join(str(cell) for cell in row if cell is not None)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    ) + " ".join(sheet.title for sheet in book.worksheets)


A_MARKERS = ("Xóm 3", OWN_UNIT, "Lê Thị Thường Trực", "Phạm Văn Công An", "Hoàng Văn Tổ")


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_commune_b_never_sees_the_first_commune(
    services: Services, seeded: Seeded, sign_in: SignIn, role: str
) -> None:
    """The other way round: the deployment's first commune is no default for B's users."""
    b = seed_commune_b(services)
    roles = ROLES[role][0]
    with Session(services.engine) as session:
        viewer = Person(
            commune_id=b["commune"],
            display_name=f"Người xã Bê {role}",
            unit_id=b["unit"] if "unit" in roles else None,
            village_id=b["village"] if {"team", "leader"} & set(roles) else None,
        )
        session.add(viewer)
        session.flush()
        assert viewer.id is not None
        viewer_id = viewer.id
        session.add_all(PersonRole(person_id=viewer_id, role=r) for r in roles)
        session.commit()
    client = await sign_in(viewer_id)
    a = {"task": seeded.own_task, "evidence": seeded.own_evidence, "person": seeded.member}
    with Session(services.engine) as session:
        a["commune"] = default_commune_id(session) or 0
        a_tally = session.exec(select(Tally).where(Tally.village_id != b["village"])).first()
        assert a_tally is not None and a_tally.id is not None
        a_tally.flagged = True  # waiting for A's office: B's office may not decide it
        session.add(a_tally)
        session.commit()
        a["tally"] = a_tally.id
        a["category"] = ensure_categories(session, a["commune"])[0].id or 0
        session.commit()
    a.update(report=1, photo=1, broadcast=10**6)
    problems: list[str] = []
    shown = 0
    token = form_token(await (await client.get("/")).text())
    for method, template in dashboard_routes(services):
        path = fill(template, a)
        if method == "GET":
            response = await client.get(path, allow_redirects=False)
            body = await response.read()
            text = body.decode("utf-8", "replace")
            if "xlsx" in path or response.content_type.endswith("sheet"):
                text = xlsx_text(body)
            shown += response.status == 200 and (B_UNIT if "unit" in roles else B_VILLAGE) in text
            found = [m for m in A_MARKERS if m in text]
            if response.status < 400 and found:
                problems.append(f"GET {path} → {response.status} shows {found}")
        elif "{" in template:
            response = await client.post(path, data={"csrf": token}, allow_redirects=False)
            if response.status < 400:
                problems.append(f"POST {path} (A's id) → {response.status}")
    assert not problems, "\n".join(problems)
    assert shown >= 1


@pytest.mark.parametrize("province", ["Tỉnh Mẫu", "Tỉnh Khác"])
async def test_a_province_officer_reads_only_their_province(
    services: Services, seeded: Seeded, sign_in: SignIn, province: str
) -> None:
    """A province officer (of no commune) sees the communes of their province, read-only:
    commune A (of no province) never; B only when B is of their province; changes nothing."""
    b = seed_commune_b(services)
    with Session(services.engine) as session:
        a_id = default_commune_id(session)
        a = session.get(Commune, a_id)
        assert a is not None and a.province != "Tỉnh Mẫu"
        if province == "Tỉnh Khác":  # another province, of one empty commune
            session.add(Commune(slug="xa-khac", name="Xã Khác", province=province))
            session.flush()
        officer = add_officer(session, f"Cán bộ {province}", province, services.clock())
        assert officer.id is not None
        officer_id = officer.id
        session.commit()
    client = await sign_in(officer_id)
    token = form_token(await (await client.get("/province")).text())
    b.update(evidence=10**6, report=10**6, photo=10**6)
    in_province = province == "Tỉnh Mẫu"
    problems: list[str] = []
    for method, template in dashboard_routes(services):
        for commune in (b["commune"], a_id):
            path = fill(template, {**b, "commune": commune or 0})
            if method == "GET":
                response = await client.get(path, allow_redirects=False)
                body = await response.read()
                text = body.decode("utf-8", "replace")
                if "xlsx" in path or response.content_type.endswith("sheet"):
                    text = xlsx_text(body)
                if response.status >= 400:
                    continue
                if found := [m for m in A_MARKERS if m in text]:
                    problems.append(f"GET {path} → {response.status} shows A's {found}")
                if not in_province and (found := leaks(text)):
                    problems.append(f"GET {path} → {response.status} shows B's {found}")
                if response.status < 300 and not template.startswith("/province"):
                    problems.append(f"GET {path} → {response.status}: a commune page")
            else:
                response = await client.post(path, data={"csrf": token}, allow_redirects=False)
                if response.status < 400:
                    problems.append(f"POST {path} → {response.status}")
    assert not problems, "\n".join(problems)
    page = await (await client.get("/province")).text()
    assert ("Xã Bê Cách Biệt" in page) == in_province
    opened = await client.get(f"/province/communes/{b['commune']}")
    assert opened.status == (200 if in_province else 404)
    if in_province:
        assert B_TASK in await opened.text()
    with Session(services.engine) as session:
        task = session.get(Task, b["task"])
        assert task is not None and task.text == B_TASK and task.active
        assert session.exec(
            select(OutboxMessage.status).where(OutboxMessage.commune_id == b["commune"])
        ).all() == ["pending"]


def test_chat_commands_of_an_officer_of_a_stay_in_a(
    services: Services, seeded: Seeded, dispatcher: Dispatcher
) -> None:
    """The officer's task list, a B task opened by id, and the team's /tiendo stay in A."""
    b = seed_commune_b(services)
    officer = Chat(dispatcher, chat_id="3002", name="Phạm Văn Công An")
    listing = officer.say("/nhiemvu")
    assert OWN_UNIT in listing
    assert not leaks(listing)
    with Session(services.engine) as session:
        person = session.get(Person, seeded.officer)
        assert person is not None
        with pytest.raises(UserError):
            store.task_for_officer(session, b["task"], person, services.today())
    member = Chat(dispatcher, chat_id="3004", name="Hoàng Văn Tổ")
    progress = member.say("/tiendo")
    assert "Xóm 3" in progress and not leaks(progress)
