"""ZaloClient against the fake Zalo Bot API on localhost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.security import secret_matches
from bot.channels.textsplit import split_text, utf16_len
from bot.channels.zalo_client import (
    ZaloAPIError,
    ZaloClient,
    ZaloNetworkError,
    parse_update,
)
from tests.fakes.zalo_api import FakeZaloAPI, text_event

TOKEN = "1459232241454765289:TEST-zalo-token-abcdefghijklmnop"
USER = "e4ea2cd5189df1c3a88c"


@pytest.fixture
async def fake_zalo() -> AsyncIterator[FakeZaloAPI]:
    async with FakeZaloAPI(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def client(fake_zalo: FakeZaloAPI, sleeps: list[float]) -> AsyncIterator[ZaloClient]:
    async def fake_sleep(delay: float) -> None:
        sleeps.append(delay)

    async with ZaloClient(
        TOKEN, base_url=fake_zalo.base_url, max_retries=3, timeout=5, sleep=fake_sleep
    ) as client:
        yield client


async def test_get_me(client: ZaloClient) -> None:
    me = await client.get_me()
    assert me["account_name"] == "bot.tocns"


async def test_bad_token_is_an_api_error(fake_zalo: FakeZaloAPI) -> None:
    async with ZaloClient("wrong", base_url=fake_zalo.base_url) as client:
        with pytest.raises(ZaloAPIError) as info:
            await client.get_me()
    assert info.value.error_code == 401


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
    assert update.dedupe_key == f"message.text.received:{first}"
    image = await client.get_updates(timeout=1)
    assert image is not None
    assert (image.kind, image.photo_url, image.text) == (
        "image",
        "https://example.org/a.jpg",
        "ảnh",
    )
    assert not fake_zalo.events


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


async def test_ok_false_with_http_200_is_an_error(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    fake_zalo.fail_with("sendMessage", 403, "User has not interacted with the bot")
    with pytest.raises(ZaloAPIError) as info:
        await client.send_message(USER, "Chào")
    assert (info.value.error_code, info.value.description) == (
        403,
        "User has not interacted with the bot",
    )
    assert fake_zalo.counts["sendMessage"] == 1


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


async def test_long_text_is_split_and_sent_in_order(
    fake_zalo: FakeZaloAPI, client: ZaloClient
) -> None:
    paragraphs = [f"Đoạn {i}: " + "Người dân cần cài VNeID. " * 30 for i in range(5)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 2000
    results = await client.send_message(USER, text)
    sent = fake_zalo.texts_to(USER)
    assert len(results) == len(sent) > 1
    assert all(len(piece) <= 2000 for piece in sent)
    assert "".join(sent).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    assert sent[0].startswith("Đoạn 0")
    assert fake_zalo.rejected_text_too_long == 0


async def test_send_photo_and_webhook(fake_zalo: FakeZaloAPI, client: ZaloClient) -> None:
    await client.send_photo(USER, "https://example.org/qr.png", caption="Mã QR")
    call = fake_zalo.sent_to(USER, "sendPhoto")[0]
    assert call.params == {
        "chat_id": USER,
        "photo": "https://example.org/qr.png",
        "caption": "Mã QR",
    }
    await client.set_webhook("https://tocns.example.org/zalo", "secret-123456")
    assert (await client.get_webhook_info())["url"] == "https://tocns.example.org/zalo"
    assert fake_zalo.webhook["secret_token"] == "secret-123456"
    with pytest.raises(ZaloAPIError):
        await client.get_updates(timeout=0)  # not while a webhook is set
    await client.delete_webhook()
    assert (await client.get_webhook_info())["url"] == ""


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
    assert TOKEN not in repr(client)


def test_parse_update_with_and_without_wrapper() -> None:
    event = text_event(USER, "/start", display_name="Ông Ba", message_id="abc", date=1749632637199)
    bare = parse_update(event)
    wrapped = parse_update({"ok": True, "result": event})
    assert bare is not None and bare == wrapped
    assert bare.dedupe_key == "message.text.received:abc"
    assert bare.date == datetime.fromtimestamp(1749632637.199, tz=UTC)
    assert (bare.user_id, bare.chat_id, bare.text) == (USER, USER, "/start")
    # A redelivery of the same event has the same key.
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
    assert sticker is not None and sticker.kind == "unsupported"
    legacy = parse_update(
        {"message": {"from": {"id": "u", "first_name": "A"}, "chat": {"id": "u"}, "text": "hi"}}
    )
    assert legacy is not None and (legacy.kind, legacy.display_name) == ("text", "A")


def test_split_text_prefers_lines_then_sentences_then_words() -> None:
    assert split_text("ngắn", 2000) == ["ngắn"]
    lines = "\n".join(["x" * 9] * 4)  # 39 chars
    assert split_text(lines, 20) == ["x" * 9 + "\n" + "x" * 9, "x" * 9 + "\n" + "x" * 9]
    sentences = "Một hai ba. Bốn năm sáu. Bảy tám."
    assert split_text(sentences, 25) == ["Một hai ba. Bốn năm sáu.", "Bảy tám."]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]
    assert split_text("   ", 10) == []
    emoji = "😊" * 10
    assert all(utf16_len(p) <= 8 for p in split_text(emoji, 8, utf16=True))


@given(st.text(alphabet=st.sampled_from("ab ạđ.\n!😊"), max_size=400), st.integers(5, 60))
def test_split_text_never_loses_characters(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_secret_matches() -> None:
    assert secret_matches("s3cret-token", "s3cret-token")
    assert not secret_matches("s3cret-token", "s3cret-tokem")
    assert not secret_matches("s3cret-token", None)
    assert not secret_matches("", "")
    assert secret_matches("mật-khẩu", "mật-khẩu")


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


async def _no_wait(_delay: float) -> None:
    return None
