"""Every text in the dashboard templates has a Vietnamese translation; templates compile."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.i18n import load_catalog
from bot.web.render import TEMPLATES_DIR, make_environment

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def template_message_ids() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _c, _ctx in extract_from_dir(
        str(TEMPLATES_DIR),
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_template_texts_are_translated() -> None:
    ids = template_message_ids()
    assert len(ids) > 50
    catalog = load_catalog("vi")
    missing = [
        f"{where}: {msgid}"
        for msgid, where in ids.items()
        if not (catalog.get(msgid) and catalog.get(msgid).string)
    ]  # type: ignore[union-attr]
    assert missing == []


def test_every_template_compiles() -> None:
    env = make_environment("vi")
    for path in Path(TEMPLATES_DIR).glob("*.html"):
        env.get_template(path.name)
