"""``tocns plan``: import a plan, read deadlines and targets, write the template, list plans."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from bot.commands.base import (
    CliArgs,
    CommandTree,
    open_services,
    parse_command,
    print_json,
    require_commune,
)
from bot.i18n import N_, Translator
from bot.plans.deadline import DeadlineParseError, parse_deadline
from bot.plans.target import TargetParseError, parse_target

KIND_WORDS = {
    "once": N_("once"),
    "recurring": N_("recurring"),
    "ongoing": N_("ongoing"),
    "on_event": N_("when asked"),
}
REPEAT_WORDS = {
    "monthly": N_("monthly"),
    "quarterly": N_("quarterly"),
    "half_yearly": N_("every 6 months"),
    "yearly": N_("yearly"),
}
OP_WORDS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
HOW_WORDS = {"same": N_("same name"), "alias": N_("other name")}

MSG_NEED_DEADLINE = N_(
    'A completion time is needed, for example: tocns plan parse-deadline "Quý III/2025"'
)
MSG_DEADLINE = N_("Kind: {kind} · Due: {due} · Repeats: {repeat}")
MSG_NEED_TARGET = N_('A target is needed, for example: tocns plan parse-target "≥ 70%"')
MSG_TARGET_ACHIEVED = N_("Qualitative target: achieved / not achieved")
MSG_TARGET_BETWEEN = N_("Between {low} – {high}")
MSG_TARGET_TOP = N_("Ranked in the top {value}")
MSG_NOT_IMPORTED = N_(
    "Plan not imported: the file {file} has {count} errors (nothing was written):"
)
MSG_CHECKED = N_(
    "Checked (nothing written, --dry-run): plan {plan} – {indicators} indicators, {tasks} tasks."
)
MSG_IMPORTED = N_("Imported: plan {plan} – {indicators} indicators, {tasks} tasks.")
MSG_DEACTIVATED = N_(
    "No longer in the file (no longer followed): {indicators} indicators, {tasks} tasks."
)
MSG_UNITS = N_("Units (name in the file → unit in the system):")
MSG_UNIT_MAPPING = N_("{raw} → {unit} ({how})")
MSG_UNIT_MAPPING_NEW = N_("{raw} → {unit} ({how}, new unit)")
MSG_NOTE = N_("Note: {warning}")
MSG_TEMPLATE_SUFFIX = N_(
    "The template must end in .xlsx, for example: tocns plan template -o ke-hoach.xlsx"
)
MSG_TEMPLATE_WRITTEN = N_(
    "Wrote the template {file} (see the instructions in the “Hướng dẫn” sheet)."
)
MSG_NO_PLANS = N_("No plans yet. Import one with: tocns plan import FILE")
MSG_PLAN_ROW = N_("{plan} ({commune}): {indicators} indicators, {tasks} tasks – {title}")
MSG_BAD_DATE = N_("Not a valid date: {value} (write it as YYYY-MM-DD)")
MSG_NO_TASK = N_("No task {task} in the plan {plan}.")
MSG_DUE_SET = N_("Set the deadline {due} for task {task} ({plan}).")


def _today(args: CliArgs) -> dt.date | None:
    return dt.date.fromisoformat(args.today) if getattr(args, "today", None) else None


def _deadline(t: Translator, text: str, today: dt.date | None) -> dict[str, Any]:
    try:
        return parse_deadline(text, today).to_json()
    except DeadlineParseError as error:
        return {"error": t.gettext(error.message_id, **error.params)}


def _target(t: Translator, text: str) -> dict[str, Any]:
    try:
        return parse_target(text).to_json()
    except TargetParseError as error:
        return {"error": t.gettext(error.message_id, **error.params)}


def cmd_parse_deadline(args: CliArgs) -> int:
    """Read a completion time written in Vietnamese."""
    t = args.t
    today = _today(args)

    def describe(result: dict[str, Any]) -> None:
        due = t.date(dt.date.fromisoformat(result["due"])) if result["due"] else "—"
        repeat = REPEAT_WORDS.get(result["repeat"] or "")
        print(
            t.gettext(
                MSG_DEADLINE,
                kind=t.gettext(KIND_WORDS[result["kind"]]),
                due=due,
                repeat=t.gettext(repeat) if repeat else "—",
            )
        )

    return parse_command(args, lambda text: _deadline(t, text, today), MSG_NEED_DEADLINE, describe)


def cmd_parse_target(args: CliArgs) -> int:
    """Read an indicator target written in Vietnamese."""
    t = args.t

    def describe(result: dict[str, Any]) -> None:
        op = result["op"]
        if op == "achieved":
            print(t.gettext(MSG_TARGET_ACHIEVED))
        elif op == "between":
            print(t.gettext(MSG_TARGET_BETWEEN, low=result["low"], high=result["high"]))
        elif op == "rank_top":
            print(t.gettext(MSG_TARGET_TOP, value=result["value"]))
        else:
            print(f"{OP_WORDS[op]} {result['value']}")

    return parse_command(args, lambda text: _target(t, text), MSG_NEED_TARGET, describe)


def _print_file_problems(t: Translator, path: Path, problems: list[Any]) -> None:
    print(t.gettext(MSG_NOT_IMPORTED, file=path.name, count=len(problems)))
    for problem in problems:
        print(f"  - {problem.text(t)}")


def cmd_import(args: CliArgs) -> int:
    """Validate a plan file and import it whole (or nothing)."""
    # Imported here, as everything that needs the database (see bot/commands/base.py).
    from sqlmodel import Session

    from bot.plans.imports import import_plan, read_plan_file

    t = args.t
    path = Path(args.file)
    raw = read_plan_file(path)
    services = open_services(args.settings)
    now = services.clock()
    today = now.astimezone(services.tz).date()
    with Session(services.engine) as session:
        _, commune_id = require_commune(session, args)
        result = import_plan(session, raw, commune_id=commune_id, today=today, now=now)
        if result.ok and not args.dry_run:
            session.commit()
        else:
            session.rollback()
    if args.json:
        print_json({**result.to_json(t), "dry_run": bool(args.dry_run)})
        return 0 if result.ok else 1
    if not result.ok:
        _print_file_problems(t, path, result.problems)
        return 1
    counts = {"plan": result.plan, "indicators": result.indicators, "tasks": result.tasks}
    print(t.gettext(MSG_CHECKED if args.dry_run else MSG_IMPORTED, **counts))
    if result.deactivated_indicators or result.deactivated_tasks:
        print(
            t.gettext(
                MSG_DEACTIVATED,
                indicators=result.deactivated_indicators,
                tasks=result.deactivated_tasks,
            )
        )
    if result.units:
        print(t.gettext(MSG_UNITS))
        for mapping in result.units:
            line = MSG_UNIT_MAPPING_NEW if mapping.new else MSG_UNIT_MAPPING
            how = t.gettext(HOW_WORDS[mapping.how])
            print("  " + t.gettext(line, raw=mapping.raw, unit=mapping.unit, how=how))
    for warning in result.warnings:
        print(t.gettext(MSG_NOTE, warning=warning.text(t)))
    return 0


def cmd_template(args: CliArgs) -> int:
    """Write the empty spreadsheet template."""
    from bot.plans.imports import write_xlsx

    path = Path(args.output)
    if path.suffix.lower() != ".xlsx":
        print(args.t.gettext(MSG_TEMPLATE_SUFFIX))
        return 1
    write_xlsx(None, path)
    print(args.t.gettext(MSG_TEMPLATE_WRITTEN, file=path))
    return 0


def cmd_list(args: CliArgs) -> int:
    """List the plans in the database."""
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from db.models import Commune, Indicator, Plan, Task

    services = open_services(args.settings)
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
        print(args.t.gettext(MSG_NO_PLANS))
    for row in rows:
        print(args.t.gettext(MSG_PLAN_ROW, **{**row, "title": row["title"][:80]}))
    return 0


def cmd_set_due(args: CliArgs) -> int:
    """Set the deadline of a task (e.g. one "on event", once the event happened)."""
    from sqlmodel import Session, select

    from bot.plans.store import set_due
    from db.models import Person, Plan, Task

    t = args.t
    try:
        due = dt.date.fromisoformat(args.due)
    except ValueError:
        print(t.gettext(MSG_BAD_DATE, value=args.due), file=sys.stderr)
        return 1
    services = open_services(args.settings, sample=False)
    with Session(services.engine) as session:
        found = session.exec(
            select(Task, Plan)
            .join(Plan, Plan.id == Task.plan_id)  # type: ignore[arg-type]
            .where(Plan.slug == args.plan, Task.number == args.task)
        ).first()
        if found is None:
            print(t.gettext(MSG_NO_TASK, task=args.task, plan=args.plan), file=sys.stderr)
            return 1
        task, plan = found
        actor = Person(
            display_name="CLI", commune_id=plan.commune_id
        )  # not stored: names the audit
        set_due(session, task, due, actor=actor, now=services.clock())
        session.commit()
    print(t.gettext(MSG_DUE_SET, due=t.date(due), task=args.task, plan=args.plan))
    return 0


def register(tree: CommandTree) -> None:
    """Add the ``plan`` command group."""
    _ = tree.t.gettext
    plan = tree.group(
        "plan", N_("commune plans: import, parse-deadline, parse-target, template, list")
    )
    imp = plan.command(
        "import", cmd_import, N_("validate and import a plan file (.yaml, .xlsx, .csv)")
    )
    imp.add_argument("file", help=_("the plan file"))
    imp.add_argument("--dry-run", action="store_true", help=_("check everything, write nothing"))
    imp.add_argument("--json", action="store_true", help=_("print JSON"))
    imp.add_argument("--commune", metavar="SLUG", help=_("the commune (default: the first)"))
    set_due_cmd = plan.command(
        "set-due", cmd_set_due, N_("set the deadline of a task (e.g. on event)")
    )
    set_due_cmd.add_argument("--plan", required=True, metavar="SLUG", help=_("the plan"))
    set_due_cmd.add_argument("task", metavar="NUMBER", help=_('the task number, e.g. "43"'))
    set_due_cmd.add_argument("due", metavar="YYYY-MM-DD", help=_("the new deadline"))
    deadline = plan.command(
        "parse-deadline",
        cmd_parse_deadline,
        N_('read a completion time, e.g. "Quý III/2025"'),
    )
    deadline.add_argument(
        "text", nargs="?", help=_('for example: "Tháng 7/2025, duy trì hàng năm"')
    )
    deadline.add_argument("--json", action="store_true", help=_("print JSON"))
    deadline.add_argument(
        "--batch", metavar="FILE", help=_('JSON lines with a "text" field (- for stdin)')
    )
    deadline.add_argument(
        "--today", metavar="YYYY-MM-DD", help=_("the date that supplies a missing year")
    )
    target = plan.command(
        "parse-target",
        cmd_parse_target,
        N_('read an indicator target, e.g. "≥ 70", "Top 20", "Đạt"'),
    )
    target.add_argument("text", nargs="?", help=_('for example: "≥ 70"'))
    target.add_argument("--json", action="store_true", help=_("print JSON"))
    target.add_argument(
        "--batch", metavar="FILE", help=_('JSON lines with a "text" field (- for stdin)')
    )
    template = plan.command("template", cmd_template, N_("write the empty XLSX template"))
    template.add_argument(
        "-o", "--output", required=True, metavar="FILE.xlsx", help=_("where to write it")
    )
    listing = plan.command("list", cmd_list, N_("list the imported plans"))
    listing.add_argument("--json", action="store_true", help=_("print JSON"))
