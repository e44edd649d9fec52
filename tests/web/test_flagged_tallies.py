"""Flagged figures on the web: the office accepts them or asks the village to correct."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.dates import month_start
from bot.services import Services
from bot.tallies.submission import NeedsConfirmation, Saved, submit_report
from db.models import AuditEntry, OutboxMessage, Person, Tally, Village
from tests.helpers import add_person
from tests.web.conftest import Seeded, SignIn, post_form

PAGE = "/tallies/flagged"


def _report(services: Services, person_id: int, value: int, confirmed: bool) -> object:
    """Xóm 3's member sends this month's VNeID figure, as in the chat."""
    now = services.clock()
    today = now.astimezone(services.tz).date()
    with Session(services.engine) as session:
        village = session.exec(select(Village).where(Village.name == "Xóm 3")).one()
        actor = session.get(Person, person_id)
        assert actor is not None
        outcome = submit_report(
            session,
            village=village,
            period=month_start(today),
            values={"vneid": value},
            actor=actor,
            now=now,
            today=today,
            confirmed=confirmed,
        )
        session.commit()
    return outcome


def _figure(services: Services) -> Tally:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        village = session.exec(select(Village).where(Village.name == "Xóm 3")).one()
        return session.exec(
            select(Tally).where(
                Tally.village_id == village.id,
                Tally.code == "vneid",
                Tally.period == month_start(today),
            )
        ).one()


def _last_month(services: Services) -> int:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        village = session.exec(select(Village).where(Village.name == "Xóm 3")).one()
        return (
            session.exec(
                select(Tally.value)
                .where(
                    Tally.village_id == village.id,
                    Tally.code == "vneid",
                    col(Tally.period) < month_start(today),
                )
                .order_by(col(Tally.period).desc())
            ).first()
            or 0
        )


def _flag_a_drop(services: Services, seeded: Seeded) -> Tally:
    assert isinstance(_report(services, seeded.member, 3, confirmed=False), NeedsConfirmation)
    assert isinstance(_report(services, seeded.member, 3, confirmed=True), Saved)
    row = _figure(services)
    assert row.flagged and row.value == 3
    return row


def _actions(services: Services, action: str) -> list[AuditEntry]:
    with Session(services.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def _asks(services: Services) -> list[OutboxMessage]:
    with Session(services.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "tally_fix")))


async def test_the_office_sees_the_drop_and_accepts_it(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    row = _flag_a_drop(services, seeded)
    previous = _last_month(services)
    client = await sign_in(seeded.office)
    home = await (await client.get("/")).text()
    assert f'href="{PAGE}"' in home and "Số liệu cần xem" in home
    page = await client.get(PAGE)
    html = await page.text()
    assert page.status == 200
    assert "Xóm 3" in html and "VNeID mức 2" in html
    assert f"{previous} → <strong>3</strong>" in html and "Giảm" in html
    assert "Hoàng Văn Tổ" in html
    month = row.period
    assert f"Tháng {month.month}/{month.year}" in html
    assert "Chấp nhận" in html and "Yêu cầu sửa" in html
    marked = await (await client.get("/villages?code=vneid")).text()
    assert "chờ văn phòng xem lại" in marked and f'href="{PAGE}"' in marked
    response = await post_form(client, PAGE, f"{PAGE}/{row.id}/accept")
    assert response.status == 303 and response.headers["Location"] == f"{PAGE}?done=accepted"
    cleared = await (await client.get("/villages?code=vneid")).text()
    assert "chờ văn phòng xem lại" not in cleared
    done = await (await client.get(response.headers["Location"])).text()
    assert "Đã chấp nhận" in done and f"/tallies/flagged/{row.id}/" not in done
    assert not _figure(services).flagged
    [entry] = _actions(services, "tally.accept")
    assert entry.actor_id == seeded.office and entry.new and entry.new["value"] == 3
    audit = await (await client.get("/audit")).text()
    assert "Chấp nhận số liệu bất thường" in audit
    # Twice: a readable refusal, nothing more is audited.
    again = await post_form(client, PAGE, f"{PAGE}/{row.id}/accept")
    assert again.status == 409
    assert "không còn chờ kiểm tra" in await again.text()
    assert len(_actions(services, "tally.accept")) == 1


async def test_asking_to_correct_tells_the_team_and_a_normal_value_clears_the_flag(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    row = _flag_a_drop(services, seeded)
    previous = _last_month(services)
    client = await sign_in(seeded.office)
    response = await post_form(client, PAGE, f"{PAGE}/{row.id}/ask")
    assert response.status == 303 and response.headers["Location"] == f"{PAGE}?done=asked"
    [message] = _asks(services)
    assert message.person_id == seeded.member
    text = str(message.content)
    assert "Xóm 3" in text and "VNeID mức 2" in text and f"tháng trước là {previous}" in text
    assert "vneid 3" in text
    assert _figure(services).flagged  # still waiting: the village has not answered
    [entry] = _actions(services, "tally.ask_fix")
    assert entry.actor_id == seeded.office and entry.new and entry.new["recipients"] == 1
    html = await (await client.get(PAGE)).text()
    assert "Đã yêu cầu sửa" in html and f"{PAGE}/{row.id}/accept" in html
    # Asking again about the same value sends nothing new, and says so.
    again = await post_form(client, PAGE, f"{PAGE}/{row.id}/ask")
    assert again.headers["Location"] == f"{PAGE}?done=nobody"
    assert len(_asks(services)) == 1
    # The village resends a value that needs no confirmation: it leaves the queue.
    fixed = previous + 10
    assert isinstance(_report(services, seeded.member, fixed, confirmed=False), Saved)
    assert (_figure(services).value, _figure(services).flagged) == (fixed, False)
    html = await (await client.get(PAGE)).text()
    assert f"{PAGE}/{row.id}/" not in html and "Không có số liệu nào chờ kiểm tra" in html


async def test_only_the_office_and_admins_decide(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    row = _flag_a_drop(services, seeded)
    admin = add_person(services, name="Quản Trị", roles=("admin",))
    assert (await (await sign_in(admin)).get(PAGE)).status == 200
    others = {
        "leader": add_person(services, name="Chủ Tịch", roles=("commune_leader",)),
        "unit": seeded.officer,
        "team": seeded.member,
    }
    for who, person in others.items():
        client = await sign_in(person)
        home = await (await client.get("/")).text()
        assert f'href="{PAGE}"' not in home, who
        if who == "team":  # their village's figure is marked, without the office's queue
            own = await (await client.get("/villages?code=vneid")).text()
            assert "chờ văn phòng xem lại" in own and f'href="{PAGE}"' not in own
        assert (await client.get(PAGE)).status == 403, who
        for action in ("accept", "ask"):
            response = await post_form(client, "/", f"{PAGE}/{row.id}/{action}")
            assert response.status == 403, (who, action)
    assert _figure(services).flagged and _asks(services) == []
    assert _actions(services, "tally.accept") == [] and _actions(services, "tally.ask_fix") == []
