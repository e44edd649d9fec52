"""The sample plan: imported into the sample commune when a fresh database is prepared."""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from bot.core.people import default_commune_id
from bot.i18n import translator
from bot.plans.imports.apply import import_plan
from bot.plans.imports.read import PLANS_DIR, find_plan_file, read_plan_file
from bot.services import Services
from db.models import Commune

log = logging.getLogger(__name__)


def load_sample_plan(services: Services) -> None:
    """Import the configured sample plan into the sample commune (called by bot.app.prepare_database)."""
    slug = services.settings.sample_plan
    path = find_plan_file(slug)
    if path is None:
        log.warning("sample plan %s not found in %s", slug, PLANS_DIR)
        return
    now = services.clock()
    today = now.astimezone(services.tz).date()
    with Session(services.engine) as session:
        sample = session.exec(select(Commune.id).where(Commune.is_sample == True)).first()  # noqa: E712
        commune_id = sample if sample is not None else default_commune_id(session)
        if commune_id is None:
            return
        result = import_plan(
            session, read_plan_file(path), commune_id=commune_id, today=today, now=now
        )
        if result.problems:
            session.rollback()
            t = translator(services.settings.locale)
            log.warning(
                "sample plan %s not imported: %s",
                slug,
                "; ".join(p.text(t) for p in result.problems[:5]),
            )
            return
        session.commit()
    log.info(
        "loaded the sample plan %s (%d indicators, %d tasks)", slug, result.indicators, result.tasks
    )
