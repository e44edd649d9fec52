"""Importing a commune plan (kế hoạch) from YAML, XLSX or CSV.

Every format is read into the same structure (``read``), validated as a whole
(``validate``), and only a plan without problems is written, in the caller's
transaction (``apply``). ``template`` writes the spreadsheet template and exports a
plan to it; ``layout`` names its sheets and columns. See ``bot/content/plans/TEMPLATE.md``.

The names below are the package's public face; the modules hold the details.
"""

from __future__ import annotations

from bot.plans.imports.apply import MSG_NO_COMMUNE, PlanImportResult, apply_plan, import_plan
from bot.plans.imports.problems import PlanProblem
from bot.plans.imports.read import (
    PLANS_DIR,
    RawPlan,
    find_plan_file,
    from_csv,
    from_xlsx,
    from_yaml,
    read_plan_bytes,
    read_plan_file,
)
from bot.plans.imports.template import write_csv, write_xlsx
from bot.plans.imports.validate import PlanSpec, validate

__all__ = [
    "MSG_NO_COMMUNE",
    "PLANS_DIR",
    "PlanImportResult",
    "PlanProblem",
    "PlanSpec",
    "RawPlan",
    "apply_plan",
    "find_plan_file",
    "from_csv",
    "from_xlsx",
    "from_yaml",
    "import_plan",
    "read_plan_bytes",
    "read_plan_file",
    "validate",
    "write_csv",
    "write_xlsx",
]
