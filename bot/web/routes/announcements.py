"""Announcements on the web: write, choose who receives it, preview, send now or later.

The groups, the queuing and the sending are the chat's /thongbao ones
(``bot.reminders.broadcasts``): one outbox row per reachable person, delivered by the
outbox sender; a scheduled announcement's rows are due at its time. The list shows each
announcement's delivery from its outbox rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.errors import ReadableError
from bot.i18n import N_
from bot.reminders import broadcasts, messages
from bot.web import forms, views
from bot.web.access import Page
from bot.web.context import PageContext
from bot.web.params import parse_id, query_choice
from bot.web.render import channel_name

SCHEDULE_DAYS = 60
CHANNELS = ("zalo", "telegram")  # always shown, even at 0
SECTION_COMMUNE = N_("The whole commune")
SECTION_VILLAGES = N_("One village's team")
SECTION_UNITS = N_("One unit's officers")
SECTION_CHATS = N_("A village's group chat")
THE_COMMUNE = N_("the commune")
MSG_SENT = N_("Queued. The messages go out within a few minutes; the list below shows them.")
MSG_SCHEDULED = N_("Scheduled. Nothing is sent before the time you chose.")
MSG_CANCELLED = N_("Cancelled. The messages not sent yet will not be sent.")
MSG_NOBODY = N_("Nobody in this group can receive messages yet. Choose another group.")
NOTICES = {"sent": MSG_SENT, "scheduled": MSG_SCHEDULED, "cancelled": MSG_CANCELLED}


@dataclass(frozen=True)
class Audience:
    """One group an announcement can go to, with who it reaches now."""

    value: str  # a group key of bot.reminders.broadcasts
    label: str
    reach: broadcasts.Reach  # for a village's group chats: chats, not people

    @property
    def chats(self) -> bool:
        """Whether this goes to a village's group chats (counted in chats, not people)."""
        return self.value.startswith(f"{broadcasts.GROUP_CHATS}:")


@dataclass(frozen=True)
class Draft:
    """A checked announcement, ready to send or schedule."""

    text: str
    audience: Audience
    send_at: dt.datetime | None


def _commune(ctx: PageContext) -> int:
    assert ctx.viewer.commune_id is not None
    return ctx.viewer.commune_id


def _audiences(ctx: PageContext) -> list[tuple[str, list[Audience]]]:
    """The groups the viewer may write to, in sections, each with its reach per channel."""
    commune = _commune(ctx)
    locale = ctx.t.locale

    def audience(group: str, label: str | None = None) -> Audience:
        return Audience(
            group,
            label or broadcasts.group_label(ctx.session, group, locale),
            broadcasts.reach(ctx.session, commune, group, ctx.viewer.person_id),
        )

    villages = views.commune_villages(ctx.session, commune)
    units = views.commune_units(ctx.session, commune)
    chats = broadcasts.chat_villages(ctx.session, commune)  # as the chat's /thongbao offers
    return [
        (
            SECTION_COMMUNE,
            [audience(broadcasts.GROUP_TEAM), audience(broadcasts.GROUP_RESIDENTS)],
        ),
        (SECTION_VILLAGES, [audience(f"village:{v.id}", v.name) for v in villages]),
        (SECTION_CHATS, [audience(f"{broadcasts.GROUP_CHATS}:{v.id}", v.name) for v, _ in chats]),
        (SECTION_UNITS, [audience(f"unit:{u.id}", u.name) for u in units]),
    ]


def _channels(ctx: PageContext, reach: broadcasts.Reach) -> list[tuple[str, int]]:
    """(channel label, people or chats) for Zalo, Telegram and any other channel in use."""
    extra = sorted(set(reach.by_channel) - set(CHANNELS))
    return [
        (channel_name(ctx.t, name), reach.by_channel.get(name, 0)) for name in (*CHANNELS, *extra)
    ]


def _sender(ctx: PageContext) -> str:
    return ctx.viewer.name or ctx.t.gettext(THE_COMMUNE)


def _values(ctx: PageContext) -> dict[str, Any]:
    return {k: v for k, v in ctx.form.items() if k != "csrf" and isinstance(v, str)}


def _page(
    ctx: PageContext,
    status: int = 200,
    *,
    sections: list[tuple[str, list[Audience]]] | None = None,
    **extra: Any,
) -> web.Response:
    context: dict[str, Any] = {"errors": {}, "values": {}, "draft": None, **extra}
    return ctx.render(
        "announcements.html",
        Page.ANNOUNCEMENTS,
        status,
        sections=sections if sections is not None else _audiences(ctx),
        channels_of=lambda reach: _channels(ctx, reach),
        history=broadcasts.progress(ctx.session, _commune(ctx)),
        group_label=lambda group: broadcasts.group_label(ctx.session, group, ctx.t.locale),
        max_text=broadcasts.MAX_TEXT,
        notice=NOTICES.get(query_choice(ctx.query, "done", tuple(NOTICES)), ""),
        **context,
    )


def announcements(ctx: PageContext) -> web.StreamResponse:
    """List the commune's announcements with their delivery, and the form to write one."""
    return _page(ctx)


def _read(
    ctx: PageContext, sections: list[tuple[str, list[Audience]]], errors: forms.FormErrors
) -> Draft | None:
    """The submitted announcement, checked as the chat checks it (None: see ``errors``)."""
    raw = ctx.form.get("text", "")
    text = ""
    try:
        text = broadcasts.check_text(raw if isinstance(raw, str) else "")
    except ReadableError as error:
        errors.add("text", error.message_id, **error.params)
    offered = {a.value: a for _, group in sections for a in group}
    value = forms.choice(ctx.form, "audience", tuple(offered), errors)
    chosen = offered.get(value)
    if chosen is not None and not chosen.reach.reachable:
        errors.add("audience", MSG_NOBODY)
    send_at = forms.moment(
        ctx.form, "send_at", errors, now=ctx.now, tz=ctx.tz, within_days=SCHEDULE_DAYS
    )
    if errors or chosen is None:
        return None
    return Draft(text, chosen, send_at)


def preview(ctx: PageContext) -> web.StreamResponse:
    """Show the announcement as its recipients will read it, with the button to send it."""
    sections = _audiences(ctx)
    errors = forms.FormErrors()
    draft = _read(ctx, sections, errors)
    values = _values(ctx)
    if draft is None:
        return _page(ctx, 400, sections=sections, errors=errors.texts(ctx.t), values=values)
    shown = messages.broadcast(ctx.t, _sender(ctx), draft.text).text
    return _page(ctx, sections=sections, draft=draft, shown=shown, values=values)


def send(ctx: PageContext) -> web.StreamResponse:
    """Queue the previewed announcement now, or for its scheduled time."""
    sections = _audiences(ctx)
    errors = forms.FormErrors()
    draft = _read(ctx, sections, errors)
    if draft is None:
        return _page(ctx, 400, sections=sections, errors=errors.texts(ctx.t), values=_values(ctx))
    try:
        broadcasts.announce(
            ctx.session,
            actor=ctx.person(),
            group=draft.audience.value,
            text=draft.text,
            sender_name=_sender(ctx),
            now=ctx.now,
            send_at=draft.send_at,
            tz=ctx.tz,
        )
    except ReadableError as error:  # the same announcement, sent twice
        ctx.session.rollback()
        return _page(ctx, 409, sections=sections, errors={"form": ctx.error_text(error)})
    return ctx.redirect("/announcements?done=" + ("scheduled" if draft.send_at else "sent"))


def cancel(ctx: PageContext) -> web.StreamResponse:
    """Cancel the messages of a scheduled announcement that were not sent yet."""
    broadcast_id = parse_id(ctx.match["broadcast_id"], "broadcast_id")
    try:
        broadcasts.cancel(ctx.session, broadcast_id, actor=ctx.person(), now=ctx.now)
    except ReadableError as error:
        ctx.session.rollback()
        if error.message_id == broadcasts.NOT_FOUND:
            return ctx.not_found()
        return _page(ctx, 409, errors={"form": ctx.error_text(error)})
    return ctx.redirect("/announcements?done=cancelled")
