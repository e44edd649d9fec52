"""Invite codes: hashed, single-use, expiring, rate-limited guesses."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from bot.admin.invites import (
    MAX_FAILURES,
    InviteError,
    check_rate_limit,
    create_invite,
    deep_link,
    hash_code,
    normalise,
    parse_duration,
    record_failure,
    redeem,
)
from bot.core.people import roles_of
from bot.services import Services
from db.models import ChatIdentity, Commune, InviteCode, Person
from tests.conftest import START
from tests.factories import add_person, make_invite, village_id


def _team_invite(session: Session, services: Services, **extra: object) -> str:
    return make_invite(session, "team", now=START, village=village_id(services, "Xóm 3"), **extra)


def test_code_is_stored_hashed_and_single_use(services: Services) -> None:
    first = add_person(services, name="A")
    second = add_person(services, name="B")
    with Session(services.engine) as session:
        code = _team_invite(session, services)
        stored = session.exec(select(InviteCode)).one()
        assert stored.code_hash == hash_code(code) and code not in stored.code_hash
        person = session.get(Person, first)
        assert person is not None
        result = redeem(session, code.lower()[:4] + " " + code[4:], person, START)
        assert result.role == "team" and person.village_id == village_id(services, "Xóm 3")
        assert "team" in roles_of(session, first)
        other = session.get(Person, second)
        assert other is not None
        with pytest.raises(InviteError) as used:
            redeem(session, code, other, START)
        assert used.value.kind == "used"


def test_expired_and_unknown_codes(services: Services) -> None:
    person_id = add_person(services)
    with Session(services.engine) as session:
        code = _team_invite(session, services, ttl=dt.timedelta(hours=1))
        person = session.get(Person, person_id)
        assert person is not None
        with pytest.raises(InviteError) as expired:
            redeem(session, code, person, START + dt.timedelta(hours=1))
        assert expired.value.kind == "expired"
        with pytest.raises(InviteError) as unknown:
            redeem(session, "AAAAAAAA", person, START)
        assert unknown.value.kind == "unknown"


def test_rate_limit_window(services: Services) -> None:
    with Session(services.engine) as session:
        for _ in range(MAX_FAILURES):
            check_rate_limit(session, "telegram", "42", START)
            record_failure(session, "telegram", "42", START)
        with pytest.raises(InviteError) as limited:
            check_rate_limit(session, "telegram", "42", START + dt.timedelta(minutes=14))
        assert limited.value.kind == "rate_limited" and limited.value.params == {"minutes": 15}
        check_rate_limit(session, "telegram", "43", START)  # another chat is not affected
        check_rate_limit(session, "telegram", "42", START + dt.timedelta(minutes=16))


def test_preregistered_person_takes_over_the_chat(services: Services) -> None:
    registered = add_person(services, name="Phạm Thị Dung")
    newcomer = add_person(services, name="Dung", chat_id="777")
    with Session(services.engine) as session:
        code = make_invite(session, "office", now=START, person_id=registered)
        identity = session.exec(select(ChatIdentity).where(ChatIdentity.chat_id == "777")).one()
        person = session.get(Person, newcomer)
        assert person is not None
        result = redeem(session, code, person, START, identity)
        assert result.person.id == registered and identity.person_id == registered
        assert "office" in roles_of(session, registered)


def test_helpers() -> None:
    assert normalise(" j_k7qm-3xpa ") == "K7QM3XPA"
    assert deep_link("@tocns_bot", "k7qm3xpa") == "https://t.me/tocns_bot?start=j_K7QM3XPA"
    assert parse_duration("7d") == dt.timedelta(days=7)
    assert parse_duration("12h") == dt.timedelta(hours=12)
    assert parse_duration("30m") == dt.timedelta(minutes=30)
    assert parse_duration("2w") == dt.timedelta(weeks=2)
    with pytest.raises(InviteError):
        parse_duration("soon")


def test_roles_needing_a_place(services: Services) -> None:
    with Session(services.engine) as session, pytest.raises(ValueError):
        make_invite(session, "team", now=START)


def test_the_invite_decides_the_commune(services: Services) -> None:
    """A newcomer placed in the first commune joins the invite's; staff of A cannot join B."""
    newcomer = add_person(services, name="Người mới", roles=("resident",), village="Xóm 3")
    officer = add_person(services, name="Cán bộ xã A", roles=("office",))
    with Session(services.engine) as session:
        other = Commune(slug="xa-khac", name="Xã Khác")
        session.add(other)
        session.flush()
        assert other.id is not None
        first = create_invite(session, commune_id=other.id, role="admin", now=START)
        second = create_invite(session, commune_id=other.id, role="admin", now=START)
        person = session.get(Person, newcomer)
        assert person is not None and person.commune_id != other.id
        redeem(session, first, person, START)
        assert person.commune_id == other.id and person.village_id is None
        assert "admin" in roles_of(session, newcomer)
        staff = session.get(Person, officer)
        assert staff is not None
        home = staff.commune_id
        with pytest.raises(InviteError) as refused:
            redeem(session, second, staff, START)
        assert refused.value.kind == "other_commune"
        assert staff.commune_id == home and "admin" not in roles_of(session, officer)
        unused = session.exec(select(InviteCode).where(InviteCode.code_hash == hash_code(second)))
        assert unused.one().used_at is None
