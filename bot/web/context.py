"""One dashboard request: the signed-in viewer, one database session, the page's answer.

``page_route(page, build)`` turns a page builder (a plain function of a ``PageContext``)
into an aiohttp handler: it opens one database session in a worker thread, finds the
signed-in person from the session cookie, checks the viewer may open the page
(``bot.web.access``), calls the builder and commits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from sqlmodel import Session

from bot.errors import ReadableError
from bot.i18n import Translator, translator
from bot.services import Services
from bot.web import views
from bot.web.access import Page, Viewer, can_open, may_sign_in
from bot.web.auth import COOKIE_NAME, PROVINCE_PATH, check_session
from bot.web.keys import CSRF_TOKEN, SERVICES, TEMPLATES
from bot.web.params import MSG_NOT_FOUND_BODY, MSG_NOT_FOUND_TITLE, BadInput, query_text
from bot.web.render import (
    MSG_FORBIDDEN_BODY,
    MSG_FORBIDDEN_TITLE,
    MSG_SIGN_IN_BODY,
    MSG_SIGN_IN_TITLE,
    html,
    message,
    nav_of,
)
from db.models import Commune, Person


def url(path: str, query: Mapping[str, Any] | None = None, **changes: Any) -> str:
    """A path with query parameters (empty values dropped), for filter links."""
    params = {**(query or {}), **changes}
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(clean)}" if clean else path


def base_url_of(request: web.Request, services: Services) -> str:
    """The dashboard's public address: the configured one, else the one this request used."""
    configured = services.settings.public_base_url
    return configured.rstrip("/") if configured else str(request.url.origin())


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
    csrf_token: str = ""
    # The submitted form of a POST (text fields and uploaded files), empty for a GET.
    form: MultiDictProxy[Any] = field(default_factory=lambda: MultiDictProxy(MultiDict()))

    @property
    def tz(self) -> ZoneInfo:
        return self.services.tz

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()

    @property
    def t(self) -> Translator:
        return translator(self.services.settings.locale)

    def render(
        self, name: str, page: Page | None, status: int = 200, **context: Any
    ) -> web.Response:
        """Render a page inside the common layout."""
        return self.render_of(self.viewer.commune_id, name, page, status, **context)

    def render_of(
        self,
        commune_id: int | None,
        name: str,
        page: Page | None,
        status: int = 200,
        **context: Any,
    ) -> web.Response:
        """Render a page of a commune (not the viewer's own for a province officer)."""
        commune = self.session.get(Commune, commune_id) if commune_id else None
        return html(
            self.env,
            name,
            status,
            viewer=self.viewer,
            nav=nav_of(self.viewer),
            page=page,
            commune_name=commune.name if commune else "",
            today=self.today,
            local=self.local,
            query=self.query,
            url=url,
            csrf_token=self.csrf_token,
            **context,
        )

    def local(self, moment: dt.datetime | None) -> str:
        """A stored UTC time as local date and time."""
        if moment is None:
            return ""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return self.t.datetime(aware.astimezone(self.tz))

    def message(self, status: int, title: str, body: str) -> web.Response:
        """A one-message page for the signed-in viewer (title and body are message ids)."""
        return message(self.env, status, title, body, self.viewer, csrf_token=self.csrf_token)

    def plan_slug(self) -> str | None:
        """The ``?plan=`` of the request: None when absent, BadInput when no such plan."""
        slug = query_text(self.query, "plan")
        if not slug:
            return None
        assert self.viewer.commune_id is not None
        if not views.plan_known(self.session, self.viewer.commune_id, slug):
            raise BadInput(404, "plan")
        return slug

    def person(self) -> Person:
        """The signed-in person's row (the actor named in audit entries)."""
        person = self.session.get(Person, self.viewer.person_id)
        assert person is not None  # the viewer was loaded from it in this session
        return person

    def redirect(self, location: str) -> web.Response:
        """After a change, send the browser to a page with GET (post/redirect/get)."""
        return web.Response(status=303, headers={"Location": location})

    def error_text(self, error: ReadableError) -> str:
        """A domain error in the dashboard's language."""
        return error.render(self.t)

    def forbidden(self) -> web.Response:
        return self.message(403, MSG_FORBIDDEN_TITLE, MSG_FORBIDDEN_BODY)

    def not_found(self) -> web.Response:
        return self.message(404, MSG_NOT_FOUND_TITLE, MSG_NOT_FOUND_BODY)


Builder = Callable[[PageContext], web.StreamResponse]


async def serve(request: web.Request, page: Page | None, build: Builder) -> web.StreamResponse:
    """Answer one dashboard request with a page builder (signed-in viewers only).

    A POST's form was already read (and its CSRF token checked) by the middleware.
    """
    services = request.app[SERVICES]
    form = await request.post() if request.method == "POST" else MultiDictProxy(MultiDict())
    env = request.app[TEMPLATES]
    cookie = request.cookies.get(COOKIE_NAME)
    query = dict(request.query.items())
    match = dict(request.match_info)
    base_url = base_url_of(request, services)
    csrf_token = request.get(CSRF_TOKEN, "")

    def work() -> web.StreamResponse:
        now = services.clock()
        with Session(services.engine) as session:
            person_id = check_session(session, cookie, now)
            viewer = views.load_viewer(session, person_id) if person_id is not None else None
            session.commit()
            if viewer is None:
                return message(env, 401, MSG_SIGN_IN_TITLE, MSG_SIGN_IN_BODY)
            ctx = PageContext(
                session, viewer, services, env, now, query, match, base_url, csrf_token, form
            )
            if page == Page.OVERVIEW and viewer.commune_id is None and viewer.reads_province:
                return ctx.redirect(PROVINCE_PATH)  # a province officer's home
            if not may_sign_in(viewer.roles) or (page is not None and not can_open(viewer, page)):
                return ctx.forbidden()
            try:
                response = build(ctx)
            except BadInput as bad:
                session.rollback()
                return ctx.message(bad.status, bad.title, bad.body)
            session.commit()
            if request.method == "POST" and services.wake_outbox is not None:
                services.wake_outbox()  # a review's message to the unit goes out now
            return response

    return await asyncio.to_thread(work)


def page_route(
    page: Page | None, build: Builder
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler serving one page builder."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return await serve(request, page, build)

    handler.__doc__ = build.__doc__
    handler.__name__ = build.__name__
    return handler
