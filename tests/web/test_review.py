"""Evidence review on the web: the same rule, audit and message to the unit as /duyet."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.services import Services
from db.models import AuditEntry, Evidence, OutboxMessage
from tests.helpers import add_person
from tests.web.conftest import Seeded, SignIn, post_form


def _evidence(services: Services, evidence_id: int) -> Evidence:
    with Session(services.engine) as session:
        row = session.get(Evidence, evidence_id)
        assert row is not None
        return row


def _notices(services: Services, kind: str) -> list[OutboxMessage]:
    with Session(services.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)))


async def test_the_queue_shows_the_image_and_approving_tells_the_unit(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.office)
    page = await client.get("/review")
    html = await page.text()
    assert page.status == 200
    assert f'<img class="thumb" src="/evidence/{seeded.own_evidence}?view=1"' in html
    assert f"/review/{seeded.own_evidence}/approve" in html
    assert f"/review/{seeded.other_evidence}/" not in html  # already rejected: not queued
    image = await client.get(f"/evidence/{seeded.own_evidence}?view=1")
    assert image.status == 200 and image.content_type == "image/png"
    response = await post_form(client, "/review", f"/review/{seeded.own_evidence}/approve")
    assert response.status == 303 and response.headers["Location"] == "/review?done=approved"
    done = await client.get(response.headers["Location"])
    assert "Đã duyệt" in await done.text()
    row = _evidence(services, seeded.own_evidence)
    assert (row.status, row.reviewed_by) == ("approved", seeded.office)
    assert [m.person_id for m in _notices(services, "review_approved")] == [seeded.officer]
    with Session(services.engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "evidence.approve")
        ).one()
    assert entry.actor_id == seeded.office
    audit = await (await client.get("/audit")).text()
    assert "Duyệt minh chứng" in audit or "Đã duyệt minh chứng" in audit


async def test_sending_back_needs_a_reason_in_words(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.office)
    action = f"/review/{seeded.own_evidence}/return"
    response = await post_form(client, "/review", action, {"reason": " x "})
    html = await response.text()
    assert response.status == 400
    assert "Vui lòng viết ít nhất 3 ký tự" in html and 'aria-invalid="true"' in html
    assert _evidence(services, seeded.own_evidence).status == "pending"
    response = await post_form(client, "/review", action, {"reason": "Ảnh mờ, chụp lại biên bản"})
    assert response.status == 303
    row = _evidence(services, seeded.own_evidence)
    assert (row.status, row.review_reason) == ("rejected", "Ảnh mờ, chụp lại biên bản")
    [notice] = [m for m in _notices(services, "review_rejected") if m.person_id == seeded.officer]
    assert "Ảnh mờ, chụp lại biên bản" in str(notice.content)
    # Deciding twice: a readable refusal, nothing changes.
    again = await post_form(client, "/review", f"/review/{seeded.own_evidence}/approve")
    assert again.status == 409
    assert _evidence(services, seeded.own_evidence).status == "rejected"


async def test_a_form_without_its_token_is_refused(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.office)
    response = await client.post(
        f"/review/{seeded.own_evidence}/approve", data={"csrf": "forged"}, allow_redirects=False
    )
    assert response.status == 403 and "tải lại trang" in await response.text()
    assert _evidence(services, seeded.own_evidence).status == "pending"


async def test_only_the_office_and_admins_review(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    leader = add_person(services, name="Chủ Tịch Xã", roles=("commune_leader",))
    for person in (seeded.officer, leader):
        client = await sign_in(person)
        assert (await client.get("/review")).status == 403
        overview = await client.get("/")
        token_page = await overview.text()
        assert 'href="/review"' not in token_page
        response = await post_form(client, "/", f"/review/{seeded.own_evidence}/approve")
        assert response.status == 403
    assert _evidence(services, seeded.own_evidence).status == "pending"
    with Session(services.engine) as session:
        assert not session.exec(
            select(AuditEntry).where(col(AuditEntry.action).like("evidence.a%"))
        ).all()
