"""End to end in a real headless Chromium: sign in from the bot, read, filter, download.

Uses Debian's /usr/bin/chromium driven by Playwright (never ``playwright install``).
axe-core (from axe-playwright-python) checks every page for serious or critical violations.
Screenshots of the main pages at phone and desktop sizes go to tests/artifacts/.
"""

from __future__ import annotations

import io
import os
import re
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.app import TocnsApp
from bot.plans.imports import PLANS_DIR
from bot.services import Services
from bot.settings import Settings
from db.models import GroupChat, OutboxMessage
from tests.conftest import channel_settings
from tests.factories import village_id
from tests.helpers import Chat, FakeClock, add_person
from tests.web.conftest import PDF, Seeded

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
LINK = re.compile(r"(http://\S+/login/\S+)")

if not CHROMIUM.exists() and os.environ.get("TOCNS_REQUIRE_POSTGRES") != "1":
    pytest.skip(
        "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
        allow_module_level=True,
    )

from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect  # noqa: E402

Running = Callable[..., AbstractAsyncContextManager[TocnsApp]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def app(seeded: Seeded, settings: Settings, running: Running) -> AsyncIterator[TocnsApp]:
    app_settings = channel_settings(settings, listen_host="127.0.0.1", listen_port=_free_port())
    async with running(app_settings) as started:
        yield started


def sign_in_link(app: TocnsApp, chat_id: str) -> str:
    """Ask the bot for a sign-in link, as an officer would."""
    reply = Chat(app.dispatcher, chat_id=chat_id).say("/dashboard")
    match = LINK.search(reply)
    assert match, reply
    return match.group(1)


async def signed_in(
    browser: Browser, app: TocnsApp, chat_id: str, viewport: dict[str, int]
) -> tuple[BrowserContext, Page]:
    link = sign_in_link(app, chat_id)
    base = link.split("/login/")[0]
    context = await browser.new_context(
        viewport=viewport,
        accept_downloads=True,
        locale="vi-VN",
        base_url=base,  # type: ignore[arg-type]
    )
    page = await context.new_page()
    await page.goto(link)
    await page.click("#sign-in")
    await expect(page.locator("h1")).to_have_text("Tổng quan")
    return context, page


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_officer_journey_on_a_phone(
    app: TocnsApp, browser: Browser, seeded: Seeded, request: pytest.FixtureRequest
) -> None:
    suffix = request.node.callspec.id
    context, page = await signed_in(browser, app, "3001", PHONE)
    # Overview with the sample plan.
    await expect(page.locator(".lead").first).to_contain_text("Trung Hội")
    await expect(
        page.get_by_role("heading", name=re.compile("Nhiệm vụ cảnh báo đỏ"))
    ).to_be_visible()
    assert await page.locator(".indicator").count() > 10
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the overview must not scroll sideways on a phone"
    await shot(page, f"overview-phone-{suffix}")
    # Filter the tasks (a plain GET form, no JavaScript needed).
    await page.click("nav.tabs >> text=Nhiệm vụ")
    await page.select_option("select[name=status]", "red")
    await page.click("form.filters button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/tasks\?.*status=red"))
    count = await page.locator("#task-count").inner_text()
    shown, total = (int(n) for n in re.findall(r"\d+", count)[:2])
    assert 0 < shown < total
    assert await page.locator(".card.task").count() == shown
    await shot(page, f"tasks-red-phone-{suffix}")
    # Open the unit's task with evidence.
    await page.goto(f"/tasks/{seeded.own_task}")
    await expect(page.locator("h1")).to_contain_text(re.compile(r"\S"))
    await expect(page.get_by_text("Gần xong")).to_be_visible()
    image = page.locator("img.thumb")
    await expect(image).to_be_visible()
    assert await image.evaluate("img => img.naturalWidth") == 4
    await shot(page, f"task-phone-{suffix}")
    # Download the indicator appendix.
    await page.goto("/")
    async with page.expect_download() as download_info:
        await page.click("text=Phụ lục chỉ tiêu (Excel)")
    download = await download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = await download.path()
    sheet = load_workbook(io.BytesIO(Path(path).read_bytes())).active
    assert sheet is not None
    assert any(row[:2] == ("TT", "Chỉ tiêu") for row in sheet.iter_rows(values_only=True))
    for name, path_ in (("villages", "/villages"), ("units", "/units")):
        await page.goto(path_)
        await shot(page, f"{name}-phone-{suffix}")
    # Sign out: the session is gone.
    await page.click("form.logout button")
    await expect(page.locator("h1")).to_have_text("Bạn đã đăng xuất")
    response = await page.goto("/")
    assert response is not None and response.status == 401
    await context.close()


async def test_desktop_screenshots(
    app: TocnsApp, browser: Browser, seeded: Seeded, request: pytest.FixtureRequest
) -> None:
    suffix = request.node.callspec.id
    context, page = await signed_in(browser, app, "3001", DESKTOP)
    await shot(page, f"overview-desktop-{suffix}")
    for name, path in (
        ("villages", "/villages"),
        ("tasks", "/tasks"),
        ("task", f"/tasks/{seeded.other_task}"),
        ("units", "/units"),
        ("content", "/content"),
        ("audit", "/audit"),
        ("announcements", "/announcements"),
    ):
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        await shot(page, f"{name}-desktop-{suffix}")
    await context.close()


async def test_used_or_expired_link_is_refused(
    app: TocnsApp, browser: Browser, clock: FakeClock
) -> None:
    context = await browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    page = await context.new_page()
    link = sign_in_link(app, "3001")
    await page.goto(link)
    await page.click("#sign-in")
    await expect(page.locator("h1")).to_have_text("Tổng quan")
    await context.clear_cookies()
    response = await page.goto(link)  # used
    assert response is not None and response.status == 403
    await expect(page.locator("h1")).to_have_text("Không dùng được đường dẫn đăng nhập này")
    expired = sign_in_link(app, "3001")
    clock.advance(minutes=16)
    response = await page.goto(expired)
    assert response is not None and response.status == 403
    await shot(page, "link-refused-phone")
    assert await _axe_violations(page, "link refused") == []
    await context.close()


async def test_unit_officer_cannot_open_another_units_task(
    app: TocnsApp, browser: Browser, seeded: Seeded
) -> None:
    context, page = await signed_in(browser, app, "3002", PHONE)
    response = await page.goto(f"/tasks/{seeded.other_task}")
    assert response is not None and response.status == 403
    await expect(page.locator("h1")).to_have_text("Bạn không xem được trang này")
    await shot(page, "forbidden-phone")
    assert await _axe_violations(page, "forbidden") == []
    evidence = await context.request.get(f"/evidence/{seeded.other_evidence}")
    assert evidence.status == 403
    own = await context.request.get(f"/evidence/{seeded.own_evidence}")
    assert own.status == 200
    response = await page.goto(f"/tasks/{seeded.own_task}")
    assert response is not None and response.status == 200
    await context.close()


async def test_an_announcement_to_a_villages_group_chat_on_a_phone(
    app: TocnsApp, browser: Browser, services: Services
) -> None:
    xom3 = village_id(services, "Xóm 3")
    with Session(services.engine) as session:
        session.add(GroupChat(channel="zalo", chat_id="zgr-xom3", village_id=xom3))
        session.commit()
    context, page = await signed_in(browser, app, "3001", PHONE)
    await page.click('nav.tabs >> text="Thông báo"')
    reach = page.locator(f"label[for=aud-chats-{xom3}] .audience-reach")
    await expect(reach).to_have_text("nhóm chat: Zalo: 1 · Telegram: 0")
    await page.fill("#f-text", "Tối thứ Sáu họp dân ở nhà văn hóa.")
    await page.locator("details.audience-more summary", has_text="Nhóm chat của một thôn").click()
    await page.check(f"#aud-chats-{xom3}")
    await page.click("#preview")
    await expect(page.locator(".preview")).to_contain_text("Nội dung 1 nhóm chat")
    await _no_sideways_scroll(page)
    assert await _axe_violations(page, "announcement to a group chat") == []
    await page.click("#send")
    await expect(page.locator(".notice")).to_contain_text("Đã xếp hàng gửi")
    card = page.locator(".card.announcement").first
    await expect(card).to_contain_text("nhóm chat của Xóm 3")
    await expect(card).to_contain_text("Đang chờ: 1")
    await shot(page, "announcement-group-chat-phone")
    with Session(services.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "broadcast_group"))
        assert [(r.channel, r.chat_id) for r in rows] == [("zalo", "zgr-xom3")]
    await context.close()


async def _no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone"


async def test_a_province_officer_reads_the_communes_on_a_phone_without_javascript(
    app: TocnsApp, browser: Browser, seeded: Seeded, services: Services
) -> None:
    from bot.admin.province_officers import add_officer
    from bot.web.auth import create_login_link
    from db.models import Commune

    base = sign_in_link(app, "3001").split("/login/")[0]
    with Session(services.engine) as session:
        commune = session.exec(select(Commune)).one()
        commune.province = "Tỉnh Mẫu"
        session.add(commune)
        session.add(Commune(slug="xa-hai", name="Xã Hai Thôn Rất Dài Tên", province="Tỉnh Mẫu"))
        officer = add_officer(session, "Cán Bộ Tỉnh", "Tỉnh Mẫu", services.clock())
        assert officer.id is not None
        link = create_login_link(session, officer.id, services.clock(), base)
        name = commune.name
        session.commit()
    context = await browser.new_context(
        viewport=PHONE,  # type: ignore[arg-type]
        java_script_enabled=False,
        locale="vi-VN",
        base_url=base,
    )
    page = await context.new_page()
    await page.goto(link)
    await page.click("#sign-in")
    await expect(page.locator("h1")).to_have_text("Tỉnh Mẫu")
    await _no_sideways_scroll(page)  # the wide table scrolls inside its own region
    await expect(page.locator("table.province tbody tr")).to_have_count(2)
    await shot(page, "province-phone")
    await page.click("nav.chips >> text=Báo cáo tháng này")
    await expect(page).to_have_url(re.compile(r"/province\?by=reports"))
    await page.click(f"table.province >> text={name}")
    await expect(page.locator("h1")).to_have_text(name)
    await expect(page.get_by_text("Chỉ xem")).to_be_visible()
    await _no_sideways_scroll(page)
    await shot(page, "province-commune-phone")
    async with page.expect_download() as download_info:
        await page.goto("/province")
        await page.click("text=Tất cả các xã: trang tổng hợp và mỗi xã một trang (Excel)")
    download = await download_info.value
    book = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
    assert book.sheetnames[0] == "Tổng hợp" and len(book.sheetnames) == 3
    await context.close()


async def test_the_commune_runs_itself_from_the_dashboard(
    app: TocnsApp,
    browser: Browser,
    seeded: Seeded,
    services: Services,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """Set-up from Excel, people and invites, plan and deadlines, progress, review: all web."""
    suffix = request.node.callspec.id
    add_person(services, name="Quản Trị Xã", roles=("admin",), chat_id="3009")
    context, page = await signed_in(browser, app, "3009", PHONE)
    # The commune's set-up through the Excel template.
    await page.click("nav.tabs >> text=Thiết lập")
    async with page.expect_download() as download_info:
        await page.click("text=Tải mẫu Excel")
    template = Path(await (await download_info.value).path())
    book = load_workbook(io.BytesIO(template.read_bytes()))
    book["Đơn vị"].append(["Hội Cựu chiến binh xã", "CCB"])
    filled = tmp_path / "thiet-lap.xlsx"
    book.save(filled)
    await page.set_input_files("#f-file", str(filled))
    await page.click("text=Kiểm tra tệp")
    await expect(page.locator("#report-title + p")).to_contain_text("Không có lỗi")
    await page.click("text=Xác nhận và lưu")
    await expect(page.locator(".notice")).to_have_text("Đã lưu thiết lập.")
    await expect(page.get_by_text("Hội Cựu chiến binh xã")).to_be_visible()
    await _no_sideways_scroll(page)
    await shot(page, f"setup-phone-{suffix}")
    # A new team member, and the village's invite sheet.
    await page.click("nav.tabs >> text=Người dùng và mã mời")
    await page.fill("#f-name", "Nguyễn Thị Mới")
    await page.check("input[name=roles][value=team]")
    await page.select_option("#f-village", label="Xóm 3")
    await page.click("#add-title ~ form button[type=submit]")
    await expect(page.locator(".notice")).to_contain_text("Đã thêm")
    await _no_sideways_scroll(page)
    await page.select_option("#f-print-village", label="Xóm 3")
    await page.fill("#f-print-spare", "1")
    await page.click("#print-title ~ form button[type=submit]")
    assert await page.locator(".invite-code").count() >= 2
    await expect(page.get_by_text("Nguyễn Thị Mới")).to_be_visible()
    await shot(page, f"invites-phone-{suffix}")
    await page.emulate_media(media="print")
    await shot(page, f"invites-print-{suffix}")
    await page.emulate_media(media="screen")
    # The Đồng Phú plan, then deadlines for its undated tasks, several at once.
    await page.goto("/plan")
    await page.set_input_files("#f-file", str(PLANS_DIR / "dong-phu.yaml"))
    await page.click("text=Kiểm tra tệp")
    await page.click("text=Xác nhận và nhập")
    await expect(page.locator(".notice")).to_have_text("Đã nhập kế hoạch.")
    dates = page.locator("#deadlines input[type=date]")
    assert await dates.count() >= 2
    await dates.nth(0).fill("2027-06-30")
    await dates.nth(1).fill("2027-09-30")
    await page.click("text=Lưu các hạn")
    await expect(page.locator(".notice")).to_have_text("Đã lưu các hạn.")
    await shot(page, f"plan-phone-{suffix}")
    await context.close()
    # A unit officer reports the task done with a PDF, from a desktop.
    context, page = await signed_in(browser, app, "3002", DESKTOP)
    await page.goto(f"/tasks/{seeded.own_task}")
    await page.fill("#f-percent", "100")
    await page.fill("#f-note", "Đã xong, gửi biên bản")
    await page.set_input_files(
        "#f-file", files=[{"name": "bien-ban.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    await page.click("#report-title ~ form button[type=submit]")
    await expect(page.locator(".notice")).to_contain_text("Minh chứng chờ cơ quan thường trực")
    await shot(page, f"progress-desktop-{suffix}")
    await context.close()
    # The office sends one back with the keyboard and approves the officer's PDF.
    context, page = await signed_in(browser, app, "3001", PHONE)
    await page.click("nav.tabs >> text=Duyệt")
    await shot(page, f"review-queue-phone-{suffix}")
    first = page.locator("li.evidence").first
    await first.locator("textarea").focus()
    await page.keyboard.type("Ảnh mờ, chụp lại")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("Đã trả lại")
    await page.locator("li.evidence", has_text="bien-ban.pdf").locator("button.good").click()
    await expect(page.locator(".notice")).to_contain_text("Đã duyệt")
    await _no_sideways_scroll(page)
    await shot(page, f"review-phone-{suffix}")
    # An announcement to Xóm 3's team: preview, then send with the keyboard.
    await page.click('nav.tabs >> text="Thông báo"')
    xom3 = village_id(services, "Xóm 3")
    await expect(page.locator(f"label[for=aud-village-{xom3}] .audience-reach")).to_have_text(
        "Zalo: 0 · Telegram: 0 · Trò chuyện trên màn hình: 1 · chưa liên kết chat: 1"
    )
    await page.fill("#f-text", "Tối thứ Sáu họp tổ ở nhà văn hóa.")
    await page.locator("details.audience-more summary", has_text="Tổ của một thôn/xóm").focus()
    await page.keyboard.press("Enter")  # opens the villages' list
    await page.check(f"#aud-village-{xom3}")
    await page.click("#preview")
    await expect(page.locator("#preview-text")).to_contain_text("Tối thứ Sáu họp tổ")
    await _no_sideways_scroll(page)
    await shot(page, f"announcement-preview-phone-{suffix}")
    await page.locator("#send").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("Đã xếp hàng gửi")
    await expect(page.locator(".card.announcement")).to_contain_text("Không gửi được: 1")
    await _no_sideways_scroll(page)
    await shot(page, f"announcements-phone-{suffix}")
    with Session(services.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "broadcast")).all()
        assert [r.chat_id for r in rows] == ["3004"]  # Xóm 3's one linked member
    await context.close()


# axe-core (bundled by axe-playwright-python, no network) on every page, phone and desktop.
AXE_BLOCKING = frozenset({"serious", "critical"})


async def _axe_violations(page: Page, label: str) -> list[str]:
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in AXE_BLOCKING:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
            found.append(f"{label}: {violation['id']} ({violation['impact']}) {targets}")
    return found


def _feedback_report(services: Services, reporter: int) -> int:
    from bot.core.people import default_commune_id
    from bot.feedback import store
    from db.models import Commune, Person

    with Session(services.engine) as session:
        commune = session.get(Commune, default_commune_id(session))
        person = session.get(Person, reporter)
        assert commune is not None and commune.id is not None and person is not None
        category = store.ensure_categories(session, commune.id)[0]
        report = store.submit(
            session,
            commune=commune,
            reporter_id=reporter,
            new=store.NewReport(
                category_id=category.id or 0,
                text="Đèn đường hỏng đầu xóm",
                village_id=person.village_id,
                landmark="cạnh cầu",
                contact_allowed=True,
            ),
            now=services.clock(),
            tz=services.tz,
        ).report
        session.commit()
        assert report.id is not None
        return report.id


async def test_no_serious_accessibility_violation_on_any_page(
    app: TocnsApp, browser: Browser, seeded: Seeded, services: Services
) -> None:
    """axe-core finds nothing serious or critical on any page, at 390 px and at 1366 px."""
    from bot.admin.province_officers import add_officer
    from bot.web.auth import create_login_link
    from db.models import Commune

    add_person(services, name="Quản Trị Xã", roles=("admin",), chat_id="3009")
    report = _feedback_report(services, seeded.resident)
    with Session(services.engine) as session:
        commune = session.exec(select(Commune)).one()
        commune.province = "Tỉnh Mẫu"
        session.add(commune)
        session.commit()
        commune_id = commune.id
    overseer_pages = [
        "/",
        "/villages",
        "/tasks",
        "/tasks?status=red",
        f"/tasks/{seeded.own_task}",
        f"/tasks/{seeded.other_task}",
        "/units",
        "/content",
        "/audit",
        "/review",
        "/plan",
        "/announcements",
        "/feedback",
        f"/feedback/{report}",
        "/feedback/categories",
        "/feedback/stats",
        "/setup",
        "/people",
        f"/people/{seeded.member}",
    ]
    found: list[str] = []
    for name, viewport in (("390", PHONE), ("1366", DESKTOP)):
        # The sign-in page, then every page an admin (who oversees everything) can open.
        link = sign_in_link(app, "3009")
        base = link.split("/login/")[0]
        context = await browser.new_context(
            viewport=viewport,  # type: ignore[arg-type]
            locale="vi-VN",
            base_url=base,
        )
        page = await context.new_page()
        await page.goto(link)
        found += await _axe_violations(page, f"{name} sign-in")
        await page.click("#sign-in")
        await expect(page.locator("h1")).to_have_text("Tổng quan")
        for path in overseer_pages:
            response = await page.goto(path)
            assert response is not None and response.status == 200, path
            found += await _axe_violations(page, f"{name} {path}")
        await page.click("form.logout button")
        await expect(page.locator("h1")).to_have_text("Bạn đã đăng xuất")
        found += await _axe_violations(page, f"{name} signed out")
        await context.close()
        # A unit officer's task, a team member's village, a province officer's pages.
        for chat_id, paths in (
            ("3002", [f"/tasks/{seeded.own_task}", "/tasks"]),
            ("3004", ["/", "/villages"]),
        ):
            context, page = await signed_in(browser, app, chat_id, viewport)
            for path in paths:
                response = await page.goto(path)
                assert response is not None and response.status == 200, path
                found += await _axe_violations(page, f"{name} {chat_id} {path}")
            await context.close()
        with Session(services.engine) as session:
            officer = add_officer(session, f"Cán Bộ Tỉnh {name}", "Tỉnh Mẫu", services.clock())
            assert officer.id is not None
            province_link = create_login_link(session, officer.id, services.clock(), base)
            session.commit()
        context = await browser.new_context(
            viewport=viewport,  # type: ignore[arg-type]
            locale="vi-VN",
            base_url=base,
        )
        page = await context.new_page()
        await page.goto(province_link)
        await page.click("#sign-in")
        for path in ("/province", "/province?by=reports", f"/province/communes/{commune_id}"):
            response = await page.goto(path)
            assert response is not None and response.status == 200, path
            found += await _axe_violations(page, f"{name} province {path}")
        await context.close()
    assert not found, "\n".join(found)
