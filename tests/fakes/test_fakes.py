"""The fake Telegram Bot API must satisfy the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI

TOKEN = "123456789:TEST-telegram-token_abcdefghijklmnopq"
USER = 5550001


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 emits a PTBDeprecationWarning when building RetryAfter unless this is set,
    # and warnings are errors in this suite.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(fake_telegram: FakeTelegramAPI) -> AsyncIterator[Bot]:
    async with Bot(
        TOKEN, base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url
    ) as bot:
        yield bot


async def test_get_me_on_initialize(fake_telegram: FakeTelegramAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert bot.username == "tocns_test_bot"
    assert fake_telegram.counts["getMe"] >= 1


async def test_wrong_token_is_invalid(fake_telegram: FakeTelegramAPI) -> None:
    other = Bot("1:wrong", base_url=fake_telegram.base_url)
    with pytest.raises(TelegramError):
        await other.initialize()


async def test_send_message_records_parsed_keyboard(
    fake_telegram: FakeTelegramAPI, bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Có", callback_data="yes")],
            [InlineKeyboardButton("Không", callback_data="no")],
        ]
    )
    message = await bot.send_message(USER, "Bạn có đồng ý không?", reply_markup=keyboard)
    assert message.text == "Bạn có đồng ý không?"
    assert message.chat.id == USER
    assert message.reply_markup == keyboard
    [call] = fake_telegram.sent_to(USER)
    assert call.method == "sendMessage"
    assert call.chat_id == USER
    assert call.text == "Bạn có đồng ý không?"
    assert call.button_texts == ["Có", "Không"]
    assert call.callback_data == ["yes", "no"]
    second = await bot.send_message(USER, "123")
    assert second.message_id > message.message_id
    assert fake_telegram.sent[-1].text == "123"  # strings stay strings


async def test_message_too_long_is_bad_request(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(USER, "a" * 4097)


async def test_edit_and_callback(fake_telegram: FakeTelegramAPI, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("1", callback_data="one")]])
    message = await bot.send_message(USER, "Chọn", reply_markup=keyboard)
    edited = await bot.edit_message_text(
        "Đã chọn", chat_id=USER, message_id=message.message_id, reply_markup=keyboard
    )
    assert not isinstance(edited, bool) and edited.text == "Đã chọn"
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text(
            "Đã chọn", chat_id=USER, message_id=message.message_id, reply_markup=keyboard
        )
    cleared = await bot.edit_message_reply_markup(chat_id=USER, message_id=message.message_id)
    assert not isinstance(cleared, bool) and cleared.reply_markup is None
    update_id = fake_telegram.push_callback(USER, "one")
    [update] = await bot.get_updates(offset=update_id)
    assert update.callback_query is not None
    assert update.callback_query.data == "one"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == message.message_id
    assert await bot.answer_callback_query(update.callback_query.id, text="OK")
    assert fake_telegram.sent[-1].params == {"callback_query_id": "1", "text": "OK"}


async def test_get_updates_offset_confirms(fake_telegram: FakeTelegramAPI, bot: Bot) -> None:
    first = fake_telegram.push_text(USER, "/start abc")
    second = fake_telegram.push_text(USER, "xin chào")
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first, second]
    assert updates[0].message is not None
    assert updates[0].message.text == "/start abc"
    assert updates[0].message.entities[0].type == "bot_command"
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    assert await bot.get_updates(offset=second + 1) == ()


async def test_long_polling_returns_when_an_update_arrives(
    fake_telegram: FakeTelegramAPI, bot: Bot
) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, fake_telegram.push_text, USER, "muộn")
    started = loop.time()
    updates = await bot.get_updates(timeout=dtm.timedelta(seconds=5))
    assert [u.message.text for u in updates if u.message] == ["muộn"]
    assert loop.time() - started < 2
    started = loop.time()
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1) == ()
    assert loop.time() - started >= 0.9


async def test_duplicate_update_is_delivered_twice(
    fake_telegram: FakeTelegramAPI, bot: Bot
) -> None:
    update_id = fake_telegram.push_text(USER, "một lần")
    raw = dict(fake_telegram.updates[-1])
    fake_telegram.push_update(raw)
    assert [u.update_id for u in await bot.get_updates()] == [update_id, update_id]


async def test_retry_after_and_server_errors(fake_telegram: FakeTelegramAPI, bot: Bot) -> None:
    fake_telegram.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "a")
    assert info.value.retry_after == dtm.timedelta(seconds=3)
    fake_telegram.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "b")
    fake_telegram.malformed_next("sendMessage")
    with pytest.raises(TelegramError):
        await bot.send_message(USER, "c")
    await bot.send_message(USER, "d")
    assert fake_telegram.texts_to(USER) == ["d"]
    assert len(fake_telegram.failed) == 3


async def test_rate_limit_mode(fake_telegram: FakeTelegramAPI, bot: Bot) -> None:
    fake_telegram.rate_limit(per_second=30, per_chat_per_second=1)
    await bot.send_message(USER, "1")
    with pytest.raises(TelegramError, match="Flood control"):
        await bot.send_message(USER, "2")
    await bot.send_message(USER + 1, "3")
    assert fake_telegram.rate_limited == 1


async def test_commands_and_webhook(fake_telegram: FakeTelegramAPI, bot: Bot) -> None:
    commands = [BotCommand("start", "Bắt đầu"), BotCommand("trogiup", "Trợ giúp")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    assert fake_telegram.sent[-1].params["commands"][0] == {
        "command": "start",
        "description": "Bắt đầu",
    }
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.set_webhook("https://example.org/tg", secret_token="s3cret-token")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/tg"
    assert fake_telegram.webhook["secret_token"] == "s3cret-token"
    with pytest.raises(TelegramError, match="Conflict"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_uploads_and_downloads(fake_telegram: FakeTelegramAPI, bot: Bot) -> None:
    doc = await bot.send_document(USER, b"a,b\n1,2\n", filename="bao-cao.csv", caption="Báo cáo")
    [call] = fake_telegram.sent_to(USER, "sendDocument")
    upload = call.files["document"]
    assert (upload.filename, upload.data) == ("bao-cao.csv", b"a,b\n1,2\n")
    assert call.text == "Báo cáo"
    assert doc.document is not None and doc.document.file_name == "bao-cao.csv"
    photo = await bot.send_photo(USER, b"\x89PNG fake")
    assert photo.photo
    assert fake_telegram.sent_to(USER, "sendPhoto")[0].files["photo"].data == b"\x89PNG fake"

    fake_telegram.push_document(USER, b"%PDF-1.4 data", "minh-chung.pdf", "application/pdf")
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 data"
    fake_telegram.push_photo(USER, b"jpeg-bytes")
    [update] = await bot.get_updates(offset=update.update_id + 1)
    assert update.message is not None
    file = await bot.get_file(update.message.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == b"jpeg-bytes"


async def test_application_polls_and_echoes(fake_telegram: FakeTelegramAPI) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(fake_telegram.base_url)
        .base_file_url(fake_telegram.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    fake_telegram.add_user(USER, "Lan")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=5))
        fake_telegram.push_text(USER, "xin chào")
        [reply] = await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")
        assert reply.text == "echo: xin chào"
        fake_telegram.push_text(USER, "lần hai")
        await fake_telegram.wait_sent(count=2, chat_id=USER)
        await app.updater.stop()
        await app.stop()
    assert fake_telegram.texts_to(USER) == ["echo: xin chào", "echo: lần hai"]
    assert fake_telegram.updates == []  # the last getUpdates confirmed everything


async def test_wait_sent_times_out_with_a_clear_message(fake_telegram: FakeTelegramAPI) -> None:
    with pytest.raises(AssertionError, match="condition not met"):
        await fake_telegram.wait_sent(chat_id=USER, timeout=0.05)


@pytest.mark.parametrize("http_status_errors", [False, True])
async def test_zalo_fake_speaks_json(http_status_errors: bool) -> None:
    fake_api = FakeZaloAPI(token="t:1", http_status_errors=http_status_errors)
    async with fake_api as fake, aiohttp.ClientSession() as http:
        url = f"{fake.base_url}/bott:1"
        fake.push_text("u1", "Xin chào", display_name="Bà Tư")
        async with http.post(f"{url}/getUpdates", json={"timeout": "1"}) as resp:
            body = await resp.json()
        assert body["ok"] is True
        assert body["result"]["event_name"] == "message.text.received"
        assert body["result"]["message"]["from"]["display_name"] == "Bà Tư"
        async with http.post(f"{url}/getUpdates", json={"timeout": "0"}) as resp:
            assert resp.status == 408
        async with http.post(
            f"{url}/sendMessage", json={"chat_id": "u1", "text": "😊" * 1001}
        ) as resp:  # 1,001 characters, 2,002 UTF-16 units
            assert resp.status == (400 if http_status_errors else 200)
            assert (await resp.json())["ok"] is False
        async with http.post(f"{url}/getWebhookInfo") as resp:  # none set
            assert resp.status == (404 if http_status_errors else 200)
            assert (await resp.json())["error_code"] == 404
        async with http.get(f"{url}/sendMessage?chat_id=u1&text=hi") as resp:  # query string
            assert (await resp.json())["ok"] is True
        async with http.post(f"{fake.base_url}/botWRONG/getMe") as resp:
            assert (await resp.json())["error_code"] == 401


async def test_zalo_fake_events_and_modes() -> None:
    async with FakeZaloAPI(token="t:1", image_field="photo_url") as fake:
        fake.push_image("u1", "https://x.vn/a.jpg", caption="c")
        fake.push_image("u1", "https://x.vn/b.jpg", field="photo")
        fake.push_voice("u1")
        fake.push_sticker("u1")
        fake.push_unsupported("u1")
        fake.push_group_text("g1", "u2", "vneid 45")
        events = list(fake.events)
    messages = [e["message"] for e in events]
    assert messages[0]["photo_url"] == "https://x.vn/a.jpg" and "photo" not in messages[0]
    assert messages[1]["photo"] == "https://x.vn/b.jpg"
    assert messages[2]["voice_url"].endswith(".aac")
    assert set(messages[4]) == {"from", "chat", "message_id", "date"}  # no content at all
    assert messages[5]["chat"] == {"id": "g1", "chat_type": "GROUP"}
    assert messages[5]["from"]["id"] == "u2" and messages[5]["text"] == "@Bot Tổ CNS vneid 45"
    assert [e["event_name"] for e in events] == [
        "message.image.received",
        "message.image.received",
        "message.voice.received",
        "message.sticker.received",
        "message.unsupported.received",
        "message.text.received",
    ]


@pytest.mark.parametrize("duplicate_server_headers", [False, True])
async def test_python_zalo_bot_talks_to_the_fake(duplicate_server_headers: bool) -> None:
    """The SDK Zalo's docs link to (python-zalo-bot, written by others) against our fake."""
    import zalo_bot

    zalo_token = "1459232241454765289:TEST-zalo-token"
    fake_api = FakeZaloAPI(
        token=zalo_token,
        image_field="photo_url",  # what python-zalo-bot 0.1.9 reads
        duplicate_server_headers=duplicate_server_headers,
    )
    async with fake_api as fake, zalo_bot.Bot(zalo_token, base_url=fake.base_url) as bot:
        me = await bot.get_me()
        assert (me.id, me.account_name) == ("1459232241454765289", "bot.tocns")
        fake.push_text("u1", "Xin chào", display_name="Bà Tư")
        update = await bot.get_update(timeout=1)
        assert update is not None and update.message is not None
        assert (update.message.text, update.message.chat.id) == ("Xin chào", "u1")
        assert update.effective_user is not None
        assert update.effective_user.display_name == "Bà Tư"
        fake.push_image("u1", "https://photo.zdn.vn/a.jpg", caption="minh chứng")
        image = await bot.get_update(timeout=1)
        assert image is not None and image.message is not None
        assert image.message.photo_url == "https://photo.zdn.vn/a.jpg"
        sent = await bot.send_message("u1", "Chào bà Tư")
        assert sent is not None and sent.message_id
        photo = await bot.send_photo("u1", "Mã QR", "https://example.org/qr.png")
        assert photo is not None and photo.message_id
    assert [(c.method, c.params) for c in fake.sent] == [
        ("sendMessage", {"chat_id": "u1", "text": "Chào bà Tư"}),
        ("sendPhoto", {"chat_id": "u1", "photo": "https://example.org/qr.png", "caption": "Mã QR"}),
    ]
    # The SDK posts forms, not JSON: the fake reads both, as the docs say Zalo does.
    assert "application/x-www-form-urlencoded" in fake.content_types
