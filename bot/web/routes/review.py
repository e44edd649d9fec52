"""Evidence review on the web: the queue, approve, or send back with a reason.

The decision goes through ``bot.plans.store.review_evidence``, the rule behind the
chat's /duyet: the same audit entry and the same message to the unit's officers.
"""

from __future__ import annotations

from aiohttp import web

from bot.errors import ReadableError
from bot.i18n import N_
from bot.plans import store
from bot.web import forms
from bot.web.access import Page
from bot.web.context import PageContext
from bot.web.params import parse_id, query_choice
from bot.web.render import INLINE_TYPES

MSG_APPROVED = N_("Approved. The task is done and the unit was told.")
MSG_RETURNED = N_("Sent back. The task needs completing and the unit was told the reason.")
NOTICES = {"approved": MSG_APPROVED, "returned": MSG_RETURNED}
REASON_LIMIT = 1000


def _queue(
    ctx: PageContext, status: int = 200, failed: int | None = None, **extra: object
) -> web.Response:
    views = store.pending_evidence(ctx.session, ctx.viewer.commune_id)
    notice = NOTICES.get(query_choice(ctx.query, "done", tuple(NOTICES)), "")
    return ctx.render(
        "review.html",
        Page.REVIEW,
        status,
        items=views,
        inline_types=INLINE_TYPES,
        notice=notice,
        failed=failed,
        **{"errors": {}, "reason": "", **extra},
    )


def review_queue(ctx: PageContext) -> web.StreamResponse:
    """List the evidence waiting for review, oldest first, each with its decisions."""
    return _queue(ctx)


def _decide(ctx: PageContext, approve: bool) -> web.StreamResponse:
    evidence_id = parse_id(ctx.match["evidence_id"], "evidence_id")
    errors = forms.FormErrors()
    reason = ""
    if not approve:
        reason = forms.text(
            ctx.form,
            "reason",
            errors,
            limit=REASON_LIMIT,
            minimum=store.MIN_REJECT_REASON,
        )
    if errors:
        return _queue(ctx, 400, failed=evidence_id, errors=errors.texts(ctx.t), reason=reason)
    reviewer = ctx.person()
    try:
        store.review_evidence(
            ctx.session,
            evidence_id,
            reviewer=reviewer,
            approve=approve,
            reason=reason,
            now=ctx.now,
        )
    except ReadableError as error:  # already decided, or not of this commune
        ctx.session.rollback()
        return _queue(ctx, 409, failed=evidence_id, errors={"form": ctx.error_text(error)})
    return ctx.redirect("/review?done=" + ("approved" if approve else "returned"))


def approve(ctx: PageContext) -> web.StreamResponse:
    """Approve a piece of evidence: its task (or period) is done."""
    return _decide(ctx, approve=True)


def send_back(ctx: PageContext) -> web.StreamResponse:
    """Send a piece of evidence back to its unit with the reason."""
    return _decide(ctx, approve=False)
