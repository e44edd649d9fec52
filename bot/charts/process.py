"""Charts drawn in a helper process that starts on demand and exits when idle.

The bot process never imports matplotlib: a ``ChartRenderer`` starts
``python -m bot.charts.process`` on the first chart, sends it one JSON spec per line
and reads back a length-prefixed PNG. After ``idle_seconds`` without a chart the helper
is stopped, so the ~50 MB it weighs is only spent while people are asking for charts.
A crashed or stuck helper is replaced; if drawing fails the reply goes without its
image rather than not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO

from bot.charts.spec import ChartSpec

log = logging.getLogger(__name__)

SOURCE_ROOT = Path(__file__).resolve().parents[2]


class ChartFailed(Exception):
    """The helper could not draw this spec (the helper itself is fine)."""


class ChartRenderer:
    """Draws chart specs to PNG, in a helper process (or a thread when ``helper`` is off)."""

    def __init__(
        self,
        *,
        helper: bool = True,
        idle_seconds: float = 120.0,
        timeout_seconds: float = 30.0,
        cache_size: int = 64,
    ) -> None:
        self.helper = helper
        self.idle_seconds = idle_seconds
        self.timeout_seconds = timeout_seconds
        self.cache_size = cache_size
        self.helper_starts = 0
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        # Many people ask for the same chart on a deadline day: cache by content.
        self._cache: OrderedDict[ChartSpec, bytes] = OrderedDict()
        self._idle: asyncio.TimerHandle | None = None
        self._idle_task: asyncio.Task[None] | None = None

    @property
    def helper_pid(self) -> int | None:
        """The running helper's process id, if one is running."""
        return self._process.pid if self._process is not None else None

    async def render(self, spec: ChartSpec) -> bytes | None:
        """PNG bytes for ``spec``, or None when it could not be drawn (logged)."""
        cached = self._cached(spec)
        if cached is not None:
            return cached
        async with self._lock:
            cached = self._cached(spec)
            if cached is not None:
                return cached
            try:
                png = await self._draw(spec)
            finally:
                self._schedule_idle_stop()
        if png is not None:
            self._cache[spec] = png
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return png

    async def close(self) -> None:
        """Stop the helper (if running) and forget idle timers."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        async with self._lock:
            await self._stop()

    def _cached(self, spec: ChartSpec) -> bytes | None:
        png = self._cache.get(spec)
        if png is not None:
            self._cache.move_to_end(spec)
        return png

    async def _draw(self, spec: ChartSpec) -> bytes | None:
        if not self.helper:
            from bot.charts.draw import render_png

            return await asyncio.to_thread(render_png, spec)
        for attempt in (1, 2):
            try:
                process = await self._start()
                return await asyncio.wait_for(self._exchange(process, spec), self.timeout_seconds)
            except ChartFailed as error:
                log.warning("chart not drawn: %s", error)
                return None
            except (OSError, EOFError, TimeoutError, ValueError) as error:
                log.warning("chart helper failed (attempt %d)", attempt, exc_info=error)
                await self._stop()
        return None

    async def _start(self) -> asyncio.subprocess.Process:
        if self._process is not None and self._process.returncode is None:
            return self._process
        # The helper needs no settings: keep tokens and database URLs out of its environment.
        env = {key: value for key, value in os.environ.items() if not key.startswith("TOCNS_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE_ROOT), env.get("PYTHONPATH")]))
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.charts.process",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        self.helper_starts += 1
        log.info("chart helper started pid=%d", self._process.pid)
        return self._process

    @staticmethod
    async def _exchange(process: asyncio.subprocess.Process, spec: ChartSpec) -> bytes:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(spec.to_dict(), ensure_ascii=False).encode() + b"\n")
        await process.stdin.drain()
        header = await process.stdout.readline()
        if not header:
            raise EOFError("chart helper exited")
        kind, _, size = header.decode("ascii").partition(" ")
        body = await process.stdout.readexactly(int(size))
        if kind == "E":
            raise ChartFailed(body.decode("utf-8", "replace"))
        if kind != "P":
            raise ValueError(f"unexpected answer from the chart helper: {kind!r}")
        return body

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        assert process.stdin is not None
        process.stdin.close()  # the helper exits at end of input
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.info("chart helper stopped pid=%d", process.pid)

    def _schedule_idle_stop(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        loop = asyncio.get_running_loop()
        self._idle = loop.call_later(self.idle_seconds, self._idle_stop)

    def _idle_stop(self) -> None:
        self._idle = None
        self._idle_task = asyncio.ensure_future(self.close())


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The helper's loop: one JSON spec per line in, ``P <size>\\n<png>`` or ``E`` out."""
    from bot.charts.draw import render_png

    for line in requests:
        try:
            body = render_png(ChartSpec.from_dict(json.loads(line)))
            kind = b"P"
        except Exception as error:  # a bad spec must not kill the helper
            body = f"{type(error).__name__}: {error}".encode()
            kind = b"E"
        answers.write(kind + b" %d\n" % len(body) + body)
        answers.flush()


def main() -> None:
    """Entry point of the helper process."""
    with os.fdopen(os.dup(sys.stdout.fileno()), "wb") as answers:
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt answers
        with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
            serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
