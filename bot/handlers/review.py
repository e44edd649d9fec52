"""The standing office reviews evidence: approve, or send back with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.flows import Action, Flow, Step
from bot.core.messages import Choice, Reply
from bot.core.picks import Entry, looks_like_number, offered_choices, pick_entry
from bot.core.registry import Registry
from bot.handlers.start import CommandChoice
from bot.handlers.tasks import period_words
from bot.i18n import N_
from bot.plans import store
from bot.plans.evidence import read_stored
from bot.text import shorten
from db.models import Role

REVIEW_ROLES = frozenset({Role.OFFICE, Role.ADMIN})
PAGE = 10

MSG_NOT_ALLOWED = N_(
    "Reviewing evidence is for the standing office. Type /menu to see what you can do."
)


class RejectFlow(Flow, name="revno"):
    """Sending evidence back: the next message is the reason."""

    reason = Step()


@dataclass(frozen=True)
class EvidenceChoice(Action, prefix="rev"):
    """Open a piece of evidence waiting for review."""

    evidence_id: int


@dataclass(frozen=True)
class ApproveChoice(Action, prefix="revok"):
    """Approve a piece of evidence."""

    evidence_id: int


@dataclass(frozen=True)
class RejectChoice(Action, prefix="revno"):
    """Send a piece of evidence back (the reason is asked next)."""

    evidence_id: int


def _reviewer(ctx: Context) -> None:
    if not ctx.has_role(*REVIEW_ROLES):
        raise UserError(MSG_NOT_ALLOWED)


def _what(ctx: Context, view: store.EvidenceView) -> str:
    evidence = view.evidence
    if evidence.kind == "link":
        return evidence.url
    size = ctx.t.number(round(evidence.size / 1024))
    return ctx._("{name} ({size} KB)", name=evidence.file_name, size=size)


def pending_list(ctx: Context, message: str | None = None) -> list[Reply]:
    """Evidence awaiting review, oldest first."""
    _reviewer(ctx)
    views = store.pending_evidence(ctx.session, ctx.person.commune_id)
    replies = [Reply(text=message)] if message else []
    if not views:
        replies.append(ctx.reply(N_("No evidence is waiting for review. 👍")))
        return replies
    lines = [ctx._("Evidence waiting for review: {count}. Oldest first:", count=len(views))]
    choices = []
    for view in views[:PAGE]:
        sent = ctx.t.datetime(view.evidence.uploaded_at.astimezone(ctx.tz))
        lines.append(
            "• "
            + ctx._(
                "Task {number} ({unit}) – {what}, sent by {person} at {sent}",
                number=view.task.number,
                unit=view.unit or "—",
                what=shorten(_what(ctx, view), 60),
                person=view.uploader or "—",
                sent=sent,
            )
        )
        # The task's number is in the line above; a choice shows only its position.
        choices.append(
            Choice(
                f"📎 {shorten(view.task.text, 34)} ({shorten(view.unit or '—', 24)})",
                EvidenceChoice(view.id).pack(),
            )
        )
    lines.append(ctx._("Pick one, or type the task's number, to see the evidence."))
    replies.append(Reply(text="\n".join(lines), choices=choices))
    return replies


def pick_evidence(ctx: Context, text: str) -> str | list[Reply] | None:
    """Evidence waiting for review named by its task's number or text."""
    if not ctx.has_role(*REVIEW_ROLES):
        return None
    views = store.pending_evidence(ctx.session, ctx.person.commune_id)
    entries = [Entry(v.task.number, v.task.text, EvidenceChoice(v.id).pack()) for v in views]
    picked = pick_entry(text, entries)
    if picked is not None or not looks_like_number(text) or not views:
        return picked
    numbers = ", ".join(dict.fromkeys(v.task.number for v in views))
    return [
        ctx.reply(
            N_("No evidence of task {number} is waiting. Tasks waiting: {numbers}."),
            offered_choices(ctx),
            number=shorten(text.strip(), 20),
            numbers=numbers,
        )
    ]


def register(registry: Registry) -> None:
    """Register /duyet and the review flow."""

    @registry.command(
        "duyet", "review", description=N_("Review evidence sent by the units"), roles=REVIEW_ROLES
    )
    def review_command(ctx: Context, argument: str) -> list[Reply]:
        """List the evidence awaiting review."""
        ctx.finish()
        return pending_list(ctx)

    registry.picker(EvidenceChoice)(pick_evidence)

    @registry.on_choice(EvidenceChoice)
    def open_evidence(ctx: Context, data: EvidenceChoice) -> list[Reply]:
        """Show one piece of evidence with the file, and the decisions."""
        _reviewer(ctx)
        ctx.finish()
        view = store.evidence_for_review(ctx.session, data.evidence_id, ctx.person.commune_id)
        evidence, task = view.evidence, view.task
        lines = [
            ctx._("📋 Task {number}: {text}", number=task.number, text=shorten(task.text, 300)),
            ctx._("Lead unit: {unit}", unit=view.unit or "—"),
            ctx._(
                "Sent by {person} at {sent}",
                person=view.uploader or "—",
                sent=ctx.t.datetime(evidence.uploaded_at.astimezone(ctx.tz)),
            ),
            ctx._("Evidence: {what}", what=_what(ctx, view)),
        ]
        if evidence.period:
            period = period_words(ctx, evidence.period)
            lines.append(ctx._("Reporting period: {period}", period=period))
        reply = Reply(
            text="\n".join(lines),
            choices=[
                Choice(ctx._("✅ Approve"), ApproveChoice(data.evidence_id).pack()),
                Choice(ctx._("↩️ Send back with a reason"), RejectChoice(data.evidence_id).pack()),
                Choice(ctx._("📋 Waiting list"), CommandChoice("duyet").pack()),
            ],
        )
        if evidence.storage_path:
            stored = read_stored(
                ctx.services.settings.effective_evidence_dir, evidence.storage_path
            )
            if stored is not None and evidence.kind == "photo":
                reply.image, reply.image_name = stored, evidence.file_name or "minh-chung.jpg"
            elif stored is not None:
                reply.file, reply.file_name = stored, evidence.file_name or "minh-chung"
        return [reply]

    @registry.on_choice(ApproveChoice)
    def approve(ctx: Context, data: ApproveChoice) -> list[Reply]:
        """Approve: the task (or its period) is done."""
        _reviewer(ctx)
        evidence = store.review_evidence(
            ctx.session, data.evidence_id, reviewer=ctx.person, approve=True, now=ctx.now
        )
        task = store.task_view(ctx.session, evidence.task_id, ctx.today).task
        ctx.finish()
        return pending_list(ctx, ctx._("Approved. Task {number} is done.", number=task.number))

    @registry.on_choice(RejectChoice)
    def start_reject(ctx: Context, data: RejectChoice) -> list[Reply]:
        """Ask why the evidence is sent back."""
        _reviewer(ctx)
        view = store.evidence_for_review(ctx.session, data.evidence_id, ctx.person.commune_id)
        ctx.begin(RejectFlow.reason, evidence_id=view.id)
        return [
            ctx.reply(N_("What must the unit complete? Write the reason; it is sent to the unit."))
        ]

    @registry.step(RejectFlow.reason)
    def reject(ctx: Context, text: str) -> list[Reply]:
        """Reject with the reason: the task goes back to "needs completing" and turns red."""
        _reviewer(ctx)
        reason = text.strip()
        if len(reason) < store.MIN_REJECT_REASON:
            return [
                ctx.reply(
                    N_("Please write the reason in a few words, so the unit knows what to fix.")
                )
            ]
        evidence = store.review_evidence(
            ctx.session,
            int(ctx.data["evidence_id"]),
            reviewer=ctx.person,
            approve=False,
            reason=reason,
            now=ctx.now,
        )
        task = store.task_view(ctx.session, evidence.task_id, ctx.today).task
        ctx.finish()
        message = ctx._(
            "Sent back. Task {number} is now “needs completing” with a red alert, and the unit was told.",
            number=task.number,
        )
        return pending_list(ctx, message)
