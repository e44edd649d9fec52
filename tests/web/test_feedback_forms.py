"""Handling a report on the dashboard: answer, note, fix photo, reassign, return, close.

Each form goes through the chat's own changes (``bot.feedback.store``): the same status
rules, the same outbox rows for the resident, plus an audit entry; and only the people who
may handle the report can send it.
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from bot.audit import describe
from bot.i18n import translator
from bot.services import Services
from db.models import AuditEntry, FeedbackEvent, FeedbackPhoto, FeedbackReport, Unit
from tests.feedback.conftest import Cast, outbox, texts
from tests.feedback.conftest import cast as cast  # noqa: F401 - the fixture
from tests.helpers import add_person
from tests.web.conftest import SignIn, post_form, tiny_png
from tests.web.test_feedback import Reports
from tests.web.test_feedback import reports as reports  # noqa: F401 - the fixture


def _report(services: Services, report_id: int) -> FeedbackReport:
    with Session(services.engine) as session:
        found = session.get(FeedbackReport, report_id)
        assert found is not None
        return found


def _audits(services: Services, action: str, report_id: int) -> list[AuditEntry]:
    """The audit entries of one action on one report (entries name the report's code)."""
    code = _report(services, report_id).code
    with Session(services.engine) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.action == action, AuditEntry.entity_id == code)
                .order_by(col(AuditEntry.id))
            ).all()
        )


def _feedback_audits(services: Services) -> int:
    with Session(services.engine) as session:
        query = select(AuditEntry).where(col(AuditEntry.action).like("feedback.%"))
        return len(session.exec(query).all())


def _events(services: Services, report_id: int) -> list[FeedbackEvent]:
    with Session(services.engine) as session:
        return list(
            session.exec(
                select(FeedbackEvent)
                .where(FeedbackEvent.report_id == report_id)
                .order_by(col(FeedbackEvent.seq))
            ).all()
        )


async def test_the_unit_answers_and_the_resident_gets_the_text(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.economy)
    page = f"/feedback/{reports.light}"
    html = await (await client.get(page)).text()
    assert "Trả lời người dân" in html and "Đóng phản ánh" not in html  # not the office's
    before = len(outbox(services, person_id=cast.neighbour))
    response = await post_form(
        client, page, f"{page}/answer", {"text": "Đã thay bóng đèn mới sáng nay."}
    )
    assert response.status == 303
    assert response.headers["Location"] == f"{page}?done=answer"
    assert _report(services, reports.light).status == "answered"
    told = outbox(services, person_id=cast.neighbour)
    assert len(told) == before + 1
    assert "Đã thay bóng đèn mới sáng nay." in texts(told)[-1]
    done = await (await client.get(response.headers["Location"])).text()
    assert "Đã gửi trả lời" in done
    [entry] = _audits(services, "feedback.answer", reports.light)
    assert entry.entity_id == _report(services, reports.light).code
    with Session(services.engine) as session:
        [line] = describe(session, [entry], translator("vi"))
    assert line.action == "Trả lời phản ánh"
    assert "Trạng thái phản ánh: đang xử lý" in line.before
    assert "Trạng thái phản ánh: đã trả lời" in line.after
    assert line.actor == "Lê Kinh Tế"


async def test_an_internal_note_is_never_sent_to_the_resident(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.police)
    page = f"/feedback/{reports.scam}"
    before = outbox(services)
    response = await post_form(client, page, f"{page}/note", {"text": "Đã gọi lại số máy lạ"})
    assert response.status == 303
    assert outbox(services) == before  # nobody is told of a note
    note = _events(services, reports.scam)[-1]
    assert (note.kind, note.internal, note.text) == ("note", True, "Đã gọi lại số máy lạ")
    assert len(_audits(services, "feedback.note", reports.scam)) == 2  # the fixture's, and this


async def test_a_fix_photo_is_checked_stored_and_shown(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.police)
    page = f"/feedback/{reports.scam}"
    refused = await post_form(
        client, page, f"{page}/photo", {"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
    )
    assert refused.status == 400
    assert "JPEG, PNG hoặc WebP" in await refused.text()
    missing = await post_form(client, page, f"{page}/photo", {"text": "Ảnh"})
    assert missing.status == 400
    assert "Chọn ảnh để đính kèm." in await missing.text()
    response = await post_form(
        client,
        page,
        f"{page}/photo",
        {"file": ("fixed.png", tiny_png(), "image/png"), "text": "Đã xử lý xong"},
    )
    assert response.status == 303
    with Session(services.engine) as session:
        [photo] = session.exec(
            select(FeedbackPhoto).where(FeedbackPhoto.report_id == reports.scam)
        ).all()
    assert photo.purpose == "fix" and photo.mime_type == "image/png"
    shown = await client.get(f"{page}/photos/{photo.id}")
    assert shown.status == 200 and (await shown.read()).startswith(b"\x89PNG")
    assert _events(services, reports.scam)[-1].kind == "fix_photo"
    assert len(_audits(services, "feedback.fix_photo", reports.scam)) == 1


async def test_the_office_reassigns_returns_and_closes(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    office = await sign_in(cast.office)
    page = f"/feedback/{reports.light}"
    html = await (await office.get(page)).text()
    assert "Chuyển cho đơn vị khác" in html and "Trả lời người dân" not in html
    with Session(services.engine) as session:
        police_unit = session.exec(select(Unit).where(Unit.name == "Công an xã")).one()
    police_before = len(outbox(services, person_id=cast.police))
    moved = await post_form(
        office, page, f"{page}/assign", {"unit": police_unit.id, "text": "Nghi trộm cáp điện"}
    )
    assert moved.status == 303
    report = _report(services, reports.light)
    assert (report.status, report.unit_id) == ("assigned", police_unit.id)
    assert len(outbox(services, person_id=cast.police)) == police_before + 1
    [entry] = _audits(services, "feedback.assign", reports.light)
    assert entry.new is not None and entry.new["unit_id"] == police_unit.id
    # The same unit again is refused by the domain, in words, and nothing changes.
    again = await post_form(office, page, f"{page}/assign", {"unit": police_unit.id})
    assert again.status == 409
    assert "Công an xã" in await again.text()
    assert len(_audits(services, "feedback.assign", reports.light)) == 1

    police = await sign_in(cast.police)
    await post_form(police, page, f"{page}/answer", {"text": "Đã kiểm tra, không có trộm."})
    returned = await post_form(office, page, f"{page}/return", {"text": "Cần nói rõ khi nào sửa"})
    assert returned.status == 303
    assert _report(services, reports.light).status == "returned"
    # The resident never hears of a return.
    assert not any("Cần nói rõ" in t for t in texts(outbox(services, person_id=cast.neighbour)))

    resident_before = len(outbox(services, person_id=cast.neighbour))
    closed = await post_form(office, page, f"{page}/close", {"text": "Đã sửa xong."})
    assert closed.status == 303
    report = _report(services, reports.light)
    assert report.status == "closed" and report.closed_at is not None
    assert len(outbox(services, person_id=cast.neighbour)) == resident_before + 1
    assert [
        len(_audits(services, f"feedback.{a}", reports.light)) for a in ("return", "close")
    ] == [1, 1]
    # Closed: closing again is refused with the reason.
    twice = await post_form(office, page, f"{page}/close", {})
    assert twice.status == 409
    assert "đã đóng" in await twice.text()


async def test_a_unit_hands_a_report_back_to_the_office(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.economy)
    page = f"/feedback/{reports.formula}"
    response = await post_form(client, page, f"{page}/hand_back", {"text": "Việc của Công an xã"})
    assert response.status == 303 and response.headers["Location"] == "/feedback"
    report = _report(services, reports.formula)
    assert (report.status, report.unit_id) == ("received", None)
    assert (await client.get(page)).status == 403  # no longer the unit's


async def test_an_empty_answer_is_shown_again_with_the_problem(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.economy)
    page = f"/feedback/{reports.light}"
    response = await post_form(client, page, f"{page}/answer", {"text": "  "})
    assert response.status == 400
    assert "Vui lòng điền mục này." in await response.text()
    assert _report(services, reports.light).status == "assigned"
    assert _audits(services, "feedback.answer", reports.light) == []


async def test_who_may_not_handle_a_report_is_refused(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    audited = _feedback_audits(services)
    leader = add_person(services, name="Chủ Tịch Xã", roles=("commune_leader",), chat_id="2009")
    member = add_person(services, name="Tổ Viên", roles=("team",), village="Xóm 3", chat_id="2010")
    page = f"/feedback/{reports.light}"
    # A commune leader reads the report but handles nothing (as in the chat).
    reader = await sign_in(leader)
    html = await (await reader.get(page)).text()
    assert "Xử lý phản ánh" not in html
    for action in ("answer", "close", "note", "assign"):
        response = await post_form(reader, page, f"{page}/{action}", {"text": "Xin trả lời"})
        assert response.status == 403, action
    # A team member cannot even open it.
    team = await sign_in(member)
    assert (await post_form(team, "/", f"{page}/answer", {"text": "Xin trả lời"})).status == 403
    # The office does not answer for the unit.
    office = await sign_in(cast.office)
    assert (await post_form(office, page, f"{page}/answer", {"text": "Xin trả lời"})).status == 403
    # An officer of another unit may not touch this unit's report.
    police = await sign_in(cast.police)
    for action in ("answer", "note", "photo"):
        response = await post_form(police, "/feedback", f"{page}/{action}", {"text": "Xin chào"})
        assert response.status == 403, action
    assert _report(services, reports.light).status == "assigned"
    assert (await post_form(office, page, f"{page}/nonsense", {})).status == 404
    assert _feedback_audits(services) == audited


async def test_a_form_without_its_csrf_token_is_refused(
    services: Services, reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.economy)
    page = f"/feedback/{reports.light}"
    before = outbox(services, person_id=cast.neighbour)
    response = await client.post(
        f"{page}/answer", data={"text": "Đã thay bóng đèn."}, allow_redirects=False
    )
    assert response.status == 403
    assert _report(services, reports.light).status == "assigned"
    assert outbox(services, person_id=cast.neighbour) == before
    assert _audits(services, "feedback.answer", reports.light) == []


async def test_a_late_report_is_red_on_the_dashboard(
    reports: Reports, cast: Cast, sign_in: SignIn
) -> None:
    client = await sign_in(cast.office)
    html = await (await client.get("/feedback")).text()
    rows = {
        int(m.group(2)): "is-red" in m.group(1)
        for m in re.finditer(r'<tr([^>]*)>\s*<td><a href="/feedback/(\d+)">', html)
    }
    assert rows[reports.light] is True  # sent 20 days ago, still open
    assert rows[reports.road] is False and rows[reports.scam] is False
    page = await (await client.get(f"/feedback/{reports.light}")).text()
    assert "Trễ hạn" in page
