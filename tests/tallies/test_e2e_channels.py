"""Tallies end to end on the fake Telegram and Zalo servers, through the whole app."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine
from sqlmodel import Session, select

from bot.app import prepare_database
from bot.services import Services
from bot.settings import Settings
from db.models import AuditEntry, Tally, Village
from tests.conftest import START, channel_settings
from tests.factories import add_person, make_invite, record_figure, village_id
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI

TG_USER = 5550101
ZALO_USER = "z-team-7"
CODES: dict[str, str] = {}


def _prepare(services: Services) -> None:
    """Invites for Xóm 3 and Xóm 7, and last month's figure for Xóm 3 (for a drop)."""
    prepare_database(services)
    with Session(services.engine) as session:
        for name in ("Xóm 3", "Xóm 7"):
            CODES[name] = make_invite(
                session, "team", now=START, village=village_id(services, name)
            )
        session.commit()
    record_figure(services, dt.date(2026, 2, 1), "ssk", 90, "Xóm 3")


def _values(settings: Settings, village: str) -> dict[str, int]:
    engine = create_engine(
        settings.database_url or f"sqlite:///{settings.data_dir / 'tocns.sqlite3'}"
    )
    with Session(engine) as session:
        village_id = session.exec(select(Village.id).where(Village.name == village)).one()
        rows = session.exec(
            select(Tally).where(Tally.village_id == village_id, Tally.period == dt.date(2026, 3, 1))
        ).all()
        result = {r.code: r.value for r in rows}
    engine.dispose()
    return result


async def test_telegram_join_report_errors_drop_and_progress(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    async with running(channel_settings(settings, fake_telegram), _prepare):
        sent = lambda n: fake_telegram.wait_sent(count=n, chat_id=TG_USER, method="sendMessage")  # noqa: E731
        fake_telegram.push_text(TG_USER, f"/start j_{CODES['Xóm 3']}")
        welcome = (await sent(1))[-1]
        assert "thành viên Tổ CNS cộng đồng của Xóm 3" in (welcome.text or "")
        assert any("Báo cáo" in label for label in welcome.button_texts)

        fake_telegram.push_text(TG_USER, "/baocao")
        picker = (await sent(2))[-1]
        assert "rep:code:cks" in picker.callback_data
        fake_telegram.push_callback(TG_USER, "rep:code:cks")
        await sent(3)
        fake_telegram.push_text(TG_USER, "33")
        summary = (await sent(4))[-1]
        assert summary.callback_data == ["rep:ok", "rep:more", "rep:cancel"]
        fake_telegram.push_callback(TG_USER, "rep:ok")
        assert "Chữ ký số: 33" in ((await sent(5))[-1].text or "")

        fake_telegram.push_text(TG_USER, "VNeID: 45, chữ ký số: 40")
        assert "• VNeID mức 2: 45" in ((await sent(6))[-1].text or "")

        fake_telegram.push_text(TG_USER, "vneid -1")
        assert "không được là số âm" in ((await sent(7))[-1].text or "")
        fake_telegram.push_text(TG_USER, "cks 9999")
        assert "lớn hơn số người từ 18 tuổi" in ((await sent(8))[-1].text or "")

        fake_telegram.push_text(TG_USER, "ssk 80")
        ask = (await sent(9))[-1]
        assert "thấp hơn tháng trước (90)" in (ask.text or "") and "rep:force" in ask.callback_data
        fake_telegram.push_callback(TG_USER, "rep:force")
        assert "Sổ sức khỏe điện tử: 80" in ((await sent(10))[-1].text or "")

        fake_telegram.push_text(TG_USER, "kns 12")
        await sent(11)
        fake_telegram.push_text(TG_USER, "/tiendo")
        [photo] = await fake_telegram.wait_sent(chat_id=TG_USER, method="sendPhoto")
        [upload] = photo.files.values()
        assert upload.data.startswith(b"\x89PNG")
        messages = fake_telegram.sent_to(TG_USER, "sendMessage")
        assert len(messages) == 12
        assert "Tiến độ của Xóm 3" in (messages[-1].text or photo.text or "")
        # Asked again with nothing changed: the same chart, sent by its file id, no upload.
        fake_telegram.push_text(TG_USER, "/tiendo")
        again = await fake_telegram.wait_sent(count=2, chat_id=TG_USER, method="sendPhoto")
        assert again[-1].files == {} and again[-1].params["photo"] in fake_telegram.files
        # Telegram no longer knows that file id: uploaded again, the person still gets it.
        fake_telegram.fail_next(
            "sendPhoto", status=400, description="Bad Request: wrong file identifier"
        )
        fake_telegram.push_text(TG_USER, "/tiendo")
        third = await fake_telegram.wait_sent(count=3, chat_id=TG_USER, method="sendPhoto")
        assert [upload.data[:4] for upload in third[-1].files.values()] == [b"\x89PNG"]
    assert _values(settings, "Xóm 3") == {"cks": 40, "vneid": 45, "ssk": 80, "kns": 12}
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        audits = session.exec(select(AuditEntry).where(AuditEntry.entity == "tally")).all()
        assert sorted(a.reason for a in audits) == ["correction", "drop confirmed by the reporter"]
    engine.dispose()


async def test_zalo_join_report_and_progress_as_text(
    running, settings, fake_zalo: FakeZaloAPI
) -> None:
    async with running(channel_settings(settings, zalo=fake_zalo), _prepare):
        sent = lambda n: fake_zalo.wait_sent(count=n, chat_id=ZALO_USER, method="sendMessage")  # noqa: E731
        fake_zalo.push_text(ZALO_USER, "/lienket", display_name="Hà Thị Mai")
        assert "mã mời" in ((await sent(1))[-1].text or "")
        fake_zalo.push_text(ZALO_USER, CODES["Xóm 7"])
        assert "của Xóm 7" in ((await sent(2))[-1].text or "")
        fake_zalo.push_text(ZALO_USER, "bc định danh 120 chu ky so 33")
        assert "✅ Đã ghi cho Xóm 7" in ((await sent(3))[-1].text or "")
        fake_zalo.push_text(ZALO_USER, "CKS12 ssk")
        assert "chưa có số" in ((await sent(4))[-1].text or "")
        fake_zalo.push_text(ZALO_USER, "xóm 3 vneid 10")
        assert "chỉ báo cáo được cho thôn/xóm của mình (Xóm 7)" in ((await sent(5))[-1].text or "")
        fake_zalo.push_text(ZALO_USER, "/tiendo")
        progress = (await sent(6))[-1]
        assert "Tiến độ của Xóm 7" in (progress.text or "") and "VNeID mức 2: 120/1.300" in (
            progress.text or ""
        )
        assert fake_zalo.sent_to(ZALO_USER, "sendPhoto") == []  # no public URL: text only
    assert _values(settings, "Xóm 7") == {"vneid": 120, "cks": 33}


async def test_zalo_chart_goes_as_photo_url(running, settings, fake_zalo: FakeZaloAPI) -> None:
    app_settings = channel_settings(
        settings, zalo=fake_zalo, public_base_url="https://tocns.example.vn"
    )
    async with running(app_settings, _prepare):
        fake_zalo.push_text(ZALO_USER, f"/lienket {CODES['Xóm 7']}")
        await fake_zalo.wait_sent(chat_id=ZALO_USER, method="sendMessage")
        fake_zalo.push_text(ZALO_USER, "/tiendo")
        [photo] = await fake_zalo.wait_sent(chat_id=ZALO_USER, method="sendPhoto")
        assert str(photo.params["photo"]).startswith("https://tocns.example.vn/media/")


async def test_telegram_replies_reach_a_chat_in_the_order_handled(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    """The first report's confirmation is slow to go out: the correction still comes after."""

    def prepare(services: Services) -> None:
        _prepare(services)
        add_person(
            services,
            name="Lê Văn Ba",
            roles=("team",),
            village="Xóm 3",
            channel="telegram",
            chat_id=str(TG_USER),
        )

    fake_telegram.push_text(TG_USER, "vneid 45")
    fake_telegram.push_text(TG_USER, "vneid 50")
    fake_telegram.stall_next("sendMessage", 1.0)  # the first reply is answered a second late
    async with running(channel_settings(settings, fake_telegram), prepare):
        sent = await fake_telegram.wait_sent(count=2, chat_id=TG_USER, method="sendMessage")
        texts = [call.text or "" for call in sent]
        assert "45" in texts[0] and "sửa từ" not in texts[0], texts
        assert "50 (sửa từ 45)" in texts[1], texts
    assert _values(settings, "Xóm 3") == {"vneid": 50}


async def test_telegram_replayed_update_is_not_counted_twice(
    running, settings, fake_telegram: FakeTelegramAPI
) -> None:
    def prepare(services: Services) -> None:
        _prepare(services)
        add_person(
            services,
            name="Lê Văn Ba",
            roles=("team",),
            village="Xóm 3",
            channel="telegram",
            chat_id=str(TG_USER),
        )

    first = fake_telegram.push_text(TG_USER, "vneid 45")
    [raw] = [u for u in fake_telegram.updates if u["update_id"] == first]
    fake_telegram.push_text(TG_USER, "vneid 50")
    fake_telegram.push_update(dict(raw))  # Telegram delivers the first report again
    async with running(channel_settings(settings, fake_telegram), prepare):
        await fake_telegram.wait_sent(count=2, chat_id=TG_USER, method="sendMessage")
        fake_telegram.push_text(TG_USER, "/trogiup")
        sent = await fake_telegram.wait_sent(count=3, chat_id=TG_USER, method="sendMessage")
        texts = [call.text for call in sent]
        assert len(sent) == 3 and "sửa từ 45" in (sent[1].text or ""), texts
    assert _values(settings, "Xóm 3") == {"vneid": 50}
