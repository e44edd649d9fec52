"""Open311 GeoReport v2 endpoints: the commune's reports for IOCs and Open311 clients.

``GET services.json``, ``GET services/{code}.json``, ``GET requests.json``,
``GET requests/{id}.json`` are public; ``POST requests.json`` (form-encoded) needs one of
the commune's API keys (``bot.feedback.apikeys``). JSON only: the specification asks for
XML too, but JSON is what today's clients and IOC dashboards read, and one format means
one shape to keep right; ``.xml`` answers 404 saying so. The shapes, filters and errors
are ``bot.feedback.open311`` (pure) and ``bot.feedback.queues`` (reading): no resident's
name, contact or chat leaves through here. These routes are outside the sign-in and the
CSRF check (``bot.web.middlewares.NOT_FORMS``): clients are programs, not browsers.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from sqlmodel import Session, col, select

from bot.errors import ReadableError
from bot.feedback import open311, queues, store
from bot.feedback.apikeys import key_hashes
from bot.feedback.open311 import Open311Error
from bot.i18n import translator
from bot.services import Services
from bot.web.context import base_url_of
from bot.web.keys import SERVICES
from db.models import Commune, FeedbackCategory

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
DISCOVERY_PATH = "/open311/discovery.json"
# When the shape of these endpoints last changed (Service Discovery's sortable changeset).
CHANGESET = "2026-12-02 00:00"
SERVICES_PATH = PREFIX + "/services.json"
SERVICE_PATH = PREFIX + "/services/{service_code}.json"
REQUESTS_PATH = PREFIX + "/requests.json"
REQUEST_PATH = PREFIX + "/requests/{service_request_id}.json"
ANY_PATH = PREFIX + "/{tail:.*}"  # registered last: what no route above serves
MAX_FIELD = 5000  # a form value longer than this is refused (a description is at most 4,000)
# Anyone may read the public data from a page of another site (an IOC's dashboard).
CORS = {"Access-Control-Allow-Origin": "*"}

_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps, headers=CORS)


def _error(problem: Open311Error) -> web.Response:
    return _json(open311.errors(problem), problem.status)


def _communes(session: Session) -> dict[str, Commune]:
    """Every commune this server serves, by jurisdiction_id."""
    communes = session.exec(select(Commune).order_by(col(Commune.id))).all()
    return {queues.jurisdiction_id(c): c for c in communes}


def _commune(session: Session, params: Mapping[str, str]) -> Commune:
    known = _communes(session)
    return known[open311.jurisdiction(params.get("jurisdiction_id"), list(known))]


Work = Callable[[Session, Services], web.Response]


async def _answer(request: web.Request, work: Work) -> web.Response:
    """Run ``work`` in one session in a worker thread; errors in the spec's shape."""
    services = request.app[SERVICES]

    def run() -> web.Response:
        with Session(services.engine) as session:
            try:
                response = work(session, services)
            except Open311Error as problem:
                session.rollback()
                return _error(problem)
            except ReadableError as refused:
                session.rollback()
                t = translator(services.settings.locale)
                return _error(Open311Error(400, refused.render(t)))
            session.commit()
            return response

    try:
        return await asyncio.to_thread(run)
    except Exception:
        log.exception("open311 %s %s failed", request.method, request.path)
        return _error(Open311Error(400, "General service error: please try again later."))


def _params(request: web.Request) -> dict[str, str]:
    return dict(request.query.items())


async def discovery(request: web.Request) -> web.Response:
    """Service Discovery: where the GeoReport v2 endpoint is and what it speaks (JSON)."""
    base = base_url_of(request, request.app[SERVICES])
    return _json(
        {
            "changeset": CHANGESET,
            "contact": "The commune's standing office (Văn phòng thường trực), through the "
            "community digital technology team.",
            "key_service": "API keys for POST requests are issued by the commune's admin "
            "(tocns feedback key new); ask the standing office.",
            "endpoints": [
                {
                    "specification": open311.SPECIFICATION,
                    "url": base + PREFIX,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["application/json"],
                }
            ],
        }
    )


async def service_list(request: web.Request) -> web.Response:
    """GET Service List: the commune's active report categories."""
    params = _params(request)

    def work(session: Session, services: Services) -> web.Response:
        commune = _commune(session, params)
        assert commune.id is not None
        return _json(open311.service_list(queues.services(session, commune.id)))

    return await _answer(request, work)


async def service_definition(request: web.Request) -> web.Response:
    """GET Service Definition: no extra attributes (every service has metadata false)."""
    params = _params(request)
    code = request.match_info["service_code"]

    def work(session: Session, services: Services) -> web.Response:
        commune = _commune(session, params)
        assert commune.id is not None
        if code not in {s.code for s in queues.services(session, commune.id)}:
            raise Open311Error(404, f"service_code {code[:40]} was not found")
        return _json({"service_code": code, "attributes": []})

    return await _answer(request, work)


async def request_list(request: web.Request) -> web.Response:
    """GET Service Requests: filtered by id, service code, dates and status."""
    params = _params(request)

    def work(session: Session, services: Services) -> web.Response:
        commune = _commune(session, params)
        query = open311.parse_query(params, services.clock())
        t = translator(services.settings.locale)
        found = queues.public_requests(session, commune, query, t)
        return _json(open311.service_requests(found, services.tz))

    return await _answer(request, work)


async def request_one(request: web.Request) -> web.Response:
    """GET Service Request: one report by its reference code (PA-0427)."""
    params = _params(request)
    wanted = request.match_info["service_request_id"].strip()

    def work(session: Session, services: Services) -> web.Response:
        commune = _commune(session, params)
        t = translator(services.settings.locale)
        query = open311.RequestQuery(ids=(wanted,))
        found = queues.public_requests(session, commune, query, t)
        if not found:
            raise Open311Error(404, f"service_request_id {wanted[:40]} was not found")
        return _json(open311.service_requests(found[:1], services.tz))

    return await _answer(request, work)


async def _form(request: web.Request) -> dict[str, str]:
    """The POSTed fields (form-encoded or multipart; files ignored), then the query's."""
    fields = {k: v for k, v in request.query.items()}
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        posted = await request.post()
        fields.update({k: v for k, v in posted.items() if isinstance(v, str)})
    if any(len(value) > MAX_FIELD for value in fields.values()):
        raise Open311Error(400, "A field is longer than this server accepts")
    return fields


async def post_request(request: web.Request) -> web.Response:
    """POST Service Request: store an anonymous report from an Open311 client (API key)."""
    try:
        form = await _form(request)
    except Open311Error as problem:
        return _error(problem)
    except ValueError:  # a body aiohttp cannot decode
        return _error(Open311Error(400, "The request body could not be read"))
    except web.HTTPRequestEntityTooLarge:
        return _error(Open311Error(400, "The request is larger than this server accepts"))

    def work(session: Session, services: Services) -> web.Response:
        commune = _commune(session, form)
        assert commune.id is not None
        open311.check_api_key(form.get("api_key"), key_hashes(commune))
        open311.check_pace(*store.open311_counts(session, commune.id, services.clock()))
        codes = {s.code for s in queues.services(session, commune.id)}
        submission = open311.parse_submission(form, codes)
        now = services.clock()
        report = store.submit_open311(
            session, commune=commune, submission=submission, now=now, tz=services.tz
        )
        category = session.get(FeedbackCategory, report.category_id)
        assert category is not None
        notice = translator(services.settings.locale).gettext(
            queues.NOTICE, answer=category.answer_days, close=category.close_days
        )
        return _json(open311.post_response(report.code, notice))

    response = await _answer(request, work)
    if response.status == 200:
        log.info("open311: a report was submitted by an API client")
        wake = request.app[SERVICES].wake_outbox
        if wake is not None:
            wake()  # committed: the unit's officers hear of it now
    return response


async def not_served(request: web.Request) -> web.Response:
    """Any other address or method under /open311/v2: the spec's 404 or 400."""
    path = request.match_info.get("tail", "")
    if path.endswith(".xml"):
        return _error(Open311Error(404, "Only JSON is served here: ask for the .json address"))
    known = ("services.json", "requests.json")
    if path in known or path.startswith(("services/", "requests/")) and path.endswith(".json"):
        return _error(Open311Error(400, f"{request.method} is not supported on {path}"))
    return _error(Open311Error(404, f"{path[:80]} is not an Open311 GeoReport v2 resource"))
