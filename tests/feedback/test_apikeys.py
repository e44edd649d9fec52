"""Open311 API keys: issued once from the CLI, stored only as hashes, withdrawn at once."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from bot.cli import main
from bot.feedback import open311
from bot.feedback.apikeys import key_hashes
from bot.services import Services
from tests.feedback.conftest import commune


def _cli(services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TOCNS_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("TOCNS_DATA_DIR", str(services.settings.data_dir))

    def run(*argv: str) -> tuple[int, str]:
        code = main(list(argv))
        return code, capsys.readouterr().out

    return run


def hashes(services: Services) -> list[str]:
    with Session(services.engine) as session:
        return key_hashes(commune(session))


def test_a_key_is_printed_once_and_only_its_hash_is_kept(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _cli(services, monkeypatch, capsys)
    code, out = run("feedback", "key", "new", "--json")
    assert code == 0
    answer = json.loads(out)
    key = answer["api_key"]
    assert answer["jurisdiction_id"] == "trung-hoi" and len(key) >= 32
    assert hashes(services) == [open311.hash_api_key(key)]
    open311.check_api_key(key, hashes(services))  # accepted
    code, out = run("feedback", "key", "new")
    assert code == 0 and "Khóa API Open311 mới của Xã Trung Hội" in out
    assert len(hashes(services)) == 2
    code, out = run("feedback", "key", "revoke")
    assert (code, out.strip()) == (
        0,
        "Đã thu hồi 2 khóa API Open311 của Xã Trung Hội (dữ liệu mẫu).",
    )
    with pytest.raises(open311.Open311Error) as refused:
        open311.check_api_key(key, hashes(services))
    assert refused.value.status == 403
    assert run("feedback", "key", "new", "--commune", "khong-co")[0] == 1
