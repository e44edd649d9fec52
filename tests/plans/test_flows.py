"""Console-level flows: officers update progress and send evidence; the office reviews."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from bot.core.dispatcher import Dispatcher
from bot.core.errors import UserError
from bot.core.messages import Attachment, Reply
from bot.plans import store
from bot.plans.status import Reason, Status, Verdict
from bot.services import Services
from bot.tallies.store import commune_view, load_targets
from db.models import (
    AuditEntry,
    Evidence,
    Indicator,
    IndicatorValue,
    OutboxMessage,
    Person,
    Plan,
    Tally,
    TaskProgress,
    Village,
)
from tests.factories import add_person, import_plan_yaml, person_of_chat
from tests.helpers import Chat

PDF = b"%PDF-1.7\n" + b"0" * 200
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200

PLAN = """
plan: {slug: thu-nghiem, title: Kế hoạch thử nghiệm, issued: 2026-01-01}
indicators:
  - {number: "1", text: Tỷ lệ hồ sơ xử lý đúng hạn, unit: "%", targets: {"2026": "≥ 70"}, lead: Công an xã}
  - {number: "2", text: Tỷ lệ VNeID mức 2, unit: "%", targets: {"2026": "≥ 80%"}, lead: Công an xã, tally_code: vneid}
tasks:
  - {number: "T1", text: Làm sạch dữ liệu dân cư, lead: Công an xã, deadline: Quý II/2026}
  - {number: "T2", text: Tuyên truyền kỹ năng số, lead: Phòng Văn hóa - Xã hội, deadline: Thường xuyên}
"""


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.numbered_text() for reply in replies)


def values_of(replies: list[Reply]) -> list[str]:
    return [choice.value for reply in replies for choice in reply.choices]


@pytest.fixture
def plan(services: Services) -> dict[str, int]:
    """Import the small test plan; return task and indicator ids by number."""
    return import_plan_yaml(services, PLAN)


@pytest.fixture
def officer(services: Services, dispatcher: Dispatcher) -> Chat:
    add_person(services, name="Lê Văn Công", roles=("unit",), unit="Công an xã", chat_id="3001")
    return Chat(dispatcher, chat_id="3001", name="Lê Văn Công")


@pytest.fixture
def office(services: Services, dispatcher: Dispatcher) -> Chat:
    add_person(
        services,
        name="Phạm Thị Vân",
        roles=("office",),
        unit="Phòng Văn hóa - Xã hội",
        chat_id="3002",
    )
    return Chat(dispatcher, chat_id="3002", name="Phạm Thị Vân")


def status_of(services: Services, task_id: int) -> store.TaskView:
    with Session(services.engine) as session:
        today = services.clock().astimezone(services.tz).date()
        return store.task_view(session, task_id, today)


def test_officer_lists_updates_and_sends_evidence(
    services: Services, plan: dict[str, int], officer: Chat
) -> None:
    task = plan["T1"]
    listing = officer.send("/nhiemvu")
    assert "Nhiệm vụ của Công an xã" in text_of(listing)
    assert f"task:{task}" in values_of(listing)
    assert f"task:{plan['T2']}" not in values_of(listing)  # another unit's task
    card = officer.press(f"task:{task}")
    assert "Làm sạch dữ liệu dân cư" in text_of(card)
    assert "30/06/2026" in text_of(card)
    officer.press(f"taskprog:{task}")
    assert "0 đến 100" in text_of(officer.send("gần xong"))
    assert "Ghi chú" in text_of(officer.send("40%"))
    saved = officer.send("đã họp triển khai")
    assert "Đã lưu: nhiệm vụ T1 đạt 40%" in text_of(saved)
    assert "Đang thực hiện · 40%" in text_of(saved)
    # Done needs evidence: asking for 100% opens the evidence step.
    officer.press(f"taskprog:{task}")
    asked = officer.send("100")
    assert "Chỉ báo hoàn thành được khi có minh chứng" in text_of(asked)
    thanks = officer.attach(
        Attachment(
            kind="document",
            file_name="bien-ban.pdf",
            mime_type="application/pdf",
            size=len(PDF),
            data=PDF,
        )
    )
    assert "Đã nhận minh chứng của nhiệm vụ T1" in text_of(thanks)
    assert "Chờ duyệt" in text_of(thanks)
    with Session(services.engine) as session:
        evidence = session.exec(select(Evidence).where(Evidence.task_id == task)).one()
        assert (evidence.kind, evidence.status, evidence.file_name, evidence.size) == (
            "document",
            "pending",
            "bien-ban.pdf",
            len(PDF),
        )
        assert (
            services.settings.effective_evidence_dir / evidence.storage_path
        ).read_bytes() == PDF
        assert evidence.uploaded_by == person_of_chat(services, "3001")
        percents = session.exec(
            select(TaskProgress.percent)
            .where(TaskProgress.task_id == task)
            .order_by(TaskProgress.id)
        ).all()
        assert percents == [40, 100]


def test_report_done_without_evidence_is_refused(
    services: Services, plan: dict[str, int], officer: Chat
) -> None:
    replies = officer.press(f"taskdone:{plan['T1']}")
    assert "Chỉ báo hoàn thành được khi có minh chứng" in text_of(replies)
    assert "Hãy gửi ảnh" in text_of(officer.send("xong rồi"))
    with Session(services.engine) as session:
        assert (
            session.exec(select(TaskProgress).where(TaskProgress.task_id == plan["T1"])).all() == []
        )
    # A link counts as evidence (Zalo users paste links).
    officer.send("https://drive.google.com/file/d/abc/view")
    with Session(services.engine) as session:
        evidence = session.exec(select(Evidence).where(Evidence.task_id == plan["T1"])).one()
        assert (evidence.kind, evidence.url) == ("link", "https://drive.google.com/file/d/abc/view")
        assert session.exec(
            select(TaskProgress.percent).where(TaskProgress.task_id == plan["T1"])
        ).all() == [100]


def test_lying_file_and_full_disk_leave_the_task_unchanged(
    services: Services, plan: dict[str, int], officer: Chat
) -> None:
    officer.press(f"taskev:{plan['T1']}")
    lying = officer.attach(
        Attachment(kind="document", file_name="bao-cao.pdf", mime_type="application/pdf", data=JPEG)
    )
    assert "thực chất là JPEG" in text_of(lying)
    directory = services.settings.effective_evidence_dir
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.write_text("not a directory: the disk cannot take files")
    failed = officer.attach(
        Attachment(kind="document", file_name="bao-cao.pdf", mime_type="application/pdf", data=PDF)
    )
    assert "Không lưu được tệp" in text_of(failed)
    assert "Nhiệm vụ chưa thay đổi" in text_of(failed)
    with Session(services.engine) as session:
        assert session.exec(select(Evidence).where(Evidence.task_id == plan["T1"])).all() == []
    assert status_of(services, plan["T1"]).status.status == Status.NOT_STARTED
    # Still in the evidence step: once the disk is fixed, sending again works.
    directory.unlink()
    officer.attach(
        Attachment(kind="document", file_name="bao-cao.pdf", mime_type="application/pdf", data=PDF)
    )
    assert status_of(services, plan["T1"]).status.status == Status.AWAITING_REVIEW


def test_office_rejects_then_approves(
    services: Services, plan: dict[str, int], officer: Chat, office: Chat
) -> None:
    task = plan["T1"]
    officer.press(f"taskev:{task}")
    officer.attach(
        Attachment(kind="photo", file_name="photo.jpg", mime_type="image/jpeg", data=JPEG)
    )
    with Session(services.engine) as session:
        evidence_id = session.exec(select(Evidence.id).where(Evidence.task_id == task)).one()
    waiting = office.send("/duyet")
    assert "Minh chứng đang chờ duyệt: 1" in text_of(waiting)
    assert f"rev:{evidence_id}" in values_of(waiting)
    shown = office.press(f"rev:{evidence_id}")
    assert shown[0].image == JPEG
    assert "Làm sạch dữ liệu dân cư" in shown[0].text
    office.press(f"revno:{evidence_id}")
    assert "vài chữ" in text_of(office.send("x"))
    done = office.send("Ảnh mờ, thiếu biên bản có chữ ký")
    assert "Chờ hoàn thiện" in text_of(done)
    assert "Không có minh chứng nào đang chờ duyệt" in text_of(done)
    view = status_of(services, task)
    assert view.status.status == Status.NEEDS_WORK
    assert view.status.red and Reason.REJECTED in view.status.reasons
    officer_id = person_of_chat(services, "3001")
    with Session(services.engine) as session:
        [row] = session.exec(
            select(OutboxMessage).where(OutboxMessage.person_id == officer_id)
        ).all()
        assert row.dedupe_key == f"review:{evidence_id}:rejected:{officer_id}"
        assert (row.kind, row.task_id, row.channel, row.chat_id) == (
            "review_rejected",
            task,
            "console",
            "3001",
        )
        assert "Ảnh mờ, thiếu biên bản có chữ ký" in row.content["text"]
        assert "Chờ hoàn thiện" not in row.content["text"]
        assert "yêu cầu hoàn thiện nhiệm vụ T1" in row.content["text"]
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "evidence.reject")).one()
        assert audit.reason == "Ảnh mờ, thiếu biên bản có chữ ký"
    # The officer sees the red alert, sends new evidence, the office approves.
    card = officer.press(f"task:{task}")
    assert "Chờ hoàn thiện" in text_of(card) and "🔴" in text_of(card)
    officer.press(f"taskev:{task}")
    officer.attach(
        Attachment(kind="document", file_name="bien-ban.pdf", mime_type="application/pdf", data=PDF)
    )
    with Session(services.engine) as session:
        second = session.exec(
            select(Evidence.id).where(Evidence.task_id == task, Evidence.status == "pending")
        ).one()
    approved = office.press(f"revok:{second}")
    assert "Đã duyệt. Nhiệm vụ T1 đã hoàn thành." in text_of(approved)
    view = status_of(services, task)
    assert (view.status.status, view.status.red, view.status.percent) == (Status.DONE, False, 100)
    with Session(services.engine) as session:
        keys = session.exec(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.person_id == officer_id)
        ).all()
        assert f"review:{second}:approved:{officer_id}" in keys
    # A decision cannot be taken twice.
    assert "không còn chờ duyệt" in text_of(office.press(f"revok:{second}"))


def test_other_unit_cannot_touch_the_task(
    services: Services, dispatcher: Dispatcher, plan: dict[str, int]
) -> None:
    add_person(
        services, name="Đỗ Thị Hoa", roles=("unit",), unit="Phòng Văn hóa - Xã hội", chat_id="3003"
    )
    other = Chat(dispatcher, chat_id="3003", name="Đỗ Thị Hoa")
    task = plan["T1"]  # led by Công an xã
    for value in (f"task:{task}", f"taskprog:{task}", f"taskev:{task}", f"taskdone:{task}"):
        assert "thuộc đơn vị khác" in text_of(other.press(value))
    with Session(services.engine) as session:
        assert session.exec(select(TaskProgress).where(TaskProgress.task_id == task)).all() == []
        person = session.get(Person, person_of_chat(services, "3003"))
        assert person is not None
        with pytest.raises(UserError):
            store.task_for_officer(session, task, person, dt.date(2026, 3, 10))
    # Their own task works.
    assert "Tuyên truyền kỹ năng số" in text_of(other.press(f"task:{plan['T2']}"))


def test_residents_cannot_review_or_list_tasks(
    services: Services, chat: Chat, plan: dict[str, int], officer: Chat
) -> None:
    officer.press(f"taskev:{plan['T1']}")
    officer.send("https://example.org/minh-chung.pdf")
    with Session(services.engine) as session:
        evidence_id = session.exec(select(Evidence.id)).one()
    assert "/lienket" in chat.say("/duyet")
    assert "/lienket" in chat.say("/nhiemvu")
    assert "cơ quan thường trực" in text_of(chat.press(f"revok:{evidence_id}"))
    assert "cán bộ đơn vị" in text_of(chat.press(f"task:{plan['T1']}"))
    with Session(services.engine) as session:
        assert session.get(Evidence, evidence_id).status == "pending"  # type: ignore[union-attr]


def test_indicator_value_with_evidence(
    services: Services, plan: dict[str, int], officer: Chat
) -> None:
    listing = officer.send("/chitieu")
    assert "Tỷ lệ hồ sơ xử lý đúng hạn" in text_of(listing)
    assert f"indval:{plan['I1']}" in values_of(listing)
    assert f"indval:{plan['I2']}" not in values_of(listing)  # from the villages' tallies
    officer.press(f"indval:{plan['I1']}")
    assert "Hãy gõ một số" in text_of(officer.send("nhiều"))
    officer.send("75,5")
    saved = officer.send("https://example.org/bao-cao.pdf")
    assert "chỉ tiêu 1 hiện đạt 75,5" in text_of(saved)
    with Session(services.engine) as session:
        assert session.exec(select(IndicatorValue.value)).all() == [75.5]
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "indicator.value")).one()
        assert (
            audit.new is not None
            and audit.new["evidence"]["url"] == "https://example.org/bao-cao.pdf"
        )
    assert "Đạt" in text_of(officer.send("/chitieu"))
    assert "không cần nhập" in text_of(officer.press(f"indval:{plan['I2']}"))


def test_tally_indicator_actual_is_the_commune_rate(
    services: Services, plan: dict[str, int]
) -> None:
    with Session(services.engine) as session:
        villages = session.exec(select(Village)).all()
        for village in villages:
            session.add(
                Tally(village_id=village.id, period=dt.date(2026, 2, 1), code="vneid", value=100)
            )  # type: ignore[arg-type]
        session.commit()
        indicator = session.get(Indicator, plan["I2"])
        assert indicator is not None
        [view] = store.indicator_views(session, [indicator], dt.date(2026, 3, 10))
        population = 563 + 1008 + 540 + 927 + 1079 + 909 + 1300 + 763 + 976 + 1152 + 1106 + 1180
        assert view.source == "tally"
        assert view.status.actual == pytest.approx(round(100 * 1200 / population, 2))
        assert view.status.year == 2026
        # One rule: the dashboard's indicator and /tiendo's commune total agree.
        total = commune_view(session, indicator_commune(session, plan), dt.date(2026, 3, 1))
        assert view.status.actual == round(100 * (total.totals["vneid"].rate or 0), 2)
        assert (
            store.tally_rates(session, indicator_commune(session, plan), dt.date(2026, 1, 31))[
                "vneid"
            ]
            is None
        )  # nothing reported yet in January


def indicator_commune(session: Session, plan: dict[str, int]) -> int:
    indicator = session.get(Indicator, plan["I2"])
    assert indicator is not None
    return session.get(Plan, indicator.plan_id).commune_id  # type: ignore[union-attr]


WORD_PLAN = """
plan: {slug: chu-tieu-chu, title: Kế hoạch chỉ tiêu bằng chữ, issued: 2026-01-01}
indicators:
  - {number: "3", text: Tỉ lệ sử dụng dịch vụ công trực tuyến đạt 90%., unit: Đạt, targets: {"2026": "Đạt"}, lead: Công an xã, tally_code: dvc}
  - {number: "8", text: Cơ sở dữ liệu kết nối thông suốt, unit: Cơ sở dữ liệu, targets: {"2026": "Liên thông"}, lead: Công an xã}
  - {number: "5", text: Số hóa 100% các di tích, unit: Đạt, targets: {"2026": "100%"}, lead: Công an xã}
  - {number: "13", text: Tỷ lệ sáng chế khai thác thương mại, unit: "%", targets: {"2026": "0", "2030": "2"}, lead: Công an xã}
"""


def test_word_targets_take_the_texts_number_or_are_yes_or_no(
    services: Services, officer: Chat
) -> None:
    ids = import_plan_yaml(services, WORD_PLAN)
    with Session(services.engine) as session:
        village = session.exec(select(Village).where(Village.name == "Xóm 3")).one()
        session.add(Tally(village_id=village.id, period=dt.date(2026, 2, 1), code="dvc", value=400))
        session.commit()
        views = {
            v.indicator.number: v.status
            for v in store.indicator_views(
                session,
                [session.get(Indicator, ids[f"I{n}"]) for n in ("3", "8", "13")],  # type: ignore[misc]
                dt.date(2026, 3, 10),
            )
        }
        # "Đạt" with "đạt 90%" in the text: judged against 90 %, never "met" by any value.
        assert views["3"].raw == "90%" and views["3"].target is not None
        assert views["3"].target.value == 90 and views["3"].verdict != Verdict.MET
        # /tiendo and the overview read the same 90 % for the tally code.
        commune = indicator_commune_of(session, ids["I3"])
        assert load_targets(session, commune, 2026)["dvc"].rate == pytest.approx(0.9)
        assert views["8"].target is not None and views["8"].target.op == "achieved"
        # A bare "0" asks nothing yet: the next year's target counts.
        assert views["13"].year == 2030 and views["13"].raw == "2"
    listing = text_of(officer.send("/chitieu"))
    assert "Chỉ tiêu: 90% (2026)" in listing
    asked = officer.press(f"indval:{ids['I8']}")
    assert "Đã đạt “Liên thông” chưa?" in text_of(asked)
    assert [c.label for c in asked[0].choices] == ["✅ Đã đạt", "⏳ Chưa đạt"]
    assert "Hãy gõ một số" not in text_of(officer.send("Đạt"))
    assert "chỉ tiêu 8 đã đạt" in text_of(officer.send("https://example.org/bien-ban.pdf"))
    assert "Thực tế: đã đạt · Chỉ tiêu: Liên thông (2026) · Đạt" in text_of(
        officer.send("/chitieu")
    )
    officer.press(f"indval:{ids['I8']}")
    officer.press("indyes:0")
    assert "chưa đạt" in text_of(officer.send("https://example.org/bien-ban-2.pdf"))
    asked = text_of(officer.press(f"indval:{ids['I5']}"))
    assert "Hãy gõ kết quả thực tế (%)." in asked and "(Đạt)" not in asked


def indicator_commune_of(session: Session, indicator_id: int) -> int:
    indicator = session.get(Indicator, indicator_id)
    assert indicator is not None
    return session.get(Plan, indicator.plan_id).commune_id  # type: ignore[union-attr]
