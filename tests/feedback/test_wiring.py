"""Feedback wired into the rest of tocns: the sample commune, the menu and /xoadulieu."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from bot.app import SAMPLE_HISTORY, build_services, prepare_database
from bot.feedback import store
from bot.feedback.status import Status
from bot.services import Services
from db.models import FeedbackEvent, FeedbackReport, OutboxMessage
from tests.conftest import START, make_settings
from tests.feedback.conftest import VN, Cast, category, commune, in_session, person
from tests.helpers import FakeClock

MENU_ENTRY = "📣 Phản ánh, kiến nghị"


def test_make_runs_sample_commune_has_reports_in_every_state(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "data", f"sqlite:///{tmp_path / 'sample.db'}", sample_history=True
    )
    services = build_services(settings, FakeClock(START))
    try:
        prepare_database(services)
        prepare_database(services)  # a restart adds nothing
        with Session(services.engine) as session:
            reports = session.exec(select(FeedbackReport)).all()
            assert len(reports) == 12
            assert {r.status for r in reports} == set(Status)
            # The invented people get their chats last: their history notifies nobody.
            assert session.exec(select(OutboxMessage)).all() == []
    finally:
        services.engine.dispose()
    assert [hook.__name__ for hook in SAMPLE_HISTORY] == [
        "_sample_people",
        "_sample_tallies",
        "_sample_feedback",
        "_sample_chats",
    ]


def test_the_tests_sample_commune_has_no_invented_reports(services: Services) -> None:
    with Session(services.engine) as session:  # sample_history is off for the tests
        assert session.exec(select(FeedbackReport)).all() == []


def test_the_menu_has_the_feedback_entry_for_residents_and_officers(cast: Cast) -> None:
    for who in ("resident", "economy", "office"):
        [reply] = cast.chat(who).send("/menu")
        labels = [choice.label for choice in reply.choices]
        assert MENU_ENTRY in labels, who
    [reply] = cast.chat("resident").send("/menu")
    entry = next(c for c in reply.choices if c.label == MENU_ENTRY)
    [asked] = cast.chat("resident").press(entry.value)
    assert asked.text == "Bạn muốn phản ánh về việc gì? Chọn một mục:"
    assert asked.choices[0].label == "Hạ tầng – đường, cầu, cống"


def test_erasing_my_data_takes_me_out_of_my_reports_which_stay(
    services: Services, cast: Cast
) -> None:
    def work(session: Session) -> int:
        report = store.submit(
            session,
            commune=commune(session),
            reporter_id=cast.resident,
            new=store.NewReport(
                category_id=category(session, "duong").id or 0,
                text="Ổ gà lớn trước cổng nhà văn hóa",
                contact_allowed=True,
            ),
            now=START,
            tz=VN,
        ).report
        assert report.id is not None
        store.answer(
            session, report.id, by=person(session, cast.economy), text="Đã vá.", now=START, tz=VN
        )
        return report.id

    report_id = in_session(services, work)
    chat = cast.chat("resident")
    [question] = chat.send("/xoadulieu")
    yes = next(c for c in question.choices if c.label.startswith("Có"))
    [done] = chat.press(yes.value)
    assert "Đã xóa dữ liệu của bạn" in done.text
    with Session(services.engine) as session:
        report = session.get(FeedbackReport, report_id)
        assert report is not None
        assert (report.reporter_id, report.contact_allowed) == (None, False)
        assert report.status == Status.ANSWERED and report.text.startswith("Ổ gà")
        actors = session.exec(
            select(FeedbackEvent.actor_id).where(FeedbackEvent.report_id == report_id)
        ).all()
        assert cast.resident not in actors and cast.economy in actors
