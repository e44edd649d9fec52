"""Feature handlers; each module exposes ``register(registry)``.

The order of FEATURES is the order free-text handlers are tried.
"""

from __future__ import annotations

from types import ModuleType

from bot.handlers import start

FEATURES: tuple[ModuleType, ...] = (start,)
