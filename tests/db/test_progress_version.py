"""Progress version tokens are written at commit, in commune order: no deadlock between
two workers whose transactions touch the same communes in opposite orders."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from bot.services import Services
from db.models import Commune, ProgressVersion, Village
from db.progress_version import pending


def _communes(services: Services, count: int) -> list[int]:
    with Session(services.engine) as session:
        communes = [Commune(slug=f"xa-khoa-{n}", name=f"Xã Khóa {n}") for n in range(count)]
        session.add_all(communes)
        session.commit()
        return [commune.id for commune in communes if commune.id is not None]


def _tokens(services: Services) -> dict[int, str]:
    with Session(services.engine) as session:
        return dict(session.exec(select(ProgressVersion.commune_id, ProgressVersion.token)).all())


def test_tokens_change_at_commit_for_every_commune_a_transaction_touched(
    services: Services,
) -> None:
    first, second = _communes(services, 2)
    before = _tokens(services)
    with Session(services.engine) as session:
        session.add(Village(commune_id=second, name="Thôn Sau"))
        session.flush()
        session.add(Village(commune_id=first, name="Thôn Trước"))
        session.flush()
        assert pending(session), "written at commit, not at each flush"
        session.commit()
        assert not pending(session)
    after = _tokens(services)
    assert after[first] != before.get(first) and after[second] != before.get(second)
    assert after[0] == before[0], "known communes leave the global token alone"


def test_a_rolled_back_transaction_changes_no_token(services: Services) -> None:
    (commune,) = _communes(services, 1)
    before = _tokens(services)
    with Session(services.engine) as session:
        session.add(Village(commune_id=commune, name="Thôn Bỏ"))
        session.flush()
        session.rollback()
        assert not pending(session)
        session.add(Village(commune_id=commune, name="Thôn Giữ"))
        session.commit()  # a later transaction of the same session is counted afresh
    assert _tokens(services)[commune] != before.get(commune)


def test_opposite_orders_in_two_workers_do_not_deadlock(services: Services) -> None:
    """Worker 1 writes commune A then B, worker 2 B then A, interleaved: both commit."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite has one writer at a time)")
    a, b = _communes(services, 2)
    before = _tokens(services)
    first_writes_done = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def worker(order: list[int], tag: str) -> Callable[[], None]:
        def run() -> None:
            try:
                with Session(services.engine) as session:
                    session.add(Village(commune_id=order[0], name=f"Thôn {tag} 1"))
                    session.flush()
                    first_writes_done.wait()  # both hold their first commune's writes
                    session.add(Village(commune_id=order[1], name=f"Thôn {tag} 2"))
                    session.flush()
                    session.commit()
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)

        return run

    threads = [
        threading.Thread(target=worker([a, b], "một")),
        threading.Thread(target=worker([b, a], "hai")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck"
    assert errors == [], f"a worker failed: {errors!r}"
    with Session(services.engine) as session:
        names = set(session.exec(select(Village.name).where(Village.commune_id.in_([a, b]))))  # type: ignore[attr-defined]
    assert names == {"Thôn một 1", "Thôn một 2", "Thôn hai 1", "Thôn hai 2"}
    after = _tokens(services)
    assert after[a] != before.get(a) and after[b] != before.get(b)
