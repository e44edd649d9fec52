"""The plan on the web: import a file (checked first, then confirmed), set deadlines.

The import is ``bot.plans.imports.import_plan`` run twice: once rolled back (the report
page, with every problem by sheet and row), once committed after the person confirms
the very file they checked (kept in ``bot.web.uploads``). Deadlines go through
``bot.plans.store.set_due``, the rule behind ``tocns plan set-due``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from aiohttp import web

from bot.i18n import N_
from bot.plans import store
from bot.plans.imports import PlanImportResult, import_plan, read_plan_bytes
from bot.plans.imports import write_xlsx as write_plan_template
from bot.plans.imports.read import EXTENSIONS
from bot.web import forms, uploads, views
from bot.web.access import Page
from bot.web.context import PageContext, url
from bot.web.params import query_choice
from bot.web.render import disposition
from db.models import Plan, Task

MAX_PLAN_BYTES = 5 * 1024 * 1024
UNDATED_KINDS = ("once", "on_event")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MSG_IMPORTED = N_("The plan was imported.")
MSG_DEADLINES_SET = N_("The deadlines were saved.")
MSG_FILE_KIND = N_("Upload the plan as .xlsx, .csv or .yaml.")
MSG_FILE_TOO_BIG = N_("The file is larger than 5 MB. Is it really the plan?")
MSG_NOTHING_TO_SAVE = N_("Write at least one deadline.")
NOTICES = {"imported": MSG_IMPORTED, "deadlines": MSG_DEADLINES_SET}


def _commune(ctx: PageContext) -> int:
    assert ctx.viewer.commune_id is not None  # can_open refuses viewers without one
    return ctx.viewer.commune_id


def _undated(ctx: PageContext, plan: Plan) -> list[store.TaskView]:
    return [
        v
        for v in store.plan_tasks(ctx.session, plan.id or 0, ctx.today)
        if v.task.kind in UNDATED_KINDS and v.task.due is None
    ]


def _page(ctx: PageContext, status: int = 200, **extra: object) -> web.Response:
    plan, plans = views.choose_plan(ctx.session, _commune(ctx), ctx.plan_slug())
    notice = NOTICES.get(query_choice(ctx.query, "done", tuple(NOTICES)), "")
    context: dict[str, object] = {
        "errors": {},
        "values": {},
        "report": None,
        "staged": "",
        **extra,
    }
    return ctx.render(
        "plan.html",
        Page.PLAN,
        status,
        plan=plan,
        plans=plans,
        undated=_undated(ctx, plan) if plan else [],
        notice=notice,
        **context,
    )


def plan_page(ctx: PageContext) -> web.StreamResponse:
    """Show the upload form, the commune's plans and the tasks still without a deadline."""
    return _page(ctx)


def plan_template(ctx: PageContext) -> web.StreamResponse:
    """Send the empty plan spreadsheet with its Vietnamese headers."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "mau-ke-hoach.xlsx"
        write_plan_template(None, path)
        data = path.read_bytes()
    return web.Response(
        body=data,
        content_type=XLSX,
        headers={"Content-Disposition": disposition("attachment", "mau-ke-hoach.xlsx")},
    )


def _run(ctx: PageContext, name: str, data: bytes) -> PlanImportResult:
    raw = read_plan_bytes(name, data)
    return import_plan(
        ctx.session,
        raw,
        commune_id=_commune(ctx),
        today=ctx.today,
        now=ctx.now,
        actor_id=ctx.viewer.person_id,
    )


def check_plan(ctx: PageContext) -> web.StreamResponse:
    """Check an uploaded plan without importing it: the report, then a confirm button."""
    errors = forms.FormErrors()
    upload = ctx.form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        errors.add("file", forms.MSG_NO_FILE)
        return _page(ctx, 400, errors=errors.texts(ctx.t))
    name = upload.filename
    suffix = Path(name).suffix.lower()
    if suffix not in EXTENSIONS:
        errors.add("file", MSG_FILE_KIND)
        return _page(ctx, 400, errors=errors.texts(ctx.t))
    data = upload.file.read(MAX_PLAN_BYTES + 1)
    if len(data) > MAX_PLAN_BYTES:
        errors.add("file", MSG_FILE_TOO_BIG)
        return _page(ctx, 400, errors=errors.texts(ctx.t))
    result = _run(ctx, name, data)
    ctx.session.rollback()  # a dry run: nothing of it stays
    staged = (
        uploads.stage(ctx.services.settings.data_dir, ctx.viewer.person_id, suffix, data)
        if result.ok
        else ""
    )
    return _page(
        ctx,
        200 if result.ok else 400,
        report=result,
        file_name=name,
        problems=[p.text(ctx.t) for p in result.problems],
        warnings=[w.text(ctx.t) for w in result.warnings],
        staged=staged,
    )


def import_checked(ctx: PageContext) -> web.StreamResponse:
    """Import the plan file the person checked and confirmed (all or nothing)."""
    staged = uploads.take_confirmed(
        ctx.services.settings.data_dir, ctx.viewer.person_id, ctx.form, ctx.now
    )
    if staged is None:
        return _page(ctx, 400, errors={"file": ctx.t.gettext(uploads.MSG_STAGED_GONE)})
    name, data = staged
    result = _run(ctx, name, data)
    if not result.ok:  # the database changed since the check (another import, a new unit)
        ctx.session.rollback()
        return _page(ctx, 400, report=result, problems=[p.text(ctx.t) for p in result.problems])
    plan = ctx.session.get(Plan, result.plan_id) if result.plan_id else None
    slug = plan.slug if plan else ""
    return ctx.redirect(url("/plan", plan=slug, done="imported") + "#deadlines")


def set_deadlines(ctx: PageContext) -> web.StreamResponse:
    """Save the deadlines typed in the table (several tasks at once, all or nothing)."""
    plan, _plans = views.choose_plan(ctx.session, _commune(ctx), ctx.plan_slug())
    if plan is None:
        return ctx.not_found()
    errors = forms.FormErrors()
    chosen: list[tuple[Task, dt.date]] = []
    values: dict[str, str] = {}
    for view in _undated(ctx, plan):
        name = f"due-{view.id}"
        raw = ctx.form.get(name, "")
        values[name] = raw if isinstance(raw, str) else ""
        due = forms.date(ctx.form, name, errors, today=ctx.today, required=False)
        if due is not None:
            chosen.append((view.task, due))
    if not chosen and not errors:
        errors.add("form", MSG_NOTHING_TO_SAVE)
    if errors:
        return _page(ctx, 400, errors=errors.texts(ctx.t), values=values)
    actor = ctx.person()
    for task, due in chosen:
        store.set_due(ctx.session, task, due, actor=actor, now=ctx.now)
    return ctx.redirect(url("/plan", plan=plan.slug, done="deadlines") + "#deadlines")
