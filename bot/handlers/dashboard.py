"""``/dashboard``: a one-time sign-in link; ``/xuatbaocao``: the report files in the chat."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.core.context import Context
from bot.core.flows import Action
from bot.core.messages import Choice, Reply
from bot.core.registry import Registry
from bot.i18n import N_
from bot.services import Services
from bot.text import fold
from bot.web.access import DASHBOARD_ROLES, Page, Viewer, can_open
from bot.web.auth import LOGIN_TTL, create_login_link, dashboard_base_url
from bot.web.exports import export


class ExportKind(enum.StrEnum):
    """The report files a person can download (``bot.web.exports.export`` kinds)."""

    INDICATORS = "indicators"
    TASKS = "tasks"
    TALLIES = "tallies"


@dataclass(frozen=True)
class ExportChoice(Action, prefix="dashx"):
    """Send one report file."""

    kind: ExportKind


EXPORT_CHOICES: tuple[tuple[ExportKind, Page, str], ...] = (
    (ExportKind.INDICATORS, Page.EXPORT_INDICATORS, N_("📊 Indicator appendix (Excel)")),
    (ExportKind.TASKS, Page.EXPORT_TASKS, N_("📋 Task list with status and evidence (Excel)")),
    (ExportKind.TALLIES, Page.EXPORT_TALLIES, N_("🏘 Village figures by month (CSV)")),
)
# Words typed after /xuatbaocao that pick a file directly (folded).
EXPORT_WORDS = {
    "indicators": ExportKind.INDICATORS,
    "chi tieu": ExportKind.INDICATORS,
    "chitieu": ExportKind.INDICATORS,
    "tasks": ExportKind.TASKS,
    "nhiem vu": ExportKind.TASKS,
    "nhiemvu": ExportKind.TASKS,
    "tallies": ExportKind.TALLIES,
    "so lieu": ExportKind.TALLIES,
    "solieu": ExportKind.TALLIES,
}

LINK = N_(
    "🖥 Your sign-in link to the dashboard (it works once, for {minutes} minutes):\n{link}\n"
    "Do not share it: whoever opens it signs in as you."
)
NO_COMMUNE = N_(
    "Your account is not linked to a commune yet. Ask the commune admin for an invite code."
)
PICK_EXPORT = N_("Which report do you want?")
NOTHING_TO_EXPORT = N_("There is no report you can download with your account.")
EXPORT_READY = N_("Here is the report: {name}")
EXPORT_NO_LINK = N_(
    "I cannot send files on this app. Send /dashboard and download the report from the dashboard."
)


def base_url(services: Services) -> str:
    """The dashboard address sign-in links point to."""
    settings = services.settings
    return dashboard_base_url(
        settings.public_base_url, services.web_base_url, settings.listen_host, settings.listen_port
    )


def viewer_of(ctx: Context) -> Viewer:
    """The person writing, as the dashboard's access rules see them."""
    person = ctx.person
    return Viewer(
        person_id=ctx.person_id,
        name=person.display_name,
        commune_id=person.commune_id,
        roles=ctx.roles,
        unit_id=person.unit_id,
        village_id=person.village_id,
    )


def register(registry: Registry) -> None:
    """Register the dashboard link and report exports."""

    @registry.command(
        "dashboard",
        "bangdieukhien",
        description=N_("Open the web dashboard"),
        roles=DASHBOARD_ROLES,
    )
    def dashboard(ctx: Context, argument: str) -> list[Reply]:
        """Send a one-time sign-in link bound to this person."""
        if ctx.person.commune_id is None:
            return [ctx.reply(NO_COMMUNE)]
        link = create_login_link(ctx.session, ctx.person_id, ctx.now, base_url(ctx.services))
        minutes = int(LOGIN_TTL.total_seconds() // 60)
        return [ctx.reply(LINK, link=link, minutes=minutes)]

    @registry.command(
        "xuatbaocao", "export", description=N_("Download a report file"), roles=DASHBOARD_ROLES
    )
    def export_command(ctx: Context, argument: str) -> list[Reply]:
        """Offer the report files this person may download, or send the one named."""
        kind = EXPORT_WORDS.get(fold(argument))
        if kind is not None:
            return send_export(ctx, kind)
        viewer = viewer_of(ctx)
        choices = [
            Choice(ctx._(label), ExportChoice(name).pack())
            for name, page, label in EXPORT_CHOICES
            if can_open(viewer, page)
        ]
        if not choices:
            return [ctx.reply(NOTHING_TO_EXPORT)]
        return [ctx.reply(PICK_EXPORT, choices)]

    @registry.on_choice(ExportChoice)
    def export_choice(ctx: Context, data: ExportChoice) -> list[Reply]:
        """Send the chosen report file."""
        return send_export(ctx, data.kind)


def send_export(ctx: Context, kind: ExportKind) -> list[Reply]:
    """Build one report file for this person and send it (a link on Zalo)."""
    viewer = viewer_of(ctx)
    page = next((page for name, page, _label in EXPORT_CHOICES if name == kind), None)
    if page is None or not can_open(viewer, page):
        return [ctx.reply(NOTHING_TO_EXPORT)]
    if ctx.message.channel == "zalo" and not ctx.services.settings.public_base_url:
        return [ctx.reply(EXPORT_NO_LINK)]
    file = export(kind, ctx.session, viewer, ctx.t, ctx.today, base_url(ctx.services))
    return [
        Reply(
            text=ctx._(EXPORT_READY, name=file.file_name), file=file.data, file_name=file.file_name
        )
    ]
