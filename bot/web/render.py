"""Pages as HTML: the Jinja2 environment, the labels templates use, message pages.

Templates are autoescaped and every text goes through the gettext catalog of the
configured locale. Nothing here touches the database or a request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from bot.audit import ENTITY_LABELS, EVIDENCE_STATUS_LABELS
from bot.i18n import N_, Translator, translator
from bot.plans.status import (
    REASON_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    Status,
    TaskStatus,
    Verdict,
)
from bot.tallies.codes import CODE_LABELS, CODE_NAMES
from bot.text import shorten
from bot.web import charts
from bot.web.access import Page, Viewer, visible_pages
from bot.web.csrf import csrf_field

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

INLINE_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")

PAGE_TITLES: dict[Page, str] = {
    Page.PROVINCE: N_("Province"),
    Page.OVERVIEW: N_("Overview"),
    Page.VILLAGES: N_("Villages"),
    Page.TASKS: N_("Tasks"),
    Page.FEEDBACK: N_("Feedback"),
    Page.UNITS: N_("Units"),
    Page.CONTENT: N_("Guides"),
    Page.AUDIT: N_("Audit log"),
    Page.REVIEW: N_("Review"),
    Page.FLAGGED: N_("Figures to check"),
    Page.PLAN: N_("Plan"),
    Page.PEOPLE: N_("People and invites"),
    Page.SETUP: N_("Set-up"),
    Page.ANNOUNCEMENTS: N_("Announcements"),
}
PAGE_PATHS: dict[Page, str] = {
    Page.PROVINCE: "/province",
    Page.OVERVIEW: "/",
    Page.VILLAGES: "/villages",
    Page.TASKS: "/tasks",
    Page.FEEDBACK: "/feedback",
    Page.UNITS: "/units",
    Page.CONTENT: "/content",
    Page.AUDIT: "/audit",
    Page.REVIEW: "/review",
    Page.FLAGGED: "/tallies/flagged",
    Page.PLAN: "/plan",
    Page.PEOPLE: "/people",
    Page.SETUP: "/setup",
    Page.ANNOUNCEMENTS: "/announcements",
}
DEADLINE_LABELS: dict[str, str] = {
    "overdue": N_("Past the deadline"),
    "7": N_("Due within 7 days"),
    "14": N_("Due within 14 days"),
    "30": N_("Due within 30 days"),
    "none": N_("No deadline"),
}
VERDICT_TONES: dict[Verdict, str] = {
    Verdict.MET: "good",
    Verdict.ON_TRACK: "info",
    Verdict.AT_RISK: "bad",
    Verdict.NO_DATA: "muted",
    Verdict.NO_TARGET: "muted",
}
STATUS_TONES: dict[Status, str] = {
    Status.DONE: "good",
    Status.AWAITING_REVIEW: "info",
    Status.IN_PROGRESS: "info",
    Status.NOT_STARTED: "muted",
    Status.NEEDS_WORK: "bad",
    Status.OVERDUE: "bad",
}
EVIDENCE_TONES = {"pending": "info", "approved": "good", "rejected": "bad"}

MSG_SIGN_IN_TITLE = N_("Please sign in")
MSG_SIGN_IN_BODY = N_(
    "To open the dashboard, send /dashboard to the bot on Telegram or Zalo. "
    "It sends you a sign-in link that works once, for 15 minutes."
)
MSG_FORBIDDEN_TITLE = N_("You cannot see this page")
MSG_FORBIDDEN_BODY = N_(
    "Your account does not give access to this page. "
    "If you think this is a mistake, ask the standing office or the commune admin."
)


CHANNEL_NAMES = {"zalo": "Zalo", "telegram": "Telegram"}  # brand names, not translated
CONSOLE_NAME = N_("On-screen chat")  # the console, "trò chuyện trên màn hình" as the CLI says
# An id seen only as a sender in a group chat (``ChatIdentity.private`` False): no private message
GROUP_ONLY = N_("Only in a {channel} group")
NO_CHAT_YET = N_("not yet")


def channel_name(t: Translator, channel: str) -> str:
    """A chat channel as people read it: Zalo, Telegram, Trò chuyện trên màn hình."""
    if channel == "console":
        return t.gettext(CONSOLE_NAME)
    return CHANNEL_NAMES.get(channel, channel.capitalize())


def linked_chats(t: Translator, channels: list[str], group_only: list[str]) -> str:
    """A person's chats: the channels they can be written to, then those seen only in a group."""
    names = [channel_name(t, c) for c in channels]
    names += [t.gettext(GROUP_ONLY, channel=channel_name(t, c)) for c in group_only]
    return ", ".join(names) or t.gettext(NO_CHAT_YET)


def make_environment(locale: str) -> jinja2.Environment:
    """The Jinja2 environment: autoescaped templates, texts through the gettext catalog."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    t = translator(locale)
    env.install_gettext_callables(t.gettext, t.ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals.update(
        t=t,
        charts=charts,
        STATUS_LABELS=STATUS_LABELS,
        REASON_LABELS=REASON_LABELS,
        VERDICT_LABELS=VERDICT_LABELS,
        VERDICT_TONES=VERDICT_TONES,
        STATUS_TONES=STATUS_TONES,
        EVIDENCE_LABELS=EVIDENCE_STATUS_LABELS,
        EVIDENCE_TONES=EVIDENCE_TONES,
        CODE_LABELS=CODE_LABELS,
        CODE_NAMES=CODE_NAMES,
        DEADLINE_LABELS=DEADLINE_LABELS,
        AUDIT_KIND_LABELS=ENTITY_LABELS,
        PAGE_TITLES=PAGE_TITLES,
        PAGE_PATHS=PAGE_PATHS,
        Page=Page,
        Status=Status,
        Verdict=Verdict,
    )
    env.globals["csrf_field"] = csrf_field
    env.globals["expected_of"] = expected_of
    env.globals["file_size"] = lambda size: file_size(t, size)
    env.filters["short"] = shorten
    env.filters["channel_name"] = lambda channel: channel_name(t, channel)
    env.globals["linked_chats"] = lambda row: linked_chats(t, row.channels, row.group_only)
    return env


def translator_of(env: jinja2.Environment) -> Translator:
    """The translator the environment renders with."""
    t = env.globals["t"]
    assert isinstance(t, Translator)
    return t


def file_size(t: Translator, size: int) -> str:
    """A file size for people: 512 B, 34 KB, 1,2 MB."""
    if size < 1024:
        return f"{t.number(size)} B"
    if size < 1024 * 1024:
        return f"{t.number(round(size / 1024))} KB"
    return f"{t.number(round(size / 1024 / 1024, 1))} MB"


def expected_of(status: TaskStatus) -> float | None:
    """Where the time elapsed says the headline period's progress should be (0..1)."""
    return next((p.expected for p in status.periods if p.period == status.period), None)


def html(env: jinja2.Environment, name: str, status: int = 200, **context: Any) -> web.Response:
    """Render a template into a response."""
    text = env.get_template(name).render(**context)
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        charset="utf-8",
    )


def nav_of(viewer: Viewer | None) -> list[Page]:
    """The navigation entries shown to a viewer (none when signed out)."""
    return visible_pages(viewer) if viewer is not None else []


def message(
    env: jinja2.Environment,
    status: int,
    title: str,
    body: str,
    viewer: Viewer | None = None,
    **extra: Any,
) -> web.Response:
    """A page with one message (signed out, refused, not found…); texts are message ids."""
    t = translator_of(env)
    return html(
        env,
        "message.html",
        status,
        title=t.gettext(title),
        body=t.gettext(body),
        viewer=viewer,
        nav=nav_of(viewer),
        page=None,
        commune_name="",
        **extra,
    )


def disposition(kind: str, name: str) -> str:
    """A Content-Disposition header value that keeps a Vietnamese file name."""
    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "") or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
