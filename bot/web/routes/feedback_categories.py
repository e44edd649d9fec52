"""The commune's report categories on the dashboard: who leads each, its deadlines, urgency.

The standing office and admins (as ``tocns feedback category``) change a category's name,
lead unit, time to the first answer and to closing (working days), whether it is urgent
(its officers are told at once, even in quiet hours) and whether residents can choose it,
and add a category. Forms without JavaScript, each with its CSRF token; every change is
``bot.feedback.store.update_category`` / ``add_category``, audited, in the request's one
transaction. Others who may open the feedback pages read the list.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlmodel import col, select

from bot.errors import ReadableError
from bot.feedback import store
from bot.i18n import N_
from bot.web import forms
from bot.web.access import Page
from bot.web.context import PageContext
from bot.web.params import parse_id
from db.models import FeedbackCategory, Unit

PATH = "/feedback/categories"
ADD_PATH = "/feedback/categories/add"
SAVE_PATH = "/feedback/categories/{category_id}"
NAME_LIMIT = 200
GROUP_LIMIT = 100
KEYWORDS_LIMIT = 1000
ADD = "add-"  # the add form's fields; a category's are "c<id>-"

MSG_SAVED = N_("Saved. New reports of this kind follow it; reports already in keep their unit.")
MSG_ADDED = N_("Category added. Residents can choose it now.")
NOTICES = {"saved": MSG_SAVED, "added": MSG_ADDED}


def _prefix(category_id: int) -> str:
    return f"c{category_id}-"


def _units(ctx: PageContext) -> list[tuple[int, str]]:
    rows = ctx.session.exec(
        select(Unit).where(Unit.commune_id == ctx.viewer.commune_id).order_by(col(Unit.name))
    ).all()
    return [(u.id, u.name) for u in rows if u.id is not None]


def _values(category: FeedbackCategory) -> dict[str, Any]:
    prefix = _prefix(category.id or 0)
    return {
        f"{prefix}name": category.name,
        f"{prefix}unit": category.lead_unit_id or "",
        f"{prefix}answer_days": str(category.answer_days),
        f"{prefix}close_days": str(category.close_days),
        f"{prefix}urgent": category.urgent,
        f"{prefix}active": category.active,
    }


def _page(
    ctx: PageContext,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    failed: str = "",
) -> web.Response:
    assert ctx.viewer.commune_id is not None
    categories = store.ensure_categories(ctx.session, ctx.viewer.commune_id)
    units = _units(ctx)
    values: dict[str, Any] = {ADD + "answer_days": "2", ADD + "close_days": "10"}
    for category in categories:
        values.update(_values(category))
    values.update(typed or {})  # what was typed in the form that failed, shown again
    return ctx.render(
        "feedback_categories.html",
        Page.FEEDBACK,
        status,
        categories=categories,
        units=units,
        unit_names=dict(units),
        editable=ctx.viewer.edits_feedback_categories,
        errors=errors or {},
        values=values,
        failed=failed,
        notice=NOTICES.get(ctx.query.get("done", ""), ""),
    )


def categories(ctx: PageContext) -> web.StreamResponse:
    """List the commune's report categories: lead unit, deadlines, urgency, in use."""
    return _page(ctx)


def _read(
    ctx: PageContext, prefix: str, errors: forms.FormErrors, *, adding: bool
) -> dict[str, Any]:
    """The fields of one category's form; its problems keyed by ``prefix`` + field name.

    Each form of the page posts only its own fields; the prefix tells the page which form
    a problem belongs to (the ids, errors and typed values of each form are prefixed).
    """
    form = ctx.form
    found = forms.FormErrors()
    units = [unit_id for unit_id, _name in _units(ctx)]
    read: dict[str, Any] = {
        "name": forms.text(form, "name", found, limit=NAME_LIMIT, minimum=2),
        "unit_id": forms.row_id(form, "unit", units, found, required=False),
        "answer_days": forms.count(form, "answer_days", found),
        "close_days": forms.count(form, "close_days", found),
        "urgent": form.get("urgent") == "1",
    }
    if adding:
        read["code"] = forms.text(form, "code", found, limit=40)
        read["group"] = forms.text(form, "group", found, limit=GROUP_LIMIT, required=False)
        read["keywords"] = forms.text(form, "keywords", found, limit=KEYWORDS_LIMIT, required=False)
    else:
        read["active"] = form.get("active") == "1"
    for name, (message_id, params) in found.by_field.items():
        errors.add(prefix + name, message_id, **params)
    return read


def _typed(ctx: PageContext, prefix: str) -> dict[str, Any]:
    typed: dict[str, Any] = {
        prefix + k: v for k, v in ctx.form.items() if isinstance(v, str) and k != "csrf"
    }
    for box in ("urgent", "active"):
        typed[prefix + box] = ctx.form.get(prefix + box) == "1"
    return typed


def _refused(ctx: PageContext, prefix: str, status: int, errors: dict[str, str]) -> web.Response:
    ctx.session.rollback()
    return _page(ctx, status, errors=errors, typed=_typed(ctx, prefix), failed=prefix)


def save(ctx: PageContext) -> web.StreamResponse:
    """Save one category's name, lead unit, deadlines, urgency and whether it is in use."""
    if not ctx.viewer.edits_feedback_categories:
        return ctx.forbidden()
    category = ctx.session.get(FeedbackCategory, parse_id(ctx.match["category_id"], "category_id"))
    if category is None or category.commune_id != ctx.viewer.commune_id:
        return ctx.not_found()
    prefix = _prefix(category.id or 0)
    errors = forms.FormErrors()
    read = _read(ctx, prefix, errors, adding=False)
    if errors:
        return _refused(ctx, prefix, 400, errors.texts(ctx.t))
    try:
        store.update_category(
            ctx.session,
            category.commune_id,
            category.code,
            actor=ctx.person(),
            now=ctx.now,
            name=read["name"],
            lead_unit=read["unit_id"],
            urgent=read["urgent"],
            answer_days=read["answer_days"],
            close_days=read["close_days"],
            active=read["active"],
        )
    except ReadableError as error:  # deadlines out of range
        return _refused(ctx, prefix, 400, {prefix + "form": ctx.error_text(error)})
    return ctx.redirect(f"{PATH}?done=saved#{prefix}title")


def add(ctx: PageContext) -> web.StreamResponse:
    """Add a category to the commune's list, with its lead unit and deadlines."""
    if not ctx.viewer.edits_feedback_categories:
        return ctx.forbidden()
    assert ctx.viewer.commune_id is not None
    errors = forms.FormErrors()
    read = _read(ctx, ADD, errors, adding=True)
    if errors:
        return _refused(ctx, ADD, 400, errors.texts(ctx.t))
    try:
        category = store.add_category(
            ctx.session,
            ctx.viewer.commune_id,
            read["code"],
            read["name"],
            actor=ctx.person(),
            now=ctx.now,
            lead_unit=read["unit_id"],
            urgent=read["urgent"],
            answer_days=read["answer_days"],
            close_days=read["close_days"],
            group=read["group"],
            keywords=read["keywords"],
        )
    except ReadableError as error:  # a code taken or malformed, deadlines out of range
        return _refused(ctx, ADD, 400, {ADD + "form": ctx.error_text(error)})
    return ctx.redirect(f"{PATH}?done=added#{_prefix(category.id or 0)}title")
