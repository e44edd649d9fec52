"""One piece of evidence: the stored file (inline or as a download) or the link."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.i18n import N_
from bot.plans.evidence import read_stored
from bot.web import views
from bot.web.access import can_see_task
from bot.web.context import PageContext
from bot.web.params import MSG_NOT_FOUND_TITLE, parse_id, query_choice
from bot.web.render import INLINE_TYPES, disposition

FILE_CSP = "default-src 'none'; img-src 'self'; frame-ancestors 'none'; sandbox"
MSG_FILE_MISSING = N_("The file of this evidence is missing on the server.")


def evidence(ctx: PageContext) -> web.StreamResponse:
    """Send an evidence file to someone who may see its task."""
    found = views.find_evidence(ctx.session, parse_id(ctx.match["evidence_id"], "evidence_id"))
    if found is None:
        return ctx.not_found()
    item, task, plan = found
    if not can_see_task(ctx.viewer, plan.commune_id, task.lead_unit_id, task.coordinating):
        return ctx.forbidden()
    if item.kind == "link" or not item.storage_path:
        if item.url.startswith(("http://", "https://")):
            raise web.HTTPFound(item.url)
        return ctx.not_found()
    data = read_stored(ctx.services.settings.effective_evidence_dir, item.storage_path)
    if data is None:
        return ctx.message(404, MSG_NOT_FOUND_TITLE, MSG_FILE_MISSING)
    inline = query_choice(ctx.query, "view", ("1",)) == "1" and item.mime_type in INLINE_TYPES
    name = item.file_name or Path(item.storage_path).name
    return web.Response(
        body=data,
        content_type=item.mime_type or "application/octet-stream",
        headers={
            # A file is shown alone, in a sandbox: no script, no form, no framing.
            "Content-Security-Policy": FILE_CSP,
            "Content-Disposition": disposition("inline" if inline else "attachment", name),
        },
    )
