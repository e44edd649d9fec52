"""Feature command groups of the ``tocns`` CLI; importing a module registers its group."""

from __future__ import annotations

from bot.commands import admin, guides, maintenance, plans, reminders, tallies, web

GROUPS = (guides, tallies, admin, plans, reminders, web, maintenance)
