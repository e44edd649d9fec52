"""Writing a validated plan in the caller's transaction (never commits).

Re-importing updates the plan in place by (plan slug, row number): progress, evidence
and history stay, and rows no longer in the file become inactive. Unit names are
normalised through the plan's ``units:`` aliases and the commune's known units; the
result lists every raw name with the unit it was mapped to, for review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from bot import audit
from bot.admin.setup import ensure_unit, find_unit
from bot.i18n import N_, Translator
from bot.plans.imports.problems import PlanProblem
from bot.plans.imports.read import RawPlan
from bot.plans.imports.validate import IndicatorSpec, PlanSpec, TaskSpec, validate
from bot.text import fold
from db.models import Indicator, IndicatorTarget, Person, Plan, Task, Unit

MSG_NO_COMMUNE = N_("There is no commune “{slug}”. Set up the commune first (tocns admin setup).")


@dataclass(frozen=True)
class UnitMapping:
    """How one unit name written in the file was understood."""

    raw: str
    unit: str
    how: str  # same (the canonical name) | alias (another spelling)
    new: bool = False  # the unit did not exist in the commune before this import

    def to_json(self) -> dict[str, Any]:
        return {"raw": self.raw, "unit": self.unit, "how": self.how, "new": self.new}


@dataclass
class PlanImportResult:
    """What an import did (or would do, with --dry-run)."""

    plan: str = ""
    title: str = ""
    indicators: int = 0
    tasks: int = 0
    created: bool = False
    deactivated_indicators: int = 0
    deactivated_tasks: int = 0
    units: list[UnitMapping] = field(default_factory=list)
    problems: list[PlanProblem] = field(default_factory=list)
    warnings: list[PlanProblem] = field(default_factory=list)
    plan_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self, t: Translator) -> dict[str, Any]:
        """The --json answer: at least {"plan", "indicators", "tasks"}."""
        data: dict[str, Any] = {
            "plan": self.plan,
            "indicators": self.indicators,
            "tasks": self.tasks,
            "created": self.created,
            "deactivated": {
                "indicators": self.deactivated_indicators,
                "tasks": self.deactivated_tasks,
            },
            "units": [mapping.to_json() for mapping in self.units],
        }
        if self.problems:
            data["problems"] = [problem.to_json(t) for problem in self.problems]
        if self.warnings:
            data["warnings"] = [warning.to_json(t) for warning in self.warnings]
        return data


class _Units:
    """Resolves raw unit names to the commune's units, recording the mapping."""

    def __init__(self, session: Session, commune_id: int, spec: PlanSpec) -> None:
        self.session = session
        self.commune_id = commune_id
        self.before = set(session.exec(select(Unit.id).where(Unit.commune_id == commune_id)).all())
        self.mapping: dict[str, UnitMapping] = {}
        self.ids: dict[str, int] = {}
        for name, aliases in spec.units:
            ensure_unit(session, commune_id, name, aliases)

    def resolve(self, raw: str | None) -> int | None:
        if raw is None:
            return None
        key = fold(raw)
        if key in self.ids:
            return self.ids[key]
        unit = find_unit(self.session, self.commune_id, raw) or ensure_unit(
            self.session, self.commune_id, raw, []
        )
        assert unit.id is not None
        how = "same" if fold(unit.name) == key else "alias"
        self.mapping[key] = UnitMapping(raw, unit.name, how, unit.id not in self.before)
        self.ids[key] = unit.id
        return unit.id


def apply_plan(
    session: Session,
    spec: PlanSpec,
    *,
    commune_id: int,
    now: dt.datetime,
    actor_id: int | None = None,
) -> PlanImportResult:
    """Create or update the plan in the session (the caller commits or rolls back)."""
    plan = session.exec(
        select(Plan).where(Plan.commune_id == commune_id, Plan.slug == spec.slug)
    ).first()
    created = plan is None
    if plan is None:
        plan = Plan(commune_id=commune_id, slug=spec.slug, title=spec.title, imported_at=now)
    plan.title = spec.title[:1000]
    plan.number, plan.issued, plan.period = (
        _cut(spec.number, 80),
        spec.issued,
        _cut(spec.period, 80),
    )
    plan.source = spec.source[:500] if spec.source else None
    plan.monitoring = spec.monitoring
    session.add(plan)
    session.flush()
    assert plan.id is not None
    units = _Units(session, commune_id, spec)
    result = PlanImportResult(
        plan=spec.slug,
        title=spec.title,
        created=created,
        plan_id=plan.id,
        indicators=len(spec.indicators),
        tasks=len(spec.tasks),
    )
    _apply_indicators(session, plan.id, spec.indicators, units, result)
    _apply_tasks(session, plan.id, spec.tasks, units, result)
    result.units = list(units.mapping.values())
    audit.record(
        session,
        commune_id=commune_id,
        action="plan.import",
        entity="plan",
        entity_id=plan.id,
        actor=session.get(Person, actor_id) if actor_id is not None else None,
        new={
            "slug": spec.slug,
            "indicators": result.indicators,
            "tasks": result.tasks,
            "deactivated_indicators": result.deactivated_indicators,
            "deactivated_tasks": result.deactivated_tasks,
        },
        at=now,
    )
    session.flush()
    return result


def _apply_indicators(
    session: Session,
    plan_id: int,
    specs: list[IndicatorSpec],
    units: _Units,
    result: PlanImportResult,
) -> None:
    existing = {
        i.number: i for i in session.exec(select(Indicator).where(Indicator.plan_id == plan_id))
    }
    for spec in specs:
        row = existing.pop(spec.number, None) or Indicator(
            plan_id=plan_id, number=spec.number, text=""
        )
        row.position, row.group, row.text = spec.position, _cut(spec.group, 500), spec.text[:2000]
        row.unit_of_measure = _cut(spec.unit, 80)
        row.lead_unit_id = units.resolve(spec.lead)
        row.coordinating = [
            i for i in (units.resolve(n) for n in spec.coordinating) if i is not None
        ]
        row.result_text, row.tally_code, row.active = _cut(spec.result, 2000), spec.tally_code, True
        session.add(row)
        session.flush()
        assert row.id is not None
        targets = {
            t.year: t
            for t in session.exec(
                select(IndicatorTarget).where(IndicatorTarget.indicator_id == row.id)
            )
        }
        for year, (written, parsed) in spec.targets.items():
            target = targets.pop(year, None) or IndicatorTarget(
                indicator_id=row.id, year=year, raw="", op=""
            )
            target.raw, target.op = written[:500], parsed.op
            target.value = _float(parsed.value)
            target.low, target.high = _float(parsed.low), _float(parsed.high)
            session.add(target)
        for stale in targets.values():
            session.delete(stale)
    for gone in existing.values():
        if gone.active:
            gone.active = False
            session.add(gone)
            result.deactivated_indicators += 1


def _apply_tasks(
    session: Session, plan_id: int, specs: list[TaskSpec], units: _Units, result: PlanImportResult
) -> None:
    existing = {t.number: t for t in session.exec(select(Task).where(Task.plan_id == plan_id))}
    for spec in specs:
        row = existing.pop(spec.number, None) or Task(plan_id=plan_id, number=spec.number, text="")
        row.position, row.group, row.text = spec.position, _cut(spec.group, 500), spec.text[:4000]
        row.lead_unit_id = units.resolve(spec.lead)
        row.coordinating = [
            i for i in (units.resolve(n) for n in spec.coordinating) if i is not None
        ]
        row.output, row.budget, row.start = _cut(spec.output, 4000), spec.budget, spec.start
        deadline = spec.deadline
        kept_due = row.due if row.kind == "on_event" and row.id is not None else None
        row.deadline_raw = deadline.text[:300] if deadline else None
        row.kind = deadline.kind if deadline else "once"
        row.repeat = deadline.repeat if deadline else None
        row.due = deadline.due if deadline else None
        if row.kind == "on_event" and row.due is None:
            row.due = kept_due  # a deadline an officer set stays until the file gives one
        row.active = True
        session.add(row)
    for gone in existing.values():
        if gone.active:
            gone.active = False
            session.add(gone)
            result.deactivated_tasks += 1
    session.flush()


def _cut(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else value


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def import_plan(
    session: Session,
    raw: RawPlan,
    *,
    commune_id: int,
    today: dt.date,
    now: dt.datetime,
    actor_id: int | None = None,
) -> PlanImportResult:
    """Validate a plan file and, only if it has no problem, write it in the session."""
    spec, problems = validate(raw, today=today)
    if spec is None:
        return PlanImportResult(
            plan=str(raw.plan.get("slug") or ""), problems=problems, warnings=list(raw.warnings)
        )
    result = apply_plan(session, spec, commune_id=commune_id, now=now, actor_id=actor_id)
    result.warnings = list(raw.warnings)
    return result
