"""Report files: the indicator appendix and the task list as XLSX, tallies as CSV and XLSX.

The indicator sheet follows the appendix layout of the seed plans (TT, Chỉ tiêu, Đơn vị
tính, Chỉ tiêu năm …, Kết quả, Đơn vị chủ trì, Đơn vị phối hợp) with the current results
filled in, so the standing office can attach it to its monthly or quarterly report.
What a file contains follows the same access rules as the dashboard.

No text from the database ever becomes a live formula: every text cell of a workbook
is written as a string with Excel's quote prefix when it starts like a formula
(``bot.web.xlsx``), and CSV cells starting like one get a leading apostrophe (OWASP's
CSV-injection advice).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.audit import EVIDENCE_STATUS_LABELS
from bot.i18n import N_, Translator
from bot.plans.status import REASON_LABELS, STATUS_LABELS, VERDICT_LABELS
from bot.plans.target import TargetSpec, completion_rate, effective_target, is_vacuous
from bot.tallies.codes import CODE_LABELS, CODE_NAMES
from bot.text import fold, formula_like, shorten
from bot.web import xlsx
from bot.web.access import Viewer, village_scope
from bot.web.province import PLAN, commune_rows, ranked
from bot.web.views import choose_plan, plan_indicators, unit_names, visible_tasks
from bot.web.xlsx import XLSX_MIME
from db.models import (
    Commune,
    Evidence,
    Indicator,
    IndicatorTarget,
    Plan,
    Tally,
    Task,
    Village,
)

CSV_MIME = "text/csv; charset=utf-8"
KINDS = ("indicators", "tasks", "tallies")

INDICATOR_HEADERS = (
    "TT",
    "Chỉ tiêu",
    "Đơn vị tính",
    "Chỉ tiêu năm {year}",
    "Kết quả",
    "Tỷ lệ hoàn thành",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Đánh giá",
    "Ghi chú",
)
INDICATOR_WIDTHS = [7, 60, 12, 22, 12, 12, 24, 30, 14, 30]
TASK_HEADERS = (
    "TT",
    "Nhiệm vụ",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Kết quả/sản phẩm",
    "Thời gian hoàn thành",
    "Hạn",
    "Trạng thái",
    "Tỷ lệ hoàn thành",
    "Cảnh báo đỏ",
    "Minh chứng",
    "Ghi chú",
)
TASK_WIDTHS = [7, 60, 24, 30, 36, 20, 12, 18, 12, 30, 50, 30]
# The line under an appendix's title, with the report's number and date left blank for
# the standing office to fill in (as communes attach appendices to their reports).
ATTACHED_TO = "(Kèm theo Báo cáo số ……/BC-UBND ngày …… tháng …… năm …… của UBND {commune})"
PERCENT_FORMAT = "0.0%"
RATE_FORMAT = "0%"
# A group heading that is numbered already ("I. Phát triển hạ tầng", "1.2. Về nhân lực").
NUMBERED_GROUP = re.compile(r"^((?:[IVXLCDM]+)|(?:\d+(?:\.\d+)*))\.\s+(\S.*)$", re.DOTALL)
ROMAN: tuple[tuple[int, str], ...] = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)
CSV_SEPARATOR = ";"
TALLY_CSV_YEAR = "Năm"
TALLY_CSV_MONTH = "Tháng"
TALLY_XLSX_MONTH = "Tháng"
TALLY_XLSX_VILLAGE = "Thôn/Xóm"

TITLE_INDICATORS = N_("APPENDIX I: RESULTS OF THE INDICATORS")
TITLE_TASKS = N_("APPENDIX II: PROGRESS OF THE TASKS")
AS_OF = N_("(Figures as of {date})")
NO_TARGET_THIS_YEAR = N_("No target for {year} in the plan; the target for {other}: {target}")
FROM_TALLIES = N_("From the villages' monthly figures")
ACHIEVED = N_("achieved")
NOT_ACHIEVED = N_("not achieved")
RED_YES = N_("Red: {reasons}")
REJECTED_BECAUSE = N_("{label} ({reason})")
TITLE_PROVINCE = N_("{province}: THE COMMUNES' PROGRESS")
TITLE_TALLIES = N_("VILLAGE FIGURES BY MONTH")
FIGURES_THIS_MONTH = N_("Village figures this month (whole commune)")
VILLAGES_REPORTED = N_("{done} of {total} villages have reported this month.")


def roman(number: int) -> str:
    """A positive number in Roman numerals (4 → "IV")."""
    letters = []
    for value, letter in ROMAN:
        count, number = divmod(number, value)
        letters.append(letter * count)
    return "".join(letters)


def group_heading(text: str, ordinal: int) -> tuple[str, str]:
    """The TT cell and the text of a group row: the group's own number when it has one
    ("II. Kinh tế số" → "II", "Kinh tế số"), else the next Roman numeral."""
    match = NUMBERED_GROUP.match(text.strip())
    if match:
        return match.group(1), match.group(2)
    return roman(ordinal), text.strip()


def group_numbers(groups: list[str | None]) -> dict[str, tuple[str, str]]:
    """The group rows of an appendix, numbered in plan order (every group, so a file
    showing only some of them keeps the plan's numbers)."""
    ordered = list(dict.fromkeys(g for g in groups if g))
    return {g: group_heading(g, n) for n, g in enumerate(ordered, 1)}


def authority(commune: Commune | None) -> str:
    """The issuing body of a commune's report ("UBND XÃ TRUNG HỘI")."""
    name = (commune.name if commune else "").strip()
    if not fold(name).startswith("xa "):
        name = "Xã " + name
    return "UBND " + name.upper()


def attached_to(commune: Commune | None) -> str:
    """The "Kèm theo Báo cáo số …" line, blanks left to fill."""
    name = (commune.name if commune else "").strip()
    name = name[3:].strip() if fold(name).startswith("xa ") else name
    return ATTACHED_TO.format(commune="xã " + name)


def appendix_heading(
    sheet: object,
    commune: Commune | None,
    title_id: str,
    plan: Plan | None,
    t: Translator,
    today: dt.date,
    width: int,
) -> int:
    """The head of an appendix a commune attaches to its report: the issuing body and the
    national motto, the title, the plan, "Kèm theo Báo cáo số …" and the date of the
    figures; return the row of the table's header."""
    row = xlsx.official_heading(sheet, authority(commune), width)
    return xlsx.title(
        sheet,
        [
            t.gettext(title_id),
            plan.title if plan else "",
            attached_to(commune),
            t.gettext(AS_OF, date=t.date(today)),
        ],
        width,
        first=row,
    )


def _is_percent(*texts: str | None) -> bool:
    return any(text and "%" in text for text in texts)


def csv_text(text: str) -> str:
    """A text for a CSV cell that no spreadsheet runs as a formula."""
    return "'" + text if formula_like(text) else text


@dataclass(frozen=True)
class ExportFile:
    """A report file ready to send or download."""

    data: bytes
    file_name: str
    mime_type: str


def evidence_line(t: Translator, item: Evidence, link: str) -> str:
    """One piece of evidence in the task list: its review, then its address."""
    label = t.gettext(EVIDENCE_STATUS_LABELS.get(item.status, item.status))
    if item.status == "rejected" and item.review_reason:
        label = t.gettext(REJECTED_BECAUSE, label=label, reason=shorten(item.review_reason, 120))
    return f"{label}: {link}"


def _slug(plan: Plan | None) -> str:
    return plan.slug if plan is not None else "ke-hoach"


def _year_targets(
    session: Session, indicators: list[Indicator], year: int
) -> dict[int, tuple[str, TargetSpec]]:
    """Each indicator's target for exactly ``year``, as written and as judged."""
    texts = {i.id: i.text for i in indicators}
    found: dict[int, tuple[str, TargetSpec]] = {}
    for row in session.exec(
        select(IndicatorTarget).where(
            col(IndicatorTarget.indicator_id).in_(list(texts)), IndicatorTarget.year == year
        )
    ):
        spec = TargetSpec(op=row.op, value=row.value, low=row.low, high=row.high)  # type: ignore[arg-type]
        if not is_vacuous(spec):
            found[row.indicator_id] = effective_target(row.raw, spec, texts[row.indicator_id])
    return found


def _indicator_table(
    sheet: object,
    row: int,
    session: Session,
    commune_id: int,
    plan: Plan | None,
    t: Translator,
    today: dt.date,
    year: int,
) -> int:
    """The appendix table of a commune's plan from ``row`` on; return its last row.

    The target column holds the target of ``year`` only; an indicator the plan sets no
    target for that year has the plan's nearest one in "Ghi chú". The result and the
    target's share achieved are numbers, percentages formatted as such.
    """
    headers = [h.format(year=year) for h in INDICATOR_HEADERS]
    views = plan_indicators(session, plan, today) if plan else []
    units = unit_names(session, commune_id)
    targets = _year_targets(session, [v.indicator for v in views], year)
    xlsx.header(sheet, row, headers, INDICATOR_WIDTHS)
    numbers = group_numbers([v.indicator.group for v in views])
    group: str | None = None
    blank = [""] * (len(headers) - 2)
    for view in views:
        indicator, status = view.indicator, view.status
        if indicator.group and indicator.group != group:
            number, text = numbers[indicator.group]
            row += 1
            xlsx.table_row(sheet, row, [number, text, *blank], bold=True)
        group = indicator.group
        raw, spec = targets.get(view.id, ("", None))
        notes = []
        if spec is None and status.raw is not None and status.year is not None:
            notes.append(
                t.gettext(NO_TARGET_THIS_YEAR, year=year, other=status.year, target=status.raw)
            )
        if view.source == "tally":
            notes.append(t.gettext(FROM_TALLIES))
        percent = view.source == "tally" or _is_percent(indicator.unit_of_measure, raw, status.raw)
        actual: float | str | None = status.actual
        if view.yes_or_no and status.actual is not None:
            actual = t.gettext(ACHIEVED if status.actual >= 1 else NOT_ACHIEVED)
        elif status.actual is not None:
            actual = status.actual / 100 if percent else round(status.actual, 2)
        rate = completion_rate(spec, status.actual) if spec is not None else None
        row += 1
        xlsx.table_row(
            sheet,
            row,
            [
                indicator.number,
                indicator.text,
                indicator.unit_of_measure or "",
                raw,
                actual,
                rate,
                units.get(indicator.lead_unit_id or 0, ""),
                "; ".join(units[u] for u in indicator.coordinating if u in units),
                t.gettext(VERDICT_LABELS[status.verdict]),
                "\n".join(notes),
            ],
        )
        if percent and isinstance(actual, float):
            sheet.cell(row=row, column=5).number_format = PERCENT_FORMAT  # type: ignore[attr-defined]
        sheet.cell(row=row, column=6).number_format = RATE_FORMAT  # type: ignore[attr-defined]
    return row


def indicators_xlsx(
    session: Session,
    viewer: Viewer,
    t: Translator,
    today: dt.date,
    plan_slug: str | None = None,
    year: int | None = None,
) -> ExportFile:
    """Phụ lục I as a commune attaches it to a report: the heading block, the indicators
    by group with ``year``'s targets, results, share achieved and notes."""
    assert viewer.commune_id is not None
    year = year or today.year
    plan, _plans = choose_plan(session, viewer.commune_id, plan_slug)
    commune = session.get(Commune, viewer.commune_id)
    workbook = xlsx.xl().Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Chỉ tiêu"
    row = appendix_heading(sheet, commune, TITLE_INDICATORS, plan, t, today, len(INDICATOR_HEADERS))
    _indicator_table(sheet, row, session, viewer.commune_id, plan, t, today, year)
    xlsx.print_setup(sheet, row)
    return ExportFile(
        xlsx.workbook_bytes(workbook), f"chi-tieu-{_slug(plan)}-{today:%Y-%m-%d}.xlsx", XLSX_MIME
    )


def tasks_xlsx(
    session: Session,
    viewer: Viewer,
    t: Translator,
    today: dt.date,
    base_url: str,
    plan_slug: str | None = None,
) -> ExportFile:
    """The task list with status, progress, red flags and links to the evidence."""
    assert viewer.commune_id is not None
    plan, _plans = choose_plan(session, viewer.commune_id, plan_slug)
    views = visible_tasks(session, viewer, plan, today) if plan else []
    views.sort(key=lambda v: (v.task.position, v.task.id or 0))
    units = unit_names(session, viewer.commune_id)
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    ids = [v.id for v in views]
    if ids:
        for item in session.exec(
            select(Evidence)
            .where(col(Evidence.task_id).in_(ids))
            .order_by(col(Evidence.uploaded_at))
        ):
            evidence[item.task_id].append(item)
    commune = session.get(Commune, viewer.commune_id)
    workbook = xlsx.xl().Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Nhiệm vụ"
    headers = list(TASK_HEADERS)
    row = appendix_heading(sheet, commune, TITLE_TASKS, plan, t, today, len(headers))
    xlsx.header(sheet, row, headers, TASK_WIDTHS)
    xlsx.print_setup(sheet, row)
    base = base_url.rstrip("/")
    numbers = group_numbers(
        list(
            session.exec(
                select(Task.group)
                .where(Task.plan_id == (plan.id if plan else -1), col(Task.active).is_(True))
                .order_by(col(Task.position), col(Task.id))
            )
        )
    )
    group: str | None = None
    for view in views:
        task, status = view.task, view.status
        if task.group and task.group != group:
            number, text = numbers[task.group]
            row += 1
            xlsx.table_row(sheet, row, [number, text, *[""] * (len(headers) - 2)], bold=True)
        group = task.group
        # Every piece through the dashboard (outside links behind its warning page), each
        # marked with its review, so rejected evidence is never read as proof.
        links = [f"{base}/evidence/{e.id}" for e in evidence[view.id]]
        lines = [
            evidence_line(t, e, link) for e, link in zip(evidence[view.id], links, strict=True)
        ]
        reasons = (
            "; ".join(t.gettext(REASON_LABELS[r]) for r in status.reasons) if status.red else ""
        )
        row += 1
        xlsx.table_row(
            sheet,
            row,
            [
                task.number,
                task.text,
                units.get(task.lead_unit_id or 0, ""),
                "; ".join(units[u] for u in task.coordinating if u in units),
                task.output or "",
                task.deadline_raw or "",
                status.due,
                t.gettext(STATUS_LABELS[status.status]),
                status.percent / 100,
                t.gettext(RED_YES, reasons=reasons) if reasons else "",
                "\n".join(lines),
                "",  # for the standing office's remarks
            ],
        )
        if status.due is not None:
            sheet.cell(row=row, column=7).number_format = "DD/MM/YYYY"
        sheet.cell(row=row, column=9).number_format = RATE_FORMAT
        if links:
            sheet.cell(row=row, column=11).hyperlink = links[0]
    return ExportFile(
        xlsx.workbook_bytes(workbook), f"nhiem-vu-{_slug(plan)}-{today:%Y-%m-%d}.xlsx", XLSX_MIME
    )


def _tally_table(session: Session, viewer: Viewer) -> dict[tuple[dt.date, str], dict[str, int]]:
    """The figures the viewer may see: {(month, village name): {code: value}}, in month
    then village order."""
    assert viewer.commune_id is not None
    villages = select(Village.id).where(Village.commune_id == viewer.commune_id)
    scope = village_scope(viewer)
    if not scope.everything:
        villages = villages.where(col(Village.id).in_(scope.ids or {-1}))
    rows = session.exec(
        select(col(Tally.period), col(Village.name), col(Tally.code), col(Tally.value))
        .join(Village, col(Village.id) == Tally.village_id)
        .where(col(Tally.village_id).in_(villages))
        .order_by(col(Tally.period), col(Village.position), col(Village.id))
    ).all()
    table: dict[tuple[dt.date, str], dict[str, int]] = {}
    for period, name, code, value in rows:
        table.setdefault((period, name), {})[code] = value
    return table


def tallies_csv(session: Session, viewer: Viewer, t: Translator, today: dt.date) -> ExportFile:
    """Every village's reported figures by month, for Excel on a Vietnamese locale.

    UTF-8 with a byte-order mark (so Excel reads the accents), cells separated by ";"
    (the list separator of a Vietnamese Windows, where "," is the decimal comma),
    Vietnamese column labels, and the month as two whole numbers (year, month): Excel
    turns "2026-08" or "08/2026" into a date, never 2026 and 8. No cell starts like a
    formula.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    writer.writerow(
        [
            TALLY_CSV_YEAR,
            TALLY_CSV_MONTH,
            TALLY_XLSX_VILLAGE,
            *(csv_text(t.gettext(CODE_LABELS[code])) for code in CODE_NAMES),
        ]
    )
    for (period, name), values in _tally_table(session, viewer).items():
        writer.writerow(
            [
                period.year,
                period.month,
                csv_text(name),
                *(values.get(code, "") for code in CODE_NAMES),
            ]
        )
    data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    return ExportFile(data, f"so-lieu-{today:%Y-%m-%d}.csv", CSV_MIME)


def tallies_xlsx(session: Session, viewer: Viewer, t: Translator, today: dt.date) -> ExportFile:
    """The same figures as a workbook with Vietnamese column labels.

    The month is a text cell ("08/2026"), so Excel does not turn it into a date, and a
    village name is a text cell, never a formula; the figures are numbers.
    """
    workbook = xlsx.xl().Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Số liệu"
    headers = [
        TALLY_XLSX_MONTH,
        TALLY_XLSX_VILLAGE,
        *(t.gettext(CODE_LABELS[code]) for code in CODE_NAMES),
    ]
    row = xlsx.title(
        sheet, [t.gettext(TITLE_TALLIES), t.gettext(AS_OF, date=t.date(today))], len(headers)
    )
    xlsx.header(sheet, row, headers, [10, 24, *[14] * len(CODE_NAMES)])
    xlsx.print_setup(sheet, row)
    for (period, name), values in _tally_table(session, viewer).items():
        row += 1
        xlsx.table_row(
            sheet,
            row,
            [f"{period:%m/%Y}", name, *(values.get(code) for code in CODE_NAMES)],
        )
    return ExportFile(xlsx.workbook_bytes(workbook), f"so-lieu-{today:%Y-%m-%d}.xlsx", XLSX_MIME)


PROVINCE_HEADERS = (
    "TT",
    "Xã",
    "Kế hoạch",
    "Số nhiệm vụ",
    "Nhiệm vụ cảnh báo đỏ",
    "Nhiệm vụ quá hạn",
    "Minh chứng chờ duyệt",
    "Thôn đã báo cáo",
    "Tổng số thôn",
    *CODE_NAMES,
)
SUMMARY_SHEET = "Tổng hợp"
SHEET_NAME_MAX = 31  # Excel's limit
SHEET_NAME_BAD = str.maketrans({ch: " " for ch in "[]:*?/\\'"})


def sheet_name(name: str, taken: set[str]) -> str:
    """A name Excel accepts (31 characters, none of []:*?/\\), unique in the workbook."""
    base = " ".join(name.translate(SHEET_NAME_BAD).split())[:SHEET_NAME_MAX] or "Xã"
    chosen, number = base, 1
    while chosen.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        chosen = base[: SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(chosen.casefold())
    return chosen


def province_xlsx(session: Session, viewer: Viewer, t: Translator, today: dt.date) -> ExportFile:
    """The province workbook: a summary sheet of every commune, then one sheet per commune
    (its indicator appendix and this month's figures), in the province page's order."""
    assert viewer.reads_province and viewer.province is not None
    rows, _ranks = ranked(commune_rows(session, viewer.province, today), PLAN)
    workbook = xlsx.xl().Workbook()
    summary = workbook.active
    assert summary is not None
    taken = {SUMMARY_SHEET.casefold()}
    summary.title = SUMMARY_SHEET
    headers = list(PROVINCE_HEADERS)
    row = xlsx.title(
        summary,
        [
            t.gettext(TITLE_PROVINCE, province=viewer.province),
            t.gettext(AS_OF, date=t.date(today)),
        ],
        len(headers),
    )
    xlsx.header(summary, row, headers, [6, 28, 40, 10, 12, 12, 12, 12, 10, *[9] * len(CODE_NAMES)])
    xlsx.print_setup(summary, row)
    for number, commune in enumerate(rows, 1):
        row += 1
        xlsx.table_row(
            summary,
            row,
            [
                number,
                commune.name,
                commune.plan_title,
                commune.tasks,
                commune.red,
                commune.overdue,
                commune.pending,
                commune.completeness.reported,
                commune.completeness.total,
                *(commune.rates[code] for code in CODE_NAMES),
            ],
        )
        for offset in range(len(CODE_NAMES)):
            summary.cell(row=row, column=10 + offset).number_format = "0.0%"
    year = today.year
    for commune in rows:
        sheet = workbook.create_sheet(sheet_name(commune.name, taken))
        plan, _plans = choose_plan(session, commune.commune_id, None)
        row = appendix_heading(
            sheet,
            session.get(Commune, commune.commune_id),
            TITLE_INDICATORS,
            plan,
            t,
            today,
            len(INDICATOR_HEADERS),
        )
        header_row = row
        row = _indicator_table(sheet, row, session, commune.commune_id, plan, t, today, year)
        xlsx.print_setup(sheet, header_row)
        row += 2
        xlsx.table_row(sheet, row, [t.gettext(FIGURES_THIS_MONTH), "", ""], bold=True)
        row += 1
        xlsx.table_row(sheet, row, ["", "Tỉ lệ", "Mục tiêu"], bold=True)
        for code in CODE_NAMES:
            row += 1
            xlsx.table_row(sheet, row, [code, commune.rates[code], commune.targets[code]])
            for column in (2, 3):
                sheet.cell(row=row, column=column).number_format = "0.0%"
        row += 1
        xlsx.table_row(
            sheet,
            row,
            [
                t.gettext(
                    VILLAGES_REPORTED,
                    done=commune.completeness.reported,
                    total=commune.completeness.total,
                ),
                "",
                "",
            ],
        )
    slug = "-".join("".join(ch if ch.isalnum() else " " for ch in fold(viewer.province)).split())
    return ExportFile(
        xlsx.workbook_bytes(workbook), f"tinh-{slug or 'x'}-{today:%Y-%m-%d}.xlsx", XLSX_MIME
    )


def export(
    kind: str,
    session: Session,
    viewer: Viewer,
    t: Translator,
    today: dt.date,
    base_url: str,
    plan_slug: str | None = None,
    year: int | None = None,
) -> ExportFile:
    """One of the three report files by name (indicators | tasks | tallies); ``year``:
    the year the indicator appendix reports on (default: this year)."""
    if kind == "indicators":
        return indicators_xlsx(session, viewer, t, today, plan_slug, year)
    if kind == "tasks":
        return tasks_xlsx(session, viewer, t, today, base_url, plan_slug)
    if kind == "tallies":
        return tallies_csv(session, viewer, t, today)
    raise ValueError(f"unknown export {kind!r}")
