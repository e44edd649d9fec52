"""A progress chart as PNG bytes: one bar per village, the target as a line.

Rendered with matplotlib's Agg backend (no display), small and readable on a phone.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass

BAR = "#2f6fb0"
HIGHLIGHT = "#e07b00"
TARGET = "#c62828"


@dataclass(frozen=True)
class Bar:
    label: str
    rate: float | None  # 0..1
    highlight: bool = False


def progress_chart(
    title: str,
    bars: Sequence[Bar],
    target: float | None = None,
    target_label: str = "",
    axis_label: str = "%",
) -> bytes:
    """Draw horizontal bars (percent) per village with an optional target line; return PNG."""
    return _render(title, tuple(bars), target, target_label, axis_label)


@functools.lru_cache(maxsize=128)
def _render(
    title: str, bars: tuple[Bar, ...], target: float | None, target_label: str, axis_label: str
) -> bytes:
    # Cached by content: the chart only changes when a village's figures do, while
    # many people ask for the same one (a deadline-day /tiendo storm).
    # Imported here: matplotlib costs ~0.3 s and tens of MB, and most processes never draw.
    from matplotlib.figure import Figure

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
    axes.set_xlabel(axis_label, fontsize=9)
    if target is not None:
        axes.axvline(target * 100, color=TARGET, linestyle="--", linewidth=1.6, label=target_label)
        if target_label:
            axes.legend(loc="lower right", fontsize=8, frameon=False)
    axes.set_title(title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
