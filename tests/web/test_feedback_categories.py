"""The commune's report categories on the dashboard: routing, deadlines, urgency, new ones.

The office and admins change them with forms (no JavaScript, a CSRF token each), through
the same ``bot.feedback.store`` changes as ``tocns feedback category``, audited; others who
open the feedback pages read the list; a change applies to the reports that come next.
"""

from __future__ import annotations

import html as html_lib

from sqlmodel import Session, select

from bot.audit import describe
from bot.feedback import store
from bot.i18n import translator
from bot.services import Services
from db.models import AuditEntry, FeedbackCategory, Unit
from tests.feedback.conftest import VN, Cast, commune
from tests.feedback.conftest import cast as cast  # noqa: F401 - the fixture
from tests.helpers import add_person
from tests.web.conftest import SignIn, post_form

PAGE = "/feedback/categories"


def _category(services: Services, code: str) -> FeedbackCategory:
    with Session(services.engine) as session:
        store.ensure_categories(session, commune(session).id or 0)  # made on first use
        session.commit()
        found = session.exec(select(FeedbackCategory).where(FeedbackCategory.code == code)).one()
        session.expunge(found)
        return found


def _unit_id(services: Services, name: str) -> int:
    with Session(services.engine) as session:
        return session.exec(select(Unit).where(Unit.name == name)).one().id or 0


def _form(category: FeedbackCategory, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": category.name,
        "unit": category.lead_unit_id or "",
        "answer_days": category.answer_days,
        "close_days": category.close_days,
    }
    if category.urgent:
        data["urgent"] = "1"
    if category.active:
        data["active"] = "1"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


async def test_the_office_routes_a_category_to_another_unit_with_new_deadlines(
    services: Services, cast: Cast, sign_in: SignIn
) -> None:
    office = await sign_in(cast.office)
    queue = await (await office.get("/feedback")).text()
    assert f'href="{PAGE}"' in queue
    page = await office.get(PAGE)
    text = await page.text()
    assert page.status == 200
    assert "Loại phản ánh và đơn vị xử lý" in text
    assert "An ninh trật tự" in text and "Văn phòng thường trực chọn" in text  # "Khác"
    rac = _category(services, "rac")
    assert f'action="{PAGE}/{rac.id}"' in text and f'action="{PAGE}/add"' in text
    police = _unit_id(services, "Công an xã")
    response = await post_form(
        office,
        PAGE,
        f"{PAGE}/{rac.id}",
        _form(rac, unit=police, answer_days=1, close_days=4, urgent="1"),
    )
    assert response.status == 303
    assert response.headers["Location"] == f"{PAGE}?done=saved#c{rac.id}-title"
    saved = _category(services, "rac")
    assert (saved.lead_unit_id, saved.answer_days, saved.close_days, saved.urgent) == (
        police,
        1,
        4,
        True,
    )
    done = await (await office.get(response.headers["Location"])).text()
    assert "Đã lưu." in done
    with Session(services.engine) as session:
        [entry] = session.exec(
            select(AuditEntry).where(AuditEntry.action == "feedback.category")
        ).all()
        line = describe(session, [entry], translator("vi"))[0]
    assert entry.actor_id == cast.office
    assert line.action == "Sửa một loại phản ánh"
    assert "Phòng Kinh tế" in line.before and "Công an xã" in line.after
    # The next report of that kind goes to the police, urgent, with the new deadline.
    with Session(services.engine) as session:
        report = store.submit(
            session,
            commune=commune(session),
            reporter_id=cast.resident,
            new=store.NewReport(category_id=rac.id or 0, text="Có người đổ trộm rác ra đường"),
            now=services.clock(),
            tz=VN,
        ).report
        assert (report.unit_id, report.urgent) == (police, True)
        session.rollback()
    # Unticking "in use" and choosing no unit: residents no longer see it; the office routes.
    response = await post_form(office, PAGE, f"{PAGE}/{rac.id}", _form(saved, unit="", active=None))
    assert response.status == 303
    saved = _category(services, "rac")
    assert (saved.lead_unit_id, saved.active, saved.urgent) == (None, False, True)
    with Session(services.engine) as session:
        codes = [c.code for c in store.active_categories(session, commune(session).id or 0)]
    assert "rac" not in codes


async def test_a_wrong_form_is_shown_again_with_its_problem_and_nothing_is_saved(
    services: Services, cast: Cast, sign_in: SignIn
) -> None:
    office = await sign_in(cast.office)
    duong = _category(services, "duong")
    url = f"{PAGE}/{duong.id}"
    response = await post_form(office, PAGE, url, _form(duong, answer_days="hai", name=""))
    assert response.status == 400
    text = await response.text()
    assert f'id="f-c{duong.id}-answer_days"' in text
    assert "Viết một số nguyên" in text and 'aria-invalid="true"' in text
    assert f'<details class="more" open>\n    <summary id="c{duong.id}-title">' in text
    response = await post_form(office, PAGE, url, _form(duong, answer_days=9, close_days=3))
    assert response.status == 400
    assert "Thời hạn tính theo ngày làm việc" in html_lib.unescape(await response.text())
    response = await post_form(office, PAGE, url, _form(duong, unit=999999))
    assert response.status == 400
    assert _category(services, "duong") == duong
    with Session(services.engine) as session:
        assert not session.exec(
            select(AuditEntry).where(AuditEntry.action == "feedback.category")
        ).all()


async def test_the_office_adds_a_category_residents_can_choose(
    services: Services, cast: Cast, sign_in: SignIn
) -> None:
    office = await sign_in(cast.office)
    economy = _unit_id(services, "Phòng Kinh tế")
    data = {
        "code": "cay_xanh",
        "name": "Cây xanh – cây đổ, cành gãy",
        "group": "Môi trường",
        "unit": economy,
        "answer_days": 1,
        "close_days": 5,
        "urgent": "1",
        "keywords": "cây đổ, cành gãy",
    }
    response = await post_form(office, PAGE, f"{PAGE}/add", data)
    assert response.status == 303
    added = _category(services, "cay_xanh")
    assert response.headers["Location"] == f"{PAGE}?done=added#c{added.id}-title"
    assert (added.name, added.lead_unit_id, added.answer_days, added.close_days) == (
        "Cây xanh – cây đổ, cành gãy",
        economy,
        1,
        5,
    )
    assert (added.urgent, added.active, added.keywords) == (True, True, "cây đổ, cành gãy")
    page = await (await office.get(response.headers["Location"])).text()
    assert "Đã thêm loại phản ánh." in page and "Cây xanh – cây đổ, cành gãy" in page
    with Session(services.engine) as session:
        codes = [c.code for c in store.active_categories(session, commune(session).id or 0)]
        assert codes[-1] == "cay_xanh"
        assert session.exec(
            select(AuditEntry).where(AuditEntry.action == "feedback.category_add")
        ).one()
    again = await post_form(office, PAGE, f"{PAGE}/add", data)
    assert again.status == 400
    text = html_lib.unescape(await again.text())
    assert "Xã đã có loại phản ánh mang mã “cay_xanh”." in text
    assert 'value="Môi trường"' in text  # what was typed is kept
    bad = await post_form(office, PAGE, f"{PAGE}/add", {**data, "code": "Cây Xanh"})
    assert bad.status == 400 and "ví dụ “cay_xanh”" in html_lib.unescape(await bad.text())


async def test_others_read_the_list_but_cannot_change_it(
    services: Services, cast: Cast, sign_in: SignIn
) -> None:
    leader = add_person(services, name="Chủ Tịch Xã", roles=("commune_leader",), chat_id="2090")
    admin = add_person(services, name="Quản Trị Xã", roles=("admin",), chat_id="2091")
    team = add_person(services, name="Tổ Viên", roles=("team",), village="Xóm 3", chat_id="2092")
    duong = _category(services, "duong")
    for who in (cast.economy, leader):
        client = await sign_in(who)
        page = await client.get(PAGE)
        text = await page.text()
        assert page.status == 200 and "Hạ tầng – đường, cầu, cống" in text
        assert f'action="{PAGE}' not in text  # the list only, no form
        refused = await post_form(
            client, "/feedback", f"{PAGE}/{duong.id}", _form(duong, answer_days=7)
        )
        assert refused.status == 403
        added = await post_form(
            client, "/feedback", f"{PAGE}/add",
            {"code": "moi", "name": "Mới", "answer_days": 1, "close_days": 2},
        )  # fmt: skip
        assert added.status == 403
    assert _category(services, "duong") == duong
    assert (await (await sign_in(team)).get(PAGE)).status == 403
    admin_client = await sign_in(admin)
    response = await post_form(
        admin_client, PAGE, f"{PAGE}/{duong.id}", _form(duong, close_days=12)
    )
    assert response.status == 303 and _category(services, "duong").close_days == 12
