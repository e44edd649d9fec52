"""The commune's set-up on the web: villages with denominators, units with their spellings.

The admin downloads the Excel template filled with what is set up today, edits it and
uploads it; ``bot.admin.setup.apply_setup`` checks every row first (problems by row, in
Vietnamese; an unknown row type or sheet is a problem) and the change is confirmed, then
applied all or nothing — the same rule as ``tocns admin setup``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from bot.admin.setup import DENOMINATORS, SetupResult, apply_setup
from bot.admin.setup_sheet import XLSX, current_setup, read_setup_upload, write_setup_xlsx
from bot.errors import ReadableError
from bot.i18n import N_
from bot.web import forms, uploads, views
from bot.web.access import Page
from bot.web.context import PageContext
from bot.web.params import query_choice
from bot.web.render import disposition
from db.models import Commune

MAX_SETUP_BYTES = 2 * 1024 * 1024
SUFFIXES = (".xlsx", ".csv", ".yaml", ".yml")
MSG_APPLIED = N_("The set-up was saved.")
MSG_NEW_VILLAGE_NAME = N_("Write the new village's name, or choose a village.")
MSG_FILE_KIND = N_("Upload the set-up as .xlsx (the template), .csv or .yaml.")
MSG_TOO_BIG = N_("The file is larger than 2 MB. Is it really the set-up?")
NOTICES = {"applied": MSG_APPLIED}


def _commune(ctx: PageContext) -> Commune:
    commune = ctx.session.get(Commune, ctx.viewer.commune_id)
    assert commune is not None  # can_open refuses viewers without a commune
    return commune


def _page(ctx: PageContext, status: int = 200, **extra: Any) -> web.Response:
    commune = _commune(ctx)
    context: dict[str, Any] = {
        "errors": {},
        "values": {"valid_from": ctx.today.isoformat()},
        "report": None,
        "problems": [],
        "staged": "",
        **extra,
    }
    return ctx.render(
        "setup.html",
        Page.SETUP,
        status,
        commune=commune,
        data=views.setup_page(ctx.session, commune.id or 0),
        denominators=DENOMINATORS,
        notice=NOTICES.get(query_choice(ctx.query, "done", tuple(NOTICES)), ""),
        **context,
    )


def setup_page(ctx: PageContext) -> web.StreamResponse:
    """Show the villages and units, the template download and the upload form."""
    return _page(ctx)


def setup_template(ctx: PageContext) -> web.StreamResponse:
    """Send the Excel template filled with the commune's current set-up."""
    commune = _commune(ctx)
    data = write_setup_xlsx(ctx.session, commune.id)
    name = f"thiet-lap-{commune.slug}.xlsx"
    return web.Response(
        body=data,
        content_type=XLSX,
        headers={"Content-Disposition": disposition("attachment", name)},
    )


def _run(ctx: PageContext, name: str, data: bytes) -> tuple[SetupResult | None, list[str]]:
    """Read and apply a set-up file in the session: the result and its problems in words."""
    commune = _commune(ctx)
    try:
        parsed = read_setup_upload(name, data)
    except ReadableError as error:
        return None, [ctx.error_text(error)]
    if isinstance(parsed.get("commune"), dict):
        parsed["commune"]["sample"] = commune.is_sample  # a file never unmarks sample data
    result = apply_setup(
        ctx.session, parsed, today=ctx.today, actor=ctx.person(), commune_slug=commune.slug
    )
    return result, [p.text(ctx.t) for p in result.problems]


def check_setup(ctx: PageContext) -> web.StreamResponse:
    """Check an uploaded set-up without saving it: every problem, or a confirm button."""
    errors = forms.FormErrors()
    upload = ctx.form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        errors.add("file", forms.MSG_NO_FILE)
        return _page(ctx, 400, errors=errors.texts(ctx.t))
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        errors.add("file", MSG_FILE_KIND)
        return _page(ctx, 400, errors=errors.texts(ctx.t))
    data = upload.file.read(MAX_SETUP_BYTES + 1)
    if len(data) > MAX_SETUP_BYTES:
        errors.add("file", MSG_TOO_BIG)
        return _page(ctx, 400, errors=errors.texts(ctx.t))
    result, problems = _run(ctx, upload.filename, data)
    ctx.session.rollback()  # a dry run
    ok = not problems
    staged = (
        uploads.stage(ctx.services.settings.data_dir, ctx.viewer.person_id, suffix, data)
        if ok
        else ""
    )
    return _page(
        ctx,
        200 if ok else 400,
        report=result,
        problems=problems,
        staged=staged,
        file_name=upload.filename,
    )


def apply_checked(ctx: PageContext) -> web.StreamResponse:
    """Save the set-up file the admin checked and confirmed (all or nothing)."""
    staged = uploads.take_confirmed(
        ctx.services.settings.data_dir, ctx.viewer.person_id, ctx.form, ctx.now
    )
    if staged is None:
        return _page(ctx, 400, errors={"file": ctx.t.gettext(uploads.MSG_STAGED_GONE)})
    result, problems = _run(ctx, *staged)
    if problems:  # the database changed since the check
        ctx.session.rollback()
        return _page(ctx, 400, report=result, problems=problems)
    return ctx.redirect("/setup?done=applied")


def _apply_form(
    ctx: PageContext, data: dict[str, Any], values: dict[str, Any]
) -> web.StreamResponse:
    result = apply_setup(
        ctx.session, data, today=ctx.today, actor=ctx.person(), commune_slug=_commune(ctx).slug
    )
    if result.problems:
        ctx.session.rollback()
        problems = [p.text(ctx.t) for p in result.problems]
        return _page(ctx, 400, errors={"form": " ".join(problems)}, values=values)
    return ctx.redirect("/setup?done=applied")


def save_village(ctx: PageContext) -> web.StreamResponse:
    """Set one village's denominators from a given date (or add a village)."""
    data = current_setup(ctx.session, _commune(ctx).id or 0)
    assert data is not None
    names = [v["name"] for v in data["villages"]]
    errors = forms.FormErrors()
    chosen = forms.choice(ctx.form, "village", names, errors, required=False)
    new_name = forms.text(ctx.form, "new_name", errors, limit=200, required=False)
    if not chosen and not new_name:
        errors.add("new_name", MSG_NEW_VILLAGE_NAME)
    numbers = {key: forms.count(ctx.form, key, errors) for key in DENOMINATORS}
    since = forms.date(ctx.form, "valid_from", errors, today=ctx.today)
    values = {k: v for k, v in ctx.form.items() if isinstance(v, str)}
    if errors:
        return _page(ctx, 400, errors=errors.texts(ctx.t), values=values)
    assert since is not None
    entry = {**numbers, "valid_from": since.isoformat()}
    if chosen:
        village = data["villages"][names.index(chosen)]
        village.update(entry)
    else:
        data["villages"].append({"name": new_name, "kind": "thôn", **entry})
    return _apply_form(ctx, {**data, "units": []}, values)


def save_unit(ctx: PageContext) -> web.StreamResponse:
    """Add a unit, or other spellings of one (separated by "|")."""
    data = current_setup(ctx.session, _commune(ctx).id or 0)
    assert data is not None
    errors = forms.FormErrors()
    name = forms.text(ctx.form, "unit_name", errors, limit=300)
    aliases = forms.text(ctx.form, "aliases", errors, limit=1000, required=False)
    values = {k: v for k, v in ctx.form.items() if isinstance(v, str)}
    if errors:
        return _page(ctx, 400, errors=errors.texts(ctx.t), values=values)
    unit = {"name": name, "aliases": [a.strip() for a in aliases.split("|") if a.strip()]}
    return _apply_form(ctx, {"commune": data["commune"], "villages": [], "units": [unit]}, values)
