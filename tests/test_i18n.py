"""Every user-facing string has a Vietnamese translation, with the same placeholders."""

from __future__ import annotations

import re

from bot.i18n import load_catalog, translator
from bot.i18n_check import extract_message_ids, missing_translations

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_message_has_a_vietnamese_translation() -> None:
    missing = missing_translations("vi", extract_message_ids())
    assert missing == [], "run scripts/i18n_missing.py and translate: " + "; ".join(
        m for m, _ in missing[:10]
    )


def test_translations_keep_placeholders() -> None:
    catalog = load_catalog("vi")
    wrong = []
    for message in catalog:
        if (
            message.id
            and message.string
            and isinstance(message.id, str)
            and isinstance(message.string, str)
        ) and set(PLACEHOLDER.findall(message.id)) != set(PLACEHOLDER.findall(message.string)):
            wrong.append(message.id)
    assert wrong == []


def test_babel_formats_vietnamese_numbers_and_dates() -> None:
    import datetime as dt

    t = translator("vi")
    assert t.number(1234.5) == "1.234,5"
    assert t.date(dt.date(2026, 11, 24)) == "24/11/2026"
    assert t.date(dt.date(2026, 11, 23), weekday=True).lower().startswith("thứ hai")
    assert t.percent(0.705) == "70,5%"
