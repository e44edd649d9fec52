"""Feature handlers; each module exposes ``register(registry)``.

The order of FEATURES is the order free-text handlers are tried.
"""

from __future__ import annotations

from types import ModuleType

from bot.handlers import (
    broadcast,
    dashboard,
    feedback,
    groups,
    guides,
    indicators,
    join,
    nontext,
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
    groups,  # first: a group chat changes what every other feature may do
    nontext,  # then stickers, voice notes and protected people's messages
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
