"""Backups: SQLite's online backup API, pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.errors import ReadableError
from bot.i18n import N_

MSG_TOOL_MISSING = N_(
    "{tool} was not found: install the PostgreSQL client (apt-get install postgresql-client)."
)
MSG_TOOL_FAILED = N_("{tool} failed: {detail}")
MSG_NO_FILE = N_("The file {path} does not exist.")
MSG_NOT_A_BACKUP = N_("{path} is not a valid SQLite backup.")


class BackupError(ReadableError):
    """A backup or restore could not be done; the message says why."""

    def __str__(self) -> str:
        return self.message_id.format(**self.params)


def _libpq_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise BackupError(MSG_TOOL_MISSING, tool=name)


def backup(database_url: str, target: Path) -> None:
    """Write a consistent copy of the live database to ``target``."""
    parsed = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        source = sqlite3.connect(parsed.database or "")
        try:
            destination = sqlite3.connect(target)
            with destination:
                source.backup(destination)
            destination.close()
        finally:
            source.close()
        return
    result = subprocess.run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--file",
            str(target),
            _libpq_url(database_url),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(MSG_TOOL_FAILED, tool="pg_dump", detail=result.stderr.strip()[-500:])


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with a backup made by ``backup``."""
    if not source.is_file():
        raise BackupError(MSG_NO_FILE, path=str(source))
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite":
        backup_db = sqlite3.connect(source)
        try:
            if backup_db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(MSG_NOT_A_BACKUP, path=str(source))
            live = sqlite3.connect(parsed.database or "")
            with live:
                backup_db.backup(live)
            live.close()
        except sqlite3.DatabaseError as error:
            raise BackupError(MSG_NOT_A_BACKUP, path=str(source)) from error
        finally:
            backup_db.close()
        return
    result = subprocess.run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            _libpq_url(database_url),
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(MSG_TOOL_FAILED, tool="pg_restore", detail=result.stderr.strip()[-500:])
