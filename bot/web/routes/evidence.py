"""One piece of evidence: the stored file (inline or as a download) or the link."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

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


def outside_host(url: str) -> str | None:
    """The host of an http(s) link (None for anything else: javascript:, data:, …)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname


def evidence(ctx: PageContext) -> web.StreamResponse:
    """Send an evidence file to someone who may see its task."""
    found = views.find_evidence(ctx.session, parse_id(ctx.match["evidence_id"], "evidence_id"))
    if found is None:
        return ctx.not_found()
    item, task, plan = found
    if not can_see_task(ctx.viewer, plan.commune_id, task.lead_unit_id, task.coordinating):
        return ctx.forbidden()
    if item.kind == "link" or not item.storage_path:
        host = outside_host(item.url)
        if host is None:
            return ctx.not_found()
        # Never a redirect: the person sees where the link goes before leaving.
        return ctx.render("external.html", None, address=item.url, host=host, task_id=task.id)
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
