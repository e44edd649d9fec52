"""Unit officers: their unit's plan tasks, progress updates and evidence (/nhiemvu)."""

from __future__ import annotations

import re

from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.flows import Flow, Step
from bot.core.messages import Choice, Reply
from bot.core.picks import (
    TASK_WORDS,
    Entry,
    looks_like_number,
    named_number,
    offered_choices,
    pick_entry,
)
from bot.core.registry import Registry
from bot.handlers.start import CommandChoice
from bot.i18n import N_
from bot.plans import store
from bot.plans.choices import (
    TaskChoice,
    TaskDoneChoice,
    TaskEvidenceChoice,
    TaskPageChoice,
    TaskProgressChoice,
)
from bot.plans.evidence import (
    MAX_BYTES,
    MSG_NOT_FETCHED,
    MSG_TOO_LARGE,
    StoredEvidence,
    find_link,
    link_evidence,
    store_file,
)
from bot.plans.status import REASON_LABELS, STATUS_LABELS, Status
from bot.tallies.parser import words_value
from bot.text import fold, shorten
from db.models import Role, Unit

PAGE = 8
UNIT_ROLES = frozenset({Role.UNIT})
# A progress figure as people type it (folded): "40", "40%", "40 phần trăm", "bốn mươi",
# "được 40% rồi", "một nửa", "xong". The explicit form ("40%") also works on a task's card.
_AROUND = r"(?:(?:duoc|dat|da|lam duoc|khoang|chung)\s+)*"
_AFTER = r"(?:\s+(?:roi|nhe|nha|a|thoi))*[\s.!]*"
_PERCENT_SIGN = r"\s*(?:%|phan\s*tram)"
_PERCENT = re.compile(
    rf"^\s*{_AROUND}(?:(?P<digits>\d{{1,3}})(?:[.,]\d+)?|(?P<words>[a-z ]+?))"
    rf"(?P<sign>{_PERCENT_SIGN})?{_AFTER}$"
)
_HALF = {"mot nua", "nua", "nua chung"}
_DONE = {"xong", "da xong", "xong roi", "hoan thanh", "da hoan thanh"}
_SKIP = {"bo qua", "-", "khong", "skip", "k", "ko", "khong co"}

MSG_NO_UNIT = N_(
    "Your account is not linked to a unit yet. Ask the standing office for an invite code, "
    "then send /lienket followed by the code."
)
MSG_NOT_ALLOWED = N_("This is for unit officers. Type /menu to see what you can do.")
MSG_ASK_EVIDENCE = N_(
    "Send the evidence for task {number} now: a photo or a document (a signed paper, a photo "
    "of the product…). On Zalo you can send a photo or paste a link."
)
MSG_NOT_UNIT_TASK = N_(
    "Your unit has no task {number}. Your unit's tasks are numbered: {numbers}. "
    "Type one of these, or pick from the list."
)
MSG_ASK_EVIDENCE_AGAIN = N_("Please send a photo, a document or a link. Type /huy to stop.")


class ProgressFlow(Flow, name="taskprog"):
    """A progress report: the percentage, then a short note."""

    percent = Step()
    note = Step()


class EvidenceFlow(Flow, name="taskev"):
    """Evidence for a task (and the 100% report that waits for it)."""

    file = Step()


def _percent(ctx: Context, value: float) -> str:
    return ctx.t.percent(value / 100, digits=0)


_PERIOD_KEY = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4])|-H([12]))?$")
ROMAN = ("I", "II", "III", "IV")


def period_words(ctx: Context, key: str) -> str:
    """A reporting period in words: "2026-03" → "tháng 3/2026", "2026-Q4" → "quý IV/2026"."""
    match = _PERIOD_KEY.match(key)
    if match is None:
        return key
    year, month, quarter, half = match.groups()
    if month:
        return ctx._("month {month}/{year}", month=int(month), year=year)
    if quarter:
        return ctx._("quarter {quarter}/{year}", quarter=ROMAN[int(quarter) - 1], year=year)
    if half:
        first = half == "1"
        message = N_("first half of {year}") if first else N_("second half of {year}")
        return ctx._(message, year=year)
    return ctx._("year {year}", year=year)


def deadline_label(ctx: Context, view: store.TaskView) -> str:
    """When a task is due, in words and as a date."""
    task = view.task
    due = view.status.due
    if task.kind == "on_event" and due is None:
        return ctx._("when requested (no date yet)")
    if due is None:
        return ctx._("no deadline")
    date = ctx.t.date(due)
    if task.kind in ("recurring", "ongoing") and view.status.period.key:
        return ctx._(
            "{date} ({period})", date=date, period=period_words(ctx, view.status.period.key)
        )
    return date


def status_line(ctx: Context, view: store.TaskView) -> str:
    """Status and progress of a task on one line."""
    label = ctx._(STATUS_LABELS[view.status.status])
    return f"{label} · {_percent(ctx, view.status.percent)}"


def _icon(view: store.TaskView) -> str:
    if view.status.red:
        return "🔴"
    if view.status.status == Status.DONE:
        return "✅"
    if view.status.status == Status.AWAITING_REVIEW:
        return "⏳"
    return "🔵"


def task_card(ctx: Context, view: store.TaskView) -> Reply:
    """Everything about one task, with what the officer can do next."""
    task = view.task
    lines = [ctx._("📋 Task {number}", number=task.number), task.text]
    if view.unit:
        lines.append(ctx._("Lead unit: {unit}", unit=view.unit))
    if task.output:
        lines.append(ctx._("Expected output: {output}", output=shorten(task.output, 300)))
    written = task.deadline_raw or "—"
    lines.append(
        ctx._("Completion time: {written} → {due}", written=written, due=deadline_label(ctx, view))
    )
    lines.append(ctx._("Status: {status}", status=status_line(ctx, view)))
    current = view.status.periods[-1]
    if current.period.key != view.status.period.key:
        # A missed period is the headline; say where this period stands too.
        lines.append(
            ctx._(
                "Period {period} was not completed. This period ({current}): {status}",
                period=period_words(ctx, view.status.period.key),
                current=period_words(ctx, current.period.key),
                status=f"{ctx._(STATUS_LABELS[current.status])} · {_percent(ctx, current.percent)}",
            )
        )
    if view.status.red:
        reasons = "; ".join(ctx._(REASON_LABELS[r]) for r in view.status.reasons)
        lines.append(ctx._("🔴 Red alert: {reasons}", reasons=reasons))
    choices = [
        Choice(ctx._("📈 Update progress"), TaskProgressChoice(view.id).pack()),
        Choice(ctx._("📎 Send evidence"), TaskEvidenceChoice(view.id).pack()),
        Choice(ctx._("✅ Report done"), TaskDoneChoice(view.id).pack()),
        Choice(ctx._("📋 All tasks"), CommandChoice("nhiemvu").pack()),
    ]
    return Reply(text="\n".join(lines), choices=choices)


def require_officer(ctx: Context) -> None:
    """Refuse anyone but an officer linked to a unit."""
    if not ctx.has_role(Role.UNIT):
        raise UserError(MSG_NOT_ALLOWED)
    if ctx.person.unit_id is None:
        raise UserError(MSG_NO_UNIT)


def _officer_task(ctx: Context, task_id: int) -> store.TaskView:
    require_officer(ctx)
    return store.task_for_officer(ctx.session, task_id, ctx.person, ctx.today)


def list_tasks(ctx: Context, offset: int = 0) -> list[Reply]:
    """The unit's tasks, most urgent first, one page at a time."""
    require_officer(ctx)
    assert ctx.person.unit_id is not None
    unit = ctx.session.get(Unit, ctx.person.unit_id)
    views = store.unit_tasks(ctx.session, ctx.person.unit_id, ctx.today)
    if not views:
        return [ctx.reply(N_("Your unit has no plan tasks yet."))]
    red = sum(1 for v in views if v.status.red)
    lines = [
        ctx._(
            "Tasks of {unit}: {count}, of which {red} with a red alert. Most urgent first:",
            unit=unit.name if unit else "",
            count=len(views),
            red=red,
        )
    ]
    page = views[offset : offset + PAGE]
    choices = []
    due_word = ctx._("Due")
    for view in page:
        lines.append(
            f"{_icon(view)} {view.task.number}. {shorten(view.task.text, 90)}\n"
            f"   {due_word}: {deadline_label(ctx, view)} · {status_line(ctx, view)}"
        )
        # The task's own number is in the text above; a choice shows only its position.
        choices.append(
            Choice(f"{_icon(view)} {shorten(view.task.text, 40)}", TaskChoice(view.id).pack())
        )
    if offset + PAGE < len(views):
        choices.append(Choice(ctx._("➡️ More tasks"), TaskPageChoice(offset + PAGE).pack()))
    choices.append(Choice(ctx._("📊 Our indicators"), CommandChoice("chitieu").pack()))
    lines.append(ctx._("Pick a task, or type its number, to update its progress or send evidence."))
    return [Reply(text="\n".join(lines), choices=choices)]


def pick_task(ctx: Context, text: str) -> str | list[Reply] | None:
    """A task of the unit named by its own number or its text, typed after the task list."""
    if not ctx.has_role(Role.UNIT) or ctx.person.unit_id is None:
        return None
    views = store.unit_tasks(ctx.session, ctx.person.unit_id, ctx.today)
    entries = [Entry(v.task.number, v.task.text, TaskChoice(v.id).pack()) for v in views]
    picked = pick_entry(text, entries)
    offered = offered_choices(ctx)
    card = next((c for c in offered if c.value.startswith(f"{TaskProgressChoice.prefix}:")), None)
    said = read_percent(text, explicit=True)
    plain = " ".join(re.sub(r"[^\w\s]", " ", fold(text[:80])).split())
    if picked is None and card is not None and plain in _DONE:
        # "xong rồi" typed on a task's card: the "Report done" button.
        done = next((c for c in offered if c.value.startswith(f"{TaskDoneChoice.prefix}:")), None)
        if done is not None:
            return done.value
    if picked is None and card is not None and said is not None:
        # "50%" typed on a task's card: the progress, not a task number.
        task = TaskProgressChoice.unpack(card.value.partition(":")[2])
        ctx.begin(ProgressFlow.percent, task_id=task.task_id)
        return progress_percent(ctx, text)
    if picked is not None or not looks_like_number(text) or not views:
        return picked
    return [
        ctx.reply(
            MSG_NOT_UNIT_TASK,
            offered,
            number=shorten(text.strip(), 20),
            numbers=", ".join(v.task.number for v in views),
        )
    ]


def read_percent(text: str, *, explicit: bool = False) -> int | None:
    """A progress percentage typed in digits or words; None if the text is not one.

    ``explicit``: only a figure that says it is a percentage ("50%", "năm mươi phần trăm").
    """
    folded = fold(text[:80]).strip()
    if not explicit:
        if folded in _HALF:
            return 50
        if folded in _DONE:
            return 100
    match = _PERCENT.match(folded)
    if match is None or (explicit and not match.group("sign")):
        return None
    if match.group("digits"):
        return int(match.group("digits"))
    return words_value(match.group("words").strip())


def progress_percent(ctx: Context, text: str) -> list[Reply]:
    """Read the percentage; 100% needs evidence."""
    view = _officer_task(ctx, int(ctx.data["task_id"]))
    percent = read_percent(text)
    if percent is None or not 0 <= percent <= 100:
        return [ctx.reply(N_("Please type a number from 0 to 100, for example 40."))]
    if percent == 100 and not store.has_evidence(
        ctx.session, view.id, store.period_now(view, ctx.today).key
    ):
        ctx.begin(EvidenceFlow.file, task_id=view.id, percent=100, note="")
        return [
            ctx.reply(N_("A task can be reported done only with evidence.")),
            ctx.reply(MSG_ASK_EVIDENCE, number=view.task.number),
        ]
    ctx.goto(ProgressFlow.note, percent=percent)
    return [
        ctx.reply(
            N_(
                "Task {number}: {percent}. Write a short note on what was done (or type “bỏ qua” to skip)."
            ),
            number=view.task.number,
            percent=_percent(ctx, percent),
        )
    ]


def evidence_from_message(ctx: Context, text: str) -> StoredEvidence | None:
    """Evidence from the message: a file, a photo URL (Zalo) or a pasted link."""
    attachment = ctx.message.attachment
    if attachment is not None:
        if attachment.data is not None:
            return store_file(
                ctx.services.settings.effective_evidence_dir,
                attachment.data,
                attachment.file_name,
                attachment.mime_type,
                attachment.size,
            )
        if attachment.url:
            return link_evidence(attachment.url, attachment.file_name)
        if attachment.size is not None and attachment.size > MAX_BYTES:
            raise UserError(
                MSG_TOO_LARGE, size=f"{attachment.size / (1024 * 1024):.1f}".replace(".", ",")
            )
        raise UserError(MSG_NOT_FETCHED)
    link = find_link(text)
    return link_evidence(link) if link else None


def register(registry: Registry) -> None:
    """Register /nhiemvu and the task flows."""

    @registry.command(
        "nhiemvu",
        "tasks",
        description=N_("My unit's tasks: progress and evidence"),
        roles=UNIT_ROLES,
    )
    def tasks_command(ctx: Context, argument: str) -> list[Reply]:
        """List the unit's tasks, most urgent first."""
        ctx.finish()
        return list_tasks(ctx)

    # After the list, a card or a page, the task's own number or text opens it.
    for data in (
        TaskChoice,
        TaskPageChoice,
        TaskProgressChoice,
        TaskEvidenceChoice,
        TaskDoneChoice,
    ):
        registry.picker(data)(pick_task)

    @registry.text
    def named_task(ctx: Context, text: str) -> list[Reply] | None:
        """ "nhiệm vụ 18" typed by an officer at any time opens the task."""
        if not named_number(text, TASK_WORDS):
            return None
        picked = pick_task(ctx, text)
        if isinstance(picked, str):
            return open_task(ctx, TaskChoice.unpack(picked.partition(":")[2]))
        return picked

    @registry.on_choice(TaskPageChoice)
    def tasks_page(ctx: Context, data: TaskPageChoice) -> list[Reply]:
        """Show another page of the unit's tasks."""
        return list_tasks(ctx, max(0, data.offset))

    @registry.on_choice(TaskChoice)
    def open_task(ctx: Context, data: TaskChoice) -> list[Reply]:
        """Show one task with its actions."""
        ctx.finish()
        return [task_card(ctx, _officer_task(ctx, data.task_id))]

    @registry.on_choice(TaskProgressChoice)
    def start_progress(ctx: Context, data: TaskProgressChoice) -> list[Reply]:
        """Ask for the new progress percentage."""
        view = _officer_task(ctx, data.task_id)
        ctx.begin(ProgressFlow.percent, task_id=view.id)
        return [
            ctx.reply(
                N_(
                    "Task {number} is at {percent} now. How much is done? Type a number from 0 to 100."
                ),
                number=view.task.number,
                percent=_percent(ctx, view.status.percent),
            )
        ]

    registry.step(ProgressFlow.percent)(progress_percent)

    @registry.step(ProgressFlow.note)
    def progress_note(ctx: Context, text: str) -> list[Reply]:
        """Save the progress report with its note."""
        view = _officer_task(ctx, int(ctx.data["task_id"]))
        note = "" if fold(text) in _SKIP else text
        percent = int(ctx.data["percent"])
        store.record_progress(
            ctx.session,
            view,
            person_id=ctx.person_id,
            percent=percent,
            note=note,
            today=ctx.today,
            now=ctx.now,
        )
        ctx.finish()
        saved = ctx.reply(
            N_("Saved: task {number} is at {percent}."),
            number=view.task.number,
            percent=_percent(ctx, percent),
        )
        return [saved, task_card(ctx, store.task_view(ctx.session, view.id, ctx.today))]

    @registry.on_choice(TaskEvidenceChoice)
    def start_evidence(ctx: Context, data: TaskEvidenceChoice) -> list[Reply]:
        """Ask for a photo, a document or a link."""
        view = _officer_task(ctx, data.task_id)
        ctx.begin(EvidenceFlow.file, task_id=view.id, percent=None, note="")
        return [ctx.reply(MSG_ASK_EVIDENCE, number=view.task.number)]

    @registry.on_choice(TaskDoneChoice)
    def report_done(ctx: Context, data: TaskDoneChoice) -> list[Reply]:
        """Report a task done: straight away if evidence was sent, else ask for it."""
        view = _officer_task(ctx, data.task_id)
        if store.has_evidence(ctx.session, view.id, store.period_now(view, ctx.today).key):
            store.record_progress(
                ctx.session,
                view,
                person_id=ctx.person_id,
                percent=100,
                note="",
                today=ctx.today,
                now=ctx.now,
            )
            ctx.finish()
            return [
                ctx.reply(
                    N_(
                        "Saved: task {number} is reported done and waits for the standing office's review."
                    ),
                    number=view.task.number,
                ),
                task_card(ctx, store.task_view(ctx.session, view.id, ctx.today)),
            ]
        ctx.begin(EvidenceFlow.file, task_id=view.id, percent=100, note="")
        return [
            ctx.reply(N_("A task can be reported done only with evidence.")),
            ctx.reply(MSG_ASK_EVIDENCE, number=view.task.number),
        ]

    @registry.step(EvidenceFlow.file)
    def evidence_file(ctx: Context, text: str) -> list[Reply]:
        """Store the evidence (and the 100% report that waited for it)."""
        view = _officer_task(ctx, int(ctx.data["task_id"]))
        stored = evidence_from_message(ctx, text)
        if stored is None:
            return [ctx.reply(MSG_ASK_EVIDENCE_AGAIN)]
        store.record_evidence(
            ctx.session, view, stored, person_id=ctx.person_id, today=ctx.today, now=ctx.now
        )
        percent = ctx.data.get("percent")
        if percent is not None:
            store.record_progress(
                ctx.session,
                view,
                person_id=ctx.person_id,
                percent=int(percent),
                note=str(ctx.data.get("note") or ""),
                today=ctx.today,
                now=ctx.now,
            )
        ctx.finish()
        thanks = ctx.reply(
            N_(
                "Thank you! The evidence for task {number} was received and waits for the standing office's review."
            ),
            number=view.task.number,
        )
        return [thanks, task_card(ctx, store.task_view(ctx.session, view.id, ctx.today))]
