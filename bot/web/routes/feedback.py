"""Residents' reports on the dashboard: the queue with its filters, one report, the file.

A unit officer sees the reports their unit holds; the standing office, commune leaders
and admins see every report of the commune. The resident is named only when they agreed
to be contacted, and never in the history or the Excel file.

Handling on the report page (forms without JavaScript, each with its CSRF token): the
unit's officer answers (the text goes to the resident), hands a report back; the office
reassigns, closes or returns an answer to the unit; both add internal notes and photos of
the fix. Every form calls the same ``bot.feedback.store`` change as the chat, which checks
the move against ``bot.feedback.status``, writes the history, the audit entry and the
outbox rows in the request's one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlmodel import col, select

from bot.dates import add_months
from bot.errors import ReadableError
from bot.feedback import board, stats, store
from bot.feedback.photos import photo_dir, store_photo
from bot.feedback.status import EVENT_LABELS, RULES, STATUS_LABELS, Actor, Move, Status
from bot.i18n import N_, Translator
from bot.plans.evidence import MAX_BYTES, read_stored
from bot.web import forms
from bot.web.access import Page, Viewer
from bot.web.context import PageContext
from bot.web.params import parse_id, parse_month, query_choice, query_id
from bot.web.render import disposition
from bot.web.xlsx import XLSX_MIME, header, put, table_row, title, workbook_bytes, xl
from db.models import FeedbackPhoto, FeedbackReport, Unit

QUEUE_PATH = "/feedback"
EXPORT_PATH = "/feedback/export.xlsx"
REPORT_PATH = "/feedback/{report_id}"
PHOTO_PATH = "/feedback/{report_id}/photos/{photo_id}"
ACTION_PATH = "/feedback/{report_id}/{action}"
STATS_PATH = "/feedback/stats"
STATS_EXPORT_PATH = "/feedback/stats.xlsx"
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


def capacities(viewer: Viewer, found: FeedbackReport) -> frozenset[Actor]:
    """How the viewer may handle this report: as its unit's officer, as the office, both, none.

    Commune leaders and admins read reports but do not handle them (as in the chat).
    """
    held = set()
    if viewer.is_unit_officer and found.unit_id is not None and viewer.unit_id == found.unit_id:
        held.add(Actor.UNIT)
    if "office" in viewer.roles and viewer.commune_id == found.commune_id:
        held.add(Actor.OFFICE)
    return frozenset(held)


def _may(held: frozenset[Actor], move: Move, status: str) -> bool:
    """Whether one of ``held`` may make ``move`` now (the rules of ``bot.feedback.status``)."""
    rule = RULES[move]
    return any(Status(status) in rule.allowed.get(actor, frozenset()) for actor in held)


def _report_page(
    ctx: PageContext, found: FeedbackReport, status: int = 200, **extra: Any
) -> web.Response:
    assert found.id is not None
    page = board.report_page(ctx.session, found.id, ctx.now)
    held = capacities(ctx.viewer, found)
    report_status = page.view.report.status
    may = {move.value: _may(held, move, report_status) for move in Move}
    may["note"] = may["photo"] = bool(held)
    units: list[tuple[int, str]] = []
    if may[Move.ASSIGN]:
        rows = ctx.session.exec(
            select(Unit).where(Unit.commune_id == found.commune_id).order_by(col(Unit.name))
        )
        units = [(u.id, u.name) for u in rows if u.id is not None]
    notice = NOTICES.get(ctx.query.get("done", ""), "")
    context: dict[str, Any] = {"errors": {}, "values": {}, "failed": "", **extra}
    return ctx.render(
        "feedback_report.html",
        Page.FEEDBACK,
        status,
        data=page,
        EVENT_LABELS=EVENT_LABELS,
        FEEDBACK_LABELS=STATUS_LABELS,
        FEEDBACK_TONES=STATUS_TONES,
        photo_types=PHOTO_TYPES,
        may=may,
        units=units,
        notice=notice,
        **context,
    )


def report(ctx: PageContext) -> web.StreamResponse:
    """Show one report: what, where, deadlines, its whole history (staff notes marked)."""
    found = _visible(ctx)
    if isinstance(found, web.Response):
        return found
    return _report_page(ctx, found)


# ------------------------------------------------------------------ handling

MSG_DONE_ANSWER = N_("Answer sent. The resident will receive it.")
MSG_DONE_NOTE = N_("Note saved. It is for staff only and never sent to the resident.")
MSG_DONE_PHOTO = N_("Photo of the fix attached.")
MSG_DONE_ASSIGN = N_("Sent to the unit. Its officers were told.")
MSG_DONE_CLOSE = N_("Report closed. The resident was told.")
MSG_DONE_RETURN = N_("Sent back to the unit with your reason.")
MSG_DONE_HAND_BACK = N_("Handed back to the standing office.")
MSG_NO_PHOTO = N_("Choose a photo to attach.")
NOTICES = {
    "answer": MSG_DONE_ANSWER,
    "note": MSG_DONE_NOTE,
    "photo": MSG_DONE_PHOTO,
    "assign": MSG_DONE_ASSIGN,
    "close": MSG_DONE_CLOSE,
    "return": MSG_DONE_RETURN,
    "hand_back": MSG_DONE_HAND_BACK,
}
TEXT_LIMIT = store.TEXT_MAX
NOTE_LIMIT = store.NOTE_MAX


def _answer(ctx: PageContext, found: FeedbackReport, errors: forms.FormErrors) -> None:
    text = forms.text(ctx.form, "text", errors, limit=TEXT_LIMIT, minimum=store.TEXT_MIN)
    if not errors:
        store.answer(ctx.session, found.id or 0, by=ctx.person(), text=text, now=ctx.now, tz=ctx.tz)


def _note(ctx: PageContext, found: FeedbackReport, errors: forms.FormErrors) -> None:
    text = forms.text(ctx.form, "text", errors, limit=NOTE_LIMIT, minimum=2)
    if not errors:
        store.add_note(ctx.session, found.id or 0, by=ctx.person(), text=text, now=ctx.now)


def _photo(ctx: PageContext, found: FeedbackReport, errors: forms.FormErrors) -> None:
    caption = forms.text(ctx.form, "text", errors, limit=NOTE_LIMIT, required=False)
    upload = ctx.form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        errors.add("file", MSG_NO_PHOTO)
        return
    data = upload.file.read(MAX_BYTES + 1)
    try:
        stored = store_photo(
            photo_dir(ctx.services.settings.data_dir),
            data,
            file_name=upload.filename,
            mime_type=upload.content_type or "",
        )
    except ReadableError as error:  # too large, not a photo, HEIC, broken
        errors.add("file", error.message_id, **error.params)
        return
    if not errors:
        store.add_fix_photo(
            ctx.session, found.id or 0, by=ctx.person(), photo=stored, now=ctx.now, caption=caption
        )


def _assign(ctx: PageContext, found: FeedbackReport, errors: forms.FormErrors) -> None:
    units = ctx.session.exec(select(Unit.id).where(Unit.commune_id == found.commune_id)).all()
    unit_id = forms.row_id(ctx.form, "unit", [u for u in units if u is not None], errors)
    note = forms.text(ctx.form, "text", errors, limit=NOTE_LIMIT, required=False)
    if not errors and unit_id is not None:
        store.assign(
            ctx.session,
            found.id or 0,
            by=ctx.person(),
            unit_id=unit_id,
            now=ctx.now,
            tz=ctx.tz,
            note=note,
        )


def _close(ctx: PageContext, found: FeedbackReport, errors: forms.FormErrors) -> None:
    note = forms.text(ctx.form, "text", errors, limit=NOTE_LIMIT, required=False)
    if not errors:
        store.close(ctx.session, found.id or 0, by=ctx.person(), note=note, now=ctx.now, tz=ctx.tz)


def _return(ctx: PageContext, found: FeedbackReport, errors: forms.FormErrors) -> None:
    reason = forms.text(ctx.form, "text", errors, limit=NOTE_LIMIT, minimum=2)
    if not errors:
        store.return_to_unit(
            ctx.session, found.id or 0, by=ctx.person(), reason=reason, now=ctx.now, tz=ctx.tz
        )


def _hand_back(ctx: PageContext, found: FeedbackReport, errors: forms.FormErrors) -> None:
    reason = forms.text(ctx.form, "text", errors, limit=NOTE_LIMIT, minimum=2)
    if not errors:
        store.hand_back(
            ctx.session, found.id or 0, by=ctx.person(), reason=reason, now=ctx.now, tz=ctx.tz
        )


Action = Callable[[PageContext, FeedbackReport, forms.FormErrors], None]
# Each form: who may submit it, and the change it makes.
ACTIONS: dict[str, tuple[frozenset[Actor], Action]] = {
    "answer": (frozenset({Actor.UNIT}), _answer),
    "hand_back": (frozenset({Actor.UNIT}), _hand_back),
    "note": (frozenset({Actor.UNIT, Actor.OFFICE}), _note),
    "photo": (frozenset({Actor.UNIT, Actor.OFFICE}), _photo),
    "assign": (frozenset({Actor.OFFICE}), _assign),
    "close": (frozenset({Actor.OFFICE}), _close),
    "return": (frozenset({Actor.OFFICE}), _return),
}


def act(ctx: PageContext) -> web.StreamResponse:
    """Handle a report from its page: answer, note, photo, reassign, close, return."""
    action = ctx.match["action"]
    if action not in ACTIONS:
        return ctx.not_found()
    found = _visible(ctx)
    if isinstance(found, web.Response):
        return found
    who, change = ACTIONS[action]
    if not capacities(ctx.viewer, found) & who:
        return ctx.forbidden()
    errors = forms.FormErrors()
    values = {k: v for k, v in ctx.form.items() if isinstance(v, str) and k != "csrf"}
    try:
        change(ctx, found, errors)
    except ReadableError as error:  # the report moved on, a closed report, a same unit…
        ctx.session.rollback()
        refreshed = ctx.session.get(FeedbackReport, found.id)
        assert refreshed is not None
        failed = {"form": ctx.error_text(error)}
        return _report_page(ctx, refreshed, 409, errors=failed, values=values, failed=action)
    if errors:
        ctx.session.rollback()
        refreshed = ctx.session.get(FeedbackReport, found.id)
        assert refreshed is not None
        texts = errors.texts(ctx.t)
        return _report_page(ctx, refreshed, 400, errors=texts, values=values, failed=action)
    if action == "hand_back":  # no longer the unit's: its officer cannot open it now
        return ctx.redirect(QUEUE_PATH)
    return ctx.redirect(f"/feedback/{found.id}?done={action}")


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


# ------------------------------------------------------------------ monthly statistics

MSG_NO_UNIT_YET = N_("No unit yet")
STATS_TITLE = "THỐNG KÊ TIẾP NHẬN, XỬ LÝ PHẢN ÁNH, KIẾN NGHỊ CỦA NGƯỜI DÂN"
STATS_MONTH = "Tháng {month}/{year} (số liệu đến {date})"
STATS_HEADERS = (
    "TT",
    "{group}",
    "Tiếp nhận",
    "Đã trả lời",
    "Trả lời đúng hạn",
    "Tỷ lệ đúng hạn (%)",
    "Thời gian trả lời TB (ngày làm việc)",
    "Đã đóng",
    "Quá hạn",
    "Số lượt đánh giá",
    "Hài lòng",
    "Tỷ lệ hài lòng (%)",
)
STATS_GROUPS = (("Theo đơn vị xử lý", "Đơn vị"), ("Theo lĩnh vực", "Lĩnh vực"))
STATS_TOTAL = "Tổng cộng"


def _month(ctx: PageContext) -> dt.date:
    chosen = parse_month(ctx.query.get("month", ""), ctx.today)
    return chosen or ctx.today.replace(day=1)


def _stats(ctx: PageContext) -> stats.MonthStats:
    assert ctx.viewer.commune_id is not None
    return stats.month_stats(
        ctx.session,
        ctx.viewer.commune_id,
        _month(ctx),
        tz=ctx.tz,
        now=ctx.now,
        only_unit=only_unit(ctx.viewer),
        no_unit=ctx.t.gettext(MSG_NO_UNIT_YET),
    )


def monthly(ctx: PageContext) -> web.StreamResponse:
    """A month's statistics: received, answered on time, average time, satisfaction."""
    data = _stats(ctx)
    month = data.month
    return ctx.render(
        "feedback_stats.html",
        Page.FEEDBACK,
        data=data,
        month_key=f"{month:%Y-%m}",
        previous=f"{add_months(month, -1):%Y-%m}",
        following=f"{add_months(month, 1):%Y-%m}" if month < ctx.today.replace(day=1) else "",
        export_path=STATS_EXPORT_PATH,
    )


def _percent(value: float | None) -> float | None:
    return round(value * 100, 1) if value is not None else None


def _stat_cells(tally: stats.Tally) -> list[object]:
    average = tally.average_days
    return [
        tally.received,
        tally.answered,
        tally.on_time,
        _percent(tally.on_time_rate),
        round(average, 1) if average is not None else None,
        tally.closed,
        tally.late,
        tally.rated,
        tally.satisfied,
        _percent(tally.satisfaction),
    ]


def stats_xlsx(data: stats.MonthStats, t: Translator, today: dt.date) -> bytes:
    """A month's statistics as a report-ready workbook (names written as text, never run)."""
    workbook = xl().Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"Thống kê {data.month:%m-%Y}"
    width = len(STATS_HEADERS)
    month = STATS_MONTH.format(month=f"{data.month:%m}", year=data.month.year, date=t.date(today))
    row = title(sheet, [STATS_TITLE, month], width)
    widths = [6, 36, 11, 11, 12, 12, 14, 10, 10, 12, 10, 12]
    for (heading, group), groups in zip(
        STATS_GROUPS, (data.by_unit, data.by_category), strict=True
    ):
        put(sheet, row, 1, heading).font = xl().Font(bold=True)
        row += 1
        headers = [h.format(group=group) for h in STATS_HEADERS]
        header(sheet, row, headers, widths)
        for number, (name, tally) in enumerate(groups, 1):
            row += 1
            table_row(sheet, row, [number, name, *_stat_cells(tally)])
        row += 1
        table_row(sheet, row, ["", STATS_TOTAL, *_stat_cells(data.total)], bold=True)
        row += 2
    sheet.freeze_panes = None
    return workbook_bytes(workbook)


def monthly_export(ctx: PageContext) -> web.StreamResponse:
    """Send a month's statistics as an Excel file."""
    data = _stats(ctx)
    body = stats_xlsx(data, ctx.t, ctx.today)
    name = f"thong-ke-phan-anh-{data.month:%Y-%m}.xlsx"
    return web.Response(
        body=body,
        headers={"Content-Type": XLSX_MIME, "Content-Disposition": disposition("attachment", name)},
    )
