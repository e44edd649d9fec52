"""The task list with its filters, and one task's page."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlmodel import col, select

from bot.errors import ReadableError
from bot.i18n import N_
from bot.plans import store
from bot.plans.evidence import MAX_BYTES, link_evidence, store_file
from bot.web import forms, views
from bot.web.access import Page, can_see_task, can_update_task
from bot.web.context import PageContext
from bot.web.params import parse_id, query_choice, query_id
from bot.web.render import INLINE_TYPES
from db.models import Task, Unit

MSG_TASK_SAVED = N_("Saved. The reminders follow the new lead unit and deadline.")
MSG_NO_CHANGE = N_("Nothing was changed.")
MSG_PROGRESS_SAVED = N_("Saved. Evidence waits for the standing office's review.")
MSG_BAD_PERCENT = N_("Type a number from 0 to 100, for example 40.")
MSG_DONE_NEEDS_EVIDENCE = N_("A task can be reported done only with evidence.")
MSG_NOTHING_SENT = N_("Write the progress or attach evidence (a file or a link).")
NOTICES = {"saved": MSG_TASK_SAVED, "progress": MSG_PROGRESS_SAVED}
NOTE_LIMIT = 2000


def task_list(ctx: PageContext) -> web.StreamResponse:
    """List the tasks the viewer may see, filtered by unit, status and deadline."""
    data = views.tasks_page(
        ctx.session,
        ctx.viewer,
        ctx.today,
        ctx.plan_slug(),
        unit_filter=query_id(ctx.query, "unit"),
        status_filter=query_choice(ctx.query, "status", views.STATUS_FILTERS),
        deadline_filter=query_choice(ctx.query, "deadline", views.DEADLINE_FILTERS),
    )
    return ctx.render("tasks.html", Page.TASKS, data=data)


def _units(ctx: PageContext) -> list[Unit]:
    return list(
        ctx.session.exec(
            select(Unit).where(Unit.commune_id == ctx.viewer.commune_id).order_by(col(Unit.name))
        )
    )


def _task_page(ctx: PageContext, task: Task, status: int = 200, **extra: Any) -> web.StreamResponse:
    data = views.task_page(ctx.session, task, ctx.today, ctx.t)
    values = {
        "lead_unit": str(task.lead_unit_id or ""),
        "due": task.due.isoformat() if task.due else "",
    }
    context: dict[str, Any] = {"errors": {}, "values": values, **extra}
    return ctx.render(
        "task.html",
        Page.TASKS,
        status,
        data=data,
        inline_types=INLINE_TYPES,
        units=[(u.id, u.name) for u in _units(ctx)] if ctx.viewer.plans else [],
        may_report=can_update_task(ctx.viewer, data.view.plan.commune_id, task.lead_unit_id),
        notice=NOTICES.get(query_choice(ctx.query, "done", tuple(NOTICES)), ""),
        **context,
    )


def task(ctx: PageContext) -> web.StreamResponse:
    """Show one task: status per period, progress history, evidence, decisions."""
    found = views.find_task(ctx.session, parse_id(ctx.match["task_id"], "task_id"))
    if found is None:
        return ctx.not_found()
    task, plan = found
    if not can_see_task(ctx.viewer, plan.commune_id, task.lead_unit_id, task.coordinating):
        return ctx.forbidden()
    return _task_page(ctx, task)


def edit_task(ctx: PageContext) -> web.StreamResponse:
    """Change a task's lead unit or deadline (the standing office and admins; audited)."""
    found = views.find_task(ctx.session, parse_id(ctx.match["task_id"], "task_id"))
    if found is None or found[1].commune_id != ctx.viewer.commune_id:
        return ctx.not_found()
    task, _plan = found
    units = {u.id: u for u in _units(ctx) if u.id is not None}
    errors = forms.FormErrors()
    unit_id = forms.row_id(ctx.form, "lead_unit", units, errors)
    due = forms.date(ctx.form, "due", errors, today=ctx.today, required=False)
    if errors:
        values = {k: v for k, v in ctx.form.items() if isinstance(v, str)}
        return _task_page(ctx, task, 400, errors=errors.texts(ctx.t), values=values)
    actor = ctx.person()
    changed = False
    if unit_id is not None and unit_id != task.lead_unit_id:
        store.set_lead_unit(ctx.session, task, units[unit_id], actor=actor, now=ctx.now)
        changed = True
    if due is not None and due != task.due:
        store.set_due(ctx.session, task, due, actor=actor, now=ctx.now)
        changed = True
    if not changed:
        return _task_page(ctx, task, 400, errors={"form": ctx.t.gettext(MSG_NO_CHANGE)})
    return ctx.redirect(f"/tasks/{task.id}?done=saved")


def _percent(form: Any, errors: forms.FormErrors) -> int | None:
    raw = form.get("percent", "")
    value = raw.strip().rstrip("%").strip() if isinstance(raw, str) else ""
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or not 0 <= int(value) <= 100:
        errors.add("percent", MSG_BAD_PERCENT)
        return None
    return int(value)


def report_progress(ctx: PageContext) -> web.StreamResponse:
    """A unit officer reports progress, with evidence (a file or a link) if they have it."""
    found = views.find_task(ctx.session, parse_id(ctx.match["task_id"], "task_id"))
    if found is None:
        return ctx.not_found()
    task, plan = found
    if not can_update_task(ctx.viewer, plan.commune_id, task.lead_unit_id):
        return ctx.forbidden()
    person = ctx.person()
    view = store.task_for_officer(ctx.session, task.id or 0, person, ctx.today)
    errors = forms.FormErrors()
    percent = _percent(ctx.form, errors)
    note = forms.text(ctx.form, "note", errors, limit=NOTE_LIMIT, required=False)
    link = forms.text(ctx.form, "link", errors, limit=1000, required=False)
    upload = ctx.form.get("file")
    stored = None
    if isinstance(upload, web.FileField) and upload.filename:
        data = upload.file.read(MAX_BYTES + 1)
        try:
            stored = store_file(
                ctx.services.settings.effective_evidence_dir,
                data,
                upload.filename,
                upload.content_type or "",
            )
        except ReadableError as error:  # too large, empty, not an allowed type
            errors.add("file", error.message_id, **error.params)
    elif link:
        try:
            stored = link_evidence(link)
        except ReadableError as error:
            errors.add("link", error.message_id, **error.params)
    if not errors and percent is None and stored is None:
        errors.add("percent", MSG_NOTHING_SENT)
    period = store.period_now(view, ctx.today).key
    if (
        not errors
        and percent == 100
        and stored is None
        and not store.has_evidence(ctx.session, view.id, period)
    ):
        errors.add("file", MSG_DONE_NEEDS_EVIDENCE)
    if errors:
        ctx.session.rollback()
        values = {k: v for k, v in ctx.form.items() if isinstance(v, str)}
        return _task_page(ctx, task, 400, errors=errors.texts(ctx.t), values=values)
    if stored is not None:
        store.record_evidence(
            ctx.session, view, stored, person_id=person.id or 0, today=ctx.today, now=ctx.now
        )
    if percent is not None:
        store.record_progress(
            ctx.session,
            view,
            person_id=person.id or 0,
            percent=percent,
            note=note,
            today=ctx.today,
            now=ctx.now,
        )
    return ctx.redirect(f"/tasks/{task.id}?done=progress")
