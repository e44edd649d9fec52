"""The officers' dashboard: routes, sign-in and sign-out, pages, evidence and exports.

Every route opens one database session in a worker thread, finds the signed-in person
from the session cookie, checks what they may see (``bot.web.access``), builds the
page's data (``bot.web.views``) and renders a Jinja2 template in Vietnamese. Pages work
without JavaScript; filters are plain GET forms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from sqlmodel import Session

from bot.i18n import N_, Translator, translator
from bot.plans.evidence import read_stored
from bot.plans.status import (
    REASON_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    Status,
    TaskStatus,
    Verdict,
)
from bot.services import Services
from bot.tallies.codes import CODE_LABELS, CODE_NAMES, code_by_name
from bot.tallies.validation import DENOMINATOR_NAMES
from bot.web import charts, views
from bot.web.access import Page, Viewer, can_open, can_see_task, may_sign_in, visible_pages
from bot.web.auth import (
    COOKIE_NAME,
    LOGIN_PATH,
    check_session,
    close_session,
    cookie_options,
    open_session,
    peek_login_token,
    redeem_login_token,
)
from bot.web.exports import KINDS, export
from bot.web.server import SERVICES
from db.models import Commune

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES = web.AppKey("dashboard_templates", jinja2.Environment)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
INLINE_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")

PAGE_TITLES: dict[Page, str] = {
    Page.OVERVIEW: N_("Overview"),
    Page.VILLAGES: N_("Villages"),
    Page.TASKS: N_("Tasks"),
    Page.UNITS: N_("Units"),
    Page.CONTENT: N_("Guides"),
    Page.AUDIT: N_("Audit log"),
}
PAGE_PATHS: dict[Page, str] = {
    Page.OVERVIEW: "/",
    Page.VILLAGES: "/villages",
    Page.TASKS: "/tasks",
    Page.UNITS: "/units",
    Page.CONTENT: "/content",
    Page.AUDIT: "/audit",
}
DEADLINE_LABELS: dict[str, str] = {
    "overdue": N_("Past the deadline"),
    "7": N_("Due within 7 days"),
    "14": N_("Due within 14 days"),
    "30": N_("Due within 30 days"),
    "none": N_("No deadline"),
}
AUDIT_KIND_LABELS: dict[str, str] = {
    "tally": N_("Village figures"),
    "evidence": N_("Evidence review"),
    "task": N_("Tasks"),
    "indicator": N_("Indicators"),
    "plan": N_("Plans"),
    "admin": N_("Administration"),
}
ACTION_LABELS: dict[str, str] = {
    "tally.correct": N_("Corrected a village figure"),
    "tally.flag": N_("Confirmed an unusual figure"),
    "evidence.approve": N_("Approved evidence"),
    "evidence.reject": N_("Rejected evidence"),
    "task.set_due": N_("Set a task deadline"),
    "indicator.value": N_("Entered an indicator value"),
    "plan.import": N_("Imported a plan"),
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
EVIDENCE_LABELS: dict[str, str] = {
    "pending": N_("Awaiting review"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
EVIDENCE_TONES = {"pending": "info", "approved": "good", "rejected": "bad"}

MSG_SIGN_IN_TITLE = N_("Please sign in")
MSG_SIGN_IN_BODY = N_(
    "To open the dashboard, send /dashboard to the bot on Telegram or Zalo. "
    "It sends you a sign-in link that works once, for 15 minutes."
)
MSG_LINK_BAD_TITLE = N_("This sign-in link cannot be used")
MSG_LINK_BAD_BODY = N_(
    "The link was already used or it has expired (links work once, for 15 minutes). "
    "Send /dashboard to the bot to get a new one."
)
MSG_FORBIDDEN_TITLE = N_("You cannot see this page")
MSG_FORBIDDEN_BODY = N_(
    "Your account does not give access to this page. "
    "If you think this is a mistake, ask the standing office or the commune admin."
)
MSG_NOT_FOUND_TITLE = N_("Not found")
MSG_NOT_FOUND_BODY = N_("This page does not exist or was removed.")
MSG_SIGNED_OUT_TITLE = N_("You are signed out")
MSG_SIGNED_OUT_BODY = N_("To come back, send /dashboard to the bot for a new sign-in link.")
MSG_FILE_MISSING = N_("The file of this evidence is missing on the server.")


# ------------------------------------------------------------------ rendering


def make_environment(locale: str = "vi") -> jinja2.Environment:
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
        EVIDENCE_LABELS=EVIDENCE_LABELS,
        EVIDENCE_TONES=EVIDENCE_TONES,
        CODE_LABELS=CODE_LABELS,
        CODE_NAMES=CODE_NAMES,
        DEADLINE_LABELS=DEADLINE_LABELS,
        AUDIT_KIND_LABELS=AUDIT_KIND_LABELS,
        ACTION_LABELS=ACTION_LABELS,
        PAGE_TITLES=PAGE_TITLES,
        PAGE_PATHS=PAGE_PATHS,
        Page=Page,
        Status=Status,
        Verdict=Verdict,
    )
    env.globals["expected_of"] = expected_of
    env.globals["file_size"] = lambda size: _file_size(t, size)
    env.filters["short"] = _short
    return env


def _file_size(t: Translator, size: int) -> str:
    if size < 1024:
        return f"{t.number(size)} B"
    if size < 1024 * 1024:
        return f"{t.number(round(size / 1024))} KB"
    return f"{t.number(round(size / 1024 / 1024, 1))} MB"


def expected_of(status: TaskStatus) -> float | None:
    """Where the time elapsed says the headline period's progress should be (0..1)."""
    return next((p.expected for p in status.periods if p.period == status.period), None)


def _short(text: str | None, limit: int = 140) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _html(env: jinja2.Environment, name: str, status: int = 200, **context: Any) -> web.Response:
    html = env.get_template(name).render(**context)
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=SECURITY_HEADERS,
    )


def _message(
    env: jinja2.Environment,
    status: int,
    title: str,
    body: str,
    viewer: Viewer | None = None,
    **extra: Any,
) -> web.Response:
    return _html(
        env,
        "message.html",
        status,
        title=title,
        body=body,
        viewer=viewer,
        nav=_nav(viewer),
        page=None,
        commune_name="",
        **extra,
    )


def _nav(viewer: Viewer | None) -> list[Page]:
    return visible_pages(viewer) if viewer is not None else []


# ------------------------------------------------------------------ one request


@dataclass
class PageContext:
    """What a page builder gets: the session, the viewer and the request's parameters."""

    session: Session
    viewer: Viewer
    services: Services
    env: jinja2.Environment
    now: dt.datetime
    query: Mapping[str, str]
    match: Mapping[str, str]
    base_url: str

    @property
    def tz(self) -> ZoneInfo:
        return self.services.tz

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()

    def render(
        self, name: str, page: Page | None, status: int = 200, **context: Any
    ) -> web.Response:
        """Render a page inside the common layout."""
        commune = (
            self.session.get(Commune, self.viewer.commune_id) if self.viewer.commune_id else None
        )
        return _html(
            self.env,
            name,
            status,
            viewer=self.viewer,
            nav=_nav(self.viewer),
            page=page,
            commune_name=commune.name if commune else "",
            today=self.today,
            local=self.local,
            query=self.query,
            url=_url,
            **context,
        )

    def local(self, moment: dt.datetime | None) -> str:
        """A stored UTC time as local date and time."""
        if moment is None:
            return ""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return translator(self.services.settings.locale).datetime(aware.astimezone(self.tz))

    def forbidden(self) -> web.Response:
        t = self.env.globals["t"]
        assert isinstance(t, Translator)
        return _message(
            self.env,
            403,
            t.gettext(MSG_FORBIDDEN_TITLE),
            t.gettext(MSG_FORBIDDEN_BODY),
            self.viewer,
        )

    def not_found(self) -> web.Response:
        t = self.env.globals["t"]
        assert isinstance(t, Translator)
        return _message(
            self.env,
            404,
            t.gettext(MSG_NOT_FOUND_TITLE),
            t.gettext(MSG_NOT_FOUND_BODY),
            self.viewer,
        )


def _url(path: str, query: Mapping[str, Any] | None = None, **changes: Any) -> str:
    """A path with query parameters (empty values dropped), for filter links."""
    params = {**(query or {}), **changes}
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(clean)}" if clean else path


Builder = Callable[[PageContext], web.StreamResponse]


def base_url_of(request: web.Request, services: Services) -> str:
    """The dashboard's public address: the configured one, else the one this request used."""
    configured = services.settings.public_base_url
    return configured.rstrip("/") if configured else str(request.url.origin())


async def _serve(request: web.Request, page: Page | None, build: Builder) -> web.StreamResponse:
    services = request.app[SERVICES]
    env = request.app[TEMPLATES]
    cookie = request.cookies.get(COOKIE_NAME)
    query = {k: v for k, v in request.query.items()}
    match = dict(request.match_info)
    base_url = base_url_of(request, services)

    def work() -> web.StreamResponse:
        now = services.clock()
        t = translator(services.settings.locale)
        with Session(services.engine) as session:
            person_id = check_session(session, cookie, now)
            viewer = views.load_viewer(session, person_id) if person_id is not None else None
            session.commit()
            if viewer is None:
                return _message(env, 401, t.gettext(MSG_SIGN_IN_TITLE), t.gettext(MSG_SIGN_IN_BODY))
            ctx = PageContext(session, viewer, services, env, now, query, match, base_url)
            if not may_sign_in(viewer.roles) or (page is not None and not can_open(viewer, page)):
                return ctx.forbidden()
            response = build(ctx)
            session.commit()
            return response

    return await asyncio.to_thread(work)


# ------------------------------------------------------------------ pages


def _overview(ctx: PageContext) -> web.StreamResponse:
    data = views.overview(ctx.session, ctx.viewer, ctx.today, ctx.query.get("plan"))
    return ctx.render("overview.html", Page.OVERVIEW, data=data)


def _villages(ctx: PageContext) -> web.StreamResponse:
    month = None
    raw = ctx.query.get("month", "")
    try:
        month = dt.date.fromisoformat(raw + "-01") if raw else None
    except ValueError:
        month = None
    data = views.villages(ctx.session, ctx.viewer, ctx.today, ctx.query.get("code", ""), month)
    target = data.totals[data.code].target
    t = translator(ctx.services.settings.locale)
    bars = [
        charts.ChartBar(
            row.name,
            row.progress.rate,
            t.percent(row.progress.rate) if row.progress.rate is not None else "–",
            highlight=row.village_id == ctx.viewer.village_id,
            tone="good" if target is not None and (row.progress.rate or 0) >= target else "",
        )
        for row in data.rows
    ]
    name = t.gettext(CODE_LABELS[data.code])
    chart = charts.bar_chart(
        bars,
        t.gettext(
            N_("{name}: rate by village, month {month}"),
            name=name,
            month=f"{data.month.month}/{data.month.year}",
        ),
        target,
        t.gettext(
            N_("Target {year}: {rate}"),
            year=data.totals[data.code].target_year or "",
            rate=t.percent(target),
        )
        if target is not None
        else "",
    )
    history = charts.column_chart(
        [
            (
                f"{month.month}/{month.year % 100:02d}",
                reported / total if total else 0.0,
                f"{reported}/{total}",
            )
            for month, reported, total in data.history
        ],
        t.gettext(N_("Villages that reported, by month")),
    )
    return ctx.render(
        "villages.html",
        Page.VILLAGES,
        data=data,
        chart=chart,
        history=history,
        denominator_of={c: DENOMINATOR_NAMES[code_by_name(c).denominator] for c in CODE_NAMES},
    )


def _tasks(ctx: PageContext) -> web.StreamResponse:
    data = views.tasks_page(ctx.session, ctx.viewer, ctx.today, ctx.query)
    return ctx.render("tasks.html", Page.TASKS, data=data)


def _task(ctx: PageContext) -> web.StreamResponse:
    raw = ctx.match.get("task_id", "")
    found = views.find_task(ctx.session, int(raw)) if raw.isdigit() else None
    if found is None:
        return ctx.not_found()
    task, plan = found
    if not can_see_task(ctx.viewer, plan.commune_id, task.lead_unit_id, task.coordinating):
        return ctx.forbidden()
    data = views.task_page(ctx.session, task, ctx.today)
    return ctx.render("task.html", Page.TASKS, data=data, inline_types=INLINE_TYPES)


def _evidence(ctx: PageContext) -> web.StreamResponse:
    raw = ctx.match.get("evidence_id", "")
    found = views.find_evidence(ctx.session, int(raw)) if raw.isdigit() else None
    if found is None:
        return ctx.not_found()
    evidence, task, plan = found
    if not can_see_task(ctx.viewer, plan.commune_id, task.lead_unit_id, task.coordinating):
        return ctx.forbidden()
    if evidence.kind == "link" or not evidence.storage_path:
        if evidence.url.startswith(("http://", "https://")):
            raise web.HTTPFound(evidence.url)
        return ctx.not_found()
    data = read_stored(ctx.services.settings.effective_evidence_dir, evidence.storage_path)
    if data is None:
        t = translator(ctx.services.settings.locale)
        return _message(
            ctx.env, 404, t.gettext(MSG_NOT_FOUND_TITLE), t.gettext(MSG_FILE_MISSING), ctx.viewer
        )
    inline = ctx.query.get("view") == "1" and evidence.mime_type in INLINE_TYPES
    name = evidence.file_name or Path(evidence.storage_path).name
    disposition = "inline" if inline else "attachment"
    return web.Response(
        body=data,
        content_type=evidence.mime_type or "application/octet-stream",
        headers={
            **SECURITY_HEADERS,
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
            "Content-Disposition": _disposition(disposition, name),
        },
    )


def _disposition(kind: str, name: str) -> str:
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "") or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _units(ctx: PageContext) -> web.StreamResponse:
    data = views.units_page(ctx.session, ctx.viewer, ctx.today, ctx.tz, ctx.query.get("plan"))
    return ctx.render("units.html", Page.UNITS, data=data)


def _content(ctx: PageContext) -> web.StreamResponse:
    titles = {slug: guide.title for slug, guide in ctx.services.guides.items()}
    data = views.content_page(ctx.session, titles)
    return ctx.render("content.html", Page.CONTENT, data=data)


def _audit(ctx: PageContext) -> web.StreamResponse:
    raw = ctx.query.get("page", "1")
    data = views.audit_page(
        ctx.session, ctx.viewer, int(raw) if raw.isdigit() else 1, ctx.query.get("kind", "")
    )
    return ctx.render("audit.html", Page.AUDIT, data=data, describe=_describe_change)


def _describe_change(values: Mapping[str, Any] | None) -> str:
    if not values:
        return ""
    return ", ".join(f"{k}: {v}" for k, v in values.items() if not isinstance(v, dict))


EXPORT_PAGES = {
    "indicators": Page.EXPORT_INDICATORS,
    "tasks": Page.EXPORT_TASKS,
    "tallies": Page.EXPORT_TALLIES,
}


def _export(kind: str) -> Builder:
    def build(ctx: PageContext) -> web.StreamResponse:
        t = translator(ctx.services.settings.locale)
        file = export(
            kind, ctx.session, ctx.viewer, t, ctx.today, ctx.base_url, ctx.query.get("plan")
        )
        return web.Response(
            body=file.data,
            headers={
                **SECURITY_HEADERS,
                "Content-Type": file.mime_type,
                "Content-Disposition": _disposition("attachment", file.file_name),
            },
        )

    return build


# ------------------------------------------------------------------ sign-in and sign-out


async def login_form(request: web.Request) -> web.StreamResponse:
    """Show the confirmation button of a valid sign-in link (opening it spends nothing)."""
    services = request.app[SERVICES]
    env = request.app[TEMPLATES]
    token = request.match_info["token"]

    def work() -> web.StreamResponse:
        t = translator(services.settings.locale)
        with Session(services.engine) as session:
            row = peek_login_token(session, token, services.clock())
            if row is None:
                return _message(
                    env, 403, t.gettext(MSG_LINK_BAD_TITLE), t.gettext(MSG_LINK_BAD_BODY)
                )
            return _html(
                env,
                "login.html",
                viewer=None,
                nav=[],
                page=None,
                commune_name="",
                action=request.path,
            )

    return await asyncio.to_thread(work)


async def login_submit(request: web.Request) -> web.StreamResponse:
    """Spend a sign-in link, open a session and set its cookie."""
    services = request.app[SERVICES]
    env = request.app[TEMPLATES]
    token = request.match_info["token"]

    def work() -> web.StreamResponse:
        now = services.clock()
        t = translator(services.settings.locale)
        with Session(services.engine) as session:
            person_id = redeem_login_token(session, token, now)
            if person_id is None:
                session.rollback()
                return _message(
                    env, 403, t.gettext(MSG_LINK_BAD_TITLE), t.gettext(MSG_LINK_BAD_BODY)
                )
            viewer = views.load_viewer(session, person_id)
            if viewer is None or not may_sign_in(viewer.roles):
                session.commit()
                return _message(
                    env, 403, t.gettext(MSG_FORBIDDEN_TITLE), t.gettext(MSG_FORBIDDEN_BODY)
                )
            opened = open_session(session, person_id, now)
            session.commit()
        response = web.Response(status=303, headers={**SECURITY_HEADERS, "Location": "/"})
        options = cookie_options(services.settings.public_base_url)
        response.set_cookie(COOKIE_NAME, opened.token, **options)  # type: ignore[arg-type]
        return response

    return await asyncio.to_thread(work)


async def logout(request: web.Request) -> web.StreamResponse:
    """Sign out: revoke the session and forget the cookie."""
    services = request.app[SERVICES]
    env = request.app[TEMPLATES]
    cookie = request.cookies.get(COOKIE_NAME)

    def work() -> web.StreamResponse:
        with Session(services.engine) as session:
            close_session(session, cookie)
            session.commit()
        t = translator(services.settings.locale)
        response = _message(
            env, 200, t.gettext(MSG_SIGNED_OUT_TITLE), t.gettext(MSG_SIGNED_OUT_BODY)
        )
        options = cookie_options(services.settings.public_base_url)
        response.del_cookie(
            COOKIE_NAME, path="/", secure=bool(options["secure"]), httponly=True, samesite="Lax"
        )
        return response

    return await asyncio.to_thread(work)


# ------------------------------------------------------------------ wiring


def _route(page: Page | None, build: Builder) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _serve(request, page, build)

    handler.__doc__ = build.__doc__
    return handler


def setup_dashboard(app: web.Application) -> None:
    """Mount the dashboard's routes and static files on the shared web application."""
    services = app[SERVICES]
    app[TEMPLATES] = make_environment(services.settings.locale)
    router = app.router
    router.add_get("/", _route(Page.OVERVIEW, _overview))
    router.add_get("/villages", _route(Page.VILLAGES, _villages))
    router.add_get("/tasks", _route(Page.TASKS, _tasks))
    router.add_get("/tasks/{task_id}", _route(None, _task))
    router.add_get("/evidence/{evidence_id}", _route(None, _evidence))
    router.add_get("/units", _route(Page.UNITS, _units))
    router.add_get("/content", _route(Page.CONTENT, _content))
    router.add_get("/audit", _route(Page.AUDIT, _audit))
    for kind in KINDS:
        suffix = "csv" if kind == "tallies" else "xlsx"
        router.add_get(f"/export/{kind}.{suffix}", _route(EXPORT_PAGES[kind], _export(kind)))
    router.add_get(LOGIN_PATH + "/{token}", login_form)
    router.add_post(LOGIN_PATH + "/{token}", login_submit)
    router.add_post("/logout", logout)
    router.add_static("/static", STATIC_DIR, append_version=False)


def export_path(kind: str, plan_slug: str | None = None) -> str:
    """The dashboard path of an export (used by templates and the chat)."""
    suffix = "csv" if kind == "tallies" else "xlsx"
    path = f"/export/{kind}.{suffix}"
    return f"{path}?{urlencode({'plan': plan_slug})}" if plan_slug else path
