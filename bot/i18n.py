"""Translations and locale-aware formatting (gettext catalogs through Babel).

Message ids are English; ``bot/locales/<locale>/LC_MESSAGES/*.po`` hold the
translations. Every ``.po`` file of a locale is merged into one catalog, so each
feature can keep its strings in its own file. Catalogs are compiled in memory at
first use: no build step is needed.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent / "locales"
SUPPORTED_LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (translated at the edge)."""
    return message


@functools.cache
def load_catalog(locale: str) -> Catalog:
    """Merge every .po file of a locale into one catalog."""
    merged = Catalog(locale=locale)
    directory = LOCALES_DIR / locale / "LC_MESSAGES"
    for po_path in sorted(directory.glob("*.po")):
        with po_path.open("rb") as fh:
            part = read_po(fh, locale=locale)
        for message in part:
            if message.id and message.string:
                merged[message.id] = message
    return merged


@functools.cache
def translations(locale: str) -> Translations:
    """Compiled gettext translations for a locale (English falls back to the ids)."""
    if locale not in SUPPORTED_LOCALES:
        locale = DEFAULT_LOCALE
    buffer = io.BytesIO()
    write_mo(buffer, load_catalog(locale))
    buffer.seek(0)
    return Translations(fp=buffer)


@dataclass(frozen=True)
class Translator:
    """Everything a handler needs to speak to one person in their language."""

    locale: str = DEFAULT_LOCALE

    def gettext(self, message: str, **params: Any) -> str:
        """Translate a message id and fill its ``{named}`` placeholders."""
        text = translations(self.locale).gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        """Translate a message with a count and fill its placeholders."""
        text = translations(self.locale).ngettext(singular, plural, n)
        return text.format(n=self.number(n), **params)

    def number(self, value: float | int) -> str:
        """Format a number the local way (1.234,5 in Vietnamese)."""
        return _decimal(self.locale, type(value).__name__, value, math.copysign(1.0, value) < 0)

    def percent(self, ratio: float, digits: int = 1) -> str:
        """Format a ratio (0.705) as a percentage (70,5%)."""
        return _percent(self.locale, digits, ratio, math.copysign(1.0, ratio) < 0)

    def date(self, value: dt.date, weekday: bool = False) -> str:
        """Format a date as 24/11/2026, optionally with the weekday (Thứ Ba, 24/11/2026)."""
        if weekday:
            return format_date(value, "EEEE, dd/MM/yyyy", locale=self.locale)
        return format_date(value, "dd/MM/yyyy", locale=self.locale)

    def datetime(self, value: dt.datetime) -> str:
        """Format a date and time (08:00 24/11/2026)."""
        return format_datetime(value, "HH:mm dd/MM/yyyy", locale=self.locale)

    def day_and_time(self, value: dt.datetime) -> str:
        """Format a weekday, day, month and time (Thứ Ba 24/11 08:00), for schedules."""
        return format_datetime(value, "EEEE dd/MM HH:mm", locale=self.locale)

    @property
    def babel_locale(self) -> Locale:
        return Locale.parse(self.locale)


@functools.lru_cache(maxsize=4096)
def _percent(locale: str, digits: int, ratio: float, negative: bool) -> str:
    """Babel's percentage, remembered: a page of charts formats the same rates again and
    again, and Babel takes ~50 µs each (``negative`` keeps -0.0 apart from 0.0)."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "") + "%"
    return format_percent(ratio, format=pattern, locale=locale)


@functools.lru_cache(maxsize=8192)
def _decimal(locale: str, kind: str, value: float | int, negative: bool) -> str:
    """Babel's decimal, remembered: a progress reply formats the same figures for every
    reader, and Babel takes ~60 µs each (``kind`` keeps 1 and 1.0 and True apart,
    ``negative`` -0.0 from 0.0)."""
    return format_decimal(value, locale=locale)


@functools.cache
def translator(locale: str = DEFAULT_LOCALE) -> Translator:
    """Return the shared translator for a locale."""
    return Translator(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)
