"""Find message ids in the code and check every one has a translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.i18n import load_catalog

KEYWORDS = {"_": None, "N_": None, "gettext": None, "reply": None, "ngettext": (1, 2)}
PACKAGE = Path(__file__).parent


def extract_message_ids() -> dict[str, str]:
    """Every translatable string in the package, with where it was first seen."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=()
    ):
        messages = message if isinstance(message, tuple) else (message,)
        for msgid in messages:
            if msgid and not msgid.isspace():
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def missing_translations(locale: str, message_ids: dict[str, str]) -> list[tuple[str, str]]:
    """Message ids with no translation in the locale's catalog."""
    catalog = load_catalog(locale)
    missing = []
    for msgid, where in message_ids.items():
        message = catalog.get(msgid)
        if message is None or not message.string:
            missing.append((msgid, where))
    return missing
