"""The chart helper process: drawn out of the bot's process, cached, replaced when it dies."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from bot.charts import draw
from bot.charts.draw import BAR, HIGHLIGHT, draw_png, render_png
from bot.charts.process import ChartRenderer
from bot.charts.spec import Bar, ChartSpec

SPEC = ChartSpec(
    "VNeID mức 2: tỷ lệ theo thôn/xóm, tháng 3/2026",
    (Bar("Xóm 1", 0.42), Bar("Xóm 2", None), Bar("Xóm 3", 0.9, highlight=True)),
    0.8,
    "Mục tiêu 2026: 80%",
    "Tỷ lệ (%)",
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


RATES = (0.85, 0.3, 0.62, 0.48, None, 0.81, 0.55, 0.1, 0.7, 0.92)


def commune(highlight: int | None, rates: tuple[float | None, ...] = RATES) -> ChartSpec:
    """Ten villages, the 50 % target line across most of the bars, one village highlighted."""
    bars = tuple(Bar(f"Xóm {i + 1}", rate, i == highlight) for i, rate in enumerate(rates))
    return ChartSpec("VNeID mức 2: tỷ lệ theo thôn/xóm", bars, 0.5, "Mục tiêu 2026: 50%", "%")


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA")).astype(int)


def bar_centres(spec: ChartSpec) -> list[tuple[int, int] | None]:
    """Each bar's centre pixel (row, column), None for an empty bar."""
    boxes = draw._PLAIN[draw.unhighlighted(spec)].boxes
    return [
        ((top + bottom) // 2, (left + right) // 2) if bar.rate else None
        for bar, (top, bottom, left, right) in zip(spec.bars, boxes, strict=True)
    ]


def assert_same_picture(spec: ChartSpec) -> None:
    fast, reference = pixels(render_png(spec)), pixels(draw_png(spec))
    assert fast.shape == reference.shape
    difference = np.abs(fast - reference)
    assert difference.mean() < 0.05
    assert (difference.max(axis=2) <= 8).mean() >= 0.9999
    for bar, centre in zip(spec.bars, bar_centres(spec), strict=True):
        if centre is not None:
            colour = np.array(to_rgb(HIGHLIGHT if bar.highlight else BAR)) * 255
            assert np.abs(fast[centre][:3] - colour).max() <= 2, bar


@pytest.mark.parametrize("highlight", [0, 3, 5, 9, None])  # the target crosses 0, 5 and 9
def test_a_recoloured_chart_is_the_chart_drawn_with_its_highlight(highlight: int | None) -> None:
    assert_same_picture(commune(highlight))


def test_empty_bars_highlighted_are_drawn_as_matplotlib_does() -> None:
    assert_same_picture(commune(4))  # rate None
    assert_same_picture(commune(1, (0.4, 0.0, None)))
    assert_same_picture(ChartSpec("Chưa có số liệu", (Bar("Xóm 1", None, highlight=True),)))


def test_the_legend_over_a_highlighted_bar_stays_readable() -> None:
    spec = ChartSpec("x", (Bar("Xóm 1", 0.2), Bar("Xóm 2", 1.0, True)), 0.5, "Mục tiêu dài 50%")
    assert_same_picture(spec)  # black text antialiased over the bar: ink is a known colour


def test_a_commune_chart_is_drawn_once_for_all_its_villages() -> None:
    rates = (0.11, 0.22, 0.33, 0.44, 0.55, 0.66, 0.77, 0.88, 0.99, 0.5)  # not drawn before
    before = dict(draw.STATS)
    pngs = {render_png(commune(village, rates)) for village in range(10)}
    assert len(pngs) == 10
    assert draw.STATS["drawn"] == before["drawn"] + 1
    assert draw.STATS["recoloured"] == before["recoloured"] + 10
    spec = commune(None, rates)
    assert render_png(spec) is render_png(spec)  # the plain chart: encoded once
    assert draw.STATS["drawn"] == before["drawn"] + 1


def test_spec_survives_the_trip_to_the_helper() -> None:
    assert ChartSpec.from_dict(SPEC.to_dict()) == SPEC


def test_draw_is_a_phone_sized_png() -> None:
    width, height = png_size(render_png(SPEC))
    assert width == 640 and 200 <= height <= 400
    assert png_size(draw_png(SPEC)) == (width, height)


async def test_helper_draws_caches_and_stops_when_idle() -> None:
    renderer = ChartRenderer(idle_seconds=0.5)
    try:
        png = await renderer.render(SPEC)
        assert png is not None and png_size(png) == png_size(render_png(SPEC))
        pid = renderer.helper_pid
        assert pid is not None and pid != os.getpid()
        assert await renderer.render(SPEC) is png  # same chart: from the cache
        other = ChartSpec("Khác", (Bar("Xóm 1", 0.1),))
        assert (await renderer.render(other) or b"").startswith(b"\x89PNG")
        assert renderer.helper_starts == 1 and renderer.helper_pid == pid
        for _ in range(100):  # idle for 0.5 s: the helper is stopped and gone
            await asyncio.sleep(0.1)
            if renderer.helper_pid is None and not alive(pid):
                break
        assert renderer.helper_pid is None and not alive(pid)
    finally:
        await renderer.close()


async def test_a_killed_helper_is_replaced() -> None:
    renderer = ChartRenderer()
    try:
        assert await renderer.render(SPEC) is not None
        pid = renderer.helper_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        png = await renderer.render(ChartSpec("Sau khi hỏng", (Bar("Xóm 1", 0.5),)))
        assert png is not None and png.startswith(b"\x89PNG")
        assert renderer.helper_starts == 2 and renderer.helper_pid not in (None, pid)
    finally:
        await renderer.close()
    assert renderer.helper_pid is None


async def test_a_spec_that_cannot_be_drawn_gives_no_image_and_keeps_the_helper(
    caplog: pytest.LogCaptureFixture,
) -> None:
    renderer = ChartRenderer()
    try:
        broken = ChartSpec("Hỏng", (Bar("Xóm 1", "không phải số"),))  # type: ignore[arg-type]
        assert await renderer.render(broken) is None
        assert "chart not drawn" in caplog.text
        assert await renderer.render(SPEC) is not None
        assert renderer.helper_starts == 1
    finally:
        await renderer.close()


async def test_without_helper_draws_in_a_thread() -> None:
    renderer = ChartRenderer(helper=False)
    png = await renderer.render(SPEC)
    assert png is not None and renderer.helper_starts == 0 and renderer.helper_pid is None


def test_helper_answers_errors_in_band() -> None:
    from bot.charts.process import serve

    answers = io.BytesIO()
    serve(io.BytesIO(b'{"title": "x"}\n' + b"not json\n"), answers)
    first, _, rest = answers.getvalue().partition(b"\n")
    assert first.startswith(b"E ") and b"KeyError" in rest
    assert sys.modules.get("matplotlib") is not None  # serve() draws with matplotlib


async def test_helper_gets_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCNS_TELEGRAM_TOKEN", "123:secret")
    renderer = ChartRenderer()
    try:
        assert await renderer.render(SPEC) is not None
        assert renderer.helper_pid is not None
        environ = Path(f"/proc/{renderer.helper_pid}/environ").read_bytes()
        assert b"TOCNS_" not in environ and b"PYTHONPATH=" in environ
    finally:
        await renderer.close()
