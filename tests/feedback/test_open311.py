"""Open311 GeoReport v2: the spec's field names, statuses, errors and jurisdiction rules.

The expected shapes are the ones of the specification's examples
(http://wiki.open311.org/GeoReport_v2, open311/open311.github.io GeoReport/v2/index.md):
the same keys in GET Service List, POST Service Request, GET Service Request(s) and errors.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import Session

from bot.feedback import open311, queues, store
from bot.feedback.places import Point
from bot.feedback.status import Status
from bot.i18n import translator
from bot.services import Services
from tests.conftest import START
from tests.feedback.conftest import VN, Cast, category, commune, in_session, person

# The keys of the specification's JSON examples.
SPEC_SERVICE_KEYS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
SPEC_REQUEST_KEYS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
}  # fmt: skip
SPEC_POST_KEYS = {"service_request_id", "service_notice", "account_id"}
SPEC_ERROR_KEYS = {"code", "description"}


def test_the_service_list_has_the_spec_fields() -> None:
    [service] = open311.service_list(
        [open311.Service("duong", "Hạ tầng – đường", "Ổ gà", "Hạ tầng", ("đường", "ổ gà"))]
    )
    assert set(service) == SPEC_SERVICE_KEYS
    assert service == {
        "service_code": "duong",
        "service_name": "Hạ tầng – đường",
        "description": "Ổ gà",
        "metadata": False,
        "type": "realtime",
        "keywords": "đường, ổ gà",
        "group": "Hạ tầng",
    }


def test_a_request_has_the_spec_fields_and_nothing_personal() -> None:
    request = open311.PublicRequest(
        service_request_id="PA-0427",
        status=Status.ANSWERED,
        service_code="duong",
        service_name="Hạ tầng – đường",
        description="Ổ gà trước nhà, gọi tôi 0912 345 678 hoặc an@example.com",
        requested=dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC),
        updated=dt.datetime(2026, 3, 11, 3, 30, tzinfo=dt.UTC),
        expected=dt.datetime(2026, 3, 21, 10, 0, tzinfo=dt.UTC),
        status_notes="Đã vá xong",
        agency_responsible="Phòng Kinh tế",
        address="đầu ngõ, Xóm 3, Xã Trung Hội",
        point=Point(21.594249, 105.848251),
    )
    shown = open311.service_request(request, VN)
    assert set(shown) == SPEC_REQUEST_KEYS
    assert shown["status"] == "open"
    assert shown["requested_datetime"] == "2026-03-10T09:00:00+07:00"
    assert shown["updated_datetime"] == "2026-03-11T10:30:00+07:00"
    assert shown["expected_datetime"] == "2026-03-21T17:00:00+07:00"
    assert shown["description"] == "Ổ gà trước nhà, gọi tôi […] hoặc […]"
    assert (shown["lat"], shown["long"]) == (21.594, 105.848)
    assert shown["media_url"] is None and shown["address_id"] is None
    json.dumps(shown, ensure_ascii=False)  # serialisable as is


@pytest.mark.parametrize(
    ("status", "public"),
    [(s, "closed" if s is Status.CLOSED else "open") for s in Status],
)
def test_every_status_maps_to_open_or_closed(status: Status, public: str) -> None:
    assert open311.public_status(status) == public


def test_errors_are_a_list_of_code_and_description() -> None:
    body = open311.errors(open311.Open311Error(403, "Invalid api_key received"))
    assert body == [{"code": 403, "description": "Invalid api_key received"}]
    assert set(body[0]) == SPEC_ERROR_KEYS
    with pytest.raises(open311.Open311Error) as forbidden:
        open311.check_api_key("wrong", [open311.hash_api_key("right")])
    assert forbidden.value.status == 403
    open311.check_api_key("right", [open311.hash_api_key("right")])


def test_jurisdiction_id_is_optional_for_one_and_required_for_several() -> None:
    assert open311.jurisdiction(None, ["trung-hoi"]) == "trung-hoi"
    assert open311.jurisdiction("", ["trung-hoi"]) == "trung-hoi"  # empty = not sent
    assert open311.jurisdiction("trung-hoi", ["trung-hoi", "dong-phu"]) == "trung-hoi"
    with pytest.raises(open311.Open311Error) as missing:
        open311.jurisdiction(None, ["trung-hoi", "dong-phu"])
    assert missing.value.status == 400
    with pytest.raises(open311.Open311Error) as unknown:
        open311.jurisdiction("sfgov.org", ["trung-hoi"])
    assert unknown.value.status == 404


def test_a_post_needs_a_service_and_a_location_and_drops_personal_fields() -> None:
    form = {
        "api_key": "xyz",
        "service_code": "duong",
        "lat": "21.5942",
        "long": "105.8482",
        "email": "an@example.com",
        "first_name": "An",
        "phone": "0912345678",
        "description": "Sụt lún mặt đường",
    }
    submission = open311.parse_submission(form, {"duong"})
    assert submission == open311.Submission("duong", "Sụt lún mặt đường", Point(21.5942, 105.8482))
    assert not any(field in repr(submission) for field in ("an@example.com", "0912345678"))
    problems = [
        ({**form, "service_code": ""}, 400),
        ({**form, "service_code": "001"}, 404),
        ({"service_code": "duong", "description": "x x x x x"}, 400),  # no location
        ({"service_code": "duong", "lat": "21.5", "description": "x x x x x"}, 400),
        ({"service_code": "duong", "lat": "a", "long": "b", "description": "x x x x x"}, 400),
        ({"service_code": "duong", "address_string": "Xóm 3"}, 400),  # no description
        ({"service_code": "duong", "address_id": "1", "description": "x" * 4001}, 400),
    ]
    for bad, status in problems:
        with pytest.raises(open311.Open311Error) as refused:
            open311.parse_submission(bad, {"duong"})
        assert refused.value.status == status, bad
    assert set(open311.post_response("PA-0001", None)[0]) == SPEC_POST_KEYS


def test_request_filters_follow_the_spec() -> None:
    now = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
    default = open311.parse_query({}, now)
    assert (default.start, default.end) == (now - dt.timedelta(days=90), now)
    query = open311.parse_query(
        {
            "start_date": "2026-03-01T00:00:00Z",
            "end_date": "2026-03-10T00:00:00+07:00",
            "status": "open,closed",
        },
        now,
    )
    assert query.start == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert query.statuses == ("open", "closed")
    ids = open311.parse_query({"service_request_id": "PA-0001,PA-0002", "status": "bogus"}, now)
    assert ids.ids == ("PA-0001", "PA-0002")  # overrides every other argument
    for bad in (
        {"status": "pending"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "2026-03-01"},  # no time zone
        {"start_date": "hôm qua"},
        {"start_date": "2026-03-05T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"},
    ):
        with pytest.raises(open311.Open311Error) as refused:
            open311.parse_query(bad, now)
        assert refused.value.status == 400, bad


def test_the_commune_s_reports_through_open311(services: Services, cast: Cast) -> None:
    def work(session: Session) -> list[dict[str, object]]:
        place = commune(session)
        report = store.submit(
            session,
            commune=place,
            reporter_id=cast.resident,
            new=store.NewReport(
                category_id=category(session, "duong").id or 0,
                text="Ổ gà lớn, liên hệ chị Hoa 0912 345 678",
                landmark="đầu ngõ",
                contact_allowed=True,
            ),
            now=START,
            tz=VN,
        ).report
        assert report.id is not None
        store.add_note(
            session,
            report.id,
            by=person(session, cast.economy),
            text="Nội bộ: nhà bà Hoa",
            now=START,
        )
        posted = open311.parse_submission(
            {
                "service_code": "dien",
                "address_string": "cột điện cạnh chợ Xóm 5",
                "description": "Dây điện võng thấp",
            },
            {s.code for s in queues.services(session, place.id or 0)},
        )
        other = store.submit_open311(session, commune=place, submission=posted, now=START, tz=VN)
        assert (other.reporter_id, other.contact_allowed, other.source) == (None, False, "open311")
        assert other.village_id is not None
        query = open311.parse_query({}, START + dt.timedelta(hours=1))
        found = queues.public_requests(session, place, query, translator("vi"))
        return open311.service_requests(found, VN)

    shown = in_session(services, work)
    assert [r["service_request_id"] for r in shown] == ["PA-0002", "PA-0001"]
    first = shown[1]
    assert first["agency_responsible"] == "Phòng Kinh tế"
    assert first["address"] == "đầu ngõ, Xã Trung Hội (dữ liệu mẫu), Thái Nguyên"
    assert first["description"] == "Ổ gà lớn, liên hệ chị Hoa […]"
    assert first["status_notes"] == "đang xử lý"
    assert "Trả lời lần đầu trong 2" in str(first["service_notice"])
    everything = json.dumps(shown, ensure_ascii=False)
    for personal in ("Nguyễn Thị Hoa", "0912", "nhà bà Hoa", "console", "2001"):
        assert personal not in everything
    with Session(services.engine) as session:
        assert queues.jurisdiction_id(commune(session)) == "trung-hoi"
        codes = [s.code for s in queues.services(session, commune(session).id or 0)]
        assert codes[:3] == ["duong", "dien", "nuoc"] and "khac" in codes
