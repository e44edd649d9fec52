"""The command groups of the ``tocns`` CLI, listed in one place (as aiogram's get_routers)."""

from __future__ import annotations

from bot.commands import (
    admin,
    doctor,
    feedback,
    guides,
    maintenance,
    plans,
    province,
    reminders,
    run,
    tallies,
    web,
)
from bot.commands.base import CommandGroup


def command_groups() -> list[CommandGroup]:
    """Every group's ``register``, in the order ``tocns --help`` lists them."""
    return [
        run.register,
        guides.register,
        tallies.register,
        admin.register,
        province.register,
        plans.register,
        reminders.register,
        feedback.register,  # report categories, Open311 API keys (#17)
        web.register,
        maintenance.register,
        doctor.register,
    ]
