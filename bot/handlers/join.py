"""Linking a chat with an invite code (/lienket, deep links), admin invites, residents' village."""

from __future__ import annotations

import logging

from sqlmodel import col, select

from bot.admin.invites import (
    DEFAULT_TTL,
    INVITABLE_ROLES,
    VILLAGE_ROLES,
    InviteError,
    check_rate_limit,
    create_invite,
    deep_link,
    record_failure,
    redeem,
)
from bot.communes import villages_of
from bot.core.context import Context
from bot.core.messages import Choice, Reply
from bot.core.people import roles_of
from bot.core.registry import Registry
from bot.handlers.start import menu_choices
from bot.i18n import N_
from db.models import Role, Unit, Village

log = logging.getLogger(__name__)

ROLE_NAMES: dict[str, str] = {
    Role.TEAM: N_("team member"),
    Role.LEADER: N_("team leader"),
    Role.UNIT: N_("unit officer"),
    Role.OFFICE: N_("standing office"),
    Role.COMMUNE_LEADER: N_("commune leader"),
    Role.ADMIN: N_("admin"),
}

ASK_CODE = N_(
    "Send the invite code the commune gave you (8 letters and digits), for example: K7QM3XPA"
)
JOINED = N_("Linked! You are now {role}.")
JOINED_VILLAGE = N_("Linked! You are now {role} of {village}.")
JOINED_UNIT = N_("Linked! You are now {role} of {unit}.")
JOINED_REPORT_HINT = N_("To report your village's figures, type for example: vneid 45 cks 12")
PICK_ROLE = N_("Who is the invite for?")
PICK_VILLAGE = N_("Which village?")
PICK_UNIT = N_("Which unit?")
NO_PLACES = N_("There are no villages or units set up yet. Run: tocns admin setup FILE")
INVITE_MADE = N_(
    "Invite code for a {role}{place}: {code}\n"
    "It can be used once, until {expires}.\n"
    "The person sends: /lienket {code}\n"
    "or opens this link on Telegram: {link}"
)
PICK_OWN_VILLAGE = N_("Which village do you live in?")
VILLAGE_SET = N_("Thank you! I noted that you live in {village}.")
VILLAGE_FIXED = N_(
    "Your village ({village}) was set with your invite code. Ask the commune admin to change it."
)


def register(registry: Registry) -> None:
    """Register joining, chat invites and the residents' village."""

    @registry.command("lienket", "join", description=N_("Link your account with an invite code"))
    def join(ctx: Context, argument: str) -> list[Reply]:
        """Redeem the code given, or ask for it."""
        if not argument.strip():
            ctx.begin("join", "code")
            return [ctx.reply(ASK_CODE)]
        return _redeem(ctx, argument)

    @registry.step("join", "code")
    def join_code(ctx: Context, text: str) -> list[Reply]:
        """Read the invite code typed after /lienket."""
        return _redeem(ctx, text)

    @registry.action("deeplink-j")
    def join_link(ctx: Context, code: str) -> list[Reply]:
        """Redeem a code from a Telegram deep link (/start j_CODE)."""
        return _redeem(ctx, code)

    @registry.command(
        "moi", "invite", description=N_("Create an invite code"), roles=frozenset({Role.ADMIN})
    )
    def invite(ctx: Context, argument: str) -> list[Reply]:
        """Ask which role the new invite is for."""
        choices = [
            Choice(_cap(ctx._(ROLE_NAMES[role])), f"inv:role:{role}") for role in INVITABLE_ROLES
        ]
        return [ctx.reply(PICK_ROLE, choices)]

    @registry.action("inv")
    def invite_action(ctx: Context, argument: str) -> list[Reply]:
        """Walk the admin through role, then village or unit, then print the code."""
        if not ctx.has_role(Role.ADMIN):
            return [ctx.reply(N_("Only the commune admin can create invite codes."))]
        commune_id = ctx.person.commune_id
        if commune_id is None:
            return [ctx.reply(NO_PLACES)]
        verb, _, rest = argument.partition(":")
        if verb == "role" and rest in INVITABLE_ROLES:
            if rest in VILLAGE_ROLES:
                villages = villages_of(ctx.session, commune_id)
                if not villages:
                    return [ctx.reply(NO_PLACES)]
                return [
                    ctx.reply(
                        PICK_VILLAGE, [Choice(v.name, f"inv:vil:{rest}:{v.id}") for v in villages]
                    )
                ]
            if rest == Role.UNIT:
                units = ctx.session.exec(
                    select(Unit).where(Unit.commune_id == commune_id).order_by(col(Unit.id))
                ).all()
                if not units:
                    return [ctx.reply(NO_PLACES)]
                return [ctx.reply(PICK_UNIT, [Choice(u.name, f"inv:unit:{u.id}") for u in units])]
            return [_make(ctx, commune_id, rest)]
        if verb == "vil":
            role, _, raw_id = rest.partition(":")
            village = ctx.session.get(Village, int(raw_id)) if raw_id.isdigit() else None
            if role in VILLAGE_ROLES and village is not None and village.commune_id == commune_id:
                return [_make(ctx, commune_id, role, village_id=village.id, place=village.name)]
        if verb == "unit" and rest.isdigit():
            unit = ctx.session.get(Unit, int(rest))
            if unit is not None and unit.commune_id == commune_id:
                return [_make(ctx, commune_id, Role.UNIT, unit_id=unit.id, place=unit.name)]
        return [
            ctx.reply(
                PICK_ROLE,
                [Choice(_cap(ctx._(ROLE_NAMES[r])), f"inv:role:{r}") for r in INVITABLE_ROLES],
            )
        ]

    @registry.command("thon", "village", description=N_("Tell which village you live in"))
    def own_village(ctx: Context, argument: str) -> list[Reply]:
        """Let a resident say which village they live in."""
        own = ctx.village
        if ctx.has_role(Role.TEAM, Role.LEADER) and own is not None:
            return [ctx.reply(VILLAGE_FIXED, village=own.name)]
        villages = villages_of(ctx.session, ctx.person.commune_id)
        if not villages:
            return [ctx.reply(NO_PLACES)]
        return [ctx.reply(PICK_OWN_VILLAGE, [Choice(v.name, f"thon:{v.id}") for v in villages])]

    @registry.action("thon")
    def set_village(ctx: Context, argument: str) -> list[Reply]:
        """Record the resident's village."""
        village = ctx.session.get(Village, int(argument)) if argument.isdigit() else None
        if village is None or village.commune_id != ctx.person.commune_id:
            return [ctx.reply(PICK_OWN_VILLAGE)]
        current = ctx.village
        if ctx.has_role(Role.TEAM, Role.LEADER) and current is not None:
            return [ctx.reply(VILLAGE_FIXED, village=current.name)]
        ctx.person.village_id = village.id
        ctx.session.add(ctx.person)
        return [ctx.reply(VILLAGE_SET, village=village.name)]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _redeem(ctx: Context, code: str) -> list[Reply]:
    """Check the rate limit, redeem the code, and welcome the person in their new role."""
    channel, chat_id = ctx.message.channel, ctx.message.chat_id
    try:
        check_rate_limit(ctx.session, channel, chat_id, ctx.now)
        result = redeem(ctx.session, code, ctx.person, ctx.now, ctx.identity)
    except InviteError as error:
        if error.kind != "rate_limited":
            # A failed guess is counted in this transaction, which commits normally.
            record_failure(ctx.session, channel, chat_id, ctx.now)
            log.info("join failed kind=%s channel=%s chat=%s", error.kind, channel, chat_id)
        ctx.finish()
        return [ctx.reply(error.message_id, **error.params)]
    ctx.finish()
    ctx.person = result.person
    ctx.roles = roles_of(ctx.session, ctx.person_id)
    role = ctx._(ROLE_NAMES.get(result.role, result.role))
    lines = []
    if result.village_id is not None:
        village = ctx.session.get(Village, result.village_id)
        lines.append(ctx._(JOINED_VILLAGE, role=role, village=village.name if village else ""))
    elif result.unit_id is not None:
        unit = ctx.session.get(Unit, result.unit_id)
        lines.append(ctx._(JOINED_UNIT, role=role, unit=unit.name if unit else ""))
    else:
        lines.append(ctx._(JOINED, role=role))
    if result.role in VILLAGE_ROLES:
        lines.append(ctx._(JOINED_REPORT_HINT))
    return [Reply(text="\n".join(lines), choices=menu_choices(ctx))]


def _make(
    ctx: Context,
    commune_id: int,
    role: str,
    *,
    village_id: int | None = None,
    unit_id: int | None = None,
    place: str = "",
) -> Reply:
    code = create_invite(
        ctx.session,
        commune_id=commune_id,
        role=role,
        now=ctx.now,
        village_id=village_id,
        unit_id=unit_id,
        created_by=ctx.person_id,
    )
    expires = (ctx.now + DEFAULT_TTL).astimezone(ctx.tz)
    return ctx.reply(
        INVITE_MADE,
        role=ctx._(ROLE_NAMES[role]),
        place=f" ({place})" if place else "",
        code=code,
        expires=ctx.t.datetime(expires),
        link=deep_link(ctx.services.settings.telegram_bot_username, code),
    )
