"""Residents' reports on the dashboard: the queue with its filters, one report, the file.

A unit officer sees the reports their unit holds; the standing office, commune leaders
and admins see every report of the commune. The resident is named only when they agreed
to be contacted, and never in the history or the Excel file.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.feedback import board
from bot.feedback.photos import photo_dir
from bot.feedback.status import EVENT_LABELS, STATUS_LABELS, Status
from bot.i18n import Translator
from bot.plans.evidence import read_stored
from bot.web.access import Page, Viewer
from bot.web.context import PageContext
from bot.web.params import parse_id, query_choice, query_id
from bot.web.render import disposition
from bot.web.xlsx import XLSX_MIME, header, table_row, title, workbook_bytes, xl
from db.models import FeedbackPhoto, FeedbackReport

QUEUE_PATH = "/feedback"
EXPORT_PATH = "/feedback/export.xlsx"
REPORT_PATH = "/feedback/{report_id}"
PHOTO_PATH = "/feedback/{report_id}/photos/{photo_id}"
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
# A photo is shown alone, in a sandbox: no script, no form, no framing.
FILE_CSP = "default-src 'none'; img-src 'self'; frame-ancestors 'none'; sandbox"
STATUS_TONES = {
    Status.RECEIVED: "warn",
    Status.ASSIGNED: "info",
    Status.ANSWERED: "info",
    Status.RETURNED: "warn",
    Status.REOPENED: "bad",
    Status.CLOSED: "good",
}
XLSX_HEADERS = (
    "TT",
    "Mã phản ánh",
    "Ngày nhận",
    "Lĩnh vực",
    "Thôn/Xóm",
    "Địa điểm",
    "Nội dung",
    "Đơn vị xử lý",
    "Trạng thái",
    "Hạn",
    "Quá hạn",
    "Ngày trả lời",
    "Ngày đóng",
    "Người dân đánh giá",
)
XLSX_TITLE = "DANH SÁCH PHẢN ÁNH, KIẾN NGHỊ CỦA NGƯỜI DÂN"
XLSX_AS_OF = "(Số liệu đến {date})"
EXPORT_LIMIT = 100_000  # the file holds every matching report, not one page
VERDICTS = {True: "Hài lòng", False: "Chưa hài lòng"}


def only_unit(viewer: Viewer) -> int | None:
    """The unit a viewer's reports are limited to (None: the whole commune)."""
    if viewer.sees_all:
        return None
    assert viewer.unit_id is not None  # can_open let only unit officers in
    return viewer.unit_id


def _filters(ctx: PageContext) -> board.Filters:
    """The queue's filters from the query string (anything unknown: 400)."""
    assert ctx.viewer.commune_id is not None
    query = ctx.query
    status = query_choice(query, "status", board.STATUS_FILTERS)
    category = query_choice(
        query, "category", board.category_codes(ctx.session, ctx.viewer.commune_id)
    )
    age = query_choice(query, "age", board.AGE_FILTERS)
    unit = query_id(query, "unit") if ctx.viewer.sees_all else None
    return board.Filters(
        status=status or None,
        category=category or None,
        village_id=query_id(query, "village"),
        unit_id=unit,
        age=age or None,
    )


def _board(ctx: PageContext, limit: int = board.SHOWN_LIMIT) -> board.Board:
    assert ctx.viewer.commune_id is not None
    return board.board(
        ctx.session,
        ctx.viewer.commune_id,
        only_unit=only_unit(ctx.viewer),
        filters=_filters(ctx),
        now=ctx.now,
        limit=limit,
    )


def queue(ctx: PageContext) -> web.StreamResponse:
    """List the reports the viewer may see, filtered by status, category, village, unit, age."""
    data = _board(ctx)
    return ctx.render(
        "feedback.html",
        Page.FEEDBACK,
        data=data,
        STATUS_FILTERS=board.STATUS_FILTERS,
        AGE_FILTERS=board.AGE_FILTERS,
        FEEDBACK_LABELS=STATUS_LABELS,
        FEEDBACK_TONES=STATUS_TONES,
        export_path=EXPORT_PATH,
    )


def _visible(ctx: PageContext) -> FeedbackReport | web.Response:
    """The report of the path, or the page saying it is not there or not the viewer's."""
    report_id = parse_id(ctx.match["report_id"], "report_id")
    found = ctx.session.get(FeedbackReport, report_id)
    if found is None or found.commune_id != ctx.viewer.commune_id:
        return ctx.not_found()
    unit = only_unit(ctx.viewer)
    if unit is not None and found.unit_id != unit:
        return ctx.forbidden()
    return found


def report(ctx: PageContext) -> web.StreamResponse:
    """Show one report: what, where, deadlines, its whole history (staff notes marked)."""
    found = _visible(ctx)
    if isinstance(found, web.Response):
        return found
    assert found.id is not None
    page = board.report_page(ctx.session, found.id, ctx.now)
    return ctx.render(
        "feedback_report.html",
        Page.FEEDBACK,
        data=page,
        EVENT_LABELS=EVENT_LABELS,
        FEEDBACK_LABELS=STATUS_LABELS,
        FEEDBACK_TONES=STATUS_TONES,
        photo_types=PHOTO_TYPES,
    )


def photo(ctx: PageContext) -> web.StreamResponse:
    """Send a stored photo of a report to someone who may see the report."""
    found = _visible(ctx)
    if isinstance(found, web.Response):
        return found
    item = ctx.session.get(FeedbackPhoto, parse_id(ctx.match["photo_id"], "photo_id"))
    if (
        item is None
        or item.report_id != found.id
        or not item.storage_path
        or item.mime_type not in PHOTO_TYPES
    ):
        return ctx.not_found()
    data = read_stored(photo_dir(ctx.services.settings.data_dir), item.storage_path)
    if data is None:
        return ctx.not_found()
    return web.Response(
        body=data,
        content_type=item.mime_type,
        headers={
            "Content-Security-Policy": FILE_CSP,
            "Content-Disposition": disposition("inline", f"{found.code}-{item.id}"),
        },
    )


def _date(moment: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    """A stored time as a local, naive date and time (what a spreadsheet cell holds)."""
    return moment.astimezone(tz).replace(tzinfo=None) if moment is not None else None


def queue_xlsx(data: board.Board, t: Translator, tz: dt.tzinfo, today: dt.date) -> bytes:
    """The filtered queue as a report-ready workbook (no resident is named in it)."""
    workbook = xl().Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Phản ánh"
    headers = list(XLSX_HEADERS)
    row = title(sheet, [XLSX_TITLE, XLSX_AS_OF.format(date=t.date(today))], len(headers))
    header(sheet, row, headers, [6, 12, 16, 28, 14, 24, 60, 24, 18, 16, 9, 16, 16, 16])
    for number, item in enumerate(data.items, 1):
        report = item.report
        row += 1
        rating = data.ratings.get(report.id or 0)
        table_row(
            sheet,
            row,
            [
                number,
                report.code,
                _date(report.created_at, tz),
                item.category,
                item.village,
                report.landmark,
                report.text,
                item.unit,
                t.gettext(STATUS_LABELS[Status(report.status)]),
                _date(item.due, tz) if report.status != Status.CLOSED else None,
                "Có" if item.overdue else "",
                _date(report.answered_at, tz),
                _date(report.closed_at, tz),
                VERDICTS.get(rating, "") if rating is not None else "",
            ],
        )
        for column in (3, 10, 12, 13):
            sheet.cell(row=row, column=column).number_format = "DD/MM/YYYY HH:MM"
    return workbook_bytes(workbook)


def export(ctx: PageContext) -> web.StreamResponse:
    """Send the queue, with the page's filters, as an Excel file."""
    data = _board(ctx, limit=EXPORT_LIMIT)
    body = queue_xlsx(data, ctx.t, ctx.tz, ctx.today)
    return web.Response(
        body=body,
        headers={
            "Content-Type": XLSX_MIME,
            "Content-Disposition": disposition("attachment", f"phan-anh-{ctx.today:%Y-%m-%d}.xlsx"),
        },
    )
