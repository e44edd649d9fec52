"""``tocns feedback category list|set|add``: the commune edits its routing on the command line."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from bot.feedback import store
from bot.services import Services
from db.models import AuditEntry, FeedbackCategory, Unit
from tests.feedback.conftest import VN, commune
from tests.feedback.test_apikeys import _cli


def _category(services: Services, code: str) -> FeedbackCategory:
    with Session(services.engine) as session:
        found = session.exec(select(FeedbackCategory).where(FeedbackCategory.code == code)).one()
        session.expunge(found)
        return found


def test_the_list_shows_each_category_with_its_unit_deadlines_and_urgency(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _cli(services, monkeypatch, capsys)
    code, out = run("feedback", "category", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "Các loại phản ánh của Xã Trung Hội (dữ liệu mẫu) (thời hạn tính theo ngày làm việc):"
    )
    assert (
        "  an_ninh: An ninh trật tự — Công an xã; trả lời lần đầu 0 ngày, xử lý xong 3 ngày; "
        "khẩn cấp (báo ngay, kể cả giờ nghỉ)" in lines
    )
    assert (
        "  khac: Khác — Văn phòng thường trực chọn đơn vị; trả lời lần đầu 3 ngày, "
        "xử lý xong 15 ngày" in lines
    )
    code, out = run("feedback", "category", "list", "--json")
    items = json.loads(out)
    assert [i["code"] for i in items][:3] == ["duong", "dien", "nuoc"]
    assert items[0] == {
        "code": "duong",
        "name": "Hạ tầng – đường, cầu, cống",
        "group": "Hạ tầng",
        "lead_unit": "Phòng Kinh tế",
        "answer_days": 2,
        "close_days": 10,
        "urgent": False,
        "active": True,
    }
    refused = "Không có xã “khong-co” trong cơ sở dữ liệu."
    code, out = run("feedback", "category", "list", "--commune", "khong-co")
    assert (code, out.strip()) == (1, refused)
    code, out = run(
        "feedback", "category", "set", "rac", "--urgent", "yes", "--commune", "khong-co", "--json"
    )
    assert (code, json.loads(out)) == (1, {"error": refused})


def test_set_changes_routing_deadlines_urgency_and_use_and_is_audited(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _cli(services, monkeypatch, capsys)
    code, out = run(
        "feedback", "category", "set", "rac", "--unit", "cong an xa", "--answer-days", "1",
        "--close-days", "4", "--urgent", "yes",
    )  # fmt: skip
    assert code == 0
    assert out.strip() == (
        "Đã lưu: rac: Môi trường – rác thải, ô nhiễm — Công an xã; trả lời lần đầu 1 ngày, "
        "xử lý xong 4 ngày; khẩn cấp (báo ngay, kể cả giờ nghỉ)"
    )
    rac = _category(services, "rac")
    with Session(services.engine) as session:
        police = session.exec(select(Unit).where(Unit.name == "Công an xã")).one()
        assert (rac.lead_unit_id, rac.answer_days, rac.close_days, rac.urgent) == (
            police.id,
            1,
            4,
            True,
        )
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "feedback.category")
        ).one()
        assert entry.old is not None and entry.new is not None
        assert (entry.old["answer_days"], entry.new["answer_days"]) == (2, 1)
    code, out = run("feedback", "category", "set", "rac", "--no-unit", "--active", "không")
    assert code == 0 and out.strip().endswith("Văn phòng thường trực chọn đơn vị; trả lời lần đầu "
                                              "1 ngày, xử lý xong 4 ngày; khẩn cấp (báo ngay, kể "
                                              "cả giờ nghỉ); đang tắt")  # fmt: skip
    rac = _category(services, "rac")
    assert (rac.lead_unit_id, rac.active) == (None, False)
    with Session(services.engine) as session:
        codes = [c.code for c in store.active_categories(session, commune(session).id or 0)]
    assert "rac" not in codes  # residents no longer see it

    # Refusals, in words, and nothing saved.
    code, out = run("feedback", "category", "set", "rac", "--close-days", "0")
    assert code == 1 and out.startswith("Không lưu được: Thời hạn tính theo ngày làm việc")
    code, out = run("feedback", "category", "set", "rac", "--unit", "Phòng Không Có")
    assert (code, out.strip()) == (
        1,
        "Không lưu được: Không tìm thấy đơn vị này trong xã.",
    )
    code, out = run("feedback", "category", "set", "khong_co", "--urgent", "no")
    assert code == 1 and "khong_co" in out
    assert run("feedback", "category", "set", "rac")[0] == 1  # nothing to change
    assert _category(services, "rac").close_days == 4


def test_add_appends_a_category_residents_can_choose_and_routes_it(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _cli(services, monkeypatch, capsys)
    code, out = run(
        "feedback", "category", "add", "cay_xanh", "Cây xanh – cây đổ, cành gãy",
        "--unit", "Phòng Kinh tế", "--answer-days", "1", "--close-days", "5",
        "--urgent", "có", "--group", "Môi trường", "--keywords", "cây đổ, cành gãy,",
    )  # fmt: skip
    assert code == 0
    assert out.strip() == (
        "Đã thêm: cay_xanh: Cây xanh – cây đổ, cành gãy — Phòng Kinh tế; trả lời lần đầu 1 ngày, "
        "xử lý xong 5 ngày; khẩn cấp (báo ngay, kể cả giờ nghỉ)"
    )
    added = _category(services, "cay_xanh")
    assert (added.group, added.keywords, added.position) == ("Môi trường", "cây đổ, cành gãy", 13)
    with Session(services.engine) as session:
        place = commune(session)
        assert [c.code for c in store.active_categories(session, place.id or 0)][-1] == "cay_xanh"
        report = store.submit(
            session,
            commune=place,
            reporter_id=None,
            new=store.NewReport(category_id=added.id or 0, text="Cây đổ chắn ngang đường xóm"),
            now=services.clock(),
            tz=VN,
        ).report
        assert (report.unit_id, report.urgent) == (added.lead_unit_id, True)
        assert session.exec(
            select(AuditEntry).where(AuditEntry.action == "feedback.category_add")
        ).one()
        session.rollback()
    code, out = run("feedback", "category", "add", "cay_xanh", "Cây xanh")
    assert (code, out.strip()) == (1, "Không lưu được: Xã đã có loại phản ánh mang mã “cay_xanh”.")
    code, out = run("feedback", "category", "add", "Cây", "Cây xanh")
    assert code == 1 and "cay_xanh" in out  # the rule for a code, with an example
