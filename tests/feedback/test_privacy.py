"""Decree 13/2023: a person leaves their reports; old reports forget their people and photos."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlmodel import Session, select

from bot.feedback import privacy, store
from bot.feedback.photos import store_photo
from bot.reminders.runner import ReminderRunner
from bot.services import Services
from db.models import (
    ConversationState,
    FeedbackEvent,
    FeedbackPhoto,
    FeedbackRating,
    FeedbackReport,
)
from tests.conftest import START
from tests.feedback.conftest import VN, Cast, category, commune, in_session, person
from tests.feedback.photos import jpeg_with_gps, png_with_gps
from tests.helpers import FakeClock


def photo_dir(services: Services) -> Path:
    return services.settings.data_dir / "feedback"


def answered_report(services: Services, cast: Cast, *, photo: bool = True) -> int:
    def work(session: Session) -> int:
        photos = (store_photo(photo_dir(services), jpeg_with_gps()),) if photo else ()
        report = store.submit(
            session,
            commune=commune(session),
            reporter_id=cast.resident,
            new=store.NewReport(
                category_id=category(session, "duong").id or 0,
                text="Ổ gà lớn trước cổng nhà văn hóa",
                contact_allowed=True,
                photos=photos,
            ),
            now=START,
            tz=VN,
        ).report
        assert report.id is not None
        store.answer(
            session, report.id, by=person(session, cast.economy), text="Đã vá.", now=START, tz=VN
        )
        fix = store_photo(photo_dir(services), png_with_gps())
        store.add_fix_photo(
            session, report.id, by=person(session, cast.economy), photo=fix, now=START
        )
        store.rate(
            session, report.id, by=person(session, cast.resident), satisfied=True, now=START, tz=VN
        )
        return report.id

    return in_session(services, work)


def test_a_person_can_leave_their_reports_which_stay_for_the_statistics(
    services: Services, cast: Cast
) -> None:
    report_id = answered_report(services, cast)
    kept = in_session(services, lambda session: privacy.erase_reporter(session, cast.resident))
    assert kept == 1
    with Session(services.engine) as session:
        report = session.get(FeedbackReport, report_id)
        assert report is not None
        assert (report.reporter_id, report.contact_allowed, report.status) == (
            None,
            False,
            "closed",
        )
        actors = session.exec(
            select(FeedbackEvent.actor_id).where(FeedbackEvent.report_id == report_id)
        ).all()
        assert cast.resident not in actors and cast.economy in actors
        assert session.exec(select(FeedbackRating.rated_by)).all() == [None]
        uploaders = set(session.exec(select(FeedbackPhoto.uploaded_by)).all())
        assert uploaders == {None, cast.economy}


def test_retention_forgets_the_resident_and_their_photos_but_keeps_the_fix(
    services: Services, cast: Cast
) -> None:
    report_id = answered_report(services, cast)
    open_id = in_session(
        services,
        lambda session: (
            store.submit(
                session,
                commune=commune(session),
                reporter_id=cast.neighbour,
                new=store.NewReport(
                    category_id=category(session, "dien").id or 0, text="Mất điện cả xóm"
                ),
                now=START,
                tz=VN,
            ).report.id
        ),
    )
    too_early = in_session(
        services,
        lambda session: privacy.forget_closed(
            session,
            now=START + dt.timedelta(days=10),
            retention_days=365,
            directory=photo_dir(services),
        ),
    )
    assert (too_early.reports, too_early.photos, too_early.files) == (0, 0, [])
    result = in_session(
        services,
        lambda session: privacy.forget_closed(
            session,
            now=START + dt.timedelta(days=400),
            retention_days=365,
            directory=photo_dir(services),
        ),
    )
    assert (result.reports, result.photos, len(result.files)) == (1, 1, 1)
    assert privacy.remove_files(result.files) == 1
    with Session(services.engine) as session:
        report = session.get(FeedbackReport, report_id)
        assert report is not None and report.reporter_id is None
        assert session.exec(select(FeedbackPhoto.purpose)).all() == ["fix"]
        still_open = session.get(FeedbackReport, open_id)
        assert still_open is not None and still_open.reporter_id == cast.neighbour
    remaining = [p for p in photo_dir(services).glob("*/*")]
    assert len(remaining) == 1 and remaining[0].suffix == ".png"


def test_orphan_photos_are_swept_but_not_those_of_a_report_being_written(
    services: Services, cast: Cast
) -> None:
    directory = photo_dir(services)
    orphan = store_photo(directory, jpeg_with_gps())
    draft = store_photo(directory, png_with_gps())
    old = (START - dt.timedelta(days=3)).timestamp()
    for stored in (orphan, draft):
        os.utime(directory / stored.storage_path, (old, old))

    def hold_draft(session: Session) -> None:
        session.add(
            ConversationState(
                channel="console",
                chat_id="2001",
                flow="feedback",
                step="photos",
                data={"photos": [draft.to_dict()]},
            )
        )

    in_session(services, hold_draft)
    removed = in_session(
        services,
        lambda session: privacy.sweep_orphans(
            session, directory, older_than=START - dt.timedelta(days=1)
        ),
    )
    assert removed == [directory / orphan.storage_path]
    assert (directory / draft.storage_path).exists()


async def test_the_runner_sweeps_retention_once_a_day_with_the_setting(
    services: Services, cast: Cast, clock: FakeClock
) -> None:
    report_id = answered_report(services, cast)
    runner = ReminderRunner(services, {})
    assert services.settings.feedback_retention_days == 365
    assert await runner.sweep() == 0  # closed just now: kept
    clock.set(START + dt.timedelta(days=400))
    assert await runner.sweep() == 1
    assert await runner.sweep() == 0  # once a local day
    with Session(services.engine) as session:
        report = session.get(FeedbackReport, report_id)
        assert report is not None and report.reporter_id is None  # kept for statistics
        assert session.exec(select(FeedbackPhoto.purpose)).all() == ["fix"]
    files = [p for p in photo_dir(services).rglob("*") if p.is_file()]
    assert len(files) == 1  # the resident's photo file is gone
