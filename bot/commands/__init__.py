"""Feature command groups of the ``tocns`` CLI; importing a module registers its group."""

from __future__ import annotations

import importlib

GROUPS = ("guides", "tallies", "admin", "plans", "reminders", "web", "maintenance")

for _name in GROUPS:
    try:
        importlib.import_module(f"bot.commands.{_name}")
    except ModuleNotFoundError as error:  # a group not written yet
        if error.name != f"bot.commands.{_name}":
            raise
