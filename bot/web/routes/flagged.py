"""Flagged village figures on the web: the office accepts them or asks the village to correct.

The decisions go through ``bot.tallies.flags`` (the rule the chat can use too): the same
audit entries, and the request to correct goes to the village's team through the outbox.
"""

from __future__ import annotations

from aiohttp import web

from bot.errors import ReadableError
from bot.i18n import N_
from bot.tallies import flags
from bot.web.access import Page
from bot.web.context import PageContext
from bot.web.params import parse_id, query_choice

PATH = "/tallies/flagged"
ACCEPT_PATH = PATH + "/{tally_id}/accept"
ASK_PATH = PATH + "/{tally_id}/ask"

MSG_ACCEPTED = N_("Accepted. The figure is no longer marked.")
MSG_ASKED = N_("Sent. The village's team was asked to check and resend the figure.")
MSG_NOBODY = N_(
    "Noted, but no one of the village's team can be reached in the chat now "
    "(or they were already asked). Call them."
)
NOTICES = {"accepted": MSG_ACCEPTED, "asked": MSG_ASKED, "nobody": MSG_NOBODY}


def _queue(ctx: PageContext, status: int = 200, error: str = "") -> web.Response:
    assert ctx.viewer.commune_id is not None
    notice = NOTICES.get(query_choice(ctx.query, "done", tuple(NOTICES)), "")
    return ctx.render(
        "flagged.html",
        Page.FLAGGED,
        status,
        items=flags.flagged_queue(ctx.session, ctx.viewer.commune_id),
        notice=notice,
        error=error,
    )


def flagged_queue(ctx: PageContext) -> web.StreamResponse:
    """List the figures confirmed despite a drop or a jump, oldest first."""
    return _queue(ctx)


def _decide(ctx: PageContext, accept: bool) -> web.StreamResponse:
    tally_id = parse_id(ctx.match["tally_id"], "tally_id")
    actor = ctx.person()
    try:
        if accept:
            flags.accept_flag(ctx.session, tally_id, actor=actor, now=ctx.now)
            done = "accepted"
        else:
            queued = flags.ask_correction(
                ctx.session, tally_id, actor=actor, now=ctx.now, today=ctx.today
            )
            done = "asked" if queued else "nobody"
    except ReadableError as error:  # already cleared, not of this commune, month closed
        ctx.session.rollback()
        return _queue(ctx, 409, error=ctx.error_text(error))
    return ctx.redirect(f"{PATH}?done={done}")


def accept(ctx: PageContext) -> web.StreamResponse:
    """Accept a flagged figure as it is."""
    return _decide(ctx, accept=True)


def ask(ctx: PageContext) -> web.StreamResponse:
    """Ask the village's team to check a flagged figure and send it again."""
    return _decide(ctx, accept=False)
