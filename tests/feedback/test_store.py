"""Reports stored, routed, answered, rated and closed: one transaction per change."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from bot.core.errors import UserError
from bot.feedback import notify, queues, store
from bot.feedback.status import MSG_CLOSED, MSG_NOT_NOW, Status
from bot.services import Services
from db.models import (
    AuditEntry,
    FeedbackEvent,
    FeedbackRating,
    FeedbackReport,
    OutboxMessage,
    Unit,
)
from tests.conftest import START
from tests.feedback.conftest import (
    VN,
    Cast,
    category,
    commune,
    in_session,
    local,
    outbox,
    person,
    texts,
    values,
)


def submit(
    services: Services,
    cast: Cast,
    code: str = "duong",
    text: str = "Đường bê tông đầu xóm 3 có ổ gà lớn",
    *,
    at: dt.datetime = START,
    reporter: int | None = None,
    contact: bool = False,
) -> store.Submitted:
    def work(session: Session) -> store.Submitted:
        village = session.exec(select(store.Village).where(store.Village.name == "Xóm 3")).one()
        return store.submit(
            session,
            commune=commune(session),
            reporter_id=cast.resident if reporter is None else reporter,
            new=store.NewReport(
                category_id=category(session, code).id or 0,
                text=text,
                village_id=village.id,
                landmark="đầu ngõ",
                contact_allowed=contact,
            ),
            now=at,
            tz=VN,
        )

    return in_session(services, work)


def act(services: Services, name: str, report_id: int, who: int, **kwargs: object) -> object:
    """Call a store change as ``who`` in its own transaction."""

    def work(session: Session) -> object:
        kwargs.setdefault("now", START)
        if name not in ("add_note", "add_fix_photo"):
            kwargs.setdefault("tz", VN)
        return getattr(store, name)(session, report_id, by=person(session, who), **kwargs)

    return in_session(services, work)


def reloaded(services: Services, report_id: int) -> FeedbackReport:
    with Session(services.engine) as session:
        report = session.get(FeedbackReport, report_id)
        assert report is not None
        return report


def test_a_report_gets_a_code_its_unit_and_working_day_deadlines(
    services: Services, cast: Cast
) -> None:
    first = submit(services, cast).report
    second = submit(services, cast, "dien", "Đèn đường trước nhà văn hóa bị hỏng").report
    assert (first.code, second.code) == ("PA-0001", "PA-0002")
    report = reloaded(services, first.id or 0)
    assert report.status == Status.ASSIGNED
    with Session(services.engine) as session:
        unit = session.get(Unit, report.unit_id)
        assert unit is not None and unit.name == "Phòng Kinh tế"
        kinds = session.exec(
            select(FeedbackEvent.kind)
            .where(FeedbackEvent.report_id == first.id)
            .order_by(col(FeedbackEvent.seq))
        ).all()
    assert kinds == ["received", "assigned"]
    # Tuesday 10/03 09:00: answer within 2 working days, settle within 10 (Sundays skipped).
    assert report.answer_due_at == local(2026, 3, 12, 17)
    assert report.close_due_at == local(2026, 3, 21, 17)
    # The unit's officer hears at once; the resident read it in the chat; the office need not.
    rows = outbox(services)
    assert [(r.person_id, r.kind) for r in rows] == [
        (cast.economy, "feedback_unit"),
        (cast.economy, "feedback_unit"),
    ]
    assert rows[0].due_at == START
    assert rows[0].dedupe_key == f"feedback:{report.commune_id}:PA-0001:2:{cast.economy}"
    assert texts(rows)[0].startswith("📣 Phản ánh mới PA-0001 giao cho Phòng Kinh tế")
    assert "“Đường bê tông đầu xóm 3 có ổ gà lớn”" in texts(rows)[0]
    assert values(rows)[0] == f"fb:open:{first.id}"


def test_a_category_without_a_unit_waits_for_the_office(services: Services, cast: Cast) -> None:
    report = submit(services, cast, "khac", "Loa phát thanh của xóm bị rè").report
    assert reloaded(services, report.id or 0).status == Status.RECEIVED
    [row] = outbox(services)
    assert row.person_id == cast.office
    assert "chưa có đơn vị xử lý" in str(row.content["text"])


def test_the_same_text_again_soon_is_the_same_report(services: Services, cast: Cast) -> None:
    first = submit(services, cast, text="Đường xóm 3 bị ngập.")
    again = submit(services, cast, text="duong xom 3 bi ngap", at=START + dt.timedelta(minutes=59))
    assert again.duplicate and again.report.code == first.report.code
    other = submit(services, cast, text="duong xom 3 bi ngap", reporter=cast.neighbour)
    assert not other.duplicate
    later = submit(services, cast, text="Đường xóm 3 bị ngập", at=START + dt.timedelta(hours=2))
    assert not later.duplicate and later.report.code == "PA-0003"


def test_a_person_sends_at_most_five_reports_a_day(services: Services, cast: Cast) -> None:
    for number in range(5):
        submit(services, cast, text=f"Ổ gà thứ {number} trên đường xóm")
    with pytest.raises(UserError) as refused:
        submit(services, cast, text="Ổ gà thứ sáu trên đường xóm")
    assert refused.value.message_id == store.MSG_DAILY_LIMIT
    tomorrow = local(2026, 3, 11, 0, 1)
    assert submit(services, cast, text="Ổ gà thứ sáu trên đường xóm", at=tomorrow).report.code == (
        "PA-0006"
    )


def test_quiet_hours_hold_news_back_except_for_urgent_categories(
    services: Services, cast: Cast
) -> None:
    night = local(2026, 3, 10, 22, 30)
    submit(services, cast, "duong", at=night)
    submit(services, cast, "an_ninh", "Có người lạ cạy cửa nhà hàng xóm", at=night)
    due = {row.person_id: row.due_at for row in outbox(services)}
    assert due[cast.economy] == local(2026, 3, 11, 7)
    assert due[cast.police] == night
    [urgent] = outbox(services, person_id=cast.police)
    assert str(urgent.content["text"]).startswith("🚨 KHẨN 📣 Phản ánh mới")


def test_answer_then_satisfied_closes_and_everyone_hears_once(
    services: Services, cast: Cast
) -> None:
    report = submit(services, cast).report
    report_id = report.id or 0
    act(services, "answer", report_id, cast.economy, text="Tuần này đội sẽ vá ổ gà.")
    [answer] = outbox(services, person_id=cast.resident)
    assert answer.content["text"] == (
        "Phòng Kinh tế đã trả lời phản ánh PA-0001 của bạn:\nTuần này đội sẽ vá ổ gà.\n\n"
        "Bạn có hài lòng với cách giải quyết phản ánh không?"
    )
    assert values([answer])[:2] == [f"fbrate:{report_id}:1", f"fbrate:{report_id}:0"]
    outcome = act(services, "rate", report_id, cast.resident, satisfied=True)
    assert outcome is store.Rated.CLOSED
    closed = reloaded(services, report_id)
    assert closed.status == Status.CLOSED and closed.closed_at == START
    assert "hài lòng" in texts(outbox(services, person_id=cast.economy))[-1]
    with pytest.raises(UserError) as again:
        act(services, "rate", report_id, cast.resident, satisfied=False)
    assert again.value.message_id == store.MSG_ALREADY_RATED
    # Queuing an event a second time sends nothing more (the first two were told in the chat).
    with Session(services.engine) as session:
        fresh = session.get(FeedbackReport, report_id)
        assert fresh is not None
        events = session.exec(
            select(FeedbackEvent).where(
                FeedbackEvent.report_id == report_id, col(FeedbackEvent.seq) > 2
            )
        ).all()
        assert [e.kind for e in events] == ["answered", "satisfied", "closed"]
        before = len(session.exec(select(OutboxMessage)).all())
        for event in events:
            notify.event(session, fresh, event, now=START, tz=VN)
        session.flush()
        assert len(session.exec(select(OutboxMessage)).all()) == before


def test_not_satisfied_reopens_once_then_only_counts(services: Services, cast: Cast) -> None:
    report_id = submit(services, cast).report.id or 0
    act(services, "answer", report_id, cast.economy, text="Đã ghi nhận.")
    later = START + dt.timedelta(days=1)
    outcome = act(
        services,
        "rate",
        report_id,
        cast.resident,
        satisfied=False,
        comment="Chưa ai đến xem",
        now=later,
    )
    assert outcome is store.Rated.REOPENED
    reopened = reloaded(services, report_id)
    assert (reopened.status, reopened.reopened) == (Status.REOPENED, 1)
    assert reopened.answer_due_at == local(2026, 3, 13, 17)  # deadlines start again
    [to_office] = outbox(services, person_id=cast.office)
    assert "Chưa ai đến xem" in str(to_office.content["text"])
    act(services, "return_to_unit", report_id, cast.office, reason="Cần cử người xuống kiểm tra")
    assert "Cần cử người xuống kiểm tra" in texts(outbox(services, person_id=cast.economy))[-1]
    act(services, "answer", report_id, cast.economy, text="Đã cử người kiểm tra, thứ Sáu vá xong.")
    assert len(outbox(services, person_id=cast.resident)) == 2  # two answers, two messages
    outcome = act(services, "rate", report_id, cast.resident, satisfied=False, comment="Vẫn chưa")
    assert outcome is store.Rated.RECORDED
    assert reloaded(services, report_id).status == Status.ANSWERED
    assert "vẫn chưa hài lòng" in texts(outbox(services, person_id=cast.office))[-1]
    act(services, "close", report_id, cast.office, note="Đã vá xong ngày 13/3.")
    closing = outbox(services, person_id=cast.resident)[-1]
    assert "Văn phòng thường trực nhắn: Đã vá xong ngày 13/3." in str(closing.content["text"])
    assert not any(v.startswith("fbrate") for v in values([closing]))  # rated already
    with Session(services.engine) as session:
        rounds = session.exec(
            select(FeedbackRating.round, FeedbackRating.satisfied).where(
                FeedbackRating.report_id == report_id
            )
        ).all()
    assert sorted(rounds) == [(0, False), (1, False)]


def test_who_may_do_what(services: Services, cast: Cast) -> None:
    report_id = submit(services, cast).report.id or 0
    cases = [
        ("answer", cast.police, {"text": "Không phải việc của tôi"}, store.MSG_ONLY_UNIT),
        ("answer", cast.office, {"text": "Văn phòng trả lời"}, store.MSG_ONLY_UNIT),
        ("close", cast.economy, {"note": ""}, store.MSG_ONLY_OFFICE),
        ("close", cast.resident, {"note": ""}, store.MSG_ONLY_OFFICE),
        ("add_info", cast.neighbour, {"text": "Tôi cũng thấy"}, store.MSG_ONLY_REPORTER),
        ("add_note", cast.police, {"text": "ghi chú"}, store.MSG_ONLY_STAFF),
        ("rate", cast.resident, {"satisfied": True}, store.MSG_NOT_RATEABLE),
        ("return_to_unit", cast.office, {"reason": "làm lại"}, MSG_NOT_NOW),
    ]
    for name, who, kwargs, message in cases:
        with pytest.raises(UserError) as refused:
            act(services, name, report_id, who, **kwargs)
        assert refused.value.message_id == message, name
    act(services, "close", report_id, cast.office, note="Trùng với PA-0000")
    with pytest.raises(UserError) as closed:
        act(services, "add_info", report_id, cast.resident, text="Thêm ảnh")
    assert closed.value.message_id == MSG_CLOSED


def test_a_unit_hands_back_and_the_office_reassigns(services: Services, cast: Cast) -> None:
    report_id = submit(services, cast, "rac", "Có người đổ trộm rác thải ra mương").report.id or 0
    act(services, "hand_back", report_id, cast.economy, reason="Đổ trộm là việc của công an")
    report = reloaded(services, report_id)
    assert (report.status, report.unit_id) == (Status.RECEIVED, None)
    assert "Đổ trộm là việc của công an" in texts(outbox(services, person_id=cast.office))[-1]
    with Session(services.engine) as session:
        police = session.exec(select(Unit).where(Unit.name == "Công an xã")).one()
    act(services, "assign", report_id, cast.office, unit_id=police.id, note="Nhờ công an xác minh")
    assert reloaded(services, report_id).status == Status.ASSIGNED
    assert texts(outbox(services, person_id=cast.police))[-1].startswith("📣 Phản ánh mới")
    assert "đã được chuyển đến Công an xã" in texts(outbox(services, person_id=cast.resident))[-1]
    with pytest.raises(UserError) as same:
        act(services, "assign", report_id, cast.office, unit_id=police.id)
    assert same.value.message_id == store.MSG_SAME_UNIT
    with Session(services.engine) as session:
        view = queues.report_view(session, report_id)
    public = [e.kind for e in view.public_events()]
    assert public == ["received", "assigned", "assigned"]  # hand-back and the note are internal
    assert [e.kind for e in view.events if e.internal] == ["handed_back", "note"]


def test_the_unit_sees_the_person_only_when_they_agreed(services: Services, cast: Cast) -> None:
    hidden = submit(services, cast).report.id or 0
    shown = submit(services, cast, "dien", "Cột điện nghiêng sắp đổ", contact=True).report.id or 0
    with Session(services.engine) as session:
        assert queues.report_view(session, hidden).reporter is None
        reporter = queues.report_view(session, shown).reporter
        assert reporter is not None and reporter.display_name == "Nguyễn Thị Hoa"
    with pytest.raises(UserError) as refused:
        act(services, "ask_resident", hidden, cast.economy, question="Nhà chị ở đâu?")
    assert refused.value.message_id == store.MSG_NO_CONTACT
    act(services, "ask_resident", shown, cast.economy, question="Cột nào, gần nhà ai?")
    assert "Cột nào, gần nhà ai?" in texts(outbox(services, person_id=cast.resident))[-1]


def test_notes_and_fix_photos_tell_nobody(services: Services, cast: Cast) -> None:
    report_id = submit(services, cast).report.id or 0
    before = len(outbox(services))
    act(services, "add_note", report_id, cast.economy, text="Đã báo đội thi công")
    act(
        services,
        "add_fix_photo",
        report_id,
        cast.economy,
        photo=store.StoredPhoto(kind="link", url="https://example.org/fix.jpg"),
    )
    assert len(outbox(services)) == before


def test_a_write_that_is_rolled_back_leaves_nothing(services: Services, cast: Cast) -> None:
    with Session(services.engine) as session:
        store.submit(
            session,
            commune=commune(session),
            reporter_id=cast.resident,
            new=store.NewReport(category_id=category(session, "duong").id or 0, text="Ổ gà to"),
            now=START,
            tz=VN,
        )
        session.rollback()
    with Session(services.engine) as session:
        assert session.exec(select(FeedbackReport)).all() == []
        assert session.exec(select(FeedbackEvent)).all() == []
    assert outbox(services) == []


def test_queues_put_urgent_then_late_then_nearest_first(services: Services, cast: Cast) -> None:
    def make_urgent(session: Session) -> None:
        store.update_category(session, commune(session).id or 0, "ngap", urgent=True, now=START)

    in_session(services, make_urgent)
    late = submit(services, cast, "duong", at=START - dt.timedelta(days=6)).report
    soon = submit(services, cast, "rac", "Rác tràn ra đường liên xóm").report
    urgent = submit(services, cast, "ngap", "Nước ngập vào nhà dân ở xóm 3").report
    with Session(services.engine) as session:
        unit_id = reloaded(services, late.id or 0).unit_id or 0
        items = queues.unit_queue(session, unit_id, START)
        assert [i.report.code for i in items] == [urgent.code, late.code, soon.code]
        assert [i.overdue for i in items] == [False, True, False]
        assert queues.open_counts(session, commune(session).id or 0, START) == (3, 1)
        assert queues.find_report(session, commune(session).id, "pa 2") is not None
        assert queues.find_report(session, commune(session).id, "PA-0002").code == soon.code  # type: ignore[union-attr]
        assert queues.find_report(session, commune(session).id, "xin chào") is None


def test_a_commune_edits_its_categories_with_an_audit_trail(services: Services, cast: Cast) -> None:
    def edit(session: Session) -> None:
        commune_id = commune(session).id or 0
        store.update_category(
            session, commune_id, "khac", lead_unit="CA xã", answer_days=1, close_days=4, now=START
        )
        for bad in ({"answer_days": 5, "close_days": 3}, {"answer_days": 61}):
            with pytest.raises(UserError):
                store.update_category(session, commune_id, "khac", **bad)  # type: ignore[arg-type]
        with pytest.raises(UserError):
            store.update_category(session, commune_id, "khac", lead_unit="Sở Ngoại vụ")
        with pytest.raises(UserError):
            store.update_category(session, commune_id, "khong-co", urgent=True)

    in_session(services, edit)
    report = submit(services, cast, "khac", "Chó thả rông cắn người").report
    assert reloaded(services, report.id or 0).status == Status.ASSIGNED
    assert reloaded(services, report.id or 0).close_due_at == local(2026, 3, 14, 17)
    with Session(services.engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "feedback.category")
        ).one()
        assert entry.old is not None and entry.new is not None
        assert (entry.old["answer_days"], entry.new["answer_days"]) == (3, 1)
