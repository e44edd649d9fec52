"""Feature handlers; each module exposes ``register(registry)``.

The order of FEATURES is the order free-text handlers are tried.
"""

from __future__ import annotations

from types import ModuleType

from bot.handlers import (
    broadcast,
    dashboard,
    feedback,
    guides,
    indicators,
    join,
    privacy,
    progress,
    reports,
    review,
    start,
    tasks,
)

# The order is the order of /trogiup and of free-text handlers; guides stays last:
# its free-text handler answers everything the others leave.
FEATURES: tuple[ModuleType, ...] = (
    start,
    join,
    reports,
    progress,
    tasks,
    indicators,
    review,
    broadcast,
    dashboard,
    privacy,
    feedback,
    guides,
)
