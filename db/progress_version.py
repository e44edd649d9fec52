"""Keep each commune's progress version token current, in the writing transaction.

After every ORM flush that adds, changes or deletes a village, a denominator, a tally,
a plan, an indicator or an indicator target, the communes concerned get a fresh random
token (commune 0, the global token, when the commune cannot be told). Bulk UPDATE or
DELETE statements on those tables change the global token. A rolled-back transaction
takes its tokens with it, and a new token is never an old one: equal tokens mean equal
inputs, whichever worker process wrote them.

The tokens are written once per transaction, at commit, in commune id order: a
transaction's flushes may touch its communes in any order (a province setup, a
multi-commune import), and bumping each at its flush would lock the rows in that order,
so two PostgreSQL workers touching the same communes in opposite orders could deadlock.
At commit every transaction locks them in the same order, each for a moment only. A
read of the tokens inside a transaction that wrote an input and has not committed yet
sees the old tokens: ``pending`` tells it (the view cache then computes afresh).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session

from db.models import (
    Indicator,
    IndicatorTarget,
    Plan,
    ProgressVersion,
    Tally,
    Village,
    VillageDenominator,
)

GLOBAL = 0
WATCHED = (Village, VillageDenominator, Tally, Plan, Indicator, IndicatorTarget)
_VILLAGE: Any = Village.__table__.c  # type: ignore[attr-defined]
_PLAN: Any = Plan.__table__.c  # type: ignore[attr-defined]
_INDICATOR: Any = Indicator.__table__.c  # type: ignore[attr-defined]
# Built once: building a statement costs more than running it on SQLite.
_IDS: Any = bindparam("ids", expanding=True)
_PLAN_OF = select(_INDICATOR.id, _INDICATOR.plan_id).where(_INDICATOR.id.in_(_IDS))
_COMMUNE_OF_VILLAGE = select(_VILLAGE.id, _VILLAGE.commune_id).where(_VILLAGE.id.in_(_IDS))
_COMMUNE_OF_PLAN = select(_PLAN.id, _PLAN.commune_id).where(_PLAN.id.in_(_IDS))
_UPSERTS: dict[str, Any] = {}
_TABLES = {model.__tablename__ for model in WATCHED}


def _values(obj: Any, attribute: str) -> set[int]:
    """The attribute's current value and, for a changed row, the one it had."""
    history = inspect(obj).attrs[attribute].history
    values = {*history.added, *history.unchanged, *history.deleted}
    return {int(value) for value in values if value is not None}


def _communes(session: Session, objects: list[Any]) -> set[int]:
    connection = session.connection()
    communes: set[int] = set()
    villages: set[int] = set()
    plans: set[int] = set()
    indicators: set[int] = set()
    for obj in objects:
        if isinstance(obj, Village | Plan):
            communes |= _values(obj, "commune_id") or {GLOBAL}
        elif isinstance(obj, Tally | VillageDenominator):
            villages |= _values(obj, "village_id") or {-1}
        elif isinstance(obj, Indicator):
            plans |= _values(obj, "plan_id") or {-1}
        else:
            indicators |= _values(obj, "indicator_id") or {-1}
    if indicators:
        found: dict[int, int] = dict(
            connection.execute(_PLAN_OF, {"ids": sorted(indicators)}).all()  # type: ignore[arg-type]
        )
        plans |= set(found.values())
        if indicators - set(found):
            communes.add(GLOBAL)
    for ids, statement in ((villages, _COMMUNE_OF_VILLAGE), (plans, _COMMUNE_OF_PLAN)):
        if ids:
            found = dict(connection.execute(statement, {"ids": sorted(ids)}).all())  # type: ignore[arg-type]
            communes |= set(found.values())
            if ids - set(found):  # deleted in this flush, or never saved: be safe
                communes.add(GLOBAL)
    return communes


_PENDING = "tocns.progress_communes"  # ``Session.info``: communes to bump at commit
_COMMITTING = "tocns.progress_committing"  # ``Session.info``: the tokens were written


def pending(session: Session) -> bool:
    """Whether the session's transaction wrote a progress input whose token is not new yet."""
    return bool(session.info.get(_PENDING))


def _note(session: Session, communes: set[int]) -> None:
    """Bump these communes' tokens at commit (at once if the commit has begun)."""
    if session.info.get(_COMMITTING):
        bump(session, communes)  # a flush after ``_before_commit``: rare, still sorted
        return
    session.info.setdefault(_PENDING, set()).update(communes)


def bump(session: Session, communes: set[int]) -> None:
    """Give these communes new tokens in the session's transaction, in one statement in
    commune id order, so two workers bumping the same communes wait for each other
    rather than deadlock."""
    if not communes:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    statement = _UPSERTS.get(dialect)
    if statement is None:
        insert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(ProgressVersion).values(
            commune_id=bindparam("commune_id"), token=bindparam("token")
        )
        statement = _UPSERTS[dialect] = statement.on_conflict_do_update(
            index_elements=["commune_id"], set_={"token": statement.excluded.token}
        )
    connection.execute(
        statement,
        [{"commune_id": commune, "token": uuid.uuid4().hex} for commune in sorted(communes)],
    )


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    objects = [
        obj
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, WATCHED)
        and (obj not in session.dirty or session.is_modified(obj, include_collections=False))
    ]
    if objects:
        _note(session, _communes(session, objects))


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the tokens are written when the transaction commits
    session.flush()  # the commit's own flush would come after: its communes count too
    communes = session.info.pop(_PENDING, None)
    session.info[_COMMITTING] = True
    if communes:
        bump(session, communes)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost: committed or rolled back
        session.info.pop(_PENDING, None)
        session.info.pop(_COMMITTING, None)


@event.listens_for(Session, "do_orm_execute")
def _bulk_write(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _TABLES:
        _note(state.session, {GLOBAL})
