"""Sample reports for the sample commune: a few in each state, made through the real code.

Only ever applied to the commune marked as sample (``Commune.is_sample``). The invented
residents and officers have no chat, so nothing is ever sent to anyone; the reports show
how the queues, deadlines and history look. Call once, after the sample commune is loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.admin.sample import SAMPLE_RESIDENTS as SAMPLE_PEOPLE_RESIDENTS
from bot.admin.sample import sample_commune
from bot.core.people import grant
from bot.feedback import store
from bot.feedback.places import Point
from db.models import FeedbackReport, Person, Role, Unit, Village

SAMPLE_RESIDENTS = tuple(name for name, _village in SAMPLE_PEOPLE_RESIDENTS)
OFFICE_NAME = "Văn phòng thường trực (mẫu)"


@dataclass(frozen=True)
class _Story:
    """One sample report: what, where, how long ago, and how far it got."""

    category: str
    village: str
    landmark: str
    days_ago: float
    # received | assigned | answered | returned | reopened | closed (the resident satisfied)
    # | office_closed (closed by the standing office) | handed_back
    ending: str
    contact: bool  # the resident lets the unit call back
    point: Point | None
    text: str


# One row a report, in the order of _Story's fields.
# fmt: off
_ROWS: tuple[tuple[str, str, str, float, str, bool, Point | None, str], ...] = (
    ("khac", "Xóm 2", "nhà văn hóa xóm", 0.2, "received", False, None,
     "Loa phát thanh của xóm bị rè, nghe không rõ thông báo"),
    ("duong", "Xóm 3", "đầu ngõ vào xóm", 1, "assigned", True, Point(21.6, 105.83),
     "Đường bê tông đầu xóm có ổ gà lớn, xe máy dễ ngã"),
    ("dien", "Xóm 5", "cổng trường tiểu học", 6, "assigned", False, None,
     "Đèn đường trước cổng trường tiểu học bị hỏng ba hôm nay"),
    ("rac", "Xóm 7", "điểm tập kết rác cạnh cầu", 4, "answered", False, None,
     "Rác ở điểm tập kết không được thu gom cả tuần, bốc mùi"),
    ("ngap", "Xóm 4", "đoạn dốc xuống chợ", 9, "returned", False, None,
     "Mưa to là ngập đoạn đường xuống chợ, cống bị tắc"),
    ("an_ninh", "Xóm 1", "", 3, "closed", True, None,
     "Có người lạ gọi điện giả danh công an đòi chuyển tiền"),
    ("thu_tuc", "Xóm 6", "", 12, "reopened", False, None,
     "Hồ sơ đăng ký khai sinh nộp trực tuyến đã quá hẹn chưa có kết quả"),
    ("giao_duc", "Xóm 8", "trường THCS", 5, "handed_back", False, None,
     "Mái che nhà xe của trường bị dột"),
    ("y_te", "Xóm 9", "ao cạnh nhà văn hóa", 2, "answered", False, None,
     "Nhiều muỗi ở khu ao tù, lo sốt xuất huyết"),
    ("nuoc", "Xóm 10", "ngã ba cây đa", 8, "office_closed", True, None,
     "Ống nước sạch bị vỡ, nước chảy ra đường"),
    ("duong", "Xóm 11", "cống qua đường liên xóm", 7, "returned", False, None,
     "Cống qua đường bị sụt, xe tải đi qua rất nguy hiểm"),
    ("thai_do", "Xóm 12", "", 10, "reopened", False, None,
     "Cán bộ tiếp dân hẹn nhiều lần mà chưa giải quyết"),
)
# fmt: on
STORIES = tuple(_Story(*row) for row in _ROWS)
ANSWERS = {
    "answered": "Đơn vị đã liên hệ hợp tác xã môi trường, sẽ thu gom trong ngày mai.",
    "returned": "Đã ghi nhận, sẽ kiểm tra.",
    "closed": "Công an xã đã xác minh và cảnh báo trên loa phát thanh; người dân không chuyển tiền.",
    "reopened": "Hồ sơ đang chờ bổ sung giấy tờ, đề nghị người dân kiểm tra trên Cổng dịch vụ công.",
    "office_closed": "Đơn vị cấp nước đã thay đoạn ống vỡ, nước đã ổn định.",
}


def _person(session: Session, commune_id: int, name: str, *roles: str, **fields: object) -> Person:
    person = session.exec(
        select(Person).where(Person.commune_id == commune_id, Person.display_name == name)
    ).first()
    if person is None:
        person = Person(commune_id=commune_id, display_name=name, **fields)  # type: ignore[arg-type]
        session.add(person)
        session.flush()
    assert person.id is not None
    for role in roles:
        grant(session, person.id, role)
    session.flush()
    return person


def load_sample_feedback(session: Session, now: dt.datetime, tz: dt.tzinfo) -> int:
    """Add the sample reports to the sample commune (once); how many were added."""
    commune = sample_commune(session)
    if commune is None or commune.id is None:
        return 0
    if session.exec(
        select(FeedbackReport.id).where(FeedbackReport.commune_id == commune.id)
    ).first():
        return 0
    categories = {c.code: c for c in store.ensure_categories(session, commune.id)}
    villages = {
        v.name: v for v in session.exec(select(Village).where(Village.commune_id == commune.id))
    }
    office = _person(session, commune.id, OFFICE_NAME, Role.OFFICE)
    residents = [_person(session, commune.id, name, Role.RESIDENT) for name in SAMPLE_RESIDENTS]
    officers: dict[int, Person] = {}

    def officer(unit_id: int) -> Person:
        if unit_id not in officers:
            unit = session.get(Unit, unit_id)
            name = f"Cán bộ {unit.name if unit else unit_id} (mẫu)"
            officers[unit_id] = _person(session, commune.id or 0, name, Role.UNIT, unit_id=unit_id)
        return officers[unit_id]

    added = 0
    for index, story in enumerate(STORIES):
        category = categories.get(story.category)
        if category is None or category.id is None:
            continue
        village = villages.get(story.village)
        start = now - dt.timedelta(days=story.days_ago)
        step = dt.timedelta(hours=5)
        resident = residents[index % len(residents)]
        assert resident.id is not None
        report = store.submit(
            session,
            commune=commune,
            reporter_id=resident.id,
            new=store.NewReport(
                category_id=category.id,
                text=story.text,
                village_id=village.id if village else None,
                landmark=story.landmark,
                point=story.point,
                contact_allowed=story.contact,
                source="sample",
            ),
            now=start,
            tz=tz,
        ).report
        assert report.id is not None
        added += 1
        if story.ending == "received":
            continue
        if report.unit_id is None:  # a category with no unit in this commune: the office routes
            first = session.exec(
                select(Unit).where(Unit.commune_id == commune.id).order_by(col(Unit.id))
            ).first()
            if first is None or first.id is None:
                continue
            store.assign(session, report.id, by=office, unit_id=first.id, now=start, tz=tz)
        assert report.unit_id is not None
        unit_officer = officer(report.unit_id)
        if story.ending == "assigned":
            continue
        if story.ending == "handed_back":
            store.hand_back(
                session,
                report.id,
                by=unit_officer,
                reason="Nhà trường thuộc thẩm quyền của trường, đề nghị chuyển Phòng Văn hóa - Xã hội.",
                now=start + step,
                tz=tz,
            )
            continue
        store.answer(
            session, report.id, by=unit_officer, text=ANSWERS[story.ending], now=start + step, tz=tz
        )
        if story.ending == "answered":
            continue
        if story.ending == "returned":
            store.return_to_unit(
                session,
                report.id,
                by=office,
                reason="Trả lời chưa nêu thời gian khơi thông cống, đề nghị bổ sung.",
                now=start + 2 * step,
                tz=tz,
            )
            continue
        if story.ending == "office_closed":
            store.close(
                session,
                report.id,
                by=office,
                note="Đã kiểm tra tại chỗ, ống đã được thay.",
                now=start + 2 * step,
                tz=tz,
            )
            continue
        resident_of = session.get(Person, report.reporter_id or 0)
        assert resident_of is not None
        satisfied = story.ending == "closed"  # else "reopened": the resident is not satisfied
        store.rate(
            session,
            report.id,
            by=resident_of,
            satisfied=satisfied,
            comment="" if satisfied else "Tôi đã bổ sung đủ giấy tờ từ tuần trước.",
            now=start + 2 * step,
            tz=tz,
        )
    session.flush()
    return added
