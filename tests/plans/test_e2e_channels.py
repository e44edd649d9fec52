"""Plan tasks end to end on the fake Telegram and Zalo servers, through the whole app."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import create_engine
from sqlmodel import Session, select

from bot.app import prepare_database
from bot.plans import store
from bot.plans.status import Status
from bot.services import Services
from bot.settings import Settings
from db.models import Evidence, OutboxMessage
from tests.conftest import START, channel_settings
from tests.factories import import_plan_yaml, make_invite, unit_id
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI

OFFICER = 5550201  # Công an xã
OFFICE = 5550202  # standing office
OTHER = 5550203  # Đoàn Thanh niên, on Telegram
ZALO_OFFICER = "z-doan-1"  # Đoàn Thanh niên, on Zalo
PDF = b"%PDF-1.7\n" + b"0" * 300
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 300
PLAN = """
plan: {slug: e2e, title: Kế hoạch thử đầu cuối, issued: 2026-01-01}
tasks:
  - {number: "T1", text: Làm sạch dữ liệu dân cư, lead: Công an xã, deadline: Quý II/2026}
  - {number: "T2", text: Tuyên truyền kỹ năng số cho thanh niên, lead: Đoàn Thanh niên, deadline: Thường xuyên}
"""
CODES: dict[str, str] = {}
IDS: dict[str, int] = {}


def _prepare(services: Services) -> None:
    prepare_database(services)
    IDS.update(import_plan_yaml(services, PLAN, today=START.date()))
    police, youth = unit_id(services, "Công an xã"), unit_id(services, "Đoàn Thanh niên")
    with Session(services.engine) as session:
        CODES["police"] = make_invite(session, "unit", now=START, unit=police)
        CODES["youth"] = make_invite(session, "unit", now=START, unit=youth)
        CODES["youth2"] = make_invite(session, "unit", now=START, unit=youth)
        CODES["office"] = make_invite(session, "office", now=START)
        session.commit()


class Watch:
    """Waits for the next message to one chat that contains a text."""

    def __init__(self, fake: Any, chat_id: int | str) -> None:
        self.fake, self.chat_id, self.seen = fake, chat_id, 0

    async def said(self, needle: str, method: str = "sendMessage") -> Any:
        def found() -> Any:
            calls = self.fake.sent_to(self.chat_id, method)
            for index in range(self.seen, len(calls)):
                if needle in (calls[index].text or ""):
                    self.seen = index + 1
                    return calls[index]
            return None

        return await self.fake.wait_for(found, timeout=8.0)


def _engine(settings: Settings) -> Any:
    return create_engine(settings.database_url)


def _status(settings: Settings, task_id: int) -> store.TaskView:
    engine = _engine(settings)
    with Session(engine) as session:
        view = store.task_view(session, task_id, START.date())
    engine.dispose()
    return view


async def test_telegram_progress_evidence_review(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    async with running(channel_settings(settings, fake_telegram), _prepare):
        officer, office, other = (Watch(fake_telegram, u) for u in (OFFICER, OFFICE, OTHER))
        task = IDS["T1"]
        fake_telegram.push_text(OFFICER, f"/start j_{CODES['police']}")
        await officer.said("Công an xã")
        fake_telegram.push_text(OFFICER, "/nhiemvu")
        listing = await officer.said("Nhiệm vụ của Công an xã")
        assert f"task:{task}" in listing.callback_data
        assert f"task:{IDS['T2']}" not in listing.callback_data
        fake_telegram.push_callback(OFFICER, f"task:{task}")
        card = await officer.said("Làm sạch dữ liệu dân cư")
        assert card.callback_data[:3] == [f"taskprog:{task}", f"taskev:{task}", f"taskdone:{task}"]
        fake_telegram.push_callback(OFFICER, f"taskprog:{task}")
        await officer.said("Gõ một số từ 0 đến 100")
        fake_telegram.push_text(OFFICER, "50")
        await officer.said("Ghi chú")
        fake_telegram.push_text(OFFICER, "bỏ qua")
        await officer.said("Đã lưu: nhiệm vụ T1 đạt 50%")
        fake_telegram.push_callback(OFFICER, f"taskdone:{task}")
        await officer.said("Hãy gửi minh chứng cho nhiệm vụ T1")
        fake_telegram.push_document(OFFICER, PDF, "bien-ban.pdf", "application/pdf")
        await officer.said("Đã nhận minh chứng của nhiệm vụ T1")

        # Another unit's officer forging a button press is refused.
        fake_telegram.push_text(OTHER, f"/start j_{CODES['youth2']}")
        await other.said("Đoàn Thanh niên")
        fake_telegram.push_callback(OTHER, f"taskprog:{task}")
        await other.said("thuộc đơn vị khác")

        # The standing office rejects: the unit is told (outbox) and the task turns red.
        fake_telegram.push_text(OFFICE, f"/start j_{CODES['office']}")
        await office.said("cơ quan thường trực")
        fake_telegram.push_text(OFFICE, "/duyet")
        waiting = await office.said("Minh chứng đang chờ duyệt: 1")
        [value] = [v for v in waiting.callback_data if v.startswith("rev:")]
        evidence_id = int(value.split(":")[1])
        fake_telegram.push_callback(OFFICE, value)
        [document] = await fake_telegram.wait_sent(chat_id=OFFICE, method="sendDocument")
        assert document.files["document"].data == PDF
        fake_telegram.push_callback(OFFICE, f"revno:{evidence_id}")
        await office.said("Đơn vị cần hoàn thiện điều gì")
        fake_telegram.push_text(OFFICE, "Thiếu chữ ký của lãnh đạo")
        await office.said("Đã trả lại. Nhiệm vụ T1")
        view = _status(settings, task)
        assert view.status.status == Status.NEEDS_WORK and view.status.red
        engine = _engine(settings)
        with Session(engine) as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.task_id == task)).all()
            assert [(r.kind, r.channel, r.chat_id) for r in rows] == [
                ("review_rejected", "telegram", str(OFFICER))
            ]
            assert rows[0].dedupe_key.startswith(f"review:{evidence_id}:rejected:")
            assert "Thiếu chữ ký của lãnh đạo" in rows[0].content["text"]
        engine.dispose()

        # New evidence (a photo), approved: the task is done.
        fake_telegram.push_callback(OFFICER, f"taskev:{task}")
        await officer.said("Hãy gửi minh chứng")
        fake_telegram.push_photo(OFFICER, JPEG)
        await officer.said("Đã nhận minh chứng")
        fake_telegram.push_text(OFFICE, "/duyet")
        waiting = await office.said("Minh chứng đang chờ duyệt: 1")
        [value] = [v for v in waiting.callback_data if v.startswith("rev:")]
        fake_telegram.push_callback(OFFICE, value.replace("rev:", "revok:"))
        await office.said("Đã duyệt. Nhiệm vụ T1 đã hoàn thành.")
    view = _status(settings, task)
    assert (view.status.status, view.status.red) == (Status.DONE, False)
    engine = _engine(settings)
    with Session(engine) as session:
        kinds = session.exec(
            select(Evidence.kind).where(Evidence.task_id == task).order_by(Evidence.id)
        ).all()
        assert kinds == ["document", "photo"]
    engine.dispose()


async def test_zalo_officer_updates_and_sends_a_photo(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo), _prepare):
        officer = Watch(fake_zalo, ZALO_OFFICER)
        fake_zalo.push_text(ZALO_OFFICER, "/lienket", display_name="Vũ Văn Nam")
        await officer.said("mã mời")
        fake_zalo.push_text(ZALO_OFFICER, CODES["youth"])
        await officer.said("Đoàn Thanh niên")
        fake_zalo.push_text(ZALO_OFFICER, "/nhiemvu")
        listing = await officer.said("Nhiệm vụ của Đoàn Thanh niên")
        [number] = re.findall(
            r"^(\d+)\. \S+ Tuyên truyền kỹ năng số cho thanh niên$", listing.text, re.MULTILINE
        )
        fake_zalo.push_text(ZALO_OFFICER, number)
        card = await officer.said("Tuyên truyền kỹ năng số cho thanh niên")
        assert "1. 📈 Cập nhật tiến độ" in card.text and "Gõ số từ 1 đến 4" in card.text
        fake_zalo.push_text(ZALO_OFFICER, "1")
        await officer.said("Gõ một số từ 0 đến 100")
        fake_zalo.push_text(ZALO_OFFICER, "30")
        await officer.said("Ghi chú")
        fake_zalo.push_text(ZALO_OFFICER, "đã tổ chức 2 buổi")
        await officer.said("Đã lưu: nhiệm vụ T2 đạt 30%")
        card = await officer.said(
            "Kỳ tháng 2/2026 chưa hoàn thành. Kỳ này (tháng 3/2026): Đang thực hiện · 30%"
        )
        assert "2. 📎 Gửi minh chứng" in card.text
        fake_zalo.push_text(ZALO_OFFICER, "2")
        await officer.said("Trên Zalo, bạn gửi ảnh hoặc dán đường link")
        fake_zalo.push_image(ZALO_OFFICER, "https://photo.zalo.example/abc/anh-buoi-1.jpg")
        await officer.said("Đã nhận minh chứng của nhiệm vụ T2")
    engine = _engine(settings)
    with Session(engine) as session:
        evidence = session.exec(select(Evidence).where(Evidence.task_id == IDS["T2"])).one()
        assert (evidence.kind, evidence.url, evidence.status) == (
            "link",
            "https://photo.zalo.example/abc/anh-buoi-1.jpg",
            "pending",
        )
        assert evidence.period == "2026-03"  # "Thường xuyên": reported monthly
    engine.dispose()
    status = _status(settings, IDS["T2"]).status
    assert status.periods[-1].status == Status.AWAITING_REVIEW  # March, this month
    # February was never reported: the month that just closed is the headline, in red.
    assert (status.period.key, status.status, status.red) == ("2026-02", Status.OVERDUE, True)
