"""Open311 GeoReport v2 shapes: services, service requests, errors — as plain functions.

Read from the specification (http://wiki.open311.org/GeoReport_v2, source
open311/open311.github.io ``GeoReport/v2/index.md``) and what we rely on from it:

* GET Service List → a list of ``service_code, service_name, description, metadata, type,
  keywords, group``; ``metadata`` false (we ask no extra attributes, so no service
  definitions), ``type`` realtime (a ``service_request_id`` comes back at once), keywords a
  comma-separated string.
* POST Service Request needs ``service_code`` and one location: ``lat`` and ``long``
  together, or ``address_string``, or ``address_id``; ``description`` is free text of at most
  4,000 characters; it requires an ``api_key``. The answer is a list of
  ``service_request_id, service_notice, account_id``.
* GET Service Requests / GET Service Request → a list of ``service_request_id, status
  (open|closed), status_notes, service_name, service_code, description,
  agency_responsible, service_notice, requested_datetime, updated_datetime,
  expected_datetime, address, address_id, zipcode, lat, long, media_url``; filters
  ``service_request_id`` (comma separated, overrides the others), ``service_code``,
  ``start_date`` / ``end_date`` (w3 format, at most 90 days apart, the last 90 days by
  default), ``status``; at most 1,000 requests.
* Dates are ISO 8601 with a time zone (``Z`` or ``+07:00``).
* ``jurisdiction_id`` is only required when an endpoint serves several jurisdictions (404
  unknown, 400 missing); an optional argument sent empty counts as not sent.
* Errors: HTTP 404 for what does not exist, 403 for a wrong or missing ``api_key``, 400 for
  anything else; the body is a list of ``{code, description}``.

Personal data never leaves: the resident's name, chat and contact permission are not part
of a request; the description and address are scrubbed of phone, ID and account numbers,
e-mail addresses and links; positions are rounded to about 100 m; photos are not
published. Personal fields a client posts (``email``, ``first_name``, ``last_name``,
``phone``, ``device_id``, ``account_id``) are ignored, not stored (Decree 13/2023: only what
the report needs). Pure: no framework import; the web adds the HTTP endpoints.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.feedback.places import Point
from bot.feedback.status import Status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
OPEN, CLOSED = "open", "closed"
DESCRIPTION_LIMIT = 4000
RANGE_LIMIT = dt.timedelta(days=90)
REQUESTS_LIMIT = 1000
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
SERVICE_FIELDS = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
HIDDEN = "[…]"
_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_NUMBER = re.compile(r"(?<!\w)\+?\d[\d .\-]{6,}\d(?!\w)")  # phone, ID and account numbers


class Open311Error(Exception):
    """A request the endpoint refuses: the HTTP status and the spec's error body."""

    def __init__(self, status: int, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.code = code if code is not None else status
        self.description = description


def errors(*problems: Open311Error) -> list[dict[str, Any]]:
    """The body of an error response: one ``{code, description}`` per problem."""
    return [{"code": p.code, "description": p.description} for p in problems]


def public_status(status: Status | str) -> str:
    """GeoReport's two statuses: closed when resolved, open for everything before."""
    return CLOSED if Status(status) is Status.CLOSED else OPEN


def w3(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """A date and time in the w3 format with the commune's offset: 2026-03-10T09:00:00+07:00."""
    return moment.astimezone(tz).isoformat(timespec="seconds")


def parse_w3(value: str, name: str) -> dt.datetime:
    """A w3 date and time from a query; 400 if it is not one or has no time zone."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise Open311Error(
            400, f"{name} must be a w3 date and time, eg 2010-01-01T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} must include a time zone (Z or +07:00)")
    return moment.astimezone(dt.UTC)


def scrub(text: str | None) -> str | None:
    """Text safe to publish: no links, e-mail addresses, phone, ID or account numbers."""
    if text is None:
        return None
    text = _URL.sub(HIDDEN, text)
    text = _EMAIL.sub(HIDDEN, text)
    return _NUMBER.sub(HIDDEN, text)


# ------------------------------------------------------------------ jurisdictions, keys


def jurisdiction(given: str | None, known: Sequence[str]) -> str:
    """The jurisdiction a request is about: optional when the endpoint serves only one."""
    wanted = (given or "").strip()
    if not wanted:
        if len(known) == 1:
            return known[0]
        raise Open311Error(400, "jurisdiction_id was not provided")
    if wanted not in known:
        raise Open311Error(404, f"jurisdiction_id {wanted} was not found")
    return wanted


def hash_api_key(key: str) -> str:
    """How an API key is stored: its SHA-256, never the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_api_key(given: str | None, valid_hashes: Collection[str]) -> None:
    """403 unless the request carries one of the keys whose hashes are given."""
    key = (given or "").strip()
    if key:
        digest = hash_api_key(key)
        if any(hmac.compare_digest(digest, valid) for valid in valid_hashes):
            return
    raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")


# Per-key pace of POSTs. Reports do not record which key posted them, so the counts are
# over the commune's Open311 reports (all its keys): read from the rows, they hold across
# web workers and restarts.
POSTS_PER_HOUR = 30
POSTS_PER_DAY = 200


def check_pace(last_hour: int, last_day: int) -> None:
    """429 when the commune's API clients already posted their hour's or day's share."""
    if last_hour >= POSTS_PER_HOUR:
        raise Open311Error(429, f"Too many requests: at most {POSTS_PER_HOUR} an hour")
    if last_day >= POSTS_PER_DAY:
        raise Open311Error(429, f"Too many requests: at most {POSTS_PER_DAY} a day")


# ------------------------------------------------------------------ services


@dataclass(frozen=True)
class Service:
    """A kind of report, as GeoReport calls it."""

    code: str
    name: str
    description: str = ""
    group: str = ""
    keywords: Sequence[str] = ()


def service_list(services: Sequence[Service]) -> list[dict[str, Any]]:
    """GET Service List: every service with the spec's fields, in the spec's order."""
    return [
        {
            "service_code": s.code,
            "service_name": s.name,
            "description": s.description or s.name,
            "metadata": False,
            "type": "realtime",
            "keywords": ", ".join(s.keywords),
            "group": s.group,
        }
        for s in services
    ]


# ------------------------------------------------------------------ requests


@dataclass(frozen=True)
class PublicRequest:
    """What a report shows to the outside, personal data already left out."""

    service_request_id: str
    status: Status
    service_code: str
    service_name: str
    description: str
    requested: dt.datetime
    updated: dt.datetime
    expected: dt.datetime | None = None
    status_notes: str | None = None
    agency_responsible: str | None = None
    service_notice: str | None = None
    address: str | None = None
    point: Point | None = None


def service_request(request: PublicRequest, tz: dt.tzinfo) -> dict[str, Any]:
    """One request with every field of GET Service Request (null where we have nothing)."""
    point = request.point.rounded() if request.point is not None else None
    return {
        "service_request_id": request.service_request_id,
        "status": public_status(request.status),
        "status_notes": scrub(request.status_notes) or None,
        "service_name": request.service_name,
        "service_code": request.service_code,
        "description": scrub(request.description) or None,
        "agency_responsible": request.agency_responsible or None,
        "service_notice": request.service_notice or None,
        "requested_datetime": w3(request.requested, tz),
        "updated_datetime": w3(request.updated, tz),
        "expected_datetime": w3(request.expected, tz) if request.expected else None,
        "address": scrub(request.address) or None,
        "address_id": None,
        "zipcode": None,
        "lat": point.latitude if point else None,
        "long": point.longitude if point else None,
        "media_url": None,  # residents' photos may show people: not published
    }


def service_requests(requests: Sequence[PublicRequest], tz: dt.tzinfo) -> list[dict[str, Any]]:
    """GET Service Requests: the list, at most 1,000."""
    return [service_request(r, tz) for r in requests[:REQUESTS_LIMIT]]


@dataclass(frozen=True)
class Submission:
    """A POSTed request, checked; only what the report needs."""

    service_code: str
    description: str
    point: Point | None = None
    address_string: str = ""
    address_id: str = ""


def _given(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def parse_submission(form: Mapping[str, str], service_codes: Collection[str]) -> Submission:
    """POST Service Request arguments → a submission, or the spec's 400/404 errors."""
    code = _given(form, "service_code")
    if not code:
        raise Open311Error(400, "service_code was not provided")
    if code not in service_codes:
        raise Open311Error(404, f"service_code {code} was not found")
    lat, long = _given(form, "lat"), _given(form, "long")
    point = None
    if lat or long:
        if not (lat and long):
            raise Open311Error(400, "lat and long must both be sent")
        try:
            latitude, longitude = float(lat), float(long)
        except ValueError:
            raise Open311Error(400, "lat and long must be WGS84 numbers") from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise Open311Error(400, "lat and long must be WGS84 numbers")
        point = Point(latitude, longitude)
    address, address_id = _given(form, "address_string"), _given(form, "address_id")
    if point is None and not address and not address_id:
        raise Open311Error(
            400,
            "A full location parameter must be submitted: lat and long, address_string or address_id",
        )
    description = _given(form, "description")
    if not description:
        raise Open311Error(400, "description was not provided: say what happened")
    if len(description) > DESCRIPTION_LIMIT:
        raise Open311Error(400, "description is limited to 4,000 characters")
    return Submission(code, description, point, address[:300], address_id[:100])


def post_response(service_request_id: str, service_notice: str | None) -> list[dict[str, Any]]:
    """The answer to POST Service Request (realtime: the id at once)."""
    return [
        {
            "service_request_id": service_request_id,
            "service_notice": service_notice,
            "account_id": None,
        }
    ]


@dataclass(frozen=True)
class RequestQuery:
    """The filters of GET Service Requests, checked."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = ()

    def matches(self, request: PublicRequest) -> bool:
        """Whether a request passes the filters (ids override everything else)."""
        if self.ids:
            return request.service_request_id in self.ids
        if self.service_codes and request.service_code not in self.service_codes:
            return False
        if self.statuses and public_status(request.status) not in self.statuses:
            return False
        if self.start is not None and request.requested < self.start:
            return False
        return not (self.end is not None and request.requested > self.end)


def _listed(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))


def parse_query(params: Mapping[str, str], now: dt.datetime) -> RequestQuery:
    """GET Service Requests arguments → filters, or a 400 error saying what is wrong."""
    ids = _listed(_given(params, "service_request_id"))
    if ids:
        return RequestQuery(ids=ids)
    statuses = _listed(_given(params, "status"))
    if any(s not in (OPEN, CLOSED) for s in statuses):
        raise Open311Error(400, "status must be open or closed")
    start_text, end_text = _given(params, "start_date"), _given(params, "end_date")
    end = parse_w3(end_text, "end_date") if end_text else None
    start = parse_w3(start_text, "start_date") if start_text else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - RANGE_LIMIT
    if end is None:
        end = min(start + RANGE_LIMIT, max(now, start))
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > RANGE_LIMIT:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return RequestQuery(
        service_codes=_listed(_given(params, "service_code")),
        start=start,
        end=end,
        statuses=statuses,
    )
