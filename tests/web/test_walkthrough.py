"""The whole commune from an empty database, on the web only, in a real Chromium.

An empty database (TOCNS_SAMPLE=0) → the first admin's printed link → the commune named
→ set up from the Excel template → people added, each given a personal invite code
they link in the chat → the Đồng Phú plan imported and deadlines given → the unit
officer reports progress with a PDF from a desktop → the office approves → an
announcement goes to a village's team. No command line anywhere; screenshots go to
tests/artifacts/.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import load_workbook
from playwright.async_api import Browser, Page, expect
from sqlmodel import Session, col, select

from bot.app import TocnsApp, build_services
from bot.plans.imports import PLANS_DIR
from bot.web.auth import first_admin_link
from db.models import Evidence, OutboxMessage, Person, Task, Unit, Village
from tests.conftest import make_settings
from tests.helpers import Chat, FakeClock
from tests.web.conftest import PDF
from tests.web.test_browser import (  # noqa: F401 - the browser fixture
    DESKTOP,
    PHONE,
    _axe_violations,
    _free_port,
    _no_sideways_scroll,
    browser,
    shot,
    sign_in_link,
)

UNIT = "Phòng Văn hóa - Xã hội"  # leads most of Đồng Phú's tasks
CODE = re.compile(r'<p class="invite-code">([A-Z0-9]+)</p>')


async def _add_person(page: Page, name: str, role: str, place: tuple[str, str]) -> None:
    await page.goto("/people")
    await page.fill("#f-name", name)
    await page.check(f"input[name=roles][value={role}]")
    if place[0]:
        await page.select_option(f"#f-{place[0]}", label=place[1])
    await page.click("#add-title ~ form button[type=submit]")
    await expect(page.locator(".notice")).to_contain_text("Đã thêm")


async def _invite(page: Page, app: TocnsApp, name: str, chat_id: str) -> str:
    """Make the person's invite code on their page; they link their chat with it."""
    with Session(app.services.engine) as session:
        person = session.exec(select(Person).where(Person.display_name == name)).one()
    await page.goto(f"/people/{person.id}")
    await page.click("#make-invite")
    [code] = CODE.findall(await page.content())
    answer = Chat(app.dispatcher, chat_id=chat_id, name=name).say(f"/lienket {code}")
    assert "liên kết" in answer.lower() or name in answer, answer
    return code


async def test_a_commune_is_set_up_and_run_from_an_empty_database_on_the_web(
    browser: Browser,  # noqa: F811
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        sample=False,
        listen_host="127.0.0.1",
        listen_port=_free_port(),
    )
    services = build_services(settings, clock)
    app = TocnsApp(services)
    await app.start(sample=False)
    try:
        base = f"http://127.0.0.1:{app.port}"
        with Session(services.engine) as session:  # the link `tocns run` prints
            link = first_admin_link(session, services.clock(), base)
            session.commit()
        assert link is not None
        context = await browser.new_context(
            viewport=PHONE, accept_downloads=True, locale="vi-VN", base_url=base
        )
        page = await context.new_page()
        await page.goto(link)
        await page.click("#sign-in")
        await expect(page.locator("h1")).to_have_text("Tạo xã")
        await page.fill("#f-name", "Xã Đồng Phú")
        await page.fill("#f-code", "dong-phu")
        await page.fill("#f-province", "Đồng Nai")
        await _no_sideways_scroll(page)
        await shot(page, "first-run-phone")
        assert await _axe_violations(page, "first run") == []
        await page.click("#create-commune")
        await expect(page.locator("h1")).to_contain_text("Thiết lập")
        # Villages with their denominators and the plan's lead unit, through Excel.
        async with page.expect_download() as download_info:
            await page.click("text=Tải mẫu Excel")
        book = load_workbook(
            io.BytesIO(Path(await (await download_info.value).path()).read_bytes())
        )
        book["Thôn"].append(["Ấp 1", "ấp", 1800, 1300, 1400, 450, 35, "01/01/2026"])
        book["Thôn"].append(["Ấp 2", "ấp", 1500, 1100, 1150, 380, 20, "01/01/2026"])
        book["Đơn vị"].append([UNIT, "Phòng VHXH"])
        filled = tmp_path / "thiet-lap.xlsx"
        book.save(filled)
        await page.set_input_files("#f-file", str(filled))
        await page.click("text=Kiểm tra tệp")
        await expect(page.locator("#report-title + p")).to_contain_text("Không có lỗi")
        await page.click("text=Xác nhận và lưu")
        await expect(page.locator(".notice")).to_have_text("Đã lưu thiết lập.")
        await expect(page.get_by_text(UNIT)).to_be_visible()
        await shot(page, "walkthrough-setup-phone")
        assert await _axe_violations(page, "first set-up") == []
        # People: the office, the unit's officer, a team member of Ấp 1 — each links
        # their own chat with the code made on their page.
        await _add_person(page, "Trần Thị Văn Phòng", "office", ("", ""))
        await _add_person(page, "Lê Văn Cán Bộ", "unit", ("unit", UNIT))
        await _add_person(page, "Phạm Thị Tổ Viên", "team", ("village", "Ấp 1"))
        await _invite(page, app, "Trần Thị Văn Phòng", "6001")
        await _invite(page, app, "Lê Văn Cán Bộ", "6002")
        await _invite(page, app, "Phạm Thị Tổ Viên", "6003")
        await page.goto("/people")
        await _no_sideways_scroll(page)
        await shot(page, "walkthrough-people-phone")
        # The Đồng Phú plan, and deadlines for its undated tasks.
        await page.goto("/plan")
        await page.set_input_files("#f-file", str(PLANS_DIR / "dong-phu.yaml"))
        await page.click("text=Kiểm tra tệp")
        await page.click("text=Xác nhận và nhập")
        await expect(page.locator(".notice")).to_have_text("Đã nhập kế hoạch.")
        dates = page.locator("#deadlines input[type=date]")
        await dates.nth(0).fill("2026-12-31")
        await dates.nth(1).fill("2027-06-30")
        await page.click("text=Lưu các hạn")
        await expect(page.locator(".notice")).to_have_text("Đã lưu các hạn.")
        await shot(page, "walkthrough-plan-phone")
        await context.close()
        with Session(services.engine) as session:
            unit = session.exec(select(Unit).where(Unit.name == UNIT)).one()
            task = session.exec(
                select(Task).where(Task.lead_unit_id == unit.id).order_by(col(Task.id))
            ).first()
            assert task is not None
        # The unit officer reports the task done with a PDF, from a desktop.
        context = await browser.new_context(viewport=DESKTOP, locale="vi-VN", base_url=base)
        page = await context.new_page()
        await page.goto(sign_in_link(app, "6002"))
        await page.click("#sign-in")
        await page.goto(f"/tasks/{task.id}")
        await page.fill("#f-percent", "100")
        await page.fill("#f-note", "Đã mua sắm xong, gửi biên bản nghiệm thu")
        await page.set_input_files(
            "#f-file",
            files=[{"name": "nghiem-thu.pdf", "mimeType": "application/pdf", "buffer": PDF}],
        )
        await page.click("#report-title ~ form button[type=submit]")
        await expect(page.locator(".notice")).to_contain_text("Minh chứng chờ cơ quan thường trực")
        await shot(page, "walkthrough-progress-desktop")
        await context.close()
        # The office approves it, then writes to Ấp 1's team, on a phone.
        context = await browser.new_context(viewport=PHONE, locale="vi-VN", base_url=base)
        page = await context.new_page()
        await page.goto(sign_in_link(app, "6001"))
        await page.click("#sign-in")
        await page.click("nav.tabs >> text=Duyệt")
        await page.locator("li.evidence", has_text="nghiem-thu.pdf").locator("button.good").click()
        await expect(page.locator(".notice")).to_contain_text("Đã duyệt")
        await shot(page, "walkthrough-review-phone")
        await page.click('nav.tabs >> text="Thông báo"')
        await page.fill("#f-text", "Tối thứ Sáu họp tổ ở nhà văn hóa ấp.")
        await page.locator("details.audience-more summary", has_text="Tổ của một thôn/xóm").click()
        with Session(services.engine) as session:
            ap1 = session.exec(select(Village).where(Village.name == "Ấp 1")).one()
        await page.check(f"#aud-village-{ap1.id}")
        await page.click("#preview")
        await expect(page.locator("#preview-text")).to_contain_text("Tối thứ Sáu họp tổ")
        await page.click("#send")
        await expect(page.locator(".notice")).to_contain_text("Đã xếp hàng gửi")
        await _no_sideways_scroll(page)
        await shot(page, "walkthrough-announcement-phone")
        await context.close()
        with Session(services.engine) as session:
            evidence = session.exec(select(Evidence).where(Evidence.task_id == task.id)).one()
            assert evidence.status == "approved"
            rows = session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == "broadcast")
            ).all()
            assert [r.chat_id for r in rows] == ["6003"]
    finally:
        await app.stop()
        services.engine.dispose()
