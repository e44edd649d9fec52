"""People and invites: list, add, change roles and place, deactivate; print invite sheets.

The rules live in ``bot.admin.staff`` (roles need their village or unit, deactivating
ends sessions) and ``bot.admin.invites`` (one-time codes, stored hashed: a code is shown
once, on the sheet printed when it is made).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.admin import staff
from bot.admin.invites import INVITABLE_ROLES, VILLAGE_ROLES, create_invite, deep_link
from bot.audit import ROLE_LABELS
from bot.i18n import N_
from bot.web import forms, views
from bot.web.access import Page
from bot.web.context import PageContext
from bot.web.params import parse_id, query_choice
from bot.web.qr import qr_data_uri
from db.models import Person, Role

MAX_SPARE = 30
MSG_ADDED = N_("Added. Print the village's invite sheet so they can link their chat.")
MSG_SAVED = N_("Saved. The new roles apply from the person's next message or click.")
MSG_DEACTIVATED = N_("Deactivated. The person lost their roles and dashboard sessions.")
MSG_BAD_SPARE = N_("Write how many spare codes, from 0 to 30.")
MSG_NOBODY = N_("Nobody of this village waits for a code. Ask for spare codes instead.")
MSG_NO_ROLE = N_("Give this person a role first (team member, unit officer…), then make the code.")
MSG_LINKED = N_("This person's chat is already linked: no code is needed.")
# The role an invite for a person carries: their highest one (the others stay theirs).
INVITE_ORDER = (
    Role.ADMIN,
    Role.OFFICE,
    Role.COMMUNE_LEADER,
    Role.UNIT,
    Role.LEADER,
    Role.TEAM,
)
NOTICES = {"added": MSG_ADDED, "saved": MSG_SAVED, "deactivated": MSG_DEACTIVATED}


def _commune(ctx: PageContext) -> int:
    assert ctx.viewer.commune_id is not None
    return ctx.viewer.commune_id


def _role_options(ctx: PageContext) -> list[tuple[str, str]]:
    return [(role.value, ctx.t.gettext(ROLE_LABELS[role])) for role in staff.MANAGED_ROLES]


def _choices(ctx: PageContext) -> dict[str, Any]:
    villages = views.commune_villages(ctx.session, _commune(ctx))
    units = views.commune_units(ctx.session, _commune(ctx))
    return {
        "role_options": _role_options(ctx),
        "village_options": [(v.id, v.name) for v in villages],
        "unit_options": [(u.id, u.name) for u in units],
    }


def _list(ctx: PageContext, status: int = 200, **extra: Any) -> web.Response:
    context: dict[str, Any] = {"errors": {}, "values": {}, **extra}
    return ctx.render(
        "people.html",
        Page.PEOPLE,
        status,
        rows=views.people_rows(ctx.session, _commune(ctx)),
        role_labels={k: ctx.t.gettext(v) for k, v in ROLE_LABELS.items()},
        notice=NOTICES.get(query_choice(ctx.query, "done", tuple(NOTICES)), ""),
        **_choices(ctx),
        **context,
    )


def people(ctx: PageContext) -> web.StreamResponse:
    """List the commune's officers and team members, with the add and print forms."""
    return _list(ctx)


def _read(ctx: PageContext, errors: forms.FormErrors) -> tuple[list[str], int | None, int | None]:
    choices = _choices(ctx)
    allowed_roles = {value for value, _ in choices["role_options"]}
    raw_roles = [r for r in ctx.form.getall("roles", []) if isinstance(r, str)]
    roles = [r for r in raw_roles if r in allowed_roles]
    if len(roles) != len(raw_roles):
        errors.add("roles", forms.MSG_BAD_CHOICE)
    village = forms.row_id(
        ctx.form, "village", {v for v, _ in choices["village_options"]}, errors, required=False
    )
    unit = forms.row_id(
        ctx.form, "unit", {u for u, _ in choices["unit_options"]}, errors, required=False
    )
    return roles, village, unit


def _values(ctx: PageContext) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in ctx.form.items() if isinstance(v, str)}
    values["roles"] = [r for r in ctx.form.getall("roles", []) if isinstance(r, str)]
    return values


def add(ctx: PageContext) -> web.StreamResponse:
    """Add a person with their roles and village or unit."""
    errors = forms.FormErrors()
    name = forms.text(ctx.form, "name", errors, limit=staff.NAME_MAX)
    roles, village, unit = _read(ctx, errors)
    if not errors:
        try:
            staff.add_person(
                ctx.session,
                actor=ctx.person(),
                name=name,
                roles=roles,
                village_id=village,
                unit_id=unit,
                now=ctx.now,
            )
        except staff.StaffError as error:
            errors.add(error.field, error.message_id)
    if errors:
        ctx.session.rollback()
        return _list(ctx, 400, errors=errors.texts(ctx.t), values=_values(ctx))
    return ctx.redirect("/people?done=added")


def _person(ctx: PageContext) -> Person | None:
    person = ctx.session.get(Person, parse_id(ctx.match["person_id"], "person_id"))
    return person if person is not None and person.commune_id == _commune(ctx) else None


def _edit_page(ctx: PageContext, person: Person, status: int = 200, **extra: Any) -> web.Response:
    assert person.id is not None
    rows = views.people_rows(ctx.session, _commune(ctx))
    row = next((r for r in rows if r.id == person.id), None)
    values = {
        "roles": row.roles if row else [],
        "village": str(person.village_id or ""),
        "unit": str(person.unit_id or ""),
    }
    context: dict[str, Any] = {"errors": {}, "values": values, **extra}
    return ctx.render(
        "person.html",
        Page.PEOPLE,
        status,
        person=person,
        row=row,
        **_choices(ctx),
        **context,
    )


def edit_form(ctx: PageContext) -> web.StreamResponse:
    """Show one person's roles, village and unit to change, and the deactivate button."""
    person = _person(ctx)
    return ctx.not_found() if person is None else _edit_page(ctx, person)


def update(ctx: PageContext) -> web.StreamResponse:
    """Change a person's roles, village and unit."""
    person = _person(ctx)
    if person is None:
        return ctx.not_found()
    errors = forms.FormErrors()
    roles, village, unit = _read(ctx, errors)
    if not errors:
        try:
            staff.update_person(
                ctx.session,
                person,
                actor=ctx.person(),
                roles=roles,
                village_id=village,
                unit_id=unit,
                now=ctx.now,
            )
        except staff.StaffError as error:
            errors.add(error.field, error.message_id)
    if errors:
        ctx.session.rollback()
        return _edit_page(ctx, person, 400, errors=errors.texts(ctx.t), values=_values(ctx))
    return ctx.redirect("/people?done=saved")


def deactivate(ctx: PageContext) -> web.StreamResponse:
    """Take a person's roles away and end their dashboard sessions."""
    person = _person(ctx)
    if person is None:
        return ctx.not_found()
    try:
        staff.deactivate(ctx.session, person, actor=ctx.person(), now=ctx.now)
    except staff.StaffError as error:
        ctx.session.rollback()
        return _edit_page(ctx, person, 400, errors={"form": ctx.error_text(error)})
    return ctx.redirect("/people?done=deactivated")


def invite_person(ctx: PageContext) -> web.StreamResponse:
    """A one-time code for one person not yet linked (an officer, the office, an admin):
    the same A4 card as a village's sheet, for the person to type /lienket CODE."""
    person = _person(ctx)
    if person is None:
        return ctx.not_found()
    assert person.id is not None
    row = next(
        (r for r in views.people_rows(ctx.session, _commune(ctx)) if r.id == person.id), None
    )
    if row is not None and row.channels:
        return _edit_page(ctx, person, 400, errors={"form": ctx.t.gettext(MSG_LINKED)})
    held = set(row.roles) if row else set()
    role = next((r for r in INVITE_ORDER if r in held and r in INVITABLE_ROLES), None)
    if (
        role is None
        or (role in VILLAGE_ROLES and person.village_id is None)
        or (role == Role.UNIT and person.unit_id is None)
    ):
        return _edit_page(ctx, person, 400, errors={"form": ctx.t.gettext(MSG_NO_ROLE)})
    code = create_invite(
        ctx.session,
        commune_id=_commune(ctx),
        role=role,
        now=ctx.now,
        village_id=person.village_id if role in VILLAGE_ROLES else None,
        unit_id=person.unit_id if role == Role.UNIT else None,
        person_id=person.id,
        created_by=ctx.viewer.person_id,
    )
    bot = ctx.services.settings.telegram_bot_username
    link = deep_link(bot, code)
    card = {
        "name": person.display_name,
        "role": ctx.t.gettext(ROLE_LABELS[role]),
        "code": code,
        "link": link,
        "qr": qr_data_uri(link),
    }
    place = (row.unit or row.village) if row else ""
    return ctx.render(
        "invites.html", Page.PEOPLE, village=place or person.display_name, sheet=[card], bot=bot
    )


def print_invites(ctx: PageContext) -> web.StreamResponse:
    """Make fresh codes for a village's unlinked members (and spares); show the A4 sheet."""
    choices = _choices(ctx)
    errors = forms.FormErrors()
    village_id = forms.row_id(
        ctx.form, "village", {v for v, _ in choices["village_options"]}, errors
    )
    spare = forms.count(ctx.form, "spare", errors) if ctx.form.get("spare") else 0
    if spare > MAX_SPARE:
        errors.add("spare", MSG_BAD_SPARE)
    waiting = []
    if village_id is not None and not errors:
        waiting = [
            row
            for row in views.people_rows(ctx.session, _commune(ctx), village_id)
            if not row.channels and set(row.roles) & set(VILLAGE_ROLES)
        ]
        if not waiting and spare == 0:
            errors.add("spare", MSG_NOBODY)
    if errors:  # shown on the print form's fields, not the add form's
        texts = {f"print-{name}": text for name, text in errors.texts(ctx.t).items()}
        values = {f"print-{name}": value for name, value in _values(ctx).items()}
        return _list(ctx, 400, errors={**texts, "form": ""}, values=values)
    assert village_id is not None
    bot = ctx.services.settings.telegram_bot_username
    village = dict(choices["village_options"])[village_id]
    cards: list[tuple[str, Role, int | None]] = []
    for row in waiting:
        role = Role.LEADER if Role.LEADER in row.roles else Role.TEAM
        cards.append((row.person.display_name, role, row.id))
    cards += [("", Role.TEAM, None)] * spare
    sheet = []
    for name, role, person_id in cards:
        code = create_invite(
            ctx.session,
            commune_id=_commune(ctx),
            role=role,
            now=ctx.now,
            village_id=village_id,
            person_id=person_id,
            created_by=ctx.viewer.person_id,
        )
        link = deep_link(bot, code)
        sheet.append(
            {
                "name": name,
                "role": ctx.t.gettext(ROLE_LABELS[role]),
                "code": code,
                "link": link,
                "qr": qr_data_uri(link),
            }
        )
    return ctx.render("invites.html", Page.PEOPLE, village=village, sheet=sheet, bot=bot)
