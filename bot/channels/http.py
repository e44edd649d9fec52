"""python-telegram-bot's requests over aiohttp, the HTTP client tocns already runs on.

PTB's default transport (httpx with httpcore's pool) was about half of tocns's CPU in
profiles: measured with ``bench/bench_updates.py``, a bare PTB echo bot on aiohttp
answers ~2.2x the updates per second of the same bot on httpx. ``AiohttpRequest``
implements PTB's ``BaseRequest`` on one ``aiohttp.ClientSession`` with a bounded pool.

Timeouts follow PTB's meaning where aiohttp has one: ``connect`` covers waiting for a
pooled connection and opening it (PTB's pool + connect), ``sock_read`` is the read
timeout. aiohttp has no write timeout of its own: the write timeouts are accepted and
not applied. Errors map as PTB's own transport maps them: a timeout is ``TimedOut``,
any other client error ``NetworkError``, with the aiohttp error as ``__cause__`` so a
caller can tell a request that never left (``NEVER_LEFT``) from one that may have.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.channels.base import write_trace

NEVER_LEFT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,  # refused, unreachable, DNS: nothing was sent
    aiohttp.ConnectionTimeoutError,  # no pooled connection or no connection in time
)
"""aiohttp errors raised before a request reached the server: safe to send again."""


class AiohttpRequest(BaseRequest):
    """PTB ``BaseRequest`` over one aiohttp session (created on ``initialize``)."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not pass its own."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (idempotent)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                trace_configs=[write_trace()],
                trust_env=True,  # HTTPS_PROXY and friends, as httpx honours them
            )

    async def shutdown(self) -> None:
        """Close the session and its connections (idempotent)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; the status and body, or PTB's ``TimedOut``/``NetworkError``."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = _given(read_timeout, self._read_timeout)
        del write_timeout  # aiohttp has no write timeout to set
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut(_describe(error, url)) from error
        except aiohttp.ClientError as error:
            raise NetworkError(_describe(error, url)) from error


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form fields as PTB's httpx transport sends them: urlencoded, multipart with files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields or None
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (file_name, content, mime_type) in files.items():
        form.add_field(name, content, filename=file_name, content_type=mime_type)
    return form


def _describe(error: BaseException, url: str) -> str:
    """The error's class and text, without the URL (it carries the bot's token)."""
    text = str(error).replace(url, "<url>")
    return f"aiohttp.{type(error).__name__}: {text}" if text else f"aiohttp.{type(error).__name__}"
