"""A throwaway PostgreSQL server for the test session (Debian's packages, no Docker)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A throwaway server that can be stopped and started again (a database outage)."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        self.bin_dir = bin_dir
        # Tests trade durability for speed; ``durable`` keeps every commit that was
        # acknowledged across a stop, as a real server does (an outage loses nothing).
        self.durable = durable
        self.data = Path(tempfile.mkdtemp(prefix="tocns-pg-"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: run it as the postgres system user.
            shutil.chown(self.data, "postgres", "postgres")
            self.data.chmod(0o700)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        self.url = f"postgresql+psycopg://tocns@127.0.0.1:{self.port}/postgres"
        subprocess.run(
            [
                *self.prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(self.data / "db"),
                "-A",
                "trust",
                "-U",
                "tocns",
                "-E",
                "UTF8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300"
        if not self.durable:
            options += " -c synchronous_commit=off"
        subprocess.run(
            [
                *self.prefix,
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data / "db"),
                "-o",
                options,
                "-l",
                str(self.data / "server.log"),
                "-w",
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Stop at once, as a crash would (clients see their connections drop)."""
        subprocess.run(
            [
                *self.prefix,
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data / "db"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


@contextmanager
def postgres_controller(*, durable: bool = False) -> Iterator[PostgresServer | None]:
    """A started local server that can be stopped and started again (None if not installed)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        yield None
        return
    server = PostgresServer(bin_dir, durable=durable)
    server.start()
    try:
        yield server
    finally:
        server.remove()


@contextmanager
def postgres_server() -> Iterator[str | None]:
    """Start PostgreSQL on a free loopback port; yield its URL (None if not installed)."""
    url = os.environ.get("TOCNS_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with postgres_controller() as server:
        yield server.url if server is not None else None
