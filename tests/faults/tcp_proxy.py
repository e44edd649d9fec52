"""A TCP proxy on 127.0.0.1 that a test can cut, to make a database unreachable on cue.

It runs its own asyncio loop in a thread, so code under test may block (the dispatcher
handles PostgreSQL updates in worker threads). Cuts are triggered by events, not timers:
either at once (``cut``), or when a client sends given bytes (``cut_when_sent``), e.g. the
``COMMIT`` of a transaction, which is then never forwarded, or when the server answers
them (``cut_when_answered``): the COMMIT happened but the client never hears of it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any


@dataclass
class _Trigger:
    pattern: bytes
    refuse: int | None
    after_answer: bool  # forward the pattern, cut when the server answers it


class CuttableProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream`` until cut.

    A cut drops every open connection (RST). Then either the proxy stops listening
    (connections are refused by the kernel) until ``restore``, or, with ``refuse=n``, it
    keeps listening, resets the next ``n`` connections as they arrive and forwards again
    after them, so an outage can end at a precise point of a retry sequence.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.cuts = 0  # times every connection was dropped
        self.refused = 0  # connections reset on arrival while down (``refuse=n`` cuts)
        self.forwarded = 0  # connections forwarded to the upstream
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._to_refuse = 0
        self._trigger: _Trigger | None = None

    # ------------------------------------------------------------ control (any thread)

    def __enter__(self) -> CuttableProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def cut(self, *, refuse: int | None = None) -> None:
        """Drop every connection now; refuse new ones (all, or only the next ``refuse``)."""
        self._call(self._cut(refuse))

    def cut_when_sent(self, pattern: bytes, *, refuse: int | None = None) -> None:
        """Cut (as ``cut``) when a client next sends ``pattern``, which is not forwarded."""
        self._call(self._arm(_Trigger(pattern, refuse, after_answer=False)))

    def cut_when_answered(self, pattern: bytes, *, refuse: int | None = None) -> None:
        """Forward ``pattern`` when a client next sends it; cut when the server answers."""
        self._call(self._arm(_Trigger(pattern, refuse, after_answer=True)))

    def restore(self) -> None:
        """Accept and forward connections again."""
        self._call(self._restore())

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=5)

    # ------------------------------------------------------------ inside the loop

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _arm(self, trigger: _Trigger) -> None:
        self._trigger = trigger

    async def _cut(self, refuse: int | None) -> None:
        self.cuts += 1
        self._trigger = None
        for writer in self._links:
            writer.transport.abort()
        self._links.clear()
        if refuse is None:
            if self._server is not None:
                self._server.close()
                self._server = None
        else:
            self._to_refuse = refuse

    async def _restore(self) -> None:
        self._to_refuse = 0
        if self._server is None:
            await self._listen()

    async def _shutdown(self) -> None:
        self._trigger = None
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in self._links:
            writer.transport.abort()
        self._links.clear()
        # Aborted sockets end their pumps; no task is cancelled (Python 3.11's streams
        # log an error for a cancelled connection handler).
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._to_refuse > 0:
            self._to_refuse -= 1
            self.refused += 1
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.forwarded += 1
        self._links.update((writer, upstream_writer))
        answered: list[_Trigger] = []  # a trigger whose pattern went up: cut at the answer
        try:
            await asyncio.gather(
                self._pump_up(reader, upstream_writer, answered),
                self._pump_down(upstream_reader, writer, answered),
            )
        finally:
            self._links.discard(writer)
            self._links.discard(upstream_writer)

    async def _pump_up(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answered: list[_Trigger]
    ) -> None:
        async def send(data: bytes) -> bool:
            trigger = self._trigger
            if trigger is not None and trigger.pattern in data:
                self._trigger = None
                if not trigger.after_answer:
                    await self._cut(trigger.refuse)
                    return False
                answered.append(trigger)
            writer.write(data)
            await writer.drain()
            return True

        await self._pump(reader, writer, send)

    async def _pump_down(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answered: list[_Trigger]
    ) -> None:
        async def send(data: bytes) -> bool:
            if answered:
                await self._cut(answered.pop().refuse)
                return False
            writer.write(data)
            await writer.drain()
            return True

        await self._pump(reader, writer, send)

    @staticmethod
    async def _pump(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        send: Callable[[bytes], Awaitable[bool]],
    ) -> None:
        try:
            while data := await reader.read(65536):
                if not await send(data):
                    return
        except (ConnectionError, OSError):
            writer.transport.abort()
        finally:
            # One side ended: end the other, so both pumps and both sockets finish.
            writer.close()
