"""The plan on the web: upload, check, confirm; deadlines in one table; a task's lead unit."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlmodel import Session, col, select

from bot.plans.imports import PLANS_DIR, read_plan_file, write_xlsx
from bot.services import Services
from db.models import AuditEntry, Plan, Task, Unit
from tests.web.conftest import OTHER_UNIT, Seeded, SignIn, form_token, post_form

STAGED = re.compile(r'name="staged" value="([^"]+)"')


def _tasks(services: Services, slug: str) -> list[Task]:
    with Session(services.engine) as session:
        plan = session.exec(select(Plan).where(Plan.slug == slug)).one()
        return list(
            session.exec(select(Task).where(Task.plan_id == plan.id).order_by(col(Task.position)))
        )


def _plan_exists(services: Services, slug: str) -> bool:
    with Session(services.engine) as session:
        return session.exec(select(Plan).where(Plan.slug == slug)).first() is not None


async def test_an_xlsx_plan_is_checked_then_imported_and_given_deadlines(
    services: Services, seeded: Seeded, sign_in: SignIn, tmp_path: Path
) -> None:
    path = tmp_path / "dong-phu.xlsx"
    write_xlsx(read_plan_file(PLANS_DIR / "dong-phu.yaml"), path)
    client = await sign_in(seeded.office)
    template = await client.get("/plan/template.xlsx")
    assert template.status == 200 and (await template.read())[:2] == b"PK"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    checked = await post_form(
        client, "/plan", "/plan/check", {"file": ("dong-phu.xlsx", path.read_bytes(), xlsx)}
    )
    html = await checked.text()
    assert checked.status == 200, html
    assert "Không có lỗi" in html and "Đơn vị được ghép" in html
    assert not _plan_exists(services, "dong-phu")  # a dry run
    staged = STAGED.search(html)
    assert staged
    response = await client.post(
        "/plan/import",
        data={"csrf": form_token(html), "staged": staged.group(1)},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    assert _plan_exists(services, "dong-phu")
    # The same token cannot import twice.
    again = await client.post(
        "/plan/import", data={"csrf": form_token(html), "staged": staged.group(1)}
    )
    assert again.status == 400 and "tải lên lại" in await again.text()
    # The deadlines table lists the undated tasks; two get a date at once.
    page = await client.get(response.headers["Location"])
    table = await page.text()
    undated = [
        t for t in _tasks(services, "dong-phu") if t.due is None and t.kind in ("once", "on_event")
    ]
    assert len(undated) >= 2
    first, second = undated[0], undated[1]
    assert f'name="due-{first.id}"' in table and f'name="due-{second.id}"' in table
    response = await post_form(
        client,
        "/plan?plan=dong-phu",
        "/plan/deadlines?plan=dong-phu",
        {f"due-{first.id}": "30/06/2027", f"due-{second.id}": "2027-07-15"},
    )
    assert response.status == 303
    dues = {t.id: t.due for t in _tasks(services, "dong-phu")}
    assert dues[first.id] == dt.date(2027, 6, 30) and dues[second.id] == dt.date(2027, 7, 15)
    with Session(services.engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "task.set_due")).all()
        assert {e.entity_id for e in entries} == {str(first.id), str(second.id)}
        assert {e.actor_id for e in entries} == {seeded.office}
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "plan.import")).all()
    assert f'name="due-{first.id}"' not in await (await client.get("/plan?plan=dong-phu")).text()


async def test_problems_are_listed_by_sheet_and_row_and_bad_dates_refused(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.office)
    broken = "Loại,TT,Nội dung\nNhiệm vụ,1,\nđơn vị lạ,2,Việc gì đó\n".encode()
    response = await post_form(
        client, "/plan", "/plan/check", {"file": ("ke-hoach.csv", broken, "text/csv")}
    )
    html = await response.text()
    assert response.status == 400
    assert "Tệp chưa được nhập" in html and "dòng" in html
    assert 'name="staged"' not in html
    wrong_kind = await post_form(
        client, "/plan", "/plan/check", {"file": ("plan.pdf", b"%PDF", "application/pdf")}
    )
    assert wrong_kind.status == 400 and ".xlsx, .csv hoặc .yaml" in await wrong_kind.text()
    task = _tasks(services, seeded.plan_slug)
    undated = next(t for t in task if t.due is None and t.kind in ("once", "on_event"))
    response = await post_form(
        client,
        f"/plan?plan={seeded.plan_slug}",
        f"/plan/deadlines?plan={seeded.plan_slug}",
        {f"due-{undated.id}": "31/02/2027"},
    )
    html = await response.text()
    assert response.status == 400 and "ngày/tháng/năm" in html and 'aria-invalid="true"' in html
    assert next(t for t in _tasks(services, seeded.plan_slug) if t.id == undated.id).due is None


async def test_the_office_changes_a_task_lead_unit_and_deadline(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.office)
    with Session(services.engine) as session:
        other = session.exec(select(Unit).where(Unit.name == OTHER_UNIT)).one()
    page = f"/tasks/{seeded.own_task}"
    bad = await post_form(client, page, f"{page}/edit", {"lead_unit": "999999", "due": ""})
    assert bad.status == 400 and "Vui lòng chọn trong danh sách" in await bad.text()
    response = await post_form(
        client, page, f"{page}/edit", {"lead_unit": str(other.id), "due": "2027-03-31"}
    )
    assert response.status == 303
    with Session(services.engine) as session:
        task = session.get(Task, seeded.own_task)
        assert task is not None and (task.lead_unit_id, task.due) == (
            other.id,
            dt.date(2027, 3, 31),
        )
    audit = await (await client.get("/audit")).text()
    assert "Đổi đơn vị chủ trì nhiệm vụ" in audit and OTHER_UNIT in audit
    # The unit officer who led it no longer sees it.
    officer = await sign_in(seeded.officer)
    assert (await officer.get(page)).status == 403


async def test_plan_forms_refuse_forged_requests_and_other_roles(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    office = await sign_in(seeded.office)
    forged = await office.post(
        f"/tasks/{seeded.own_task}/edit", data={"csrf": "x", "lead_unit": "1"}
    )
    assert forged.status == 403
    officer = await sign_in(seeded.officer)
    assert (await officer.get("/plan")).status == 403
    page = f"/tasks/{seeded.own_task}"
    html = await (await officer.get(page)).text()
    assert f"{page}/edit" not in html  # no form offered
    response = await officer.post(
        f"{page}/edit", data={"csrf": form_token(html), "lead_unit": "1", "due": "2027-01-01"}
    )
    assert response.status == 403
    with Session(services.engine) as session:
        assert not session.exec(
            select(AuditEntry).where(AuditEntry.action == "task.set_lead")
        ).all()
