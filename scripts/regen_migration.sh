#!/usr/bin/env bash
# Regenerate the single initial migration from db/models.py (until the first release,
# the schema is one migration; after it, add new revisions instead).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f db/migrations/versions/0001_*.py
.venv/bin/python - <<'PY'
import tempfile
from alembic import command
from db.engine import alembic_config
url = "sqlite:///" + tempfile.mktemp(suffix=".db")
command.revision(alembic_config(url), message="initial schema", autogenerate=True, rev_id="0001")
PY
