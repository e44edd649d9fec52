"""Every dashboard page over HTTP: what each role sees, filters, evidence, 403 pages."""

from __future__ import annotations

import shutil

from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, col, delete, select

from bot.content.questions import record_feedback, record_unanswered
from bot.core.dispatcher import Dispatcher
from bot.plans.status import Status
from bot.plans.store import plan_tasks
from bot.services import Services
from bot.web.auth import create_login_link
from bot.web.server import build_web_app
from db.models import PersonRole, Plan, Unit
from tests.web.conftest import OTHER_UNIT, OWN_UNIT, Seeded, SignIn, submit_login, tiny_png


async def test_office_sees_every_page(seeded: Seeded, sign_in: SignIn) -> None:
    client = await sign_in(seeded.office)
    overview = await client.get("/")
    html = await overview.text()
    assert overview.status == 200
    assert "Tổng quan" in html and "Nhiệm vụ cảnh báo đỏ" in html and "Minh chứng chờ duyệt" in html
    assert "anh-hop.png" in html  # the pending evidence
    assert "11/12" in html  # villages reported this month
    for path in (
        "/villages",
        "/villages?code=cks",
        "/tasks",
        "/units",
        "/content",
        "/audit",
        "/audit?kind=evidence",
        f"/tasks/{seeded.own_task}",
        f"/tasks/{seeded.other_task}",
    ):
        response = await client.get(path)
        assert response.status == 200, path
        assert 'lang="vi"' in await response.text()
    audit = await (await client.get("/audit")).text()
    assert "Trả lại minh chứng" in audit and "Thiếu chữ ký" in audit


async def test_task_page_shows_history_evidence_and_review(seeded: Seeded, sign_in: SignIn) -> None:
    client = await sign_in(seeded.office)
    html = await (await client.get(f"/tasks/{seeded.own_task}")).text()
    assert "Gần xong" in html and "Đã họp triển khai" in html  # progress history
    assert f"/evidence/{seeded.own_evidence}" in html and "Chờ duyệt" in html
    other = await (await client.get(f"/tasks/{seeded.other_task}")).text()
    assert "Bị trả lại" in other and "Thiếu chữ ký" in other and "Chờ hoàn thiện" in other


async def test_evidence_is_served_only_through_the_checked_route(
    seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.office)
    download = await client.get(f"/evidence/{seeded.own_evidence}")
    assert download.status == 200
    assert await download.read() == tiny_png()
    assert download.headers["Content-Disposition"].startswith("attachment")
    inline = await client.get(f"/evidence/{seeded.own_evidence}?view=1")
    assert inline.headers["Content-Type"] == "image/png" and inline.headers[
        "Content-Disposition"
    ].startswith("inline")
    assert (await client.get("/evidence/999999")).status == 404


async def test_unit_officer_is_limited_to_their_unit(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    client = await sign_in(seeded.officer)
    assert (await client.get(f"/tasks/{seeded.own_task}")).status == 200
    assert (await client.get(f"/evidence/{seeded.own_evidence}")).status == 200
    refused = await client.get(f"/tasks/{seeded.other_task}")
    assert refused.status == 403 and "Bạn không xem được trang này" in await refused.text()
    assert (await client.get(f"/evidence/{seeded.other_evidence}")).status == 403
    assert (await client.get("/audit")).status == 403
    assert (await client.get("/villages")).status == 403
    listing = await (await client.get("/tasks")).text()
    with Session(services.engine) as session:
        own_unit = session.exec(select(Unit).where(Unit.name == OWN_UNIT)).one()
        other_unit = session.exec(select(Unit).where(Unit.name == OTHER_UNIT)).one()
        plan = session.exec(select(Plan)).one()
        views = plan_tasks(session, plan.id or 0, services.clock().date())
    visible = [
        v for v in views if v.task.lead_unit_id == own_unit.id or own_unit.id in v.task.coordinating
    ]
    assert f"{len(visible)}/{len(visible)} nhiệm vụ" in listing
    assert all(f'href="/tasks/{v.id}"' not in listing for v in views if v not in visible)
    assert other_unit.id is not None


async def test_team_member_sees_only_their_village(seeded: Seeded, sign_in: SignIn) -> None:
    client = await sign_in(seeded.member)
    html = await (await client.get("/villages")).text()
    assert "Xóm 3" in html and "Xóm 4" not in html
    assert (await client.get("/tasks")).status == 403
    assert (await client.get(f"/tasks/{seeded.own_task}")).status == 403
    csv_text = (await (await client.get("/export/tallies.csv")).read()).decode("utf-8-sig")
    villages = {line.split(";")[2] for line in csv_text.splitlines()[1:]}
    assert villages == {"Xóm 3"}


async def test_nobody_without_a_dashboard_role(seeded: Seeded, services: Services) -> None:
    async with TestClient(TestServer(build_web_app(services, Dispatcher(services)))) as client:
        assert (await client.get("/")).status == 401
        assert (await client.get(f"/evidence/{seeded.own_evidence}")).status == 401
        assert (await client.get("/export/tasks.xlsx")).status == 401
        with Session(services.engine) as session:
            link = create_login_link(session, seeded.resident, services.clock(), "")
            session.commit()
        assert (await submit_login(client, link)).status == 403


async def test_role_removed_after_sign_in(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    client = await sign_in(seeded.officer)
    with Session(services.engine) as session:
        session.exec(delete(PersonRole).where(col(PersonRole.person_id) == seeded.officer))  # type: ignore[call-overload]
        session.commit()
    assert (await client.get("/")).status == 403


async def test_task_filters(seeded: Seeded, sign_in: SignIn, services: Services) -> None:
    client = await sign_in(seeded.office)
    with Session(services.engine) as session:
        plan = session.exec(select(Plan)).one()
        today = services.clock().astimezone(services.tz).date()
        views = plan_tasks(session, plan.id or 0, today)
        unit = session.exec(select(Unit).where(Unit.name == OWN_UNIT)).one()
    red = sum(1 for v in views if v.status.red)
    html = await (await client.get("/tasks?status=red")).text()
    assert f"{red}/{len(views)} nhiệm vụ" in html
    led = sum(1 for v in views if v.task.lead_unit_id == unit.id)
    html = await (await client.get(f"/tasks?unit={unit.id}")).text()
    assert f"{led}/{len(views)} nhiệm vụ" in html
    review = sum(1 for v in views if v.status.status == Status.AWAITING_REVIEW)
    html = await (await client.get("/tasks?status=awaiting_review")).text()
    assert f"{review}/{len(views)} nhiệm vụ" in html and review >= 1
    none = sum(1 for v in views if v.status.due is None)
    html = await (await client.get("/tasks?deadline=none&status=&unit=")).text()
    assert f"{none}/{len(views)} nhiệm vụ" in html
    refused = await client.get(
        "/tasks?deadline=none&status=nonsense&unit=abc"
    )  # see test_bad_input
    assert refused.status == 400


async def test_units_ranking_and_content(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    with Session(services.engine) as session:
        record_unanswered(session, "cách đổi mật khẩu vneid cho người già", services.clock(), 180)
        record_feedback(session, "vneid-muc-2", False, "kích hoạt vneid", services.clock())
        session.commit()
    client = await sign_in(seeded.office)
    units = await (await client.get("/units")).text()
    assert "Xếp hạng đơn vị" in units and OWN_UNIT in units
    content = await (await client.get("/content")).text()
    assert "cách đổi mật khẩu vneid cho người già" in content and "vneid-muc-2" in content


async def test_missing_evidence_file_and_unknown_task(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    client = await sign_in(seeded.office)
    assert (await client.get("/tasks/999999")).status == 404
    shutil.rmtree(services.settings.effective_evidence_dir)
    response = await client.get(f"/evidence/{seeded.own_evidence}")
    assert response.status == 404 and "không còn trên máy chủ" in await response.text()


async def test_static_css_is_public_and_small(services: Services) -> None:
    async with TestClient(TestServer(build_web_app(services, Dispatcher(services)))) as client:
        response = await client.get("/static/dashboard.css")
        assert response.status == 200 and len(await response.read()) < 20_000


async def test_security_headers(seeded: Seeded, sign_in: SignIn) -> None:
    client = await sign_in(seeded.office)
    response = await client.get("/")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src" not in response.headers["Content-Security-Policy"]  # no scripts at all
