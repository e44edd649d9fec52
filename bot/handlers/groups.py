"""The bot in a village's group chat: linking the group, reports there, short answers.

A group is a chat with many people: who wrote decides roles and state (see
``Incoming.person_chat_id``), and every reply is read by the whole group. So a group
gets only what is safe for everyone to see: a team member's report and its
confirmation (village figures, never a person's name with a number), linking the
group to its village, and brief guide answers. Everything that asks for or shows a
person's details is sent to a private chat instead, and no flow starts here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlmodel import col, select

from bot.admin.invites import InviteError, check_rate_limit, normalise, record_failure, redeem
from bot.communes import villages_of
from bot.content.questions import record_unanswered
from bot.content.search import is_greeting
from bot.core.context import Context
from bot.core.messages import Reply
from bot.core.people import roles_of
from bot.core.registry import Registry
from bot.dates import month_start
from bot.handlers.join import JOINED, JOINED_VILLAGE, ROLE_NAMES
from bot.handlers.reports import (
    CORRECTED,
    OTHER_VILLAGE,
    RECORDED,
    UNCHANGED,
    label,
    missing_line,
)
from bot.i18n import N_
from bot.tallies.parser import looks_like_tally
from bot.tallies.reading import looks_like_report, read_report
from bot.tallies.store import Recorded
from bot.tallies.submission import NeedsConfirmation, Refused, Saved, submit_report
from bot.tallies.validation import month_label
from bot.text import clean, fold
from db.models import GroupChat, Role, Tally, Village
from db.types import utcnow

log = logging.getLogger(__name__)

REPORTERS = frozenset({Role.TEAM, Role.LEADER})
OFFICERS = frozenset({Role.UNIT, Role.OFFICE, Role.COMMUNE_LEADER, Role.ADMIN})
BRIEF_LIMIT = 600  # a guide page longer than this is summed up in the group
CODE_LENGTH = 8

PRIVATELY = N_("Message me privately to see it all.")
PRIVATE_ONLY = N_(
    "In a group I only take reports and answer short questions. "
    "For this, message me privately, so your details stay between us."
)
GROUP_HELP = N_(
    "In this group you can:\n"
    "• ask a short question, for example: @{bot} how to activate VNeID level 2\n"
    "• team members: report figures, for example: @{bot} vneid 45 cks 12\n"
    "For everything else, message me privately."
)
GROUP_HELLO = N_("Hello! Ask me a short question here, or message me privately.")
NOT_LINKED = N_(
    "This group is not linked to a village yet. A team member of the village can link it "
    "by sending here: /lienket"
)
LINKED = N_(
    "This group is now the group of {village}. Team members can report here, "
    "for example: @{bot} vneid 45 cks 12"
)
ALREADY_LINKED = N_("This group is already the group of {village}.")
LINKED_ELSEWHERE = N_(
    "This group is the group of {village}. Only a commune officer can link it to another village."
)
LINK_WHO = N_(
    "Only a team member or a commune officer can link this group to a village. "
    "If you have an invite code, send here: /lienket CODE"
)
LINK_WHICH = N_("Which village is this group for? Send for example: /lienket {example}")
LINK_UNKNOWN_VILLAGE = N_(
    "I do not know the village “{name}”. Send for example: /lienket {example}"
)
REPORT_WHO = N_(
    "Only the village's team members report figures. "
    "If you have an invite code, send it to me privately."
)
REPORT_OTHER_VILLAGE = N_(
    "This is the group of {village}: you report for {own}. "
    "Send your figures in your own village's group, or to me privately."
)
NOT_YOURS = N_(
    "{name} for this month was recorded by another team member. Only they or a commune "
    "officer can change it. Nothing was recorded."
)
CHECK_PRIVATELY = N_("To confirm these numbers, message me privately.")
WRITE_PRIVATELY_ONCE = N_("Send me one private message too, so reminders can reach you.")
NO_GUIDE = N_(
    "There is no guide for this yet; I have noted the question. "
    "The village's community digital technology team can help you in person."
)
MAYBE = N_("Perhaps one of these:")


def register(registry: Registry) -> None:
    """Register the group-chat rules, which come before every other handler."""

    @registry.first
    def in_group(ctx: Context) -> list[Reply] | None:
        """Answer a group message the way a group may see it; private chats pass on."""
        if not ctx.message.group:
            return None
        replies = _route(ctx)
        ctx.finish()  # nothing in a group waits for a next step
        for reply in replies:
            reply.choices = []  # nobody can press (or type) another person's choice
        return replies


def _bot_name(ctx: Context) -> str:
    settings = ctx.services.settings
    if ctx.message.channel == "telegram":
        return settings.telegram_bot_username
    names = [n.strip() for n in settings.zalo_bot_names.split(",") if n.strip()]
    return names[0] if names else "bot"


def _route(ctx: Context) -> list[Reply]:
    message = ctx.message
    if message.choice is not None or message.unsupported or not message.text:
        return []  # stickers, voice notes, old buttons: nothing the group needs to read
    text = clean(message.text)
    if text.startswith("@") and " /" in text:
        # A mention the channel did not know (a renamed bot): the command after it counts.
        text = text[text.index(" /") + 1 :]
    command = _command(text)
    if command is not None:
        name, argument = command
        if name in ("lienket", "join"):
            return link_group(ctx, argument)
        if name in ("baocao", "report") and argument:
            return group_report(ctx, argument)
        if name in ("huongdan", "guides") and argument:
            return brief_answer(ctx, argument)
        if name in ("start", "menu", "trogiup", "help", "huongdan", "guides", "huy"):
            return [ctx.reply(GROUP_HELP, bot=_bot_name(ctx))]
        return [ctx.reply(PRIVATE_ONLY)]
    if looks_like_tally(text) or (
        ctx.has_role(*REPORTERS, *OFFICERS)
        and looks_like_report(text, ctx.today, lambda: _names(ctx))
    ):
        return group_report(ctx, text)
    return brief_answer(ctx, text)


def _command(text: str) -> tuple[str, str] | None:
    if text.startswith("/"):
        head, _, argument = text[1:].partition(" ")
        return fold(head.split("@", 1)[0]), argument.strip()
    folded = fold(text)
    if folded in ("menu", "tro giup", "help", "bat dau", "huy"):
        return "menu", ""
    return None


def _names(ctx: Context) -> Sequence[str]:
    return [v.name for v in villages_of(ctx.session, ctx.person.commune_id)]


def group_of(ctx: Context) -> GroupChat | None:
    """The link of this group to its village, if any."""
    message = ctx.message
    return ctx.session.exec(
        select(GroupChat).where(
            GroupChat.channel == message.channel, GroupChat.chat_id == message.chat_id
        )
    ).first()


# ------------------------------------------------------------------ linking


def link_group(ctx: Context, argument: str) -> list[Reply]:
    """Link the group to a village: a team member's own, an officer's choice, or a code's."""
    lines: list[str] = []
    argument = argument.strip()
    code = normalise(argument)
    village: Village | None = None
    named = fold(argument) in {fold(v.name) for v in _villages(ctx)}
    if not named and len(code) == CODE_LENGTH and code.isascii() and code.isalnum():
        joined = _redeem(ctx, code)
        if isinstance(joined, Reply):
            return [joined]
        lines.append(joined)
        argument = ""
    officer = ctx.has_role(*OFFICERS)
    if argument:
        if not officer:
            return [ctx.reply(LINK_WHO)]
        wanted = fold(argument)
        village = next((v for v in _villages(ctx) if fold(v.name) == wanted), None)
        if village is None:
            return [ctx.reply(LINK_UNKNOWN_VILLAGE, name=argument[:60], example=_example(ctx))]
    elif ctx.has_role(*REPORTERS) and ctx.village is not None:
        village = ctx.village
    elif officer:
        return [ctx.reply(LINK_WHICH, example=_example(ctx))]
    else:
        return [ctx.reply(LINK_WHO)]
    assert village is not None and village.id is not None
    link = group_of(ctx)
    if link is not None and link.village_id == village.id:
        lines.append(ctx._(ALREADY_LINKED, village=village.name))
        return [Reply(text="\n".join(lines))]
    if link is not None and not officer:
        current = ctx.session.get(Village, link.village_id)
        lines.append(ctx._(LINKED_ELSEWHERE, village=current.name if current else ""))
        return [Reply(text="\n".join(lines))]
    if link is None:
        link = GroupChat(
            channel=ctx.message.channel, chat_id=ctx.message.chat_id, village_id=village.id
        )
    link.village_id = village.id
    link.linked_by = ctx.person.id
    link.linked_at = utcnow()
    ctx.session.add(link)
    log.info(
        "group linked channel=%s group=%s village=%s by=%s",
        ctx.message.channel,
        ctx.message.chat_id,
        village.id,
        ctx.person.id,
    )
    lines.append(ctx._(LINKED, village=village.name, bot=_bot_name(ctx)))
    return [Reply(text="\n".join(lines))]


def _redeem(ctx: Context, code: str) -> str | Reply:
    """Redeem an invite code sent in the group: the welcome line, or the refusal."""
    channel, chat_id = ctx.message.channel, ctx.message.chat_id
    try:
        check_rate_limit(ctx.session, channel, chat_id, ctx.now)
        result = redeem(ctx.session, code, ctx.person, ctx.now, ctx.identity)
    except InviteError as error:
        if error.kind != "rate_limited":
            record_failure(ctx.session, channel, chat_id, ctx.now)
        return Reply(text=error.render(ctx.t))
    ctx.person = result.person
    ctx.roles = roles_of(ctx.session, ctx.person_id)
    role = ctx._(ROLE_NAMES.get(result.role, result.role))
    village = ctx.session.get(Village, result.village_id) if result.village_id else None
    if village is not None:
        joined = ctx._(JOINED_VILLAGE, role=role, village=village.name)
    else:
        joined = ctx._(JOINED, role=role)
    if not ctx.identity.private:  # a Zalo id seen only here: see ChatIdentity.private
        joined += "\n" + ctx._(WRITE_PRIVATELY_ONCE)
    return joined


def _villages(ctx: Context) -> list[Village]:
    return list(villages_of(ctx.session, ctx.person.commune_id))


def _example(ctx: Context) -> str:
    villages = _villages(ctx)
    return villages[0].name if villages else "Xóm 3"


# ------------------------------------------------------------------ reports


def group_report(ctx: Context, text: str) -> list[Reply]:
    """A team member's one-line report in the village's group; the confirmation is public."""
    link = group_of(ctx)
    if link is None:
        return [ctx.reply(NOT_LINKED)]
    village = ctx.session.get(Village, link.village_id)
    assert village is not None and village.id is not None
    officer = ctx.has_role(*OFFICERS)
    if not officer:
        if not ctx.has_role(*REPORTERS):
            return [ctx.reply(REPORT_WHO)]
        own = ctx.village
        if own is None or own.id != village.id:
            return [
                ctx.reply(REPORT_OTHER_VILLAGE, village=village.name, own=own.name if own else "—")
            ]
    report = read_report(text, ctx.today, lambda: _names(ctx))
    other = next((name for name in report.villages if fold(name) != fold(village.name)), None)
    if other is not None:
        return [ctx.reply(OTHER_VILLAGE, village=village.name, other=other)]
    if report.error is not None:
        return [Reply(text=report.error.render(ctx.t))]
    period = report.period or month_start(ctx.today)
    if not officer:
        taken = _reported_by_others(ctx, village.id, period, report.values)
        if taken:
            return [ctx.reply(NOT_YOURS, name=", ".join(label(ctx, code) for code in taken))]
    outcome = submit_report(
        ctx.session,
        village=village,
        period=period,
        values=report.values,
        actor=ctx.person,
        now=ctx.now,
        today=ctx.today,
        is_admin=ctx.has_role(Role.ADMIN),
        confirmed=False,
    )
    if isinstance(outcome, Refused):
        return [Reply(text="\n".join(reason.render(ctx.t) for reason in outcome.reasons))]
    if isinstance(outcome, NeedsConfirmation):
        lines = [issue.render(ctx.t) for issue in outcome.warnings]
        lines.append(ctx._(CHECK_PRIVATELY))
        return [Reply(text="\n".join(lines))]
    assert isinstance(outcome, Saved)
    return [_confirmation(ctx, outcome.recorded)]


def _reported_by_others(
    ctx: Context, village_id: int, period: object, values: dict[str, int]
) -> list[str]:
    """The codes whose figure this month another person recorded and this one would change."""
    rows = ctx.session.exec(
        select(Tally).where(
            Tally.village_id == village_id,
            Tally.period == period,
            col(Tally.code).in_(list(values)),
        )
    ).all()
    return [
        row.code
        for row in rows
        if row.value != values[row.code]
        and row.reported_by is not None
        and row.reported_by != ctx.person.id
    ]


def _confirmation(ctx: Context, recorded: Recorded) -> Reply:
    """What was recorded, for everyone in the group: the village's figures only."""
    if not recorded.recorded:
        return ctx.reply(UNCHANGED)
    lines = [ctx._(RECORDED, village=recorded.village, month=month_label(recorded.period))]
    for code, value in recorded.recorded.items():
        if code in recorded.corrected:
            old, new = recorded.corrected[code]
            line = ctx._(
                CORRECTED, name=label(ctx, code), new=ctx.t.number(new), old=ctx.t.number(old)
            )
        else:
            line = f"{label(ctx, code)}: {ctx.t.number(value)}"
        lines.append(f"• {line}")
    if recorded.missing:
        lines.append(missing_line(ctx, recorded.missing))
    return Reply(text="\n".join(lines))


# ------------------------------------------------------------------ questions


def brief_answer(ctx: Context, text: str) -> list[Reply]:
    """A guide's short answer for the group, and an invitation to read it all privately."""
    if is_greeting(text) or not text:
        return [ctx.reply(GROUP_HELLO)]
    services = ctx.services
    index = services.guide_index
    slug = index.lookup(text)
    result = None
    if slug is None:
        result = index.search(text, top=3)
        if result.confident and result.best is not None:
            slug = result.best
    if slug is not None and slug in services.guides:
        guide = services.guides[slug]
        pages = guide.pages()
        if len(pages) == 1 and len(pages[0]) <= BRIEF_LIMIT:
            return [Reply(text=pages[0])]
        brief = "\n".join(part for part in (guide.title, guide.answer) if part)
        return [Reply(text=f"{brief}\n\n{ctx._(PRIVATELY)}")]
    suggestions = result.suggestions() if result is not None else []
    if suggestions:
        lines = [ctx._(MAYBE)]
        lines += [f"• {services.guides[s].title}" for s in suggestions if s in services.guides]
        lines.append(ctx._(PRIVATELY))
        return [Reply(text="\n".join(lines))]
    record_unanswered(ctx.session, text, ctx.now, services.settings.unanswered_retention_days)
    return [ctx.reply(NO_GUIDE)]
