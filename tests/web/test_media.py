"""Files shared by link (Zalo): they expire, are cleaned up, and are never cached or sniffed."""

from __future__ import annotations

import datetime as dt

from aiohttp.test_utils import TestClient, TestServer

from bot.core.dispatcher import Dispatcher
from bot.services import Services
from bot.web.media import link_expiry, media_dir, save_media, sweep_media
from bot.web.server import build_web_app
from tests.conftest import make_settings
from tests.helpers import FakeClock

CSV = "Tháng,Thôn/Xóm,vneid\r\n2026-03,Xóm 1,45\r\n".encode()


def test_links_last_24_hours_by_default(services: Services, clock: FakeClock) -> None:
    assert services.settings.media_link_hours == 24
    assert link_expiry(services.settings, clock()) == clock() + dt.timedelta(hours=24)
    short = make_settings(services.settings.data_dir, "sqlite://", media_link_hours=2)
    assert link_expiry(short, clock()) == clock() + dt.timedelta(hours=2)


async def test_a_link_works_until_it_expires(services: Services, clock: FakeClock) -> None:
    directory = media_dir(services.settings)
    name = save_media(directory, CSV, ".csv", expires_at=link_expiry(services.settings, clock()))
    async with TestClient(TestServer(build_web_app(services, Dispatcher(services)))) as client:
        response = await client.get(f"/media/{name}")
        assert response.status == 200 and await response.read() == CSV
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        clock.advance(hours=23, minutes=59)
        assert (await client.get(f"/media/{name}")).status == 200
        clock.advance(minutes=1)
        expired = await client.get(f"/media/{name}")
        assert expired.status == 410 and "hết hạn" in await expired.text()
        assert expired.headers["Cache-Control"] == "no-store"
        assert not (directory / name).exists()  # deleted on the spot
        for bad in ("nothing.csv", "..%2Fsecret", ".hidden", "x.notanumber.csv"):
            assert (await client.get(f"/media/{bad}")).status == 404, bad


def test_sweep_removes_expired_and_unlabelled_files(services: Services, clock: FakeClock) -> None:
    directory = media_dir(services.settings)
    fresh = save_media(directory, CSV, ".csv", expires_at=clock() + dt.timedelta(hours=1))
    old = save_media(directory, CSV, ".png", expires_at=clock() - dt.timedelta(seconds=1))
    (directory / "legacy-name-without-expiry.csv").write_bytes(CSV)  # written by older versions
    assert sweep_media(directory, clock()) == 2
    assert sorted(p.name for p in directory.iterdir()) == [fresh]
    assert not (directory / old).exists()
    assert sweep_media(directory / "missing", clock()) == 0


async def test_the_server_sweeps_when_it_starts(services: Services, clock: FakeClock) -> None:
    directory = media_dir(services.settings)
    old = save_media(directory, CSV, ".csv", expires_at=clock() - dt.timedelta(minutes=1))
    async with TestClient(TestServer(build_web_app(services, Dispatcher(services)))):
        assert not (directory / old).exists()
