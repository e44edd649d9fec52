"""What a chart shows, as plain data: built by handlers, drawn elsewhere.

A handler runs inside a database transaction and must not spend ~100 ms (and
matplotlib's ~50 MB) drawing; it returns a ``ChartSpec`` and the dispatcher has it
drawn after the transaction, in the chart helper process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bar:
    """One village's bar: its label, its rate (0..1, None when unknown), highlighted or not."""

    label: str
    rate: float | None
    highlight: bool = False


@dataclass(frozen=True)
class ChartSpec:
    """Horizontal bars (percent) per village with an optional target line."""

    title: str
    bars: tuple[Bar, ...]
    target: float | None = None
    target_label: str = ""
    axis_label: str = "%"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data, for the helper process."""
        return {
            "title": self.title,
            "bars": [[bar.label, bar.rate, bar.highlight] for bar in self.bars],
            "target": self.target,
            "target_label": self.target_label,
            "axis_label": self.axis_label,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChartSpec:
        """Rebuild a spec sent with ``to_dict``."""
        bars = tuple(
            Bar(str(label), None if rate is None else float(rate), bool(highlight))
            for label, rate, highlight in data["bars"]
        )
        target = data.get("target")
        return cls(
            title=str(data["title"]),
            bars=bars,
            target=None if target is None else float(target),
            target_label=str(data.get("target_label", "")),
            axis_label=str(data.get("axis_label", "%")),
        )
