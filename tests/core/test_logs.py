"""No secret reaches the log: tokens, webhook secrets, the database password."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import aiohttp
import pytest

from bot.logs import REDACTED, SecretFilter, remember_secret, setup_logging
from bot.settings import Settings
from tests.conftest import WebhookSettings, telegram_text_update
from tests.fakes.fixtures import TELEGRAM_TEST_TOKEN, ZALO_TEST_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI, text_event

USER = 7_100_001


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """What the CLI's logging writes, instead of standard error; restored afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    loggers = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    stream = io.StringIO()
    yield stream
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, value in loggers.items():
        logging.getLogger(name).setLevel(value)


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("t", logging.ERROR, __file__, 1, message, args, exc_info)


def test_filter_redacts_message_arguments_and_traceback() -> None:
    remember_secret("s3cret-token-value")
    remember_secret("p@ss/word")
    try:
        raise RuntimeError("failed for https://api.example/bots3cret-token-value/getMe")
    except RuntimeError as error:
        record = _record(
            "calling %s with %r", "s3cret-token-value", {"pw": "p%40ss%2Fword"}, exc=error
        )
    assert SecretFilter().filter(record)
    text = record.getMessage() + (record.exc_text or "")
    assert "s3cret-token-value" not in text and "p%40ss%2Fword" not in text
    assert record.getMessage() == f"calling {REDACTED} with {{'pw': '{REDACTED}'}}"
    assert f"bot{REDACTED}/getMe" in (record.exc_text or "")


def test_settings_secrets_and_database_password_are_redacted(log_stream: io.StringIO) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token="42:telegram-token-for-logs",
        database_url="postgresql://tocns:db%2Fpass-word@db.example/tocns",
    )
    setup_logging(settings, stream=log_stream)
    log = logging.getLogger("tests.logs")
    log.warning("engine %s", settings.effective_database_url)
    log.warning("token %s", settings.telegram_token.get_secret_value())  # type: ignore[union-attr]
    text = log_stream.getvalue()
    assert "db%2Fpass-word" not in text and "db/pass-word" not in text
    assert "telegram-token-for-logs" not in text
    assert f"tocns:{REDACTED}@db.example" in text


async def test_webhook_mode_at_debug_logs_no_secret(
    running,
    webhook_settings: WebhookSettings,
    fake_telegram: FakeTelegramAPI,
    fake_zalo: FakeZaloAPI,
    log_stream: io.StringIO,
) -> None:
    app_settings = webhook_settings(
        telegram=fake_telegram,
        zalo=fake_zalo,
        telegram_webhook_secret="telegram-secret-for-logs",
        zalo_webhook_secret=None,
        log_level="DEBUG",
    )  # the Zalo webhook secret is left out: the app makes one up, which must not leak either
    setup_logging(app_settings, stream=log_stream)
    async with running(app_settings) as app, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{app.port}"
        update = telegram_text_update(9001, USER)
        headers = {"X-Telegram-Bot-Api-Secret-Token": "telegram-secret-for-logs"}
        async with http.post(base + "/webhook/telegram", json=update, headers=headers) as answer:
            assert answer.status == 200
        zalo_secret = app.webhooks.zalo_secret
        async with http.post(
            base + "/webhook/zalo",
            json=text_event("z-logs", "/start"),
            headers={"X-Bot-Api-Secret-Token": zalo_secret},
        ) as answer:
            assert answer.status == 200
        await fake_telegram.wait_sent(chat_id=USER, method="sendMessage")
        await fake_zalo.wait_sent(chat_id="z-logs", method="sendMessage")
    text = log_stream.getvalue()
    assert " DEBUG telegram" in text  # python-telegram-bot did log its calls...
    assert REDACTED in text  # ...with the secrets taken out
    for secret in (TELEGRAM_TEST_TOKEN, ZALO_TEST_TOKEN, "telegram-secret-for-logs", zalo_secret):
        assert secret not in text
