"""A simulated month of residents' reports on an injected clock.

300 reports from 12 villages across every category, March 2026; units answer at random
speeds (some late, some never), the office closes some. The planner runs every three
hours through the month and the week after. Checked against the raw rows, never against
the code under test's own figures:

* every reminder is queued once (no dedupe key twice, no (report, deadline, stage,
  person) twice);
* a report whose first answer came after its deadline, or never, was escalated once
  to the office and once to each commune leader; one answered in time never was;
* non-urgent reminders go at allowed local times (not in quiet hours, not on Sunday);
* the month's statistics equal a recount from the report rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from sqlmodel import Session, col, select

from bot.communes import villages_of
from bot.feedback import stats, store
from bot.feedback.deadlines import KIND_DUE, KIND_LATE
from bot.feedback.status import Status
from bot.reminders.delivery import OutboxDelivery
from bot.reminders.policy import load_policy
from bot.services import Services
from db.models import FeedbackCategory, FeedbackReport, OutboxMessage, Unit
from tests.feedback.conftest import VN, commune, in_session, person
from tests.helpers import FakeClock, add_person
from tests.reminders.util import FakeTime, RecordingSender, only_test_plan, run_pass

REPORTS = 300
VILLAGES = 12
START = dt.datetime(2026, 3, 2, 7, tzinfo=VN)  # Monday 2 March 2026


def _people(services: Services) -> tuple[list[int], dict[int, int], int, int]:
    """Three residents per village; one officer per unit; the office; a commune leader."""
    with Session(services.engine) as session:
        villages = [v.name for v in villages_of(session, commune(session).id or 0)][:VILLAGES]
        units = session.exec(select(Unit).where(Unit.commune_id == commune(session).id)).all()
    assert len(villages) == VILLAGES
    residents = [
        add_person(services, name=f"Dân {v} {n}", village=v, chat_id=f"r-{i}-{n}")
        for i, v in enumerate(villages)
        for n in range(3)
    ]
    officers = {
        unit.id or 0: add_person(
            services,
            name=f"Cán bộ {unit.name}",
            roles=("unit",),
            unit=unit.name,
            chat_id=f"u-{unit.id}",
        )
        for unit in units
    }
    office = add_person(services, name="Văn Phòng", roles=("office",), chat_id="office")
    leader = add_person(services, name="Chủ Tịch", roles=("commune_leader",), chat_id="leader")
    return residents, officers, office, leader


async def test_a_month_of_reports_reminds_once_escalates_late_ones_and_counts_right(
    services: Services, clock: FakeClock
) -> None:
    only_test_plan(services)
    rng = random.Random(2026)
    residents, officers, office, leader = _people(services)
    with Session(services.engine) as session:
        categories = store.active_categories(session, commune(session).id or 0)
        category_ids = [c.id or 0 for c in categories]
        urgent = {c.id for c in categories if c.urgent}
        session.commit()  # the commune's categories, made on first use
    # What happens, and when: submissions spread over March's working hours; each
    # report answered after a random delay (a tenth never); a third then closed.
    events: list[tuple[dt.datetime, str, int]] = []
    for index in range(REPORTS):
        day = rng.randrange(0, 30)
        at = START + dt.timedelta(days=day, hours=rng.uniform(0, 13))
        events.append((at, "submit", index))
        if rng.random() < 0.9:
            answer_at = at + dt.timedelta(hours=rng.expovariate(1 / 40))
            events.append((answer_at, "answer", index))
            if rng.random() < 0.33:
                events.append((answer_at + dt.timedelta(hours=rng.uniform(1, 72)), "close", index))
    events.sort(key=lambda event: (event[0], event[1] != "submit"))
    ids: dict[int, int] = {}
    fake_time = FakeTime()
    delivery = OutboxDelivery(
        services.engine,
        {"console": RecordingSender()},
        clock=clock,
        monotonic=fake_time,
        sleep=fake_time.sleep,
    )
    clock.set(START.astimezone(dt.UTC))
    next_pass = clock()
    end = (START + dt.timedelta(days=38)).astimezone(dt.UTC)
    for moment, action, index in [*events, (end, "end", -1)]:
        moment = moment.astimezone(dt.UTC)
        while next_pass <= moment:
            clock.set(next_pass)
            run_pass(services)
            await delivery.run_until_idle()
            next_pass += dt.timedelta(hours=3)
        clock.set(moment)
        await delivery.run_until_idle()  # the sender works every minute: what is due goes
        if action == "submit":
            who = residents[index % len(residents)]
            cat = category_ids[index % len(category_ids)]

            def submit(session: Session, who: int = who, cat: int = cat, index: int = index) -> int:
                report = store.submit(
                    session,
                    commune=commune(session),
                    reporter_id=who,
                    new=store.NewReport(category_id=cat, text=f"Phản ánh số {index}: cần xử lý"),
                    now=clock(),
                    tz=VN,
                ).report
                return report.id or 0

            ids[index] = in_session(services, submit)
        elif action == "answer":

            def answer(session: Session, index: int = index) -> None:
                report = session.get(FeedbackReport, ids[index])
                assert report is not None
                if report.unit_id is None:  # nobody leads this category: the office routes it
                    unit = next(iter(officers))
                    store.assign(
                        session,
                        report.id or 0,
                        by=person(session, office),
                        unit_id=unit,
                        now=clock(),
                        tz=VN,
                    )
                    session.refresh(report)
                officer = officers[report.unit_id or 0]
                store.answer(
                    session,
                    report.id or 0,
                    by=person(session, officer),
                    text="Đã xử lý xong, cảm ơn bà con.",
                    now=clock(),
                    tz=VN,
                )

            in_session(services, answer)
        elif action == "close":
            in_session(
                services,
                lambda s, report=ids[index]: store.close(
                    s, report, by=person(s, office), note="", now=clock(), tz=VN
                ),
            )

    with Session(services.engine) as session:
        reports = {r.id: r for r in session.exec(select(FeedbackReport)).all()}
        rows = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.kind).in_([KIND_DUE, KIND_LATE]))
        ).all()
        policy = load_policy(commune(session).settings)
        codes = {r.code: r for r in reports.values()}
        names = {c.id: c.name for c in session.exec(select(FeedbackCategory)).all()}
        allowed = {c.id: c.answer_days for c in session.exec(select(FeedbackCategory)).all()}
        units = {u.id: u.name for u in session.exec(select(Unit)).all()}
    assert len(reports) == REPORTS
    assert {r.category_id for r in reports.values()} == set(category_ids)  # every category
    live = [r for r in rows if r.status == "sent"]
    # Once: no key twice, and no (report, deadline, stage, person) twice.
    assert max(Counter(r.dedupe_key for r in rows).values()) == 1
    facts = Counter(
        tuple(r.dedupe_key.split(":")[2:4]) + (r.dedupe_key.split(":")[5], r.person_id)
        for r in live
    )
    assert max(facts.values()) == 1

    # Escalated once to the office and once to the leader exactly when the first answer
    # was still missing when the escalation was due: at the deadline for urgent reports,
    # else at the first allowed time after it (an answer in the night stops it).
    def escalation_time(r: FeedbackReport) -> dt.datetime:
        due = r.answer_due_at.astimezone(VN)
        if r.category_id in urgent:
            return due
        return policy.next_allowed(due.replace(tzinfo=None)).replace(tzinfo=VN)

    late = {
        code
        for code, r in codes.items()
        if r.answered_at is None or r.answered_at > escalation_time(r)
    }
    escalated: dict[str, set[int | None]] = {}
    for r in live:
        if r.kind == KIND_LATE and r.dedupe_key.split(":")[3] == "answer":
            escalated.setdefault(r.dedupe_key.split(":")[2], set()).add(r.person_id)
    assert set(escalated) == late
    assert all(people == {office, leader} for people in escalated.values())
    assert len(late) > 20 and len(late) < REPORTS - 20  # the month has both kinds
    # Non-urgent reminders at allowed local times.
    for r in live:
        report = codes[r.dedupe_key.split(":")[2]]
        if report.category_id not in urgent:
            local = r.due_at.astimezone(VN).replace(tzinfo=None)
            assert policy.allowed(local), (r.dedupe_key, local)
    # The month's statistics, recounted from the rows.
    now = clock()
    with Session(services.engine) as session:
        month = stats.month_stats(
            session,
            commune(session).id or 0,
            dt.date(2026, 3, 1),
            tz=VN,
            now=now,
            only_unit=None,
            no_unit="–",
        )
    in_march = [r for r in reports.values() if r.created_at.astimezone(VN).month == 3]
    answered = [r for r in in_march if r.answered_at is not None]
    assert month.total.received == len(in_march)
    assert month.total.answered == len(answered)
    assert month.total.on_time == sum(r.answered_at <= r.answer_due_at for r in answered)
    assert month.total.closed == sum(r.status == Status.CLOSED for r in in_march)
    assert sum(t.received for _name, t in month.by_category) == len(in_march)
    assert dict((n, t.received) for n, t in month.by_category) == {
        name: n for name, n in Counter(names[r.category_id] for r in in_march).items()
    }
    # Per answering unit: received, on time, and the average in working days (a day
    # counted from 17:00 is the next one; Sundays and the commune's holidays skipped).

    def working_days(r: FeedbackReport) -> int:
        def counted_day(moment: dt.datetime, late: bool) -> dt.date:
            local = moment.astimezone(VN)
            day = local.date()
            if local.time() > dt.time(17) or (late and local.time() == dt.time(17)):
                day += dt.timedelta(days=1)
            while policy.is_day_off(day):
                day += dt.timedelta(days=1)
            return day

        assert r.answered_at is not None
        day, end, days = counted_day(r.created_at, True), counted_day(r.answered_at, False), 0
        while day < end:
            day += dt.timedelta(days=1)
            days += not policy.is_day_off(day)
        return days

    by_unit: dict[str, list[FeedbackReport]] = {}
    for r in in_march:
        by_unit.setdefault(units.get(r.unit_id or 0, "–"), []).append(r)
    assert {n for n, _t in month.by_unit} == set(by_unit)
    for name, tally in month.by_unit:
        rows_of = by_unit[name]
        done = [r for r in rows_of if r.answered_at is not None]
        assert tally.received == len(rows_of)
        assert tally.on_time == sum(r.answered_at <= r.answer_due_at for r in done)
        expected = sum(working_days(r) for r in done) / len(done) if done else None
        assert tally.average_days == expected, name
    assert month.total.average_days == sum(working_days(r) for r in answered) / len(answered)
    # On time exactly when the answer took no more working days than the category allows.
    assert all(
        (r.answered_at <= r.answer_due_at) == (working_days(r) <= allowed[r.category_id])
        for r in answered
    )
