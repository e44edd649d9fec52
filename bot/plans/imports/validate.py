"""Validating a plan file as a whole, collecting every problem with its sheet and row.

Required fields, every deadline and target read with their parsers, budgets, dates,
duplicate numbers and tally codes. The result is a ``PlanSpec`` ready to write, or
the list of problems; nothing is written here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from bot.dates import parse_date
from bot.i18n import N_
from bot.plans.deadline import Deadline, DeadlineParseError, parse_deadline
from bot.plans.imports.layout import SHEET_PLAN, SHEET_UNITS, TALLY_CODES
from bot.plans.imports.problems import MSG_FILE_SHAPE, PlanProblem
from bot.plans.imports.read import RawPlan, split_names
from bot.plans.target import TargetParseError, TargetSpec, parse_target
from bot.text import clean

MSG_NO_SLUG = N_("The plan has no short name (Mã kế hoạch), e.g. trung-hoi.")
MSG_BAD_SLUG = N_(
    "The short name “{value}” may only use letters a-z, digits and dashes, e.g. trung-hoi."
)
MSG_NO_TITLE = N_("The plan has no title (Tên kế hoạch).")
MSG_BAD_DATE = N_("“{value}” in {column} is not a date. Write it as 15/03/2026.")
MSG_NO_NUMBER = N_("The number (TT) is missing.")
MSG_DUPLICATE = N_("The number {number} is used twice (first on row {first}).")
MSG_NO_TEXT = N_("The text of row {number} is missing.")
MSG_BAD_BUDGET = N_(
    "The budget “{value}” is not a number of million đồng (write e.g. 150 or 1.500,5)."
)
MSG_NEGATIVE_BUDGET = N_("The budget cannot be negative.")
MSG_BAD_YEAR = N_("“{value}” is not a year for a target (write e.g. 2026).")
MSG_BAD_TALLY = N_("Unknown tally code “{code}”. Use one of: {codes}.")
MSG_BAD_TARGET = N_("Target {year}: {problem}")
MSG_BAD_DEADLINE = N_("Completion time: {problem}")
MSG_NO_UNIT_NAME = N_("A unit has no name.")


@dataclass
class IndicatorSpec:
    number: str
    position: int
    group: str | None
    text: str
    unit: str | None
    targets: dict[int, tuple[str, TargetSpec]]
    lead: str | None
    coordinating: list[str]
    result: str | None
    tally_code: str | None


@dataclass
class TaskSpec:
    number: str
    position: int
    group: str | None
    text: str
    lead: str | None
    coordinating: list[str]
    output: str | None
    budget: float | None
    deadline: Deadline | None
    start: dt.date | None


@dataclass
class PlanSpec:
    """A validated plan, ready to write."""

    slug: str
    title: str
    commune: str | None
    province: str | None
    number: str | None
    issued: dt.date | None
    period: str | None
    source: str | None
    monitoring: dict[str, Any]
    units: list[tuple[str, list[str]]]
    indicators: list[IndicatorSpec]
    tasks: list[TaskSpec]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean(str(value))
    return text or None


def parse_budget(value: Any) -> float | None:
    """A budget in million đồng, written the Vietnamese way (1.500,5) or as a plain number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, int | float):
        return _finite(value)
    text = re.sub(r"\s+", "", clean(str(value)))
    text = re.sub(r"(?i)(trieudong|triệuđồng|trđ|tr)$", "", text)
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "")
    return _finite(float(text))


def _finite(value: float | int) -> float:
    """A budget as a finite float; "inf", "nan", 1e400 or a huge integer are not budgets."""
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(value) from None
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def validate(raw: RawPlan, *, today: dt.date) -> tuple[PlanSpec | None, list[PlanProblem]]:
    """Check everything in a plan file; return the plan or every problem found."""
    problems = list(raw.problems)
    plan = raw.plan
    slug = _text(plan.get("slug")) or ""
    if not slug:
        problems.append(PlanProblem(SHEET_PLAN, None, MSG_NO_SLUG))
    elif not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,79}", slug):
        problems.append(PlanProblem(SHEET_PLAN, None, MSG_BAD_SLUG, {"value": slug}))
    title = _text(plan.get("title")) or ""
    if not title:
        problems.append(PlanProblem(SHEET_PLAN, None, MSG_NO_TITLE))
    issued: dt.date | None = None
    try:
        issued = parse_date(plan.get("issued"))
    except ValueError:
        problems.append(
            PlanProblem(
                SHEET_PLAN,
                None,
                MSG_BAD_DATE,
                {"value": plan.get("issued"), "column": "Ngày ban hành"},
            )
        )
    units: list[tuple[str, list[str]]] = []
    for index, unit in enumerate(raw.units, 1):
        name = _text(unit.get("name"))
        if not name:
            problems.append(PlanProblem(SHEET_UNITS, index, MSG_NO_UNIT_NAME))
            continue
        units.append((name, split_names(unit.get("aliases"))))
    reference = issued or today
    indicators = _validate_indicators(raw.indicators, problems)
    tasks = _validate_tasks(raw.tasks, reference, problems)
    if problems:
        return None, problems
    spec = PlanSpec(
        slug=slug,
        title=title,
        commune=_text(plan.get("commune")),
        province=_text(plan.get("province")),
        number=_text(plan.get("number")),
        issued=issued,
        period=_text(plan.get("period")),
        source=_text(plan.get("source")),
        monitoring=dict(raw.monitoring),
        units=units,
        indicators=indicators,
        tasks=tasks,
    )
    return spec, []


def _where(row: dict[str, Any]) -> tuple[str, int | None]:
    return str(row.get("_sheet", "")), row.get("_row")


def _number_and_text(
    row: dict[str, Any], seen: dict[str, int | None], problems: list[PlanProblem]
) -> tuple[str, str]:
    sheet, where = _where(row)
    # Cut to the column's size first, so two numbers that only differ beyond it are duplicates.
    number = (_text(row.get("number")) or "")[:40].rstrip()
    if not number:
        problems.append(PlanProblem(sheet, where, MSG_NO_NUMBER))
    elif number in seen:
        problems.append(
            PlanProblem(sheet, where, MSG_DUPLICATE, {"number": number, "first": seen[number]})
        )
    else:
        seen[number] = where
    text = _text(row.get("text")) or ""
    if not text:
        problems.append(PlanProblem(sheet, where, MSG_NO_TEXT, {"number": number or "?"}))
    return number, text


def _validate_indicators(
    rows: list[dict[str, Any]], problems: list[PlanProblem]
) -> list[IndicatorSpec]:
    seen: dict[str, int | None] = {}
    found = []
    for position, row in enumerate(rows):
        sheet, where = _where(row)
        number, text = _number_and_text(row, seen, problems)
        targets: dict[int, tuple[str, TargetSpec]] = {}
        raw_targets = row.get("targets") or {}
        if not isinstance(raw_targets, dict):
            problems.append(PlanProblem(sheet, where, MSG_FILE_SHAPE))
            raw_targets = {}
        for year_value, target_value in raw_targets.items():
            written = _text(target_value)
            try:
                year = int(str(year_value).strip())
                if not 1990 <= year <= 2100:
                    raise ValueError(year_value)
            except ValueError:
                problems.append(PlanProblem(sheet, where, MSG_BAD_YEAR, {"value": year_value}))
                continue
            if written is None:
                continue
            try:
                targets[year] = (written, parse_target(written))
            except TargetParseError as error:
                problems.append(
                    PlanProblem(sheet, where, MSG_BAD_TARGET, {"year": year, "problem": error})
                )
        code = _text(row.get("tally_code"))
        if code is not None:
            code = code.lower()
            if code not in TALLY_CODES:
                problems.append(
                    PlanProblem(
                        sheet, where, MSG_BAD_TALLY, {"code": code, "codes": ", ".join(TALLY_CODES)}
                    )
                )
        found.append(
            IndicatorSpec(
                number=number,
                position=position,
                group=_text(row.get("group")),
                text=text,
                unit=_text(row.get("unit")),
                targets=targets,
                lead=_text(row.get("lead")),
                coordinating=split_names(row.get("coordinating")),
                result=_text(row.get("result")),
                tally_code=code,
            )
        )
    return found


def _validate_tasks(
    rows: list[dict[str, Any]], reference: dt.date, problems: list[PlanProblem]
) -> list[TaskSpec]:
    seen: dict[str, int | None] = {}
    found = []
    for position, row in enumerate(rows):
        sheet, where = _where(row)
        number, text = _number_and_text(row, seen, problems)
        budget = None
        try:
            budget = parse_budget(row.get("budget"))
            if budget is not None and budget < 0:
                problems.append(PlanProblem(sheet, where, MSG_NEGATIVE_BUDGET))
        except ValueError:
            problems.append(PlanProblem(sheet, where, MSG_BAD_BUDGET, {"value": row.get("budget")}))
        start = None
        try:
            start = parse_date(row.get("start"))
        except ValueError:
            problems.append(
                PlanProblem(
                    sheet,
                    where,
                    MSG_BAD_DATE,
                    {"value": row.get("start"), "column": "Ngày bắt đầu"},
                )
            )
        deadline = None
        written = row.get("deadline")
        if isinstance(written, dt.date):
            written = written.strftime("%d/%m/%Y")
        written = _text(written)
        if written is not None:
            try:
                deadline = parse_deadline(written, reference)
            except DeadlineParseError as error:
                problems.append(PlanProblem(sheet, where, MSG_BAD_DEADLINE, {"problem": error}))
        found.append(
            TaskSpec(
                number=number,
                position=position,
                group=_text(row.get("group")),
                text=text,
                lead=_text(row.get("lead")),
                coordinating=split_names(row.get("coordinating")),
                output=_text(row.get("output")),
                budget=budget,
                deadline=deadline,
                start=start,
            )
        )
    return found
