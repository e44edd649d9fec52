"""A simulated year of the Trung Hội sample plan on an injected clock.

Every hour of 2026 the planner and the delivery wake (as the scheduler would), with
the fake clock set to that hour. Villages 1–6 report their tallies on the 10th of each
month; 7–12 never do. At the end, the reminders the policy implies — computed
independently by the pure functions over the whole year — must each have been sent
exactly once, at their planned local time, and nothing may have been sent in quiet
hours, on a Sunday or on a holiday.

    .venv/bin/python bench/bench_year.py [--days 365] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import machine  # noqa: E402


async def run(days: int) -> dict[str, object]:
    from sqlmodel import Session, col, select

    from bot.app import build_services, prepare_database
    from bot.reminders.delivery import OutboxDelivery
    from bot.reminders.planner import load_commune, plan_pass
    from bot.reminders.policy import TASK_KINDS, digest_times, planned_reminders, tally_steps
    from bot.settings import Settings
    from db.models import (
        ChatIdentity,
        Commune,
        OutboxMessage,
        Person,
        PersonRole,
        Tally,
        Unit,
        Village,
    )
    from tests.helpers import FakeClock
    from tests.reminders.util import TZ, RecordingSender

    directory = Path(tempfile.mkdtemp(prefix="tocns-year-"))
    start = dt.datetime(2026, 1, 1, 0, 0, tzinfo=TZ).astimezone(dt.UTC)
    end = start + dt.timedelta(days=days)
    clock = FakeClock(start)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=directory,
        database_url=f"sqlite:///{directory}/tocns.sqlite3",
        telegram_token=None,
        zalo_token=None,
    )
    services = build_services(settings, clock)
    prepare_database(services)
    chat = iter(range(100000, 200000))
    with Session(services.engine) as session:
        commune = session.exec(select(Commune)).one()
        villages = session.exec(
            select(Village).order_by(col(Village.position), col(Village.id))
        ).all()
        units = session.exec(select(Unit).where(Unit.commune_id == commune.id)).all()

        def person(name: str, roles: tuple[str, ...], **fields: object) -> None:
            p = Person(commune_id=commune.id, display_name=name, **fields)
            session.add(p)
            session.flush()
            assert p.id is not None
            for role in roles:
                session.add(PersonRole(person_id=p.id, role=role))
            session.add(ChatIdentity(person_id=p.id, channel="console", chat_id=str(next(chat))))

        for unit in units:
            person(f"Cán bộ {unit.name}", ("unit",), unit_id=unit.id)
        person("Văn phòng thường trực", ("office",))
        person("Chủ tịch xã", ("commune_leader",))
        for village in villages:
            person(f"Tổ viên {village.name}", ("team",), village_id=village.id)
            person(f"Tổ trưởng {village.name}", ("team", "leader"), village_id=village.id)
        session.commit()
        data = load_commune(session, commune, start.astimezone(TZ).date(), TZ)
        reporting = [v.id for v in villages[:6]]
        non_reporting = {v.id for v in villages[6:]}

    # What the policy implies for the year, from the pure functions alone.
    policy = data.policy
    expected: dict[str, dt.datetime] = {}
    for p in planned_reminders(
        [r.info for r in data.tasks], data.recipients, policy, start, end, tz=TZ
    ):
        expected[p.dedupe_key] = p.at
    office = data.with_role("office")
    for at, day in digest_times(policy, start, end, tz=TZ):
        for pid in data.with_role("office", "commune_leader"):
            expected[f"digest:{commune.id}:{day.isoformat()}:{pid}"] = at
    for step in tally_steps(policy, start, end, tz=TZ):
        month = f"{step.period.year}-{step.period.month:02d}"
        if step.office:
            for pid in office:
                expected[f"tally:{month}:{step.stage}:{pid}"] = step.at
            continue
        for pid, p in data.people.items():
            if p.village_id in non_reporting and data.roles.get(pid, set()) & {"team", "leader"}:
                expected[f"tally:{month}:{step.stage}:{pid}"] = step.at

    sender = RecordingSender()
    delivery = OutboxDelivery(services.engine, {"console": sender}, clock=clock)
    wall = time.perf_counter()
    ticks = 0
    while clock() < end:
        local = clock().astimezone(TZ)
        if local.day == 10 and local.hour == 10:  # half of the villages report
            with Session(services.engine) as session:
                for vid in reporting:
                    session.add(
                        Tally(
                            village_id=vid,
                            period=local.date().replace(day=1),
                            code="vneid",
                            value=ticks,
                        )
                    )
                session.commit()
        plan_pass(services.engine, clock(), TZ)
        await delivery.run_until_idle()
        ticks += 1
        clock.advance(hours=1)
    elapsed = time.perf_counter() - wall

    with Session(services.engine) as session:
        all_rows = session.exec(select(OutboxMessage)).all()
    sent = {r.dedupe_key: r for r in all_rows if r.status == "sent"}
    statuses = Counter(r.status for r in all_rows)
    kinds = Counter(r.kind for r in all_rows if r.status == "sent")
    missing = sorted(k for k in expected if k not in sent)
    wrong_time = sorted(k for k, at in expected.items() if k in sent and sent[k].sent_at != at)
    unexpected = sorted(
        k
        for k, r in sent.items()
        if k not in expected and (r.kind in TASK_KINDS or r.kind.startswith(("tally", "digest")))
    )
    quiet = [
        k
        for k, r in sent.items()
        if r.sent_at is not None and not policy.allowed(r.sent_at.astimezone(TZ))
    ]
    late = [k for k, r in sent.items() if r.sent_at is not None and r.sent_at != r.due_at]
    deliveries = len(sender.delivered)
    return {
        "days": days,
        "ticks": ticks,
        "seconds": round(elapsed, 1),
        "expected": len(expected),
        "sent": len(sent),
        "deliveries": deliveries,
        "duplicates": deliveries - len(sent),
        "missing": len(missing),
        "unexpected": len(unexpected),
        "wrong_time": len(wrong_time),
        "sent_late": len(late),
        "in_quiet_time": len(quiet),
        "statuses": dict(statuses),
        "sent_by_kind": dict(sorted(kinds.items())),
        "examples_missing": missing[:5],
        "examples_unexpected": unexpected[:5],
        "machine": machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.days))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    ok = all(
        result[k] == 0
        for k in ("duplicates", "missing", "unexpected", "wrong_time", "in_quiet_time", "sent_late")
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
