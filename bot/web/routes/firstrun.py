"""The first run on an empty database: the first admin creates the commune.

``tocns run`` prints a one-time sign-in link for a first admin when no admin exists
(``bot.web.auth.first_admin_link``); signed in, that admin has no commune yet, so the
dashboard sends them here to name the commune, then on to the set-up page.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update

from bot import audit
from bot.i18n import N_
from bot.web import forms
from bot.web.auth import FIRST_RUN_PATH
from bot.web.context import PageContext
from db.models import Commune, Person

PATH = FIRST_RUN_PATH
CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
MSG_CODE = N_("The code: 3 to 80 lowercase letters without accents, digits or dashes.")
MSG_CODE_TAKEN = N_("Another commune has this code.")


def _allowed(ctx: PageContext) -> bool:
    """Only the first admin, before any commune exists."""
    if ctx.viewer.commune_id is not None or "admin" not in ctx.viewer.roles:
        return False
    return ctx.session.exec(select(Commune.id)).first() is None


def _page(ctx: PageContext, status: int = 200, **extra: Any) -> web.Response:
    context: dict[str, Any] = {"errors": {}, "values": {}, **extra}
    return ctx.render("first_run.html", None, status, action=PATH, **context)


def first_run_form(ctx: PageContext) -> web.StreamResponse:
    """Ask the first admin for the commune's name, code and province."""
    if not _allowed(ctx):
        return ctx.redirect("/")
    return _page(ctx)


def create_commune(ctx: PageContext) -> web.StreamResponse:
    """Create the commune, make the first admin its admin, go on to the set-up page."""
    if not _allowed(ctx):
        return ctx.forbidden()
    errors = forms.FormErrors()
    name = forms.text(ctx.form, "name", errors, limit=200)
    code = forms.text(ctx.form, "code", errors, limit=80)
    province = forms.text(ctx.form, "province", errors, limit=200, required=False)
    if code and not CODE.match(code):
        errors.add("code", MSG_CODE)
    elif code and ctx.session.exec(select(Commune.id).where(Commune.slug == code)).first():
        errors.add("code", MSG_CODE_TAKEN)
    if errors:
        values = {k: v for k, v in ctx.form.items() if isinstance(v, str)}
        return _page(ctx, 400, errors=errors.texts(ctx.t), values=values)
    commune = Commune(slug=code, name=name, province=province or None)
    ctx.session.add(commune)
    try:
        ctx.session.flush()
    except IntegrityError:  # a racing submit created it with this code just now
        ctx.session.rollback()
        return ctx.redirect("/setup")
    # One conditional UPDATE joins the admin to the commune: of two racing submits only
    # one finds them still without a commune (the other rolls its commune back).
    joined = ctx.session.exec(
        update(Person)  # type: ignore[call-overload]
        .where(col(Person.id) == ctx.viewer.person_id, col(Person.commune_id).is_(None))
        .values(commune_id=commune.id)
    )
    if joined.rowcount != 1:
        ctx.session.rollback()
        return ctx.redirect("/setup")
    person = ctx.person()
    ctx.session.refresh(person)
    audit.record(
        ctx.session,
        commune_id=commune.id,
        action="commune.create",
        entity="commune",
        entity_id=commune.id,
        actor=person,
        new={"name": name, "commune_code": code, "province": province},
        at=ctx.now,
    )
    ctx.session.flush()
    return ctx.redirect("/setup")
