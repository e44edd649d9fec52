"""``tocns plan``: import a plan, read deadlines and targets, write the template, list plans."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from bot.cli import EXTRA_COMMANDS, batch_lines, print_json
from bot.i18n import translator

KIND_WORDS = {
    "once": "một lần",
    "recurring": "định kỳ",
    "ongoing": "thường xuyên",
    "on_event": "khi có yêu cầu",
}
REPEAT_WORDS = {
    "monthly": "hàng tháng",
    "quarterly": "hàng quý",
    "half_yearly": "6 tháng/lần",
    "yearly": "hàng năm",
}
OP_WORDS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
HOW_WORDS = {"same": "trùng tên", "alias": "tên khác"}


def _today(args: argparse.Namespace) -> dt.date | None:
    return dt.date.fromisoformat(args.today) if getattr(args, "today", None) else None


def _deadline(text: str, today: dt.date | None) -> dict[str, Any]:
    from bot.plans.deadline import DeadlineParseError, parse_deadline

    try:
        return parse_deadline(text, today).to_json()
    except DeadlineParseError as error:
        return {"error": translator("vi").gettext(error.message_id, **error.params)}


def _target(text: str) -> dict[str, Any]:
    from bot.plans.target import TargetParseError, parse_target

    try:
        return parse_target(text).to_json()
    except TargetParseError as error:
        return {"error": translator("vi").gettext(error.message_id, **error.params)}


def cmd_parse_deadline(args: argparse.Namespace) -> int:
    """Read a completion time written in Vietnamese."""
    today = _today(args)
    if args.batch:
        for text in batch_lines(args.batch, "text"):
            print_json(_deadline(text, today))
        return 0
    if args.text is None:
        print('Cần một thời gian hoàn thành, ví dụ: tocns plan parse-deadline "Quý III/2025"')
        return 1
    result = _deadline(args.text, today)
    if args.json:
        print_json(result)
    elif "error" in result:
        print(f"Lỗi: {result['error']}")
    else:
        due = dt.date.fromisoformat(result["due"]).strftime("%d/%m/%Y") if result["due"] else "—"
        repeat = REPEAT_WORDS.get(result["repeat"] or "", "—")
        print(f"Loại: {KIND_WORDS[result['kind']]} · Hạn: {due} · Lặp lại: {repeat}")
    return 1 if "error" in result else 0


def cmd_parse_target(args: argparse.Namespace) -> int:
    """Read an indicator target written in Vietnamese."""
    if args.batch:
        for text in batch_lines(args.batch, "text"):
            print_json(_target(text))
        return 0
    if args.text is None:
        print('Cần một chỉ tiêu, ví dụ: tocns plan parse-target "≥ 70%"')
        return 1
    result = _target(args.text)
    if args.json:
        print_json(result)
    elif "error" in result:
        print(f"Lỗi: {result['error']}")
    else:
        op = result["op"]
        if op == "achieved":
            print("Chỉ tiêu định tính: đạt / chưa đạt")
        elif op == "between":
            print(f"Trong khoảng {result['low']} – {result['high']}")
        elif op == "rank_top":
            print(f"Xếp hạng trong top {result['value']}")
        else:
            print(f"{OP_WORDS[op]} {result['value']}")
    return 1 if "error" in result else 0


def cmd_import(args: argparse.Namespace) -> int:
    """Validate a plan file and import it whole (or nothing)."""
    from sqlmodel import Session

    from bot.app import build_services, prepare_database
    from bot.core.people import find_commune
    from bot.plans.imports import MSG_NO_COMMUNE, PlanProblem, import_plan, read_plan_file
    from bot.settings import Settings

    path = Path(args.file)
    raw = read_plan_file(path)
    services = build_services(Settings())
    prepare_database(services)
    now = services.clock()
    today = now.astimezone(services.tz).date()
    t = translator("vi")
    with Session(services.engine) as session:
        commune = find_commune(session, args.commune)
        commune_id = commune.id if commune is not None else None
        if commune_id is None:
            problem = PlanProblem("", None, MSG_NO_COMMUNE, {"slug": args.commune or ""})
            if args.json:
                print_json({"error": problem.text(t)})
            else:
                print(f"Lỗi: {problem.text(t)}")
            return 1
        result = import_plan(session, raw, commune_id=commune_id, today=today, now=now)
        if result.ok and not args.dry_run:
            session.commit()
        else:
            session.rollback()
    if args.json:
        print_json({**result.to_json(t), "dry_run": bool(args.dry_run)})
        return 0 if result.ok else 1
    if not result.ok:
        print(f"Không nhập kế hoạch: tệp {path.name} có {len(result.problems)} lỗi (chưa ghi gì):")
        for problem in result.problems:
            print(f"  - {problem.text(t)}")
        return 1
    verb = "Kiểm tra xong (chưa ghi, --dry-run)" if args.dry_run else "Đã nhập"
    print(
        f"{verb}: kế hoạch {result.plan} – {result.indicators} chỉ tiêu, {result.tasks} nhiệm vụ."
    )
    if result.deactivated_indicators or result.deactivated_tasks:
        print(
            f"Không còn trong tệp (chuyển sang ngừng theo dõi): {result.deactivated_indicators} chỉ tiêu, "
            f"{result.deactivated_tasks} nhiệm vụ."
        )
    if result.units:
        print("Đơn vị (tên trong tệp → đơn vị trong hệ thống):")
        for mapping in result.units:
            new = ", đơn vị mới" if mapping.new else ""
            print(f"  {mapping.raw} → {mapping.unit} ({HOW_WORDS[mapping.how]}{new})")
    for warning in result.warnings:
        print(f"Lưu ý: {warning.text(t)}")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    """Write the empty spreadsheet template."""
    from bot.plans.imports import write_xlsx

    path = Path(args.output)
    if path.suffix.lower() != ".xlsx":
        print("Tệp mẫu phải có đuôi .xlsx, ví dụ: tocns plan template -o ke-hoach.xlsx")
        return 1
    write_xlsx(None, path)
    print(f"Đã ghi tệp mẫu {path} (xem hướng dẫn trong sheet “Hướng dẫn”).")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """List the plans in the database."""
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from bot.app import build_services, prepare_database
    from bot.settings import Settings
    from db.models import Commune, Indicator, Plan, Task

    services = build_services(Settings())
    prepare_database(services)
    rows: list[dict[str, Any]] = []
    with Session(services.engine) as session:
        for plan, commune in session.exec(
            select(Plan, Commune)
            .join(Commune, col(Commune.id) == Plan.commune_id)
            .order_by(col(Plan.id))
        ):
            indicators = session.exec(
                select(func.count())
                .select_from(Indicator)
                .where(Indicator.plan_id == plan.id, col(Indicator.active).is_(True))
            ).one()
            tasks = session.exec(
                select(func.count())
                .select_from(Task)
                .where(Task.plan_id == plan.id, col(Task.active).is_(True))
            ).one()
            rows.append(
                {
                    "plan": plan.slug,
                    "commune": commune.slug,
                    "title": plan.title,
                    "indicators": indicators,
                    "tasks": tasks,
                }
            )
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("Chưa có kế hoạch nào. Nhập bằng: tocns plan import FILE")
    for row in rows:
        print(
            f"{row['plan']} ({row['commune']}): {row['indicators']} chỉ tiêu, {row['tasks']} nhiệm vụ – {row['title'][:80]}"
        )
    return 0


def cmd_set_due(args: argparse.Namespace) -> int:
    """Set the deadline of a task (e.g. one "on event", once the event happened)."""
    from sqlmodel import Session, select

    from bot.app import build_services, prepare_database
    from bot.plans.store import set_due
    from bot.settings import Settings
    from db.models import Person, Plan, Task

    try:
        due = dt.date.fromisoformat(args.due)
    except ValueError:
        print(f"Ngày không hợp lệ: {args.due} (viết theo dạng YYYY-MM-DD)", file=sys.stderr)
        return 1
    services = build_services(Settings())
    prepare_database(services, sample=False)
    with Session(services.engine) as session:
        found = session.exec(
            select(Task, Plan)
            .join(Plan, Plan.id == Task.plan_id)  # type: ignore[arg-type]
            .where(Plan.slug == args.plan, Task.number == args.task)
        ).first()
        if found is None:
            print(f"Không thấy nhiệm vụ {args.task} trong kế hoạch {args.plan}.", file=sys.stderr)
            return 1
        task, plan = found
        actor = Person(
            display_name="CLI", commune_id=plan.commune_id
        )  # not stored: names the audit
        set_due(session, task, due, actor=actor, now=services.clock())
        session.commit()
    print(f"Đã đặt hạn {due:%d/%m/%Y} cho nhiệm vụ {args.task} ({args.plan}).")
    return 0


def register(sub: Any, add: Any) -> None:
    """Add the ``plan`` command group."""
    plan = sub.add_parser(
        "plan", help="commune plans: import, parse-deadline, parse-target, template, list"
    )
    actions = plan.add_subparsers(dest="plan_command", metavar="ACTION")
    imp = add(actions, "import", cmd_import, "validate and import a plan file (.yaml, .xlsx, .csv)")
    imp.add_argument("file", help="the plan file")
    imp.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    imp.add_argument("--json", action="store_true", help="print JSON")
    imp.add_argument("--commune", metavar="SLUG", help="the commune (default: the first)")
    set_due_cmd = add(actions, "set-due", cmd_set_due, "set the deadline of a task (e.g. on event)")
    set_due_cmd.add_argument("--plan", required=True, metavar="SLUG")
    set_due_cmd.add_argument("task", metavar="NUMBER", help='the task number, e.g. "43"')
    set_due_cmd.add_argument("due", metavar="YYYY-MM-DD")
    deadline = add(
        actions, "parse-deadline", cmd_parse_deadline, 'read a completion time, e.g. "Quý III/2025"'
    )
    deadline.add_argument("text", nargs="?", help='for example: "Tháng 7/2025, duy trì hàng năm"')
    deadline.add_argument("--json", action="store_true", help="print JSON")
    deadline.add_argument(
        "--batch", metavar="FILE", help='JSON lines with a "text" field (- for stdin)'
    )
    deadline.add_argument(
        "--today", metavar="YYYY-MM-DD", help="the date that supplies a missing year"
    )
    target = add(
        actions,
        "parse-target",
        cmd_parse_target,
        'read an indicator target, e.g. "≥ 70", "Top 20", "Đạt"',
    )
    target.add_argument("text", nargs="?", help='for example: "$\\geq 70$"')
    target.add_argument("--json", action="store_true", help="print JSON")
    target.add_argument(
        "--batch", metavar="FILE", help='JSON lines with a "text" field (- for stdin)'
    )
    template = add(actions, "template", cmd_template, "write the empty XLSX template")
    template.add_argument(
        "-o", "--output", required=True, metavar="FILE.xlsx", help="where to write it"
    )
    listing = add(actions, "list", cmd_list, "list the imported plans")
    listing.add_argument("--json", action="store_true", help="print JSON")


EXTRA_COMMANDS.append(register)
