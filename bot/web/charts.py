"""Charts drawn on the server: HTML/CSS bars, SVG sparklines, SVG line and ranking charts.

No JavaScript and nothing fetched from elsewhere: bars are ``<span>`` elements whose
width is a percentage, so they reflow on a phone; the target is a marker line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from bot.text import shorten


@dataclass(frozen=True)
class ChartBar:
    """One bar: a label, a share (0..1, may exceed 1), its printed value, highlighted or not."""

    label: str
    share: float | None
    value_label: str
    highlight: bool = False
    tone: str = ""  # extra CSS class: good | warn | bad


def _pct(share: float) -> str:
    return f"{max(0.0, min(1.0, share)) * 100:.1f}%"


def bar_chart(
    bars: Sequence[ChartBar], caption: str, target: float | None = None, target_label: str = ""
) -> Markup:
    """Horizontal bars with an optional target marker, as accessible HTML."""
    rows = []
    for bar in bars:
        classes = (
            "bar-fill"
            + (" highlight" if bar.highlight else "")
            + (f" {bar.tone}" if bar.tone else "")
        )
        fill = f'<span class="{classes}" style="width:{_pct(bar.share or 0.0)}"></span>'
        marker = (
            f'<span class="bar-target" style="left:{_pct(target)}" title="{escape(target_label)}"></span>'
            if target is not None
            else ""
        )
        rows.append(
            '<div class="bar-row">'
            f'<span class="bar-label">{escape(bar.label)}</span>'
            f'<span class="bar-track">{fill}{marker}</span>'
            f'<span class="bar-value">{escape(bar.value_label)}</span>'
            "</div>"
        )
    legend = (
        f'<p class="chart-legend"><span class="legend-target"></span>{escape(target_label)}</p>'
        if target is not None and target_label
        else ""
    )
    return Markup(
        f'<figure class="chart" aria-label="{escape(caption)}">'
        f"<figcaption>{escape(caption)}</figcaption>{''.join(rows)}{legend}</figure>"
    )


def column_chart(columns: Sequence[tuple[str, float, str]], caption: str) -> Markup:
    """Vertical columns (label, share 0..1, printed value), e.g. completeness by month."""
    cells = []
    for label, share, value in columns:
        tone = "good" if share >= 0.999 else ("warn" if share >= 0.5 else "bad")
        cells.append(
            '<div class="col">'
            f'<span class="col-value">{escape(value)}</span>'
            f'<span class="col-track"><span class="col-fill {tone}" style="height:{_pct(share)}"></span></span>'
            f'<span class="col-label">{escape(label)}</span>'
            "</div>"
        )
    return Markup(
        f'<figure class="chart columns" aria-label="{escape(caption)}">'
        f'<figcaption>{escape(caption)}</figcaption><div class="cols" tabindex="0" role="region" '
        f'aria-label="{escape(caption)}">{"".join(cells)}</div></figure>'
    )


def sparkline(
    values: Sequence[float | None], label: str = "", width: int = 84, height: int = 22
) -> Markup:
    """A small SVG line of a trend (None values are skipped); empty when nothing is known."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return Markup("")
    low = min(v for _, v in known)
    high = max(v for _, v in known)
    span = (high - low) or 1.0
    step = (width - 4) / max(1, len(values) - 1)
    points = " ".join(
        f"{2 + i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in known
    )
    last_x, last_v = known[-1]
    last_y = height - 2 - (last_v - low) / span * (height - 4)
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}"><polyline points="{points}" fill="none" '
        f'stroke="currentColor" stroke-width="1.6"/><circle cx="{2 + last_x * step:.1f}" '
        f'cy="{last_y:.1f}" r="2.2" fill="currentColor"/></svg>'
    )


def meter(share: float, expected: float | None = None, tone: str = "") -> Markup:
    """A thin progress bar (0..1) with an optional marker where the time elapsed says it should be."""
    marker = (
        f'<span class="meter-expected" style="left:{_pct(expected)}"></span>'
        if expected is not None
        else ""
    )
    return Markup(
        f'<span class="meter"><span class="meter-fill {escape(tone)}" style="width:{_pct(share)}"></span>{marker}</span>'
    )


# ------------------------------------------------------------------ SVG charts
#
# Drawn in a fixed coordinate system (``viewBox``) that the browser scales to the width
# of the page, so a 390 px phone shows the whole chart with its texts at about 12 px.
# Colours come from CSS classes (``.svg-*`` in dashboard.css); every chart is an image
# with a <title> and a <desc> for screen readers, and the page shows its figures in a
# table next to it.

SVG_WIDTH = 360
_LEFT, _RIGHT, _TOP, _BOTTOM = 42, 352, 26, 150
_LINE_HEIGHT = 178
_ROW = 26
_LABEL_WIDTH = 112
_VALUE_WIDTH = 48


def _nice_top(values: Sequence[float]) -> float:
    """The top of the value axis: the next tenth above every value (at least 10 %)."""
    high = max(values, default=0.0)
    return max(0.1, -(-round(high * 1000) // 100) / 10)


def _svg(
    chart_id: str, height: int, title: str, desc: str, body: Sequence[str], css: str
) -> Markup:
    return Markup(
        f'<svg class="svg-chart {css}" viewBox="0 0 {SVG_WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>{"".join(body)}</svg>'
    )


def rate_line_svg(
    chart_id: str,
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    desc: str,
    percent: Callable[[float], str],
    target: float | None = None,
    target_label: str = "",
) -> Markup:
    """A rate (0..1) month by month as a line, with the target as a dashed line.

    ``points`` holds every month of the axis (label, rate or None when not known yet);
    the last known rate is printed next to its point.
    """
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    top = _nice_top([v for _, v in known] + ([target] if target is not None else []))
    step = (_RIGHT - _LEFT) / max(1, len(points))

    def x(index: int) -> float:
        return _LEFT + step * (index + 0.5)

    def y(value: float) -> float:
        return _BOTTOM - min(value, top) / top * (_BOTTOM - _TOP)

    body: list[str] = []
    for tick in (0.0, top / 2, top):
        body.append(
            f'<line class="svg-grid" x1="{_LEFT}" x2="{_RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="svg-axis" x="{_LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{escape(percent(tick))}</text>"
        )
    for index, (label, _) in enumerate(points):
        body.append(
            f'<text class="svg-axis" x="{x(index):.1f}" y="{_BOTTOM + 16}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    if target is not None:
        ty = y(target)
        body.append(
            f'<line class="svg-target" x1="{_LEFT}" x2="{_RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="svg-target-label" x="{_RIGHT}" y="{max(12.0, ty - 5):.1f}" '
            f'text-anchor="end">{escape(target_label)}</text>'
        )
    if len(known) > 1:
        line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in known)
        body.append(f'<polyline class="svg-line" points="{line}"/>')
    for i, v in known:
        body.append(f'<circle class="svg-point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.2"/>')
    if known:
        last_index, last = known[-1]
        anchor = "end" if x(last_index) > _RIGHT - 40 else "middle"
        label_y = (
            y(last) + 16 if target is not None and abs(y(last) - y(target)) < 14 else y(last) - 8
        )
        body.append(
            f'<text class="svg-value" x="{x(last_index):.1f}" y="{max(12.0, label_y):.1f}" '
            f'text-anchor="{anchor}">{escape(percent(last))}</text>'
        )
    return _svg(chart_id, _LINE_HEIGHT, title, desc, body, "svg-line-chart")


def ranking_svg(
    chart_id: str,
    rows: Sequence[tuple[str, float | None, bool]],
    *,
    title: str,
    desc: str,
    percent: Callable[[float], str],
    target: float | None = None,
    no_value: str = "–",
) -> Markup:
    """Villages ranked: one horizontal bar per (name, rate or None, highlighted) row."""
    top = _nice_top(
        [r for _, r, _ in rows if r is not None] + ([target] if target is not None else [])
    )
    left, right = _LABEL_WIDTH, SVG_WIDTH - _VALUE_WIDTH
    height = _ROW * len(rows) + 8

    def x(value: float) -> float:
        return left + min(value, top) / top * (right - left)

    body: list[str] = []
    for index, (name, rate, highlight) in enumerate(rows):
        row_y = 4 + index * _ROW
        tone = " svg-highlight" if highlight else ""
        if rate is not None and target is not None and rate >= target:
            tone += " svg-good"
        body.append(
            f'<text class="svg-label{" svg-strong" if highlight else ""}" x="{left - 6}" '
            f'y="{row_y + 17}" text-anchor="end">{escape(shorten(name, 16))}</text>'
            f'<rect class="svg-track" x="{left}" y="{row_y + 5}" width="{right - left}" height="14" rx="3"/>'
        )
        if rate is not None:
            body.append(
                f'<rect class="svg-bar{tone}" x="{left}" y="{row_y + 5}" '
                f'width="{max(0.0, x(rate) - left):.1f}" height="14" rx="3"/>'
            )
        body.append(
            f'<text class="svg-value" x="{SVG_WIDTH - 2}" y="{row_y + 17}" text-anchor="end">'
            f"{escape(percent(rate) if rate is not None else no_value)}</text>"
        )
    if target is not None:
        tx = x(target)
        body.append(
            f'<line class="svg-target" x1="{tx:.1f}" x2="{tx:.1f}" y1="2" y2="{height - 2}"/>'
        )
    return _svg(chart_id, height, title, desc, body, "svg-ranking")
