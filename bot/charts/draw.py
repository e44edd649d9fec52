"""Draw a ``ChartSpec`` as PNG bytes with matplotlib's Agg backend (no display).

Imported only by the chart helper process (``bot.charts.process``) and by tests:
matplotlib and numpy cost ~50 MB of resident memory, more than the bot itself needs.

``/tiendo`` sends every village the commune's chart with its own bar highlighted, so
one commune means as many different PNGs as villages. Drawing with matplotlib costs
60-90 ms a chart; ``render_png`` draws the commune's chart once without highlight and
recolours the one bar in the pixels, which costs a few milliseconds.
"""

from __future__ import annotations

import dataclasses
import io
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from PIL import Image

from bot.charts.spec import ChartSpec

BAR = "#2f6fb0"
HIGHLIGHT = "#e07b00"
TARGET = "#c62828"
BACKGROUND = "white"
INK = "black"  # text, axes and ticks: matplotlib's default

BASES = 8  # plain (unhighlighted) charts kept: a few communes asking at the same time
MIX_TOLERANCE = 0.03  # 8-bit rounding puts a true 0..1 mixing weight this far outside
PAD = 2  # pixels around a bar's box: its antialiased edges

STATS = {"drawn": 0, "recoloured": 0}

Box = tuple[int, int, int, int]  # rows top:bottom, columns left:right of the pixel array


@dataclasses.dataclass
class _Plain:
    pixels: np.ndarray[Any, np.dtype[np.uint8]]
    boxes: tuple[Box, ...]  # one per bar, in the spec's order
    png: bytes | None = None


_PLAIN: OrderedDict[ChartSpec, _Plain] = OrderedDict()
_PLAIN_LOCK = threading.Lock()


def _rgb255(color: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array(to_rgb(color), dtype=np.float64) * 255.0


# A pixel inside a bar's box is, up to 8-bit rounding, a mix of four known colours with
# weights in 0..1 summing to 1: the bar over the background (antialiased at its edges),
# the dashed target line over both, and ink where the axis or the legend's text crosses
# the bar. Three colours would leave the ink's antialiased edges blue around an orange
# bar (up to 155 units off); with four the system is square: weights = SOLVE @ [r, g, b, 255].
_COLOURS = (BACKGROUND, BAR, TARGET, INK)
_MIX = np.vstack([np.column_stack([_rgb255(color) for color in _COLOURS]), np.full(4, 255.0)])
_SOLVE = np.linalg.pinv(_MIX)
_SHIFT = _rgb255(HIGHLIGHT) - _rgb255(BAR)  # a pixel's BAR share swapped for HIGHLIGHT


def _figure(spec: ChartSpec) -> tuple[Figure, list[Any]]:
    """The chart's figure and its bar patches (bottom bar first: the spec's last bar)."""
    bars = spec.bars
    height = max(2.4, 0.34 * len(bars) + 1.3)
    figure = Figure(figsize=(6.4, height), dpi=100)
    axes = figure.subplots()
    labels = [bar.label for bar in bars][::-1]
    values = [round((bar.rate or 0.0) * 100, 1) for bar in bars][::-1]
    colors = [HIGHLIGHT if bar.highlight else BAR for bar in bars][::-1]
    positions = range(len(bars))
    patches = axes.barh(list(positions), values, color=colors, height=0.7)
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
    return figure, list(patches)


def draw_png(spec: ChartSpec) -> bytes:
    """Horizontal bars (percent) per village, small and readable on a phone; PNG bytes.

    Straight matplotlib, every time: the reference ``render_png`` is tested against.
    """
    figure, _ = _figure(spec)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render_png(spec: ChartSpec) -> bytes:
    """The same picture as ``draw_png``, from the commune's plain chart drawn once."""
    plain = _plain(unhighlighted(spec))
    marked = [box for bar, box in zip(spec.bars, plain.boxes, strict=True) if bar.highlight]
    if not marked:
        if plain.png is None:
            plain.png = _encode(plain.pixels)
        return plain.png
    pixels = plain.pixels.copy()
    for box in marked:
        _recolour(pixels, box)
    STATS["recoloured"] += 1
    return _encode(pixels)


def unhighlighted(spec: ChartSpec) -> ChartSpec:
    """The same chart with no bar highlighted: what every village's copy starts from."""
    bars = tuple(dataclasses.replace(bar, highlight=False) for bar in spec.bars)
    return dataclasses.replace(spec, bars=bars)


def _plain(spec: ChartSpec) -> _Plain:
    """The plain chart's pixels and bar boxes, drawn at most once while in the LRU."""
    with _PLAIN_LOCK:
        plain = _PLAIN.get(spec)
        if plain is not None:
            _PLAIN.move_to_end(spec)
            return plain
    plain = _draw_plain(spec)
    with _PLAIN_LOCK:
        _PLAIN[spec] = plain
        while len(_PLAIN) > BASES:
            _PLAIN.popitem(last=False)
    return plain


def _draw_plain(spec: ChartSpec) -> _Plain:
    figure, patches = _figure(spec)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba()).copy()  # the buffer dies with the figure
    pixels.flags.writeable = False  # shared by every village's copy
    rows, columns = pixels.shape[:2]
    boxes = []
    for patch in patches[::-1]:  # back to the spec's order
        extent = patch.get_window_extent()  # display pixels, y upwards
        top = max(0, int(np.floor(rows - extent.y1)) - PAD)
        bottom = min(rows, int(np.ceil(rows - extent.y0)) + PAD)
        left = max(0, int(np.floor(extent.x0)) - PAD)
        right = min(columns, int(np.ceil(extent.x1)) + PAD)
        boxes.append((top, bottom, left, right))
    STATS["drawn"] += 1
    return _Plain(pixels, tuple(boxes))


def _recolour(pixels: np.ndarray[Any, np.dtype[np.uint8]], box: Box) -> None:
    """Swap BAR for HIGHLIGHT, by its share, in the box's pixels that mix the known colours.

    Anything else (a colour no convex mix of the four gives) stays as drawn.
    """
    top, bottom, left, right = box
    region = pixels[top:bottom, left:right]
    rgb = region[..., :3].reshape(-1, 3).astype(np.float64)
    weights = np.column_stack([rgb, np.full(len(rgb), 255.0)]) @ _SOLVE.T
    mixed = (weights[:, 1] > 0) & (np.abs(weights - 0.5) <= 0.5 + MIX_TOLERANCE).all(axis=1)
    share = np.clip(weights[mixed, 1:2], 0.0, 1.0)
    rgb[mixed] += share * _SHIFT
    region[..., :3] = (
        np.clip(np.rint(rgb), 0, 255).astype(np.uint8).reshape(region.shape[:2] + (3,))
    )


def _encode(pixels: np.ndarray[Any, np.dtype[np.uint8]]) -> bytes:
    """PNG at the fastest compression: a few ms, a chart is sent once and then dropped."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
