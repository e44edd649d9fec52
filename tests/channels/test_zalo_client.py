"""ZaloClient against the fake Zalo Bot API on localhost."""

from __future__ import annotations

import asyncio
import json
import logging
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.base import REQUEST_WRITTEN, Blocked, RetryLater, TransientError
from bot.channels.security import secret_matches
from bot.channels.textsplit import split_text, utf16_len
from bot.channels.zalo import ZaloOutboxSender, ZaloSender, to_incoming
from bot.channels.zalo_client import (
    InvalidWebhookSecret,
    Verdict,
    WebhookCheck,
    ZaloAPIError,
    ZaloClient,
    ZaloNetworkError,
    check_webhook_secret,
    classify_error,
    parse_check,
    parse_update,
    plain_text,
    split_message,
    strip_mention,
    zalo_length,
)
from bot.channels.zalo_doctor import (
    Finding,
    Problem,
    diagnose_check,
    explain_probe,
    probe_webhook,
    render,
    run_doctor,
)
from bot.cli import build_parser, main
from bot.commands import doctor
from bot.core.messages import Reply
from bot.i18n import Translator
from bot.settings import Settings
from tests.conftest import channel_settings
from tests.fakes.fixtures import ZALO_TEST_TOKEN
from tests.fakes.zalo_api import FakeZaloAPI, text_event

TOKEN = "1459232241454765289:TEST-zalo-token-abcdefghijklmnop"
USER = "e4ea2cd5189df1c3a88c"
SECRET = "zalo-webhook-secret-123"
PUBLIC_URL = "https://tocns.example.vn/webhook/zalo"


@pytest.fixture(params=["http-200", "http-status"])
async def fake_zalo(request: pytest.FixtureRequest) -> AsyncIterator[FakeZaloAPI]:
    """The fake in both ways Zalo may answer a refusal: HTTP 200, or the code as status."""
    async with FakeZaloAPI(token=TOKEN, http_status_errors=request.param == "http-status") as fake:
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def client(fake_zalo: FakeZaloAPI, sleeps: list[float]) -> AsyncIterator[ZaloClient]:
    async def fake_sleep(delay: float) -> None:
        sleeps.append(delay)

    async with ZaloClient(
        TOKEN,
        base_url=fake_zalo.base_url,
        max_retries=3,
        timeout=5,
        sleep=fake_sleep,
        bot_names=["Bot Tổ CNS"],
    ) as client:
        yield client


@dataclass
class Receiver:
    """A stand-in for tocns behind its reverse proxy: records Zalo's calls, answers a status."""

    status: Callable[[web.Request], int] = lambda request: 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    origin: str = ""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()

    async def handle(request: web.Request) -> web.Response:
        state.requests.append((dict(request.headers), await request.read()))
        return web.json_response({"ok": True}, status=state.status(request))

    app = web.Application()
    app.router.add_post("/webhook/zalo", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield state
    await runner.cleanup()


# -- getMe, getUpdates and the events ----------------------------------------------------


async def test_get_me(client: ZaloClient) -> None:
    me = await client.get_me()
    assert me["account_name"] == "bot.tocns"


async def test_bad_token_is_a_config_error(fake_zalo: FakeZaloAPI) -> None:
    async with ZaloClient("wrong", base_url=fake_zalo.base_url) as client:
        with pytest.raises(ZaloAPIError) as info:
            await client.get_me()
    assert info.value.error_code == 401
    assert info.value.verdict is Verdict.CONFIG
    assert fake_zalo.counts["getMe"] == 1  # a bad token is not retried


async def test_one_update_per_get_updates(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    first = fake_zalo.push_text(USER, "Xin chào", display_name="Bà Tư")
    fake_zalo.push_image(USER, "https://example.org/a.jpg", caption="ảnh")
    update = await client.get_updates(timeout=1)
    assert update is not None
    assert (update.kind, update.text, update.chat_id, update.display_name) == (
        "text",
        "Xin chào",
        USER,
        "Bà Tư",
    )
    assert (update.sender.id, update.chat.chat_type, update.is_group) == (USER, "PRIVATE", False)
    assert update.dedupe_key == f"message.text.received:{first}"
    image = await client.get_updates(timeout=1)
    assert image is not None
    assert (image.kind, image.photo_url, image.text) == (
        "image",
        "https://example.org/a.jpg",
        "ảnh",
    )
    assert not fake_zalo.events


@pytest.mark.parametrize("image_field", ["photo", "photo_url"])
async def test_image_url_read_from_photo_or_photo_url(
    fake_zalo: FakeZaloAPI, client: ZaloClient, image_field: str
) -> None:
    """The docs name the field ``photo``; real payloads and python-zalo-bot use ``photo_url``."""
    fake_zalo.push_image(
        USER, "https://photo-stal-1.zdn.vn/x.jpg", caption="minh chứng", field=image_field
    )
    update = await client.get_updates(timeout=1)
    assert update is not None
    assert (update.kind, update.photo_url, update.text) == (
        "image",
        "https://photo-stal-1.zdn.vn/x.jpg",
        "minh chứng",
    )
    incoming = to_incoming(update)
    assert incoming.attachment is not None and incoming.attachment.url == update.photo_url


async def test_sticker_voice_and_unsupported_events(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    fake_zalo.push_sticker(USER, sticker="bfe458bf64fa8da4d4eb")
    fake_zalo.push_voice(USER, "https://voice-aac-dl.zdn.vn/a/b.aac")
    fake_zalo.push_unsupported(USER, display_name="Cháu Nam")
    sticker = await client.get_updates(timeout=1)
    voice = await client.get_updates(timeout=1)
    hidden = await client.get_updates(timeout=1)
    assert sticker is not None and voice is not None and hidden is not None
    assert (sticker.kind, sticker.sticker, sticker.text) == (
        "sticker",
        "bfe458bf64fa8da4d4eb",
        None,
    )
    assert sticker.sticker_url and sticker.sticker_url.startswith("https://")
    assert (voice.kind, voice.voice_url, voice.text) == (
        "voice",
        "https://voice-aac-dl.zdn.vn/a/b.aac",
        None,
    )
    # A protected person's message carries no content; who wrote is still known.
    assert (hidden.kind, hidden.text, hidden.photo_url, hidden.voice_url) == (
        "unsupported",
        None,
        None,
        None,
    )
    assert (hidden.user_id, hidden.display_name) == (USER, "Cháu Nam")
    assert all(to_incoming(u).unsupported for u in (sticker, voice, hidden))


async def test_group_message_tells_sender_from_chat_and_strips_the_mention(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    fake_zalo.push_group_text("zgr-xom3", "u-lan", "vneid 45 cks 12", display_name="Chị Lan")
    update = await client.get_updates(timeout=1)
    assert update is not None
    assert update.is_group and update.mentioned
    assert (update.chat.id, update.chat.chat_type, update.sender.id) == (
        "zgr-xom3",
        "GROUP",
        "u-lan",
    )
    assert update.text == "vneid 45 cks 12"
    assert to_incoming(update).chat_id == "zgr-xom3"  # replies go to the group


def test_strip_mention() -> None:
    names = ["Bot Tổ CNS", "Bot Tổ"]
    assert strip_mention("@Bot Tổ CNS vneid 45", names) == ("vneid 45", True)
    assert strip_mention("@bot to cns: vneid 45", names) == ("vneid 45", True)  # no accents
    assert strip_mention("@Bot Tổ hỏi", names) == ("hỏi", True)  # the longest name first
    assert strip_mention("@Bot Tổ CNSx hỏi", names) == ("CNSx hỏi", True)
    assert strip_mention("@Chị Lan ơi", names) == ("@Chị Lan ơi", False)
    assert strip_mention("vneid 45", names) == ("vneid 45", False)
    assert strip_mention("@Bot Tổ CNS", []) == ("@Bot Tổ CNS", False)
    # A private chat keeps its text as written.
    private = parse_update(text_event(USER, "@Bot Tổ CNS hi"), ["Bot Tổ CNS"])
    assert private is not None and private.text == "@Bot Tổ CNS hi" and not private.mentioned


async def test_raw_events_with_or_without_wrapper_and_duplicates(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    event = text_event(USER, "1", message_id="dup1")
    fake_zalo.push_event(event)
    fake_zalo.push_event({"ok": True, "result": event})  # redelivered, wrapped this time
    first = await client.get_updates(timeout=1)
    second = await client.get_updates(timeout=1)
    assert first is not None and second is not None
    assert first == second
    assert first.dedupe_key == second.dedupe_key == "message.text.received:dup1"


async def test_408_means_no_update(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    assert await client.get_updates(timeout=0) is None
    assert fake_zalo.counts["getUpdates"] == 1  # a 408 is not retried


async def test_no_polling_while_a_webhook_is_set(
    fake_zalo: FakeZaloAPI, client: ZaloClient, receiver: Receiver
) -> None:
    fake_zalo.route_webhooks(receiver.origin)
    await client.set_webhook(PUBLIC_URL, SECRET)
    with pytest.raises(ZaloAPIError):
        await client.get_updates(timeout=0)
    await client.delete_webhook()
    assert await client.get_updates(timeout=0) is None


# -- dedupe keys ---------------------------------------------------------------------------


def _without_id(user: str, text: str, date: int | None = 1750316131602) -> dict[str, Any]:
    event = text_event(user, text, date=date)
    del event["message"]["message_id"]
    return event


def test_events_without_message_id_never_share_a_key() -> None:
    """Two people sending the same word at the same moment are two messages."""
    keys = {
        parse_update(payload).dedupe_key  # type: ignore[union-attr]
        for payload in (
            _without_id("u-an", "1"),
            _without_id("u-binh", "1"),
            _without_id("u-an", "2"),
            _without_id("u-an", "1", date=1750316131603),
            {
                "event_name": "message.unsupported.received",
                "message": {"from": {"id": "u-an"}, "chat": {"id": "u-an"}},
            },
            {
                "event_name": "message.unsupported.received",
                "message": {"from": {"id": "u-chi"}, "chat": {"id": "u-chi"}},
            },
        )
    }
    assert len(keys) == 6
    assert "message.text.received:" not in keys
    assert all(len(key) <= 120 for key in keys)


def test_a_redelivery_without_message_id_keeps_its_key() -> None:
    bare = parse_update(_without_id("u-an", "1"))
    wrapped = parse_update({"ok": True, "result": _without_id("u-an", "1")})
    assert bare is not None and wrapped is not None
    assert bare.dedupe_key == wrapped.dedupe_key


# -- errors --------------------------------------------------------------------------------


def test_classify_error_per_documented_code() -> None:
    assert classify_error(400) is Verdict.REJECTED
    assert classify_error(401) is Verdict.CONFIG
    assert classify_error(403) is Verdict.RETRY  # the docs call it an internal error
    assert classify_error(404, "sendMessage") is Verdict.UNREACHABLE
    assert classify_error(404, "sendMessage", zalo_answered=False) is Verdict.CONFIG
    assert classify_error(404, "getWebhookInfo") is Verdict.CONFIG
    assert classify_error(408, "getUpdates") is Verdict.NO_UPDATE
    assert classify_error(408, "sendMessage") is Verdict.RETRY
    assert classify_error(426, "testWebhook") is Verdict.QUOTA
    assert classify_error(429) is Verdict.RATE_LIMITED
    assert classify_error(502) is Verdict.RETRY
    # Official Account codes and anything undocumented: try again, never "blocked".
    for code in (-201, -230, 0, 999, -1):
        assert classify_error(code) is Verdict.RETRY


async def test_a_send_slot_is_told_when_its_message_leaves(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    """As the request is written, before Zalo has it (``bot.reminders.sendslots``)."""
    told: list[int] = []
    REQUEST_WRITTEN.set(lambda: told.append(fake_zalo.counts["sendMessage"]))
    await client.send_message(USER, "Chào")
    assert told == [0] and fake_zalo.counts["sendMessage"] == 1


async def test_ok_false_400_is_final(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    fake_zalo.fail_with("sendMessage", 400, "chat_id is invalid")
    with pytest.raises(ZaloAPIError) as info:
        await client.send_message(USER, "Chào")
    assert (info.value.error_code, info.value.verdict) == (400, Verdict.REJECTED)
    assert fake_zalo.counts["sendMessage"] == 1


@pytest.mark.parametrize("code", [403, -201, -230])
async def test_internal_and_oa_codes_are_retried(
    fake_zalo: FakeZaloAPI, client: ZaloClient, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    fake_zalo.fail_with("sendMessage", code, "Internal error", times=2)
    [result] = await client.send_message(USER, "Chào")
    assert result["message_id"]
    assert fake_zalo.counts["sendMessage"] == 3
    if code < 0:
        assert any(
            "undocumented" in r.getMessage() and "Internal error" in r.getMessage()
            for r in caplog.records
        )


async def test_a_persistent_403_is_not_blocked(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    """Neither the client nor the outbox may treat an internal error as a blocked person."""
    fake_zalo.fail_with("sendMessage", 403, "Internal error", times=20)
    outbox = ZaloOutboxSender(ZaloSender(client, cast(Any, None)))
    with pytest.raises(TransientError) as info:
        await outbox.send(USER, Reply(text="Nhắc việc"))
    assert not isinstance(info.value, Blocked)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (404, Blocked),
        (401, RetryLater),
        (429, RetryLater),
        (-230, TransientError),
        (400, ZaloAPIError),
    ],
)
async def test_outbox_mapping(
    fake_zalo: FakeZaloAPI, client: ZaloClient, code: int, expected: type[Exception]
) -> None:
    fake_zalo.fail_with("sendMessage", code, "refused", times=20)
    outbox = ZaloOutboxSender(ZaloSender(client, cast(Any, None)))
    with pytest.raises(expected):
        await outbox.send(USER, Reply(text="Nhắc việc"))


async def test_429_is_retried_honouring_retry_after(
    fake_zalo: FakeZaloAPI, client: ZaloClient, sleeps: list[float]
) -> None:
    fake_zalo.fail_next("sendMessage", status=429, retry_after=7)
    [result] = await client.send_message(USER, "Chào bạn")
    assert result["message_id"]
    assert sleeps and sleeps[0] >= 7
    assert fake_zalo.texts_to(USER) == ["Chào bạn"]


async def test_429_as_ok_false_is_retried(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    fake_zalo.fail_with("sendMessage", 429, "Too many requests", times=2)
    await client.send_message(USER, "Chào")
    assert fake_zalo.counts["sendMessage"] == 3


async def test_5xx_is_retried_with_growing_backoff(
    fake_zalo: FakeZaloAPI, client: ZaloClient, sleeps: list[float]
) -> None:
    fake_zalo.fail_next("sendChatAction", status=502, times=3)
    await client.send_chat_action(USER)
    assert fake_zalo.counts["sendChatAction"] == 4
    assert len(sleeps) == 3
    assert sleeps[2] > sleeps[0]  # 50-100% of 0.5s, 1s, 2s: strictly growing bands


async def test_retries_are_bounded(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    fake_zalo.fail_next("sendMessage", status=500, times=10)
    with pytest.raises(ZaloAPIError) as info:
        await client.send_message(USER, "Chào")
    assert info.value.error_code == 500
    assert fake_zalo.counts["sendMessage"] == 4  # 1 try + max_retries


async def test_malformed_json_is_retried_then_fails(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    fake_zalo.malformed_next("getMe", times=1)
    assert (await client.get_me())["id"]
    fake_zalo.malformed_next("getMe", times=10)
    with pytest.raises(ZaloNetworkError):
        await client.get_me()


async def test_connection_error_is_retried_then_fails(sleeps: list[float]) -> None:
    async def fake_sleep(delay: float) -> None:
        sleeps.append(delay)

    fake = FakeZaloAPI()
    await fake.start()
    url = fake.base_url
    await fake.stop()  # nothing listens there any more
    async with ZaloClient(TOKEN, base_url=url, max_retries=2, sleep=fake_sleep) as client:
        with pytest.raises(ZaloNetworkError):
            await client.get_me()
    assert len(sleeps) == 2


async def test_a_send_that_times_out_is_not_repeated(fake_zalo: FakeZaloAPI) -> None:
    """Zalo may have delivered it after all: a retry could make the person read it twice."""
    async with ZaloClient(
        TOKEN, base_url=fake_zalo.base_url, timeout=0.3, sleep=_no_wait
    ) as client:
        fake_zalo.stall_next("sendMessage", 0.8)
        with pytest.raises(ZaloNetworkError) as info:
            await client.send_message(USER, "Chào bác")
        assert info.value.maybe_delivered
        [late] = await fake_zalo.wait_sent(chat_id=USER, method="sendMessage", timeout=5)
        assert late.text == "Chào bác"
        await asyncio.sleep(0.3)
        assert fake_zalo.counts["sendMessage"] == 1


async def test_a_read_that_times_out_is_retried(fake_zalo: FakeZaloAPI) -> None:
    async with ZaloClient(
        TOKEN, base_url=fake_zalo.base_url, timeout=0.3, sleep=_no_wait
    ) as client:
        fake_zalo.stall_next("getMe", 0.8)
        assert (await client.get_me())["id"]
        assert fake_zalo.counts["getMe"] == 2


async def test_duplicate_server_headers_are_read(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    """Zalo's edge sends two Server headers; aiohttp 3.13.4 refused them (excluded)."""
    fake_zalo.duplicate_server_headers = True
    url = f"{fake_zalo.base_url}/bot{TOKEN}/getMe"
    async with aiohttp.ClientSession() as http, http.post(url, json={}) as response:
        assert response.headers.getall("Server") == ["ZaloEdge", "nginx"]
    assert (await client.get_me())["id"]
    fake_zalo.push_text(USER, "Xin chào")
    update = await client.get_updates(timeout=1)
    assert update is not None and update.text == "Xin chào"
    assert await client.send_message(USER, "Chào")
    assert aiohttp.__version__ != "3.13.4"


def test_logs_never_contain_token_or_text_setup() -> None:
    assert TOKEN not in repr(ZaloClient(TOKEN))


async def test_logs_never_contain_token_or_text(
    fake_zalo: FakeZaloAPI, client: ZaloClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_zalo.fail_next("sendMessage", status=503, times=1)
    fake_zalo.fail_with("sendMessage", 400, "bad", times=1)
    with pytest.raises(ZaloAPIError):
        await client.send_message(USER, "bí mật của bà Tư")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sendMessage" in logged and USER in logged
    assert TOKEN not in logged and "bí mật" not in logged


# -- text length and splitting --------------------------------------------------------------


def test_zalo_counts_utf16_code_units() -> None:
    assert zalo_length("Xin chào") == 8
    assert zalo_length("😊") == 2  # outside the BMP: a surrogate pair
    assert zalo_length("👨‍👩‍👧") == 8  # three emoji and two joiners
    assert zalo_length("🇻🇳") == 4
    assert zalo_length("ệ") == 1 and zalo_length(unicodedata.normalize("NFD", "ệ")) == 3


async def test_long_text_is_split_and_sent_in_order(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    paragraphs = [f"Đoạn {i}: " + "Người dân cần cài VNeID. " * 30 for i in range(5)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 2000
    results = await client.send_message(USER, text)
    sent = fake_zalo.texts_to(USER)
    assert len(results) == len(sent) > 1
    assert all(utf16_len(piece) <= 2000 for piece in sent)
    assert "".join(sent).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    assert sent[0].startswith("Đoạn 0")
    assert fake_zalo.rejected_text_too_long == 0


async def test_emoji_text_fits_zalos_count(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    """1,500 emoji are 1,500 characters but 3,000 UTF-16 units: two messages, none refused."""
    await client.send_message(USER, "😊" * 1500)
    sent = fake_zalo.texts_to(USER)
    assert [utf16_len(piece) for piece in sent] == [2000, 1000]
    assert fake_zalo.rejected_text_too_long == 0


async def test_decomposed_vietnamese_is_composed_before_counting(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    text = unicodedata.normalize("NFD", "Hướng dẫn kích hoạt định danh điện tử. " * 40)
    assert utf16_len(text) > 2000 >= len(unicodedata.normalize("NFC", text))
    [result] = await client.send_message(USER, text)
    assert result["message_id"]
    assert fake_zalo.texts_to(USER) == [unicodedata.normalize("NFC", text).strip()]


CLUSTERS = ["a", "ệ", "e\u0301\u0323", "😊", "👍🏽", "👨‍👩‍👧", "🇻🇳", "1\ufe0f\u20e3", " ", "\n"]


@given(st.lists(st.sampled_from(CLUSTERS), max_size=600), st.integers(8, 80))
def test_split_message_never_breaks_a_character(parts: list[str], limit: int) -> None:
    text = "".join(parts)
    pieces = split_message(text, limit)
    assert all(0 < zalo_length(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(unicodedata.normalize("NFC", text).split())
    for piece in pieces[1:]:
        first = piece[0]
        assert unicodedata.category(first) not in ("Mn", "Me", "Mc")
        assert first not in ("\u200d", "\ufe0f") and not 0x1F3FB <= ord(first) <= 0x1F3FF
    for piece in pieces:  # flags stay whole: an even number of regional indicators
        assert sum(1 for ch in piece if 0x1F1E6 <= ord(ch) <= 0x1F1FF) % 2 == 0


# -- markup, photos, voice, stickers --------------------------------------------------------


async def test_parse_mode_is_sent(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    await client.send_message(USER, "**Bước 1.** Mở VNeID", parse_mode="markdown")
    [call] = fake_zalo.sent_to(USER, "sendMessage")
    assert call.params == {
        "chat_id": USER,
        "text": "**Bước 1.** Mở VNeID",
        "parse_mode": "markdown",
    }


async def test_refused_markup_falls_back_to_plain_text(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    fake_zalo.reject_markup = True
    text = "\n\n".join(
        f"**Bước {i}.** " + "Mở ứng dụng VNeID và làm theo. " * 20 for i in range(1, 6)
    )
    results = await client.send_message(USER, text, parse_mode="markdown")
    sent = fake_zalo.sent_to(USER, "sendMessage")
    assert len(results) == len(sent) > 1
    assert all("parse_mode" not in call.params for call in sent)
    assert all("**" not in (call.text or "") for call in sent)
    assert sent[0].text and sent[0].text.startswith("Bước 1.")


def test_plain_text() -> None:
    assert (
        plain_text("**Bước 1.** Mở *VNeID* và {big}45{/big} ~~cũ~~") == "Bước 1. Mở VNeID và 45 cũ"
    )
    assert plain_text("2 * 3 = 6, a*b") == "2 * 3 = 6, a*b"
    assert plain_text("# Tiêu đề\n- một\n- hai") == "Tiêu đề\n- một\n- hai"


async def test_photo_with_caption_is_one_send(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    await client.send_photo(USER, "https://example.org/qr.png", caption="Mã QR 😊")
    [call] = fake_zalo.sent_to(USER)
    assert call.method == "sendPhoto"
    assert call.params == {
        "chat_id": USER,
        "photo": "https://example.org/qr.png",
        "caption": "Mã QR 😊",
    }


async def test_photo_with_a_long_caption_sends_the_text_first(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    caption = "Tiến độ của xã. " * 200
    results = await client.send_photo(USER, "https://example.org/chart.png", caption=caption)
    calls = fake_zalo.sent_to(USER)
    assert [c.method for c in calls][-1] == "sendPhoto" and "caption" not in calls[-1].params
    assert {c.method for c in calls[:-1]} == {"sendMessage"} and len(results) == len(calls)


async def test_send_voice(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    await client.send_voice(USER, "https://media.example.vn/huong-dan.aac")
    [call] = fake_zalo.sent_to(USER, "sendVoice")
    assert call.params == {"chat_id": USER, "voice_url": "https://media.example.vn/huong-dan.aac"}
    with pytest.raises(ValueError, match="private"):
        await client.send_voice("zgr-xom3", "https://media.example.vn/a.aac", chat_type="GROUP")
    with pytest.raises(ValueError, match="aac"):
        await client.send_voice(USER, "https://media.example.vn/a.mp3")
    assert fake_zalo.counts["sendVoice"] == 1


async def test_voice_to_a_group_is_not_delivered_by_zalo(fake_zalo: FakeZaloAPI) -> None:
    """Why the client refuses groups: Zalo answers ok and delivers nothing."""
    fake_zalo.groups.add("zgr-1")
    async with aiohttp.ClientSession() as http:
        url = f"{fake_zalo.base_url}/bot{TOKEN}/sendVoice"
        body = {"chat_id": "zgr-1", "voice_url": "https://x.vn/a.aac"}
        async with http.post(url, json=body) as response:
            assert (await response.json())["ok"] is True
    assert len(fake_zalo.undelivered_voice) == 1


async def test_sticker_and_typing(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    await client.send_sticker(USER, "0e078a2fb66a5f34067b")
    await client.send_chat_action(USER)
    assert [c.method for c in fake_zalo.sent_to(USER)] == ["sendSticker", "sendChatAction"]


# -- webhooks ------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["short77", "x" * 257, "mật-khẩu-dài-hơn", "with space in it"])
async def test_bad_secrets_are_refused_before_calling_zalo(
    fake_zalo: FakeZaloAPI, client: ZaloClient, secret: str
) -> None:
    with pytest.raises(InvalidWebhookSecret):
        await client.set_webhook(PUBLIC_URL, secret)
    assert fake_zalo.counts["setWebhook"] == 0


def test_check_webhook_secret_bounds() -> None:
    check_webhook_secret("x" * 8)
    check_webhook_secret("x" * 256)
    with pytest.raises(InvalidWebhookSecret):
        check_webhook_secret("x" * 7)


async def test_http_webhook_url_is_refused(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    with pytest.raises(ValueError, match="HTTPS"):
        await client.set_webhook("http://tocns.example.vn/webhook/zalo", SECRET)
    assert fake_zalo.counts["setWebhook"] == 0


async def test_set_webhook_returns_zalos_verification(
    fake_zalo: FakeZaloAPI, client: ZaloClient, receiver: Receiver
) -> None:
    fake_zalo.route_webhooks(receiver.origin)
    registration = await client.set_webhook(PUBLIC_URL, SECRET)
    assert registration.url == PUBLIC_URL and registration.updated_at is not None
    assert registration.verification is not None
    assert (registration.verification.ok, registration.verification.status_code) == (True, 200)
    [(headers, body)] = receiver.requests
    assert headers["X-Bot-Api-Secret-Token"] == SECRET
    assert headers["User-Agent"].startswith("Java/")
    assert body == b""
    info = await client.get_webhook_info()
    assert info is not None and info.url == PUBLIC_URL


async def test_set_webhook_reports_a_waf_refusing_java(
    fake_zalo: FakeZaloAPI, client: ZaloClient, receiver: Receiver
) -> None:
    receiver.status = lambda request: (
        403 if request.headers["User-Agent"].startswith("Java/") else 200
    )
    fake_zalo.route_webhooks(receiver.origin)
    registration = await client.set_webhook(PUBLIC_URL, SECRET)
    check = registration.verification
    assert check is not None and (check.ok, check.status_code) == (False, 403)


async def test_set_webhook_when_zalo_cannot_reach_us(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    registration = await client.set_webhook(PUBLIC_URL, SECRET)  # no route: unreachable
    assert registration.verification is not None and registration.verification.ok is False
    assert registration.verification.status_code is None


async def test_no_webhook_is_none(
    fake_zalo: FakeZaloAPI, client: ZaloClient, receiver: Receiver
) -> None:
    assert await client.get_webhook_info() is None  # Zalo answers 404
    fake_zalo.route_webhooks(receiver.origin)
    await client.set_webhook(PUBLIC_URL, SECRET)
    await client.delete_webhook()
    assert await client.get_webhook_info() is None


async def test_test_webhook_and_its_daily_limit(
    fake_zalo: FakeZaloAPI, client: ZaloClient, receiver: Receiver
) -> None:
    fake_zalo.route_webhooks(receiver.origin)
    fake_zalo.test_webhook_daily_limit = 2
    await client.set_webhook(PUBLIC_URL, SECRET)
    for _ in range(2):
        check = await client.test_webhook()
        assert (check.ok, check.status_code) == (True, 200)
    with pytest.raises(ZaloAPIError) as info:
        await client.test_webhook()
    assert (info.value.error_code, info.value.verdict) == (426, Verdict.QUOTA)
    assert fake_zalo.counts["testWebhook"] == 3  # a 426 is not retried
    fake_zalo.new_day()
    assert (await client.test_webhook()).ok is True
    assert len(receiver.requests) == 4  # setWebhook's call and three tests


async def test_webhook_deliveries_wrapped_or_bare(
    fake_zalo: FakeZaloAPI, client: ZaloClient, receiver: Receiver
) -> None:
    fake_zalo.route_webhooks(receiver.origin)
    await client.set_webhook(PUBLIC_URL, SECRET)
    event = text_event(USER, "Xin chào", message_id="w1")
    await fake_zalo.deliver(event, wrapped=True)
    await fake_zalo.deliver(event, wrapped=False)
    bodies = [body for _headers, body in receiver.requests[1:]]
    updates = [parse_update(json.loads(body)) for body in bodies]
    assert updates[0] is not None and updates[0] == updates[1]
    assert all(h["X-Bot-Api-Secret-Token"] == SECRET for h, _ in receiver.requests)


def test_parse_check_reads_the_usual_spellings() -> None:
    assert parse_check(True) == WebhookCheck(ok=True)
    assert parse_check({"verification": {"success": False, "status_code": 403}}) == WebhookCheck(
        ok=False, status_code=403
    )
    assert parse_check({"status": "failed", "message": "timeout"}) == WebhookCheck(
        ok=False, description="timeout"
    )
    assert parse_check({"http_status": 200}) == WebhookCheck(ok=True, status_code=200)
    assert parse_check(None) is None


# -- parsing edge cases ---------------------------------------------------------------------


def test_parse_update_with_and_without_wrapper() -> None:
    event = text_event(USER, "/start", display_name="Ông Ba", message_id="abc", date=1749632637199)
    bare = parse_update(event)
    wrapped = parse_update({"ok": True, "result": event})
    assert bare is not None and bare == wrapped
    assert bare.dedupe_key == "message.text.received:abc"
    assert bare.date == datetime.fromtimestamp(1749632637.199, tz=UTC)
    assert (bare.user_id, bare.chat_id, bare.text) == (USER, USER, "/start")
    again = parse_update({"ok": True, "result": text_event(USER, "/start", message_id="abc")})
    assert again is not None and again.dedupe_key == bare.dedupe_key


def test_parse_update_edge_cases() -> None:
    assert parse_update({"ok": False, "error_code": 408}) is None
    assert parse_update({"ok": True}) is None
    assert parse_update("nonsense") is None
    assert parse_update({"event_name": "message.text.received", "message": {}}) is None
    sticker = parse_update(
        {
            "event_name": "message.sticker.received",
            "message": {"from": {"id": "u"}, "chat": {"id": "u"}, "message_id": "s1"},
        }
    )
    assert sticker is not None and sticker.kind == "sticker" and sticker.sticker is None
    image_without_url = parse_update(
        {
            "event_name": "message.image.received",
            "message": {"from": {"id": "u"}, "chat": {"id": "u"}},
        }
    )
    assert image_without_url is not None and image_without_url.kind == "unsupported"
    future = parse_update(
        {
            "event_name": "message.video.received",
            "message": {"from": {"id": "u"}, "chat": {"id": "u"}, "text": "x"},
        }
    )
    assert future is not None and (future.kind, future.text) == ("unsupported", None)
    legacy = parse_update(
        {"message": {"from": {"id": "u", "first_name": "A"}, "chat": {"id": "u"}, "text": "hi"}}
    )
    assert legacy is not None and (legacy.kind, legacy.display_name) == ("text", "A")
    bot = parse_update(
        {"message": {"from": {"id": "b", "is_bot": True}, "chat": {"id": "b"}, "text": "x"}}
    )
    assert bot is not None and bot.sender.is_bot


def test_split_text_prefers_lines_then_sentences_then_words() -> None:
    assert split_text("ngắn", 2000) == ["ngắn"]
    lines = "\n".join(["x" * 9] * 4)  # 39 chars
    assert split_text(lines, 20) == ["x" * 9 + "\n" + "x" * 9, "x" * 9 + "\n" + "x" * 9]
    sentences = "Một hai ba. Bốn năm sáu. Bảy tám."
    assert split_text(sentences, 25) == ["Một hai ba. Bốn năm sáu.", "Bảy tám."]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]
    assert split_text("   ", 10) == []


def test_secret_matches() -> None:
    assert secret_matches("s3cret-token", "s3cret-token")
    assert not secret_matches("s3cret-token", "s3cret-tokem")
    assert not secret_matches("s3cret-token", None)
    assert not secret_matches("", "")
    assert secret_matches("mật-khẩu", "mật-khẩu")


async def _no_wait(_delay: float) -> None:
    return None


# -- tocns doctor --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "problem"),
    [
        (WebhookCheck(ok=True, status_code=200), Problem.OK),
        (WebhookCheck(ok=False, status_code=401), Problem.WRONG_SECRET),
        (WebhookCheck(ok=False, status_code=403), Problem.WAF),
        (WebhookCheck(ok=False, status_code=404), Problem.NOT_FOUND),
        (WebhookCheck(ok=False, status_code=400), Problem.BAD_REQUEST),
        (WebhookCheck(ok=False, status_code=502), Problem.PROXY_CANNOT_REACH_TOCNS),
        (WebhookCheck(ok=False, status_code=500), Problem.SERVER_ERROR),
        (WebhookCheck(ok=False, description="PKIX path building failed"), Problem.TLS),
        (WebhookCheck(ok=False, description="SSL handshake failed"), Problem.TLS),
        (WebhookCheck(ok=False, description="Read timed out"), Problem.TIMEOUT),
        (WebhookCheck(ok=False, description="Connection refused"), Problem.UNREACHABLE),
        (WebhookCheck(ok=False, description="UnknownHostException"), Problem.UNREACHABLE),
        (WebhookCheck(ok=False, description="???"), Problem.UNKNOWN),
        (WebhookCheck(ok=False, status_code=418), Problem.UNKNOWN),
    ],
)
def test_diagnose_check(check: WebhookCheck, problem: Problem) -> None:
    assert diagnose_check(check) is problem


VI = Translator("vi")


def _lines(findings: list[Finding]) -> str:
    return "\n".join(render(findings, VI))


async def test_doctor_polling_mode_without_webhook(client: ZaloClient) -> None:
    findings = await run_doctor(client, webhook_url=None)
    assert [f.level for f in findings] == ["ok", "ok"]
    assert "Zalo chấp nhận mã bot: bot.tocns" in _lines(findings)
    assert "polling" in _lines(findings)


async def test_doctor_bad_token(fake_zalo: FakeZaloAPI) -> None:
    async with ZaloClient("wrong", base_url=fake_zalo.base_url) as client:
        findings = await run_doctor(client, webhook_url=PUBLIC_URL)
    [finding] = findings
    assert finding.level == "problem"
    assert "TOCNS_ZALO_TOKEN" in _lines(findings) and "(401)" in _lines(findings)


async def test_doctor_webhook_mode_without_webhook(client: ZaloClient) -> None:
    findings = await run_doctor(client, webhook_url=PUBLIC_URL, secret="short")
    text = _lines(findings)
    assert [f.level for f in findings] == ["ok", "problem", "problem"]
    assert "TOCNS_ZALO_WEBHOOK_SECRET phải dài từ 8 đến 256" in text
    assert "Chưa có webhook nào được đăng ký" in text


async def test_doctor_test_call_reaches_tocns(
    fake_zalo: FakeZaloAPI, client: ZaloClient, receiver: Receiver
) -> None:
    fake_zalo.route_webhooks(receiver.origin)
    await client.set_webhook(PUBLIC_URL, SECRET)
    without_test = await run_doctor(client, webhook_url=PUBLIC_URL, secret=SECRET)
    assert without_test[-1].level == "info" and "--test" in _lines(without_test)
    assert fake_zalo.counts["testWebhook"] == 0  # it has a daily limit: only when asked
    findings = await run_doctor(client, webhook_url=PUBLIC_URL, secret=SECRET, test=True)
    assert [f.level for f in findings] == ["ok", "ok", "ok"]
    assert findings[-1].problem is Problem.OK


@pytest.mark.parametrize(
    ("setup", "problem", "words"),
    [
        ("waf", Problem.WAF, ['"Java/"', "/webhook/zalo", "X-Bot-Api-Secret-Token"]),
        ("secret", Problem.WRONG_SECRET, ["TOCNS_ZALO_WEBHOOK_SECRET", "(401)"]),
        ("404", Problem.NOT_FOUND, ["/webhook/zalo", "(404)"]),
        ("502", Problem.PROXY_CANNOT_REACH_TOCNS, ["502"]),
        ("tls", Problem.TLS, ["chứng chỉ"]),
        ("unreachable", Problem.UNREACHABLE, ["443", "DNS"]),
        ("timeout", Problem.TIMEOUT, ["quá lâu"]),
    ],
)
async def test_doctor_explains_why_zalo_cannot_reach_us(
    fake_zalo: FakeZaloAPI,
    client: ZaloClient,
    receiver: Receiver,
    setup: str,
    problem: Problem,
    words: list[str],
) -> None:
    fake_zalo.route_webhooks(receiver.origin)
    await client.set_webhook(PUBLIC_URL, SECRET)
    if setup == "waf":
        receiver.status = lambda r: 403 if r.headers["User-Agent"].startswith("Java/") else 200
    elif setup == "secret":
        receiver.status = lambda r: 200 if r.headers.get("X-Bot-Api-Secret-Token") == "old" else 401
    elif setup in ("404", "502"):
        receiver.status = lambda r: int(setup)
    else:
        fake_zalo.fail_verification(setup)
    findings = await run_doctor(client, webhook_url=PUBLIC_URL, secret=SECRET, test=True)
    assert findings[-1].level == "problem" and findings[-1].problem is problem
    line = findings[-1].render(VI)
    assert all(word in line for word in words), line


async def test_doctor_daily_limit_and_other_url(
    fake_zalo: FakeZaloAPI, client: ZaloClient, receiver: Receiver
) -> None:
    fake_zalo.route_webhooks(receiver.origin)
    fake_zalo.test_webhook_daily_limit = 0
    await client.set_webhook("https://old.example.vn/webhook/zalo", SECRET)
    findings = await run_doctor(client, webhook_url=PUBLIC_URL, secret=SECRET, test=True)
    assert [f.level for f in findings] == ["ok", "warning", "warning"]
    text = _lines(findings)
    assert "https://old.example.vn/webhook/zalo" in text and PUBLIC_URL in text
    assert "Đã hết lượt kiểm tra webhook trong ngày" in text


async def test_probe_tells_a_waf_from_tocns(receiver: Receiver) -> None:
    url = receiver.origin + "/webhook/zalo"
    receiver.status = lambda r: 403 if r.headers["User-Agent"].startswith("Java/") else 200
    finding = explain_probe(await probe_webhook(url, SECRET), url)
    assert finding.problem is Problem.WAF and '"Java/"' in finding.render(VI)
    [(headers, body), _browser] = receiver.requests
    assert headers["X-Bot-Api-Secret-Token"] == SECRET and body == b""
    receiver.status = lambda r: 200
    assert explain_probe(await probe_webhook(url, SECRET), url).problem is Problem.OK


async def test_doctor_command(
    settings: Settings, capsys: pytest.CaptureFixture[str], receiver: Receiver
) -> None:
    """``tocns doctor`` as the CLI builds it."""
    args = build_parser(VI).parse_args(["doctor", "--test", "--probe"])
    assert args.handler is doctor.cmd_doctor
    async with FakeZaloAPI(token=ZALO_TEST_TOKEN) as fake:
        fake.route_webhooks(receiver.origin)
        app_settings = channel_settings(
            settings,
            zalo=fake,
            webhook_mode=True,
            public_base_url="https://tocns.example.vn",
            zalo_webhook_secret=SECRET,
        )
        async with ZaloClient(ZALO_TEST_TOKEN, base_url=fake.base_url) as client:
            await client.set_webhook(PUBLIC_URL, SECRET)
        receiver.status = lambda r: 403 if r.headers["User-Agent"].startswith("Java/") else 200
        code = await doctor.diagnose(args, app_settings, VI)
    out = capsys.readouterr().out
    assert code == 1
    assert "✓ Zalo chấp nhận mã bot" in out and "✗ Tường lửa hoặc WAF" in out
    assert "Java/" in out


def test_doctor_without_zalo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("TOCNS_ZALO_TOKEN", raising=False)
    assert main(["doctor"]) == 1
    assert "TOCNS_ZALO_TOKEN" in capsys.readouterr().out
