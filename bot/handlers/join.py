"""Linking a chat with an invite code (/lienket, deep links), admin invites, residents' village."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

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
from bot.core.flows import Action, Flow, Step
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


class JoinFlow(Flow, name="join"):
    """/lienket without a code: the next message is the code."""

    code = Step()


class InviteStep(enum.StrEnum):
    ROLE = "role"  # the role is chosen: ask for the village or unit if it needs one
    VILLAGE = "vil"
    UNIT = "unit"


@dataclass(frozen=True)
class InviteChoice(Action, prefix="inv"):
    """The admin's choices while making an invite: "inv:role:team", "inv:vil:team:12"."""

    step: InviteStep
    role: Role
    place_id: int | None = None  # the village or unit


@dataclass(frozen=True)
class ResidentVillageChoice(Action, prefix="thon"):
    """A resident says which village they live in."""

    village_id: int


@dataclass(frozen=True)
class JoinLink(Action, prefix="deeplink-j"):
    """A Telegram deep link that redeems an invite code (/start j_CODE)."""

    code: str


def _role_choices(ctx: Context) -> list[Choice]:
    return [
        Choice(_cap(ctx._(ROLE_NAMES[role])), InviteChoice(InviteStep.ROLE, role).pack())
        for role in INVITABLE_ROLES
    ]


def register(registry: Registry) -> None:
    """Register joining, chat invites and the residents' village."""

    @registry.command("lienket", "join", description=N_("Link your account with an invite code"))
    def join(ctx: Context, argument: str) -> list[Reply]:
        """Redeem the code given, or ask for it."""
        if not argument.strip():
            ctx.begin(JoinFlow.code)
            return [ctx.reply(ASK_CODE)]
        return _redeem(ctx, argument)

    @registry.step(JoinFlow.code)
    def join_code(ctx: Context, text: str) -> list[Reply]:
        """Read the invite code typed after /lienket."""
        return _redeem(ctx, text)

    @registry.on_choice(JoinLink)
    def join_link(ctx: Context, data: JoinLink) -> list[Reply]:
        """Redeem a code from a Telegram deep link (/start j_CODE)."""
        return _redeem(ctx, data.code)

    @registry.command(
        "moi", "invite", description=N_("Create an invite code"), roles=frozenset({Role.ADMIN})
    )
    def invite(ctx: Context, argument: str) -> list[Reply]:
        """Ask which role the new invite is for."""
        return [ctx.reply(PICK_ROLE, _role_choices(ctx))]

    @registry.on_choice(InviteChoice)
    def invite_choice(ctx: Context, data: InviteChoice) -> list[Reply]:
        """Walk the admin through role, then village or unit, then print the code."""
        if not ctx.has_role(Role.ADMIN):
            return [ctx.reply(N_("Only the commune admin can create invite codes."))]
        commune_id = ctx.person.commune_id
        if commune_id is None:
            return [ctx.reply(NO_PLACES)]
        role = data.role
        if data.step is InviteStep.ROLE and role in INVITABLE_ROLES:
            if role in VILLAGE_ROLES:
                villages = villages_of(ctx.session, commune_id)
                if not villages:
                    return [ctx.reply(NO_PLACES)]
                choices = [
                    Choice(v.name, InviteChoice(InviteStep.VILLAGE, role, v.id).pack())
                    for v in villages
                ]
                return [ctx.reply(PICK_VILLAGE, choices)]
            if role == Role.UNIT:
                units = ctx.session.exec(
                    select(Unit).where(Unit.commune_id == commune_id).order_by(col(Unit.id))
                ).all()
                if not units:
                    return [ctx.reply(NO_PLACES)]
                choices = [
                    Choice(u.name, InviteChoice(InviteStep.UNIT, role, u.id).pack()) for u in units
                ]
                return [ctx.reply(PICK_UNIT, choices)]
            return [_make(ctx, commune_id, role)]
        place = data.place_id
        if data.step is InviteStep.VILLAGE and role in VILLAGE_ROLES and place is not None:
            village = ctx.session.get(Village, place)
            if village is not None and village.commune_id == commune_id:
                return [_make(ctx, commune_id, role, village_id=village.id, place=village.name)]
        if data.step is InviteStep.UNIT and role == Role.UNIT and place is not None:
            unit = ctx.session.get(Unit, place)
            if unit is not None and unit.commune_id == commune_id:
                return [_make(ctx, commune_id, Role.UNIT, unit_id=unit.id, place=unit.name)]
        return [ctx.reply(PICK_ROLE, _role_choices(ctx))]

    @registry.command("thon", "village", description=N_("Tell which village you live in"))
    def own_village(ctx: Context, argument: str) -> list[Reply]:
        """Let a resident say which village they live in."""
        own = ctx.village
        if ctx.has_role(Role.TEAM, Role.LEADER) and own is not None:
            return [ctx.reply(VILLAGE_FIXED, village=own.name)]
        villages = villages_of(ctx.session, ctx.person.commune_id)
        if not villages:
            return [ctx.reply(NO_PLACES)]
        choices = [
            Choice(v.name, ResidentVillageChoice(v.id).pack()) for v in villages if v.id is not None
        ]
        return [ctx.reply(PICK_OWN_VILLAGE, choices)]

    @registry.on_choice(ResidentVillageChoice)
    def set_village(ctx: Context, data: ResidentVillageChoice) -> list[Reply]:
        """Record the resident's village."""
        village = ctx.session.get(Village, data.village_id)
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
        return [Reply(text=error.render(ctx.t))]
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
