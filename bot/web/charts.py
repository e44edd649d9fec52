"""Charts drawn on the server as plain HTML/CSS bars and tiny SVG sparklines.

No JavaScript and nothing fetched from elsewhere: bars are ``<span>`` elements whose
width is a percentage, so they reflow on a phone; the target is a marker line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup


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
        f'<figcaption>{escape(caption)}</figcaption><div class="cols">{"".join(cells)}</div></figure>'
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
