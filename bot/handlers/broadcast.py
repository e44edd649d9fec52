"""Announcements: officers pick a group, type, preview and confirm; residents opt in or out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from bot.communes import villages_of
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.flows import Action, Flow, Step
from bot.core.messages import Choice, Reply
from bot.core.registry import Registry
from bot.i18n import N_
from bot.reminders import messages
from bot.reminders.broadcasts import (
    GROUP_CHATS,
    GROUP_RESIDENTS,
    GROUP_TEAM,
    chat_villages,
    check_text,
    create_broadcast,
    group_label,
    reach,
)
from db.models import Role, Unit, Village

SENDERS = frozenset({Role.OFFICE, Role.COMMUNE_LEADER, Role.ADMIN, Role.UNIT})
ALL_GROUPS = frozenset({Role.OFFICE, Role.COMMUNE_LEADER, Role.ADMIN})

PICK_GROUP = N_("📢 Who should receive the announcement?")
CHOICE_TEAM = N_("👥 All team members")
CHOICE_VILLAGE = N_("🏘 One village's team")
CHOICE_UNIT = N_("🏢 One unit's officers")
CHOICE_RESIDENTS = N_("🔔 Residents who signed up")
CHOICE_CHATS = N_("💬 A village's group chat")
PICK_CHATS = N_("Which village's group chat?")
COUNT_CHATS = N_("{label} ({count} group chats)")
TYPE_TEXT_CHATS = N_(
    "Type the announcement for {group} ({count} group chats). Everyone in the group will "
    "read it. Type /huy to cancel."
)
PREVIEW_CHATS = N_("This is what {count} group chats ({group}) will receive:")
SENT_CHATS = N_("✅ Queued for {count} group chats. It will be posted within a few minutes.")
PICK_VILLAGE = N_("Which village?")
PICK_UNIT = N_("Which unit?")
TYPE_TEXT = N_("Type the announcement for {group} ({count} people). Type /huy to cancel.")
NOBODY = N_("Nobody in {group} can receive messages yet. Choose another group.")
COUNT = N_("{label} ({count} people)")
COUNT_NONE = N_("{label} (nobody yet)")
NOBODY_LINKED = N_(
    "Nobody in {group} can receive messages yet: team members and officers must first link "
    "their chat with an invite code (/moi makes one, they type /lienket CODE)."
)
NOBODY_AT_ALL = N_(
    "Nobody can receive announcements yet. Residents sign up by sending /dangky to the bot; "
    "team members and officers link their chat with an invite code (/moi, then /lienket CODE)."
)
PICK_GROUP_FIRST = N_("I kept your text. Now choose who should receive it:")
PREVIEW = N_("This is what {count} people ({group}) will receive:")
CONFIRM_SEND = N_("✅ Send")
CONFIRM_EDIT = N_("✏️ Rewrite")
CONFIRM_CANCEL = N_("❌ Cancel")
SENT = N_("✅ Queued for {count} people. They will receive it within a few minutes.")
CANCELLED = N_("Cancelled. Nothing was sent.")
NOT_ALLOWED_GROUP = N_("You can only send announcements to your own unit.")
STALE = N_("This announcement was already handled. Type /thongbao to write a new one.")
NO_COMMUNE = N_("Your account is not linked to a commune yet.")
OPTED_IN = N_(
    "🔔 Done! You will receive announcements from the commune. Type /huydangky at any time to stop."
)
ALREADY_IN = N_("You already receive announcements. Type /huydangky to stop.")
OPTED_OUT = N_("🔕 You will no longer receive announcements. Type /dangky to sign up again.")
ALREADY_OUT = N_("You are not signed up for announcements. Type /dangky to sign up.")


class BroadcastFlow(Flow, name="broadcast"):
    """An announcement: who receives it, its text, then a preview to confirm."""

    group = Step()  # text typed before a group that reaches anyone was chosen
    text = Step()
    confirm = Step()


@dataclass(frozen=True)
class GroupChoice(Action, prefix="bc-group"):
    """Who receives the announcement (a group key of ``bot.reminders.broadcasts``)."""

    group: str


@dataclass(frozen=True)
class PickVillageChoice(Action, prefix="bc-villages"):
    """List the villages, to write to one village's team."""


@dataclass(frozen=True)
class PickChatsChoice(Action, prefix="bc-chats"):
    """Pick the village whose group chats get the announcement."""


class PickUnitChoice(Action, prefix="bc-units"):
    """List the units, to write to one unit's officers."""


@dataclass(frozen=True)
class SendChoice(Action, prefix="bc-send"):
    """Send the previewed announcement."""


@dataclass(frozen=True)
class RewriteChoice(Action, prefix="bc-edit"):
    """Type the announcement again."""


@dataclass(frozen=True)
class DropChoice(Action, prefix="bc-cancel"):
    """Drop the announcement."""


def _commune(ctx: Context) -> int:
    if ctx.person.commune_id is None:
        raise UserError(NO_COMMUNE)
    return ctx.person.commune_id


def _allowed(ctx: Context, group: str) -> bool:
    if ctx.has_role(*ALL_GROUPS):
        return True
    return ctx.has_role(Role.UNIT) and group == f"unit:{ctx.person.unit_id}"


def _sender_name(ctx: Context) -> str:
    name = ctx.person.display_name or ""
    if not ctx.has_role(*ALL_GROUPS) and ctx.person.unit_id is not None:
        unit = ctx.session.get(Unit, ctx.person.unit_id)
        if unit is not None:
            return f"{name} ({unit.name})" if name else unit.name
    return name or ctx._(N_("the commune"))


def _reach(ctx: Context, group: str) -> int:
    """How many people (besides the sender) an announcement to ``group`` reaches now:
    those with a chat that has not blocked the bot. For a village's group chats: how many
    group chats."""
    return reach(ctx.session, _commune(ctx), group, ctx.person_id).reachable


def _is_chats(group: str) -> bool:
    return group.startswith(f"{GROUP_CHATS}:")


def _chat_villages(ctx: Context) -> list[tuple[Village, int]]:
    """The commune's villages that have linked group chats, with how many."""
    return chat_villages(ctx.session, _commune(ctx))


def _counted(ctx: Context, label: str, count: int) -> str:
    if count:
        return ctx._(COUNT, label=label, count=ctx.t.number(count))
    return ctx._(COUNT_NONE, label=label)


def _group_choices(ctx: Context) -> list[Choice]:
    """The groups this sender may write to that reach somebody, with how many people."""
    commune = _commune(ctx)
    choices = []
    team = _reach(ctx, GROUP_TEAM)
    if team:
        choices.append(
            Choice(_counted(ctx, ctx._(CHOICE_TEAM), team), GroupChoice(GROUP_TEAM).pack())
        )
        choices.append(Choice(ctx._(CHOICE_VILLAGE), PickVillageChoice().pack()))
    units = ctx.session.exec(select(Unit.id).where(Unit.commune_id == commune)).all()
    if any(_reach(ctx, f"unit:{unit}") for unit in units):
        choices.append(Choice(ctx._(CHOICE_UNIT), PickUnitChoice().pack()))
    if _chat_villages(ctx):
        choices.append(Choice(ctx._(CHOICE_CHATS), PickChatsChoice().pack()))
    residents = _reach(ctx, GROUP_RESIDENTS)
    if residents:
        choices.append(
            Choice(
                _counted(ctx, ctx._(CHOICE_RESIDENTS), residents),
                GroupChoice(GROUP_RESIDENTS).pack(),
            )
        )
    return choices


def _nobody(ctx: Context, group: str, label: str) -> list[Reply]:
    """Nobody in the group can be reached: say how people become reachable, and keep the
    flow, so text typed next is kept as the announcement (never read as a question)."""
    text = ctx.data.get("text") if ctx.in_flow(BroadcastFlow) else None
    ctx.begin(BroadcastFlow.group, **({"text": text} if text else {}))
    message = NOBODY if group == GROUP_RESIDENTS else NOBODY_LINKED
    choices = _group_choices(ctx) if ctx.has_role(*ALL_GROUPS) else []
    return [ctx.reply(message, choices, group=label)]


def _ask_text(ctx: Context, group: str) -> list[Reply]:
    if not _allowed(ctx, group):
        return [ctx.reply(NOT_ALLOWED_GROUP)]
    members = _reach(ctx, group)
    label = group_label(ctx.session, group, ctx.t.locale)
    if not members:
        return _nobody(ctx, group, label)
    kept = ctx.data.get("text") if ctx.at(BroadcastFlow.group) else None
    ctx.begin(BroadcastFlow.text, group=group)
    if kept:
        return _preview(ctx, str(kept))
    asking = TYPE_TEXT_CHATS if _is_chats(group) else TYPE_TEXT
    return [ctx.reply(asking, group=label, count=ctx.t.number(members))]


def _preview(ctx: Context, text: str) -> list[Reply]:
    text = check_text(text)
    group = str(ctx.data.get("group", ""))
    count = _reach(ctx, group)
    label = group_label(ctx.session, group, ctx.t.locale)
    ctx.goto(BroadcastFlow.confirm, text=text)
    shown = messages.broadcast(ctx.t, _sender_name(ctx), text)
    choices = [
        Choice(ctx._(CONFIRM_SEND), SendChoice().pack()),
        Choice(ctx._(CONFIRM_EDIT), RewriteChoice().pack()),
        Choice(ctx._(CONFIRM_CANCEL), DropChoice().pack()),
    ]
    return [
        ctx.reply(
            PREVIEW_CHATS if _is_chats(group) else PREVIEW, count=ctx.t.number(count), group=label
        ),
        Reply(text=shown.text, choices=choices),
    ]


def register(registry: Registry) -> None:
    """Register /thongbao, /dangky and /huydangky."""

    @registry.command(
        "thongbao", "broadcast", description=N_("Send an announcement to a group"), roles=SENDERS
    )
    def start(ctx: Context, argument: str) -> list[Reply]:
        """Offer the groups this officer may write to."""
        ctx.finish()
        if not ctx.has_role(*ALL_GROUPS):
            if ctx.person.unit_id is None:
                return [ctx.reply(NOT_ALLOWED_GROUP)]
            return _ask_text(ctx, f"unit:{ctx.person.unit_id}")
        choices = _group_choices(ctx)
        # Text typed now, before a group is picked, is kept as the announcement.
        ctx.begin(BroadcastFlow.group)
        if not choices:
            return [Reply(text=ctx._(PICK_GROUP) + "\n" + ctx._(NOBODY_AT_ALL))]
        return [ctx.reply(PICK_GROUP, choices)]

    @registry.on_choice(PickVillageChoice)
    def villages(ctx: Context, data: PickVillageChoice) -> list[Reply]:
        """List the villages to pick one."""
        if not ctx.has_role(*ALL_GROUPS):
            return [ctx.reply(NOT_ALLOWED_GROUP)]
        rows = villages_of(ctx.session, _commune(ctx))
        choices = [
            Choice(
                _counted(ctx, v.name, _reach(ctx, f"village:{v.id}")),
                GroupChoice(f"village:{v.id}").pack(),
            )
            for v in rows
        ]
        return [ctx.reply(PICK_VILLAGE, choices)]

    @registry.on_choice(PickChatsChoice)
    def chats(ctx: Context, data: PickChatsChoice) -> list[Reply]:
        """List the villages with group chats to pick one."""
        if not ctx.has_role(*ALL_GROUPS):
            return [ctx.reply(NOT_ALLOWED_GROUP)]
        choices = [
            Choice(
                ctx._(COUNT_CHATS, label=village.name, count=ctx.t.number(count)),
                GroupChoice(f"{GROUP_CHATS}:{village.id}").pack(),
            )
            for village, count in _chat_villages(ctx)
        ]
        return [ctx.reply(PICK_CHATS, choices)]

    @registry.on_choice(PickUnitChoice)
    def units(ctx: Context, data: PickUnitChoice) -> list[Reply]:
        """List the units to pick one."""
        if not ctx.has_role(*ALL_GROUPS):
            return [ctx.reply(NOT_ALLOWED_GROUP)]
        rows = ctx.session.exec(
            select(Unit).where(Unit.commune_id == _commune(ctx)).order_by(col(Unit.id))
        ).all()
        choices = [
            Choice(
                _counted(ctx, u.name, _reach(ctx, f"unit:{u.id}")),
                GroupChoice(f"unit:{u.id}").pack(),
            )
            for u in rows
        ]
        return [ctx.reply(PICK_UNIT, choices)]

    @registry.on_choice(GroupChoice)
    def pick(ctx: Context, data: GroupChoice) -> list[Reply]:
        """A group was chosen: ask for the text."""
        if not ctx.has_role(*SENDERS):
            return [ctx.reply(NOT_ALLOWED_GROUP)]
        return _ask_text(ctx, data.group)

    @registry.step(BroadcastFlow.group)
    def typed_first(ctx: Context, text: str) -> list[Reply]:
        """Text typed before a group is chosen: keep it as the announcement, ask the group."""
        text = check_text(text)
        ctx.goto(BroadcastFlow.group, text=text)
        choices = _group_choices(ctx) if ctx.has_role(*ALL_GROUPS) else []
        if not choices:
            return [ctx.reply(NOBODY_AT_ALL)]
        return [ctx.reply(PICK_GROUP_FIRST, choices)]

    @registry.step(BroadcastFlow.text)
    def typed(ctx: Context, text: str) -> list[Reply]:
        """The announcement's text: show the preview."""
        return _preview(ctx, text)

    @registry.step(BroadcastFlow.confirm)
    def retyped(ctx: Context, text: str) -> list[Reply]:
        """Typing again at the preview replaces the text."""
        return _preview(ctx, text)

    @registry.on_choice(RewriteChoice)
    def edit(ctx: Context, data: RewriteChoice) -> list[Reply]:
        """Type the text again."""
        if not ctx.in_flow(BroadcastFlow):
            return [ctx.reply(STALE)]
        return _ask_text(ctx, str(ctx.data.get("group", "")))

    @registry.on_choice(DropChoice)
    def cancel(ctx: Context, data: DropChoice) -> list[Reply]:
        """Drop the announcement."""
        ctx.finish()
        return [ctx.reply(CANCELLED)]

    @registry.on_choice(SendChoice)
    def send(ctx: Context, data: SendChoice) -> list[Reply]:
        """Confirmed: record the broadcast and queue one message per recipient."""
        if not ctx.at(BroadcastFlow.confirm):
            return [ctx.reply(STALE)]
        group = str(ctx.data.get("group", ""))
        if not _allowed(ctx, group):
            ctx.finish()
            return [ctx.reply(NOT_ALLOWED_GROUP)]
        _broadcast, queued = create_broadcast(
            ctx.session,
            commune_id=_commune(ctx),
            group=group,
            text=str(ctx.data.get("text", "")),
            sender_name=_sender_name(ctx),
            now=ctx.now,
            created_by=ctx.person_id,
        )
        ctx.finish()
        if ctx.services.wake_outbox is not None:
            ctx.after_commit.append(ctx.services.wake_outbox)
        return [ctx.reply(SENT_CHATS if _is_chats(group) else SENT, count=ctx.t.number(queued))]

    @registry.command("dangky", "subscribe", description=N_("Get the commune's announcements"))
    def opt_in(ctx: Context, argument: str) -> list[Reply]:
        """Sign up for announcements."""
        if ctx.person.opted_in:
            return [ctx.reply(ALREADY_IN)]
        ctx.person.opted_in = True
        ctx.session.add(ctx.person)
        return [ctx.reply(OPTED_IN)]

    @registry.command(
        "huydangky", "unsubscribe", description=N_("Stop the commune's announcements")
    )
    def opt_out(ctx: Context, argument: str) -> list[Reply]:
        """Stop announcements."""
        if not ctx.person.opted_in:
            return [ctx.reply(ALREADY_OUT)]
        ctx.person.opted_in = False
        ctx.session.add(ctx.person)
        return [ctx.reply(OPTED_OUT)]
