"""Run a worker module in its own process and SIGKILL it after it reported some progress."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_worker(module: str, args: list[str], kill_after: int | None) -> int:
    """Run ``python -m module *args``; kill it once it printed ``kill_after`` lines.

    Workers print one line per update handled, so the kill lands while the next one is
    being handled. Returns the worker's exit code (negative when killed).
    """
    worker = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TOCNS_SAMPLE_HISTORY": "false"},
    )
    assert worker.stdout is not None
    for handled, _line in enumerate(worker.stdout, 1):
        if kill_after is not None and handled >= kill_after:
            worker.send_signal(signal.SIGKILL)
            break
    worker.wait(timeout=60)
    worker.stdout.close()
    return worker.returncode
