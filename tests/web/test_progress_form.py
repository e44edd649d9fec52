"""A unit officer reports progress on the web and attaches evidence from a desktop."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.services import Services
from db.models import Evidence, TaskProgress
from tests.web.conftest import PDF, Seeded, SignIn, form_token, post_form


def _progress(services: Services, task_id: int) -> list[TaskProgress]:
    with Session(services.engine) as session:
        return list(
            session.exec(
                select(TaskProgress)
                .where(TaskProgress.task_id == task_id)
                .order_by(col(TaskProgress.id))
            )
        )


def _evidence(services: Services, task_id: int) -> list[Evidence]:
    with Session(services.engine) as session:
        return list(session.exec(select(Evidence).where(Evidence.task_id == task_id)))


async def test_an_officer_reports_progress_with_a_file_and_the_office_sees_it(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.officer)
    page = f"/tasks/{seeded.own_task}"
    html = await (await client.get(page)).text()
    assert f'action="{page}/progress"' in html and 'enctype="multipart/form-data"' in html
    before = len(_evidence(services, seeded.own_task))
    response = await post_form(
        client,
        page,
        f"{page}/progress",
        {
            "percent": "100",
            "note": "Đã tổ chức xong hội nghị",
            "file": ("bien-ban.pdf", PDF, "application/pdf"),
        },
    )
    assert response.status == 303, await response.text()
    shown = await (await client.get(response.headers["Location"])).text()
    assert "Minh chứng chờ cơ quan thường trực duyệt" in shown and "bien-ban.pdf" in shown
    assert _progress(services, seeded.own_task)[-1].percent == 100
    assert _progress(services, seeded.own_task)[-1].note == "Đã tổ chức xong hội nghị"
    evidence = _evidence(services, seeded.own_task)
    assert len(evidence) == before + 1
    new = next(e for e in evidence if e.file_name == "bien-ban.pdf")
    assert new.status == "pending" and new.uploaded_by == seeded.officer
    office = await sign_in(seeded.office)
    queue = await (await office.get("/review")).text()
    assert f"/review/{new.id}/approve" in queue


async def test_progress_mistakes_are_explained(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    client = await sign_in(seeded.officer)
    page = f"/tasks/{seeded.other_task}"
    # A task of another unit: not offered, refused.
    assert (await client.get(page)).status == 403
    page = f"/tasks/{seeded.own_task}"
    count = len(_progress(services, seeded.own_task))
    for data, expected in (
        ({"percent": "120"}, "Nhập một số từ 0 đến 100"),
        ({"percent": "٣"}, "Nhập một số từ 0 đến 100"),
        ({}, "Hãy ghi tiến độ hoặc đính kèm minh chứng"),
        (
            {"percent": "50", "file": ("virus.exe", b"MZ\x90\x00", "application/octet-stream")},
            "Minh chứng chỉ nhận ảnh",
        ),
        ({"percent": "50", "link": "javascript:alert(1)"}, "bắt đầu bằng http://"),
    ):
        response = await post_form(client, page, f"{page}/progress", data)
        html = await response.text()
        assert response.status == 400, data
        assert expected in html, (data, html[html.find("field-error") :][:300])
    assert len(_progress(services, seeded.own_task)) == count


async def test_progress_is_for_the_lead_units_officers_and_checks_csrf(
    services: Services, seeded: Seeded, sign_in: SignIn
) -> None:
    officer = await sign_in(seeded.officer)
    page = f"/tasks/{seeded.own_task}"
    forged = await officer.post(f"{page}/progress", data={"csrf": "bad", "percent": "10"})
    assert forged.status == 403
    office = await sign_in(seeded.office)
    html = await (await office.get(page)).text()
    assert f'action="{page}/progress"' not in html
    response = await office.post(
        f"{page}/progress", data={"csrf": form_token(html), "percent": "10"}
    )
    assert response.status == 403
    member = await sign_in(seeded.member)
    response = await post_form(member, "/", f"{page}/progress", {"percent": "10"})
    assert response.status == 403
    assert [p.percent for p in _progress(services, seeded.own_task)] == [40, 80]
