"""``tocns backup`` and ``tocns restore``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli import EXTRA_COMMANDS


def cmd_backup(args: argparse.Namespace) -> int:
    """Back up the database to a file."""
    from bot.maintenance import BackupError, backup
    from bot.settings import Settings

    try:
        backup(Settings().effective_database_url, Path(args.file))
    except BackupError as error:
        print(f"Không sao lưu được: {error}", file=sys.stderr)
        return 1
    print(f"Đã sao lưu vào {args.file}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore the database from a backup file (replaces the current data)."""
    from bot.maintenance import BackupError, restore
    from bot.settings import Settings

    try:
        restore(Settings().effective_database_url, Path(args.file))
    except BackupError as error:
        print(f"Không khôi phục được: {error}", file=sys.stderr)
        return 1
    print(f"Đã khôi phục từ {args.file}")
    return 0


def register(sub: Any, add: Any) -> None:
    """Add the backup and restore commands."""
    backup = add(sub, "backup", cmd_backup, "back up the database to FILE")
    backup.add_argument("file", metavar="FILE")
    restore = add(sub, "restore", cmd_restore, "restore the database from FILE (stop tocns first)")
    restore.add_argument("file", metavar="FILE")


EXTRA_COMMANDS.append(register)
