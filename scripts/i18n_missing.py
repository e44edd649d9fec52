"""List message ids used in bot/ that have no Vietnamese translation yet (as .po stubs)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.i18n_check import extract_message_ids, missing_translations  # noqa: E402

if __name__ == "__main__":
    missing = missing_translations("vi", extract_message_ids())
    for msgid, where in missing:
        print(f"#: {where}")
        escaped = msgid.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        print(f'msgid "{escaped}"\nmsgstr ""\n')
    print(f"# {len(missing)} missing", file=sys.stderr)
