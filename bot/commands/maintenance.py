"""``tocns backup`` and ``tocns restore``."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.commands.base import CliArgs, CommandTree
from bot.i18n import N_

MSG_BACKUP_FAILED = N_("Could not back up: {reason}")
MSG_BACKED_UP = N_("Backed up to {file}")
MSG_RESTORE_FAILED = N_("Could not restore: {reason}")
MSG_RESTORED = N_("Restored from {file}")


def cmd_backup(args: CliArgs) -> int:
    """Back up the database to a file."""
    from bot.maintenance import BackupError, backup

    try:
        backup(args.settings.effective_database_url, Path(args.file))
    except BackupError as error:
        print(args.t.gettext(MSG_BACKUP_FAILED, reason=error.render(args.t)), file=sys.stderr)
        return 1
    print(args.t.gettext(MSG_BACKED_UP, file=args.file))
    return 0


def cmd_restore(args: CliArgs) -> int:
    """Restore the database from a backup file (replaces the current data)."""
    from bot.maintenance import BackupError, restore

    try:
        restore(args.settings.effective_database_url, Path(args.file))
    except BackupError as error:
        print(args.t.gettext(MSG_RESTORE_FAILED, reason=error.render(args.t)), file=sys.stderr)
        return 1
    print(args.t.gettext(MSG_RESTORED, file=args.file))
    return 0


def register(tree: CommandTree) -> None:
    """Add the backup and restore commands."""
    backup = tree.command("backup", cmd_backup, N_("back up the database to FILE"))
    backup.add_argument("file", metavar="FILE")
    restore = tree.command(
        "restore", cmd_restore, N_("restore the database from FILE (stop tocns first)")
    )
    restore.add_argument("file", metavar="FILE")
