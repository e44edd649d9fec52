"""Draw a ``ChartSpec`` as PNG bytes with matplotlib's Agg backend (no display).

Imported only by the chart helper process (``bot.charts.process``) and by tests:
matplotlib and numpy cost ~50 MB of resident memory, more than the bot itself needs.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from bot.charts.spec import ChartSpec

BAR = "#2f6fb0"
HIGHLIGHT = "#e07b00"
TARGET = "#c62828"


def render_png(spec: ChartSpec) -> bytes:
    """Horizontal bars (percent) per village, small and readable on a phone; PNG bytes."""
    bars = spec.bars
    height = max(2.4, 0.34 * len(bars) + 1.3)
    figure = Figure(figsize=(6.4, height), dpi=100)
    axes = figure.subplots()
    labels = [bar.label for bar in bars][::-1]
    values = [round((bar.rate or 0.0) * 100, 1) for bar in bars][::-1]
    colors = [HIGHLIGHT if bar.highlight else BAR for bar in bars][::-1]
    positions = range(len(bars))
    axes.barh(list(positions), values, color=colors, height=0.7)
    axes.set_yticks(list(positions), labels, fontsize=9)
    for position, value in zip(positions, values, strict=True):
        axes.text(value + 1, position, f"{value:g}".replace(".", ","), va="center", fontsize=8)
    top = max([100.0, *values])
    axes.set_xlim(0, top * 1.08)
    axes.set_xlabel(spec.axis_label, fontsize=9)
    if spec.target is not None:
        axes.axvline(
            spec.target * 100, color=TARGET, linestyle="--", linewidth=1.6, label=spec.target_label
        )
        if spec.target_label:
            axes.legend(loc="lower right", fontsize=8, frameon=False)
    axes.set_title(spec.title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
