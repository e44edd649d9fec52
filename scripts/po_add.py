"""Add translations to a .po file: ``po_add.py FILE.po TRANSLATIONS.json`` (msgid -> msgstr)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def main(po_path: str, json_path: str) -> None:
    path = Path(po_path)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh)
    else:
        locale = path.parts[-3]
        catalog = Catalog(locale=locale, project="tocns", charset="utf-8")
    for msgid, msgstr in json.loads(Path(json_path).read_text(encoding="utf-8")).items():
        catalog.add(msgid, msgstr)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
