"""Open311 GeoReport v2 over HTTP, checked against the specification's own examples.

The fixtures below are copies of the JSON examples of the GeoReport v2 specification,
http://wiki.open311.org/GeoReport_v2 (source: open311/open311.github.io,
``GeoReport_v2/index.md``, sections "GET Service List", "GET Service Definition",
"POST Service Request", "GET Service Requests", "Errors"). The spec's JSON writes codes
as ``001`` (not valid JSON); they are strings here, as the XML examples have them. Our
answers must have exactly the examples' field names, value types and error shapes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.feedback import apikeys, open311, store
from bot.feedback.places import Point
from bot.services import Services
from bot.web.server import build_web_app
from db.models import Commune, FeedbackEvent, FeedbackReport, OutboxMessage, Person
from tests.feedback.conftest import VN, Cast, category, commune, in_session, person
from tests.feedback.conftest import cast as cast  # noqa: F401 - the fixture
from tests.helpers import FakeClock
from tests.web.conftest import Client

SPEC = "http://wiki.open311.org/GeoReport_v2"

# GET Service List, example response (JSON tab), first service.
SPEC_SERVICE_LIST = [
    {
        "service_code": "001",
        "service_name": "Cans left out 24x7",
        "description": "Garbage or recycling cans that have been left out for more than 24 hours "
        "after collection. Violators will be cited.",
        "metadata": True,
        "type": "realtime",
        "keywords": "lorem, ipsum, dolor",
        "group": "sanitation",
    }
]
# GET Service Definition, example response: the keys of a definition.
SPEC_SERVICE_DEFINITION = {"service_code": "DMV66", "attributes": []}  # attributes elided
# POST Service Request, example request (the form body) and response.
SPEC_POST_BODY = (
    "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
    "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111"
    "&account_id=123456&first_name=john&last_name=smith&phone=111111111"
    "&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
    "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
)
SPEC_POST_RESPONSE = [
    {
        "service_request_id": "293944",
        "service_notice": "The City will inspect and require the responsible party to correct "
        "within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public "
        "Works Code",
        "account_id": None,
    }
]
# GET Service Requests, example response, first request.
SPEC_REQUESTS = [
    {
        "service_request_id": "638344",
        "status": "closed",
        "status_notes": "Duplicate request.",
        "service_name": "Sidewalk and Curb Issues",
        "service_code": "006",
        "description": None,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "updated_datetime": "2010-04-14T06:37:38-08:00",
        "expected_datetime": "2010-04-15T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "address_id": "545483",
        "zipcode": "94122",
        "lat": 37.762221815,
        "long": -122.4651145,
        "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg",
    }
]
# Errors, example (HTTP/1.1 403 Forbidden).
SPEC_ERROR_STATUS = 403
SPEC_ERROR = [
    {"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}
]
# Service Discovery (http://wiki.open311.org/Service_Discovery), example (JSON tab), first
# endpoint.
SPEC_DISCOVERY = {
    "changeset": "2011-02-03 14:18",
    "contact": "You can email or call for assistance api@mycity.org +1 (555) 555-5555",
    "key_service": "You can request a key here: http://api.mycity.gov/api_key/request",
    "endpoints": [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://open311.mycity.gov/v2",
            "changeset": "2010-11-23 09:01",
            "type": "production",
            "formats": ["text/xml"],
        }
    ],
}
# A w3 date and time with a time zone, as the spec's examples write them.
W3 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
SPEC_TYPES = {"metadata": bool, "lat": float, "long": float, "code": int}

BASE = "/open311/v2"
JURISDICTION = "trung-hoi"


def same_shape(ours: dict[str, Any], spec: dict[str, Any]) -> None:
    """Our object has exactly the spec example's keys, strings where it has strings."""
    assert list(ours) == list(spec)
    for key, value in ours.items():
        if value is None or spec[key] is None:
            continue
        expected = SPEC_TYPES.get(key, type(spec[key]))
        assert isinstance(value, expected), (key, value)


async def read(response: ClientResponse) -> Any:
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(await response.text())


@pytest.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    opened: Client = TestClient(TestServer(build_web_app(services, Dispatcher(services))))
    await opened.start_server()
    yield opened
    await opened.close()


def add_report(
    services: Services, cast: Cast, code: str, text: str, *, ago: dt.timedelta, contact: bool
) -> str:
    """A resident's report sent ``ago`` before now, with a position and a landmark."""

    def work(session: Session) -> str:
        report = store.submit(
            session,
            commune=commune(session),
            reporter_id=cast.resident,
            new=store.NewReport(
                category_id=category(session, code).id or 0,
                text=text,
                village_id=person(session, cast.resident).village_id,
                landmark="đầu ngõ",
                point=Point(21.594249, 105.848251),
                contact_allowed=contact,
            ),
            now=services.clock() - ago,
            tz=VN,
        ).report
        return report.code

    return in_session(services, work)


def answer_and_close(services: Services, cast: Cast, code: str) -> None:
    def work(session: Session) -> None:
        report = session.exec(select(FeedbackReport).where(FeedbackReport.code == code)).one()
        assert report.id is not None
        now = services.clock()
        store.answer(
            session, report.id, by=person(session, cast.economy), text="Đã vá xong.", now=now, tz=VN
        )
        store.close(session, report.id, by=person(session, cast.office), note="", now=now, tz=VN)

    in_session(services, work)


def issue_key(services: Services) -> str:
    return in_session(services, lambda session: apikeys.issue_api_key(session, commune(session)))


# ------------------------------------------------------------------ services


async def test_service_discovery_points_at_the_json_endpoint(client: Client) -> None:
    response = await client.get("/open311/discovery.json")
    found = await read(response)
    same_shape(found, SPEC_DISCOVERY)
    [endpoint] = found["endpoints"]
    same_shape(endpoint, SPEC_DISCOVERY["endpoints"][0])
    assert endpoint["specification"] == SPEC
    assert endpoint["url"] == f"http://{client.host}:{client.port}/open311/v2"
    assert endpoint["formats"] == ["application/json"]  # no XML: see the README
    services = await client.get(
        endpoint["url"].removeprefix(f"http://{client.host}:{client.port}") + "/services.json"
    )
    assert services.status == 200


async def test_the_service_list_has_the_spec_shape(client: Client) -> None:
    response = await client.get(f"{BASE}/services.json")
    assert response.status == 200
    services = await read(response)
    assert [s["service_code"] for s in services][:3] == ["duong", "dien", "nuoc"]
    for service in services:
        same_shape(service, SPEC_SERVICE_LIST[0])
        assert service["metadata"] is False and service["type"] == "realtime"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_a_service_definition_has_no_attributes_and_unknown_codes_are_404(
    client: Client,
) -> None:
    response = await client.get(f"{BASE}/services/duong.json")
    assert (response.status, await read(response)) == (
        200,
        {"service_code": "duong", "attributes": []},
    )
    assert list(SPEC_SERVICE_DEFINITION) == ["service_code", "attributes"]
    missing = await client.get(f"{BASE}/services/khong-co.json")
    assert missing.status == 404
    [error] = await read(missing)
    same_shape(error, SPEC_ERROR[0])
    assert error == {"code": 404, "description": "service_code khong-co was not found"}


# ------------------------------------------------------------------ requests


async def test_requests_have_the_spec_shape_and_nothing_personal(
    client: Client, services: Services, cast: Cast
) -> None:
    first = add_report(
        services,
        cast,
        "duong",
        "Ổ gà trước nhà, gọi tôi 0912 345 678",
        ago=dt.timedelta(days=3),
        contact=True,
    )
    second = add_report(
        services, cast, "rac", "Rác không được thu gom", ago=dt.timedelta(days=1), contact=False
    )
    answer_and_close(services, cast, first)
    response = await client.get(f"{BASE}/requests.json")
    body = await response.text()
    requests = await read(response)
    assert [r["service_request_id"] for r in requests] == [second, first]
    for request in requests:
        same_shape(request, SPEC_REQUESTS[0])
        assert W3.match(request["requested_datetime"]) and W3.match(request["updated_datetime"])
    closed = requests[1]
    assert closed["status"] == "closed" and closed["status_notes"] == "Đã vá xong."
    assert closed["description"] == "Ổ gà trước nhà, gọi tôi […]"
    assert closed["agency_responsible"] == "Phòng Kinh tế"
    assert closed["address"] == "đầu ngõ, Xóm 3, Xã Trung Hội (dữ liệu mẫu), Thái Nguyên"
    assert (closed["lat"], closed["long"]) == (21.594, 105.848)  # about 100 m
    assert requests[0]["status"] == "open" and W3.match(requests[0]["expected_datetime"])
    # Neither the resident (who agreed to be contacted), nor their chat, nor the officers.
    for secret in ("Nguyễn Thị Hoa", "2001", "0912", "Lê Kinh Tế", "Đỗ Văn Phòng"):
        assert secret not in body


async def test_the_filters_of_get_service_requests(
    client: Client, services: Services, cast: Cast, clock: FakeClock
) -> None:
    old = add_report(
        services, cast, "duong", "Ổ gà đầu xóm", ago=dt.timedelta(days=100), contact=False
    )
    road = add_report(
        services, cast, "duong", "Đường bị sụt", ago=dt.timedelta(days=10), contact=False
    )
    waste = add_report(services, cast, "rac", "Rác ùn ứ", ago=dt.timedelta(days=2), contact=False)
    answer_and_close(services, cast, road)

    async def ids(**params: str) -> list[str]:
        response = await client.get(f"{BASE}/requests.json", params=params)
        assert response.status == 200, await response.text()
        return [r["service_request_id"] for r in await read(response)]

    assert await ids() == [waste, road]  # the last 90 days by default
    assert await ids(status="closed") == [road]
    assert await ids(status="open,closed", service_code="rac") == [waste]
    assert await ids(service_code="duong,rac", status="") == [waste, road]  # "" = not sent
    assert await ids(service_request_id=f"{old},{waste}", status="closed") == [waste, old]
    assert await ids(start_date="2025-11-01T00:00:00Z", end_date="2026-01-01T00:00:00+07:00") == [
        old
    ]
    for params, problem in (
        ({"start_date": "yesterday"}, "start_date must be a w3 date and time"),
        ({"end_date": "2026-03-01T00:00:00"}, "end_date must include a time zone"),
        ({"start_date": "2025-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "90 days"),
        ({"status": "pending"}, "status must be open or closed"),
    ):
        response = await client.get(f"{BASE}/requests.json", params=params)
        assert response.status == 400
        [error] = await read(response)
        same_shape(error, SPEC_ERROR[0])
        assert error["code"] == 400 and problem in error["description"]


async def test_one_request_by_its_id(client: Client, services: Services, cast: Cast) -> None:
    code = add_report(
        services, cast, "dien", "Đèn đường hỏng", ago=dt.timedelta(hours=2), contact=False
    )
    response = await client.get(f"{BASE}/requests/{code}.json")
    [request] = await read(response)
    same_shape(request, SPEC_REQUESTS[0])
    assert request["service_request_id"] == code and request["service_code"] == "dien"
    missing = await client.get(f"{BASE}/requests/PA-9999.json")
    assert (missing.status, await read(missing)) == (
        404,
        [{"code": 404, "description": "service_request_id PA-9999 was not found"}],
    )


# ------------------------------------------------------------------ jurisdiction_id


async def test_jurisdiction_id_is_optional_with_one_commune_and_required_with_two(
    client: Client, services: Services
) -> None:
    paths = ("services.json", "services/duong.json", "requests.json", "requests/PA-0001.json")
    ok = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": JURISDICTION})
    assert ok.status == 200
    for path in paths:
        wrong = await client.get(f"{BASE}/{path}", params={"jurisdiction_id": "sfgov.org"})
        assert (wrong.status, await read(wrong)) == (
            404,
            [{"code": 404, "description": "jurisdiction_id sfgov.org was not found"}],
        )

    def second_commune(session: Session) -> None:
        session.add(Commune(slug="xa-khac", name="Xã Khác"))

    in_session(services, second_commune)
    for path in paths:
        missing = await client.get(f"{BASE}/{path}")
        assert (missing.status, await read(missing)) == (
            400,
            [{"code": 400, "description": "jurisdiction_id was not provided"}],
        )
    other = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "xa-khac"})
    assert other.status == 200 and len(await read(other)) == 12  # its own default list
    ours = await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": JURISDICTION})
    assert (ours.status, await read(ours)) == (200, [])


# ------------------------------------------------------------------ POST


def spec_body(**changes: str) -> str:
    """The spec's example POST body with our key, jurisdiction and service code."""
    fields = dict(parse_qsl(SPEC_POST_BODY, keep_blank_values=True))
    fields.update(changes)
    return urlencode(fields)


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


async def test_the_spec_example_post_creates_an_anonymous_report(
    client: Client, services: Services, cast: Cast
) -> None:
    key = issue_key(services)
    body = spec_body(
        api_key=key,
        jurisdiction_id=JURISDICTION,
        service_code="duong",
        address_string="Xóm 3, cạnh cầu",
        description="Đường sụt lún một đoạn dài, xe tải không qua được",
    )
    response = await client.post(f"{BASE}/requests.json", data=body, headers=FORM)
    assert response.status == 200, await response.text()
    [answer] = await read(response)
    same_shape(answer, SPEC_POST_RESPONSE[0])
    assert answer == {
        "service_request_id": "PA-0001",
        "service_notice": "Trả lời lần đầu trong 2 ngày làm việc; giải quyết xong trong 10 ngày "
        "làm việc.",
        "account_id": None,
    }
    with Session(services.engine) as session:
        report = session.exec(select(FeedbackReport)).one()
        assert (report.source, report.reporter_id, report.contact_allowed) == (
            "open311",
            None,
            False,
        )
        assert report.landmark == "Xóm 3, cạnh cầu" and report.village_id is not None
        assert (report.latitude, report.longitude) == (37.76524078, -122.4212043)
        stored = repr(report) + repr(session.exec(select(FeedbackEvent)).all())
        for personal in ("smit333", "john", "smith", "111111111", "tt222111", "123456"):
            assert personal not in stored  # Decree 13: the client's personal fields are dropped
        # The road unit's officer is told, as for a report from the chat.
        told = session.exec(select(OutboxMessage.person_id)).all()
        assert cast.economy in told
    again = await client.get(f"{BASE}/requests/PA-0001.json")
    [shown] = await read(again)
    assert shown["status"] == "open" and shown["agency_responsible"] == "Phòng Kinh tế"


async def test_post_needs_a_valid_api_key_and_is_outside_csrf(
    client: Client, services: Services
) -> None:
    key = issue_key(services)
    cross_site = {**FORM, "Origin": "https://ioc.example.vn", "Sec-Fetch-Site": "cross-site"}
    for api_key in (None, "", "xyz", key + "x"):
        fields = dict(parse_qsl(spec_body(service_code="duong", jurisdiction_id="")))
        if api_key is None:
            fields.pop("api_key")
        else:
            fields["api_key"] = api_key
        response = await client.post(
            f"{BASE}/requests.json", data=urlencode(fields), headers=cross_site
        )
        assert response.status == SPEC_ERROR_STATUS
        assert await read(response) == SPEC_ERROR  # the spec's own error, word for word
    good = await client.post(
        f"{BASE}/requests.json",
        data=spec_body(api_key=key, service_code="duong", jurisdiction_id=""),
        headers=cross_site,
    )
    assert good.status == 200  # no CSRF token, another origin: clients are programs
    # The exemption is for /open311/ only: the dashboard's forms stay protected.
    logout = await client.post("/logout", data="x=1", headers=cross_site)
    assert logout.status == 403 and logout.headers["Content-Type"].startswith("text/html")
    with Session(services.engine) as session:
        assert len(session.exec(select(FeedbackReport)).all()) == 1
        assert key not in json.dumps(commune(session).settings)  # only its hash is kept


async def test_post_errors_follow_the_spec(client: Client, services: Services) -> None:
    key = issue_key(services)
    cases = (
        ({"service_code": ""}, 400, "service_code was not provided"),
        ({"service_code": "001"}, 404, "service_code 001 was not found"),
        ({"jurisdiction_id": "city.gov"}, 404, "jurisdiction_id city.gov was not found"),
        ({"lat": "", "long": "", "address_string": ""}, 400, "A full location parameter"),
        ({"description": ""}, 400, "description was not provided"),
        ({"description": "x" * 4001}, 400, "limited to 4,000 characters"),
        ({"description": "ổ"}, 400, "ít nhất 5 ký tự"),  # our own minimum, in Vietnamese
    )
    for changes, status, problem in cases:
        fields = {"api_key": key, "service_code": "duong", "jurisdiction_id": "", **changes}
        response = await client.post(
            f"{BASE}/requests.json", data=spec_body(**fields), headers=FORM
        )
        assert response.status == status, changes
        [error] = await read(response)
        assert error["code"] == status and problem in error["description"], error
    with Session(services.engine) as session:
        assert session.exec(select(FeedbackReport)).all() == []


async def test_xml_and_unknown_addresses_answer_in_the_spec_error_shape(client: Client) -> None:
    xml = await client.get(f"{BASE}/services.xml")
    assert (xml.status, await read(xml)) == (
        404,
        [{"code": 404, "description": "Only JSON is served here: ask for the .json address"}],
    )
    unknown = await client.get(f"{BASE}/tokens/123.json")
    assert unknown.status == 404
    put = await client.put(f"{BASE}/requests.json")
    assert (put.status, await read(put)) == (
        400,
        [{"code": 400, "description": "PUT is not supported on requests.json"}],
    )


async def test_the_personal_fields_are_not_kept_on_the_person_table(
    client: Client, services: Services
) -> None:
    key = issue_key(services)
    with Session(services.engine) as session:
        people = len(session.exec(select(Person)).all())
    response = await client.post(
        f"{BASE}/requests.json",
        data=spec_body(api_key=key, service_code="rac", jurisdiction_id=JURISDICTION),
        headers=FORM,
    )
    assert response.status == 200
    with Session(services.engine) as session:
        assert len(session.exec(select(Person)).all()) == people


async def test_a_body_too_large_is_a_spec_error(client: Client) -> None:
    response = await client.post(
        f"{BASE}/requests.json",
        data=io.BytesIO(b"description=" + b"x" * (1024 * 1024 + 10)),
        headers=FORM,
    )
    assert (response.status, await read(response)) == (
        400,
        [{"code": 400, "description": "The request is larger than this server accepts"}],
    )


async def test_posts_are_paced_per_hour_and_per_day(
    client: Client, services: Services, clock: FakeClock
) -> None:
    key = issue_key(services)
    body = spec_body(api_key=key, service_code="duong", jurisdiction_id="")
    for _ in range(open311.POSTS_PER_HOUR):
        response = await client.post(f"{BASE}/requests.json", data=body, headers=FORM)
        assert response.status == 200, await response.text()
    refused = await client.post(f"{BASE}/requests.json", data=body, headers=FORM)
    assert refused.status == 429
    [error] = await read(refused)
    assert error["code"] == 429 and "an hour" in error["description"]
    with Session(services.engine) as session:
        assert len(session.exec(select(FeedbackReport)).all()) == open311.POSTS_PER_HOUR
    clock.advance(minutes=61)  # the hour's share is free again
    again = await client.post(f"{BASE}/requests.json", data=body, headers=FORM)
    assert again.status == 200


def test_the_daily_share_is_checked_after_the_hourly_one() -> None:
    open311.check_pace(0, open311.POSTS_PER_DAY - 1)
    with pytest.raises(open311.Open311Error) as daily:
        open311.check_pace(0, open311.POSTS_PER_DAY)
    assert daily.value.status == 429 and "a day" in daily.value.description
