"""Deadline reminders for reports on an injected clock: T−1, on the day, then escalation.

The planner runs every few hours of a simulated fortnight; every reminder must be queued
exactly once, at its local time, to the report's holder, and the escalation to the standing
office and the commune leaders; quiet hours hold back all but urgent categories.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from sqlmodel import Session, col, select

from bot.feedback import store
from bot.feedback.deadlines import KIND_DUE, KIND_LATE
from bot.reminders.policy import EXPIRING_KINDS
from bot.services import Services
from db.models import Commune, OutboxMessage, Unit
from tests.feedback.conftest import VN, Cast, category, commune, in_session, person
from tests.feedback.conftest import cast as cast  # noqa: F401 - the fixture
from tests.helpers import FakeClock, add_person
from tests.reminders.util import run_pass


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VN).astimezone(dt.UTC)


@pytest.fixture
def leader(services: Services) -> int:
    return add_person(services, name="Chủ Tịch Xã", roles=("commune_leader",), chat_id="2006")


def _submit(services: Services, who: int, code: str, text: str, now: dt.datetime) -> int:
    def work(session: Session) -> int:
        report = store.submit(
            session,
            commune=commune(session),
            reporter_id=who,
            new=store.NewReport(category_id=category(session, code).id or 0, text=text),
            now=now,
            tz=VN,
        ).report
        assert report.id is not None
        return report.id

    return in_session(services, work)


def _notices(services: Services) -> list[OutboxMessage]:
    with Session(services.engine) as session:
        query = select(OutboxMessage).where(col(OutboxMessage.kind).in_([KIND_DUE, KIND_LATE]))
        return list(
            session.exec(query.order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))).all()
        )


def _seen(rows: list[OutboxMessage]) -> list[tuple[str, int | None, dt.datetime, str]]:
    """(kind, recipient, local send time, status) of each row."""
    return [
        (r.kind, r.person_id, r.due_at.astimezone(VN).replace(tzinfo=None), r.status) for r in rows
    ]


def _walk(services: Services, clock: FakeClock, until: dt.datetime, hours: float = 3) -> None:
    """Run the planner every few hours up to ``until``, then deliver nothing (rows stay)."""
    while clock() < until:
        clock.advance(hours=hours)
        run_pass(services)


def _day_ends(services: Services, value: str) -> None:
    with Session(services.engine) as session:
        found = session.exec(select(Commune)).first()
        assert found is not None
        feedback = {**(found.settings.get("feedback") or {}), "day_ends": value}
        found.settings = {**found.settings, "feedback": feedback}
        session.add(found)
        session.commit()


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args)


def test_every_deadline_reminder_and_escalation_goes_out_once_at_its_time(
    services: Services, clock: FakeClock, cast: Cast, leader: int
) -> None:
    # Tuesday 10/03/2026 09:00: a street light (2 working days to answer, 10 to settle).
    clock.set(at(2026, 3, 10, 9))
    light = _submit(services, cast.neighbour, "dien", "Đèn đường xóm 5 hỏng", clock())
    _walk(services, clock, at(2026, 3, 13, 10))
    answer_rows = _notices(services)
    assert _seen(answer_rows) == [
        (KIND_DUE, cast.economy, local(2026, 3, 11, 8), "pending"),  # T−1
        (KIND_DUE, cast.economy, local(2026, 3, 12, 8), "pending"),  # on the day
        (KIND_LATE, cast.office, local(2026, 3, 12, 17), "pending"),  # late: office
        (KIND_LATE, leader, local(2026, 3, 12, 17), "pending"),  # … and the commune leader
    ]
    first = answer_rows[0]
    assert "PA-0001" in first.content["text"] and "ngày làm việc tới" in first.content["text"]
    assert "12/03/2026" in first.content["text"]
    assert first.content["choices"][0]["value"].endswith(str(light))
    assert "Phòng Kinh tế" in answer_rows[2].content["text"]
    assert (
        first.dedupe_key
        == f"fbdue:{commune_id(services)}:PA-0001:answer:20260312T1000:before:{cast.economy}"
    )

    # The unit answers on Friday: no more answer reminders; closing is now the office's.
    in_session(
        services,
        lambda s: store.answer(
            s,
            light,
            by=person(s, cast.economy),
            text="Đã báo điện lực thay bóng.",
            now=clock(),
            tz=VN,
        ),
    )
    _walk(services, clock, at(2026, 3, 23, 10))
    close_rows = [r for r in _notices(services) if r.id not in {a.id for a in answer_rows}]
    # Close by Saturday 21/03 17:00 (Sunday skipped): T−1 Friday, the day, then late.
    assert _seen(close_rows) == [
        (KIND_DUE, cast.office, local(2026, 3, 20, 8), "pending"),
        (KIND_DUE, cast.office, local(2026, 3, 21, 8), "pending"),
        (KIND_LATE, cast.office, local(2026, 3, 21, 17), "pending"),
        (KIND_LATE, leader, local(2026, 3, 21, 17), "pending"),
    ]
    keys = Counter(r.dedupe_key for r in _notices(services))
    assert set(keys.values()) == {1}
    # Closed: nothing more, however long the planner runs.
    in_session(
        services,
        lambda s: store.close(s, light, by=person(s, cast.office), note="", now=clock(), tz=VN),
    )
    count = len(_notices(services))
    _walk(services, clock, at(2026, 4, 10, 10), hours=12)
    assert len(_notices(services)) == count


def commune_id(services: Services) -> int:
    with Session(services.engine) as session:
        return commune(session).id or 0


def test_quiet_hours_hold_back_escalation_except_for_urgent_reports(
    services: Services, clock: FakeClock, cast: Cast, leader: int
) -> None:
    _day_ends(services, "22:00")  # deadlines fall at 22:00, in quiet hours (21:00–07:00)
    clock.set(at(2026, 3, 10, 9))
    _submit(services, cast.resident, "rac", "Rác ùn ứ đầu xóm 3", clock())
    _submit(services, cast.neighbour, "an_ninh", "Có người lạ bẻ khóa xe", clock())
    _walk(services, clock, at(2026, 3, 13, 10))
    late = [
        (r.person_id, r.due_at.astimezone(VN).replace(tzinfo=None))
        for r in _notices(services)
        if r.kind == KIND_LATE and ":PA-0002:answer:" in r.dedupe_key
    ]
    # Urgent (an ninh, 0 days): late at 22:00 the same day, night or not.
    assert late == [(cast.office, local(2026, 3, 10, 22)), (leader, local(2026, 3, 10, 22))]
    assert all(
        "🚨" in r.content["text"] for r in _notices(services) if "PA-0002" in r.content["text"]
    )
    # The rubbish (2 days, due Thursday 22:00) waits for the end of quiet hours: 07:00 Friday.
    waste_late = {
        r.due_at.astimezone(VN).replace(tzinfo=None)
        for r in _notices(services)
        if r.kind == KIND_LATE and ":PA-0001:answer:" in r.dedupe_key
    }
    assert waste_late == {local(2026, 3, 13, 7)}


def test_reassigning_moves_the_reminders_and_closing_cancels_them(
    services: Services, clock: FakeClock, cast: Cast, leader: int
) -> None:
    clock.set(at(2026, 3, 10, 9))
    report = _submit(services, cast.neighbour, "dien", "Cột điện nghiêng", clock())
    clock.set(at(2026, 3, 10, 9, 30))
    run_pass(services)  # T−1 (Wednesday 08:00) falls within the day ahead: queued
    assert _seen(_notices(services)) == [(KIND_DUE, cast.economy, local(2026, 3, 11, 8), "pending")]
    with Session(services.engine) as session:
        police_unit = session.exec(select(Unit).where(Unit.name == "Công an xã")).one().id or 0
    in_session(
        services,
        lambda s: store.assign(
            s, report, by=person(s, cast.office), unit_id=police_unit, now=clock(), tz=VN
        ),
    )
    clock.set(at(2026, 3, 10, 10))
    stats = run_pass(services)
    assert stats.cancelled == 1 and stats.feedback == 1
    assert _seen(_notices(services)) == [
        (KIND_DUE, cast.economy, local(2026, 3, 11, 8), "cancelled"),
        (KIND_DUE, cast.police, local(2026, 3, 11, 8), "pending"),
    ]
    in_session(
        services,
        lambda s: store.close(s, report, by=person(s, cast.office), note="", now=clock(), tz=VN),
    )
    clock.set(at(2026, 3, 10, 11))
    run_pass(services)
    assert {r.status for r in _notices(services)} == {"cancelled"}


def test_the_monday_digest_lists_the_late_reports(
    services: Services, clock: FakeClock, cast: Cast, leader: int
) -> None:
    clock.set(at(2026, 3, 10, 9))
    _submit(services, cast.neighbour, "dien", "Đèn đường xóm 5 hỏng", clock())  # due Thu 12/03
    _submit(services, cast.resident, "duong", "Ổ gà đầu xóm 3", at(2026, 3, 14, 9))  # due Tue
    _walk(services, clock, at(2026, 3, 16, 12))  # past Monday 16/03's digest
    with Session(services.engine) as session:
        digests = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.kind == "digest", OutboxMessage.person_id == cast.office
            )
        ).all()
    [digest] = [d for d in digests if d.due_at.astimezone(VN).date() == dt.date(2026, 3, 16)]
    text = digest.content["text"]
    assert "📣 Phản ánh của người dân quá hạn: 1." in text
    assert "• PA-0001 (Phòng Kinh tế)" in text and "PA-0002" not in text


def test_a_deadline_reminder_expires_like_a_task_reminder_but_escalation_does_not() -> None:
    assert KIND_DUE in EXPIRING_KINDS and KIND_LATE not in EXPIRING_KINDS


def test_the_preview_shows_the_reports_reminders_the_planner_then_queues(
    services: Services,
    clock: FakeClock,
    cast: Cast,
    leader: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``tocns reminders preview``: each report's T−1, on the day and escalation, to whom."""
    from bot.reminders.planner import preview
    from tests.feedback.test_apikeys import _cli

    clock.set(at(2026, 3, 10, 9))  # Tuesday: a street light, 2 working days to answer
    _submit(services, cast.neighbour, "dien", "Đèn đường xóm 5 hỏng", clock())
    with Session(services.engine) as session:
        place = commune(session)
        names = {p: person(session, p).display_name for p in (cast.economy, cast.office, leader)}
        items = preview(session, place, clock(), at(2026, 3, 14, 0), VN)
    shown = sorted(
        (i["at"], i["recipient_id"], i["kind"], i["deadline"], i["stage"], i["due"])
        for i in items
        if i.get("report") == "PA-0001"
    )
    assert shown == [
        ("2026-03-11T08:00:00+07:00", cast.economy, KIND_DUE, "answer", "before", "2026-03-12"),
        ("2026-03-12T08:00:00+07:00", cast.economy, KIND_DUE, "answer", "today", "2026-03-12"),
        ("2026-03-12T17:00:00+07:00", cast.office, KIND_LATE, "answer", "late", "2026-03-12"),
        ("2026-03-12T17:00:00+07:00", leader, KIND_LATE, "answer", "late", "2026-03-12"),
    ]
    previewed = {i["dedupe_key"] for i in items if i.get("report")}
    _walk(services, clock, at(2026, 3, 14, 0))
    assert {r.dedupe_key for r in _notices(services)} == previewed  # what was then queued

    run = _cli(services, monkeypatch, capsys)
    code, out = run("reminders", "preview", "--from", "2026-03-10", "--days", "4")
    assert code == 0
    lines = [line for line in out.splitlines() if "PA-0001" in line]
    assert len(lines) == 4
    assert "11/03" in lines[0] and "08:00" in lines[0]
    assert names[cast.economy] in lines[0]
    assert "Nhắc hạn phản ánh – trả lời lần đầu, hạn 12/03/2026" in lines[0]
    assert {names[cast.office], names[leader]} == {
        name for name in names.values() for line in lines[2:] if name in line
    }
    assert "Phản ánh quá hạn (báo Văn phòng và lãnh đạo xã) – trả lời lần đầu" in lines[3]
    code, out = run("reminders", "preview", "--from", "2026-03-10", "--days", "4", "--json")
    assert code == 0 and {i["dedupe_key"] for i in json.loads(out) if i["report"]} == previewed


def test_the_preview_names_a_unit_without_officers_for_a_reports_reminder(
    services: Services, clock: FakeClock, cast: Cast
) -> None:
    from bot.reminders.planner import preview

    clock.set(at(2026, 3, 10, 9))
    _submit(services, cast.neighbour, "y_te", "Nghi ngộ độc thực phẩm sau đám cưới", clock())
    with Session(services.engine) as session:
        items = preview(session, commune(session), clock(), at(2026, 3, 12, 0), VN)
    [reminder] = [i for i in items if i.get("report") == "PA-0001" and i["stage"] == "today"]
    assert (reminder["recipient"], reminder["staffed"], reminder["dedupe_key"]) == (
        "Trạm Y tế xã",
        False,
        "",
    )
