"""Evidence links to other sites open through a warning page; exports say what was rejected."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlmodel import Session

from bot.plans.evidence import link_evidence
from bot.plans.store import record_evidence, task_view
from bot.services import Services
from db.models import Evidence
from tests.web.conftest import Seeded, SignIn

OUTSIDE = "https://drive.example.com/file/d/abc?x=1&y=2"


def add_link(services: Services, task_id: int, person_id: int, url: str = OUTSIDE) -> int:
    today = services.clock().astimezone(services.tz).date()
    with Session(services.engine) as session:
        view = task_view(session, task_id, today)
        row = record_evidence(
            session,
            view,
            link_evidence(url, "Biên bản họp"),
            person_id=person_id,
            today=today,
            now=services.clock(),
        )
        session.commit()
        assert row.id is not None
        return row.id


async def test_an_outside_link_opens_through_a_warning(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    evidence_id = add_link(services, seeded.own_task, seeded.officer)
    client = await sign_in(seeded.office)
    task = await (await client.get(f"/tasks/{seeded.own_task}")).text()
    assert f'href="/evidence/{evidence_id}"' in task
    assert 'href="https://drive.example.com' not in task  # never a direct link
    response = await client.get(f"/evidence/{evidence_id}", allow_redirects=False)
    assert response.status == 200  # a page, not a redirect
    html = await response.text()
    assert "Bạn sắp mở một trang ngoài" in html and "drive.example.com" in html
    assert 'href="https://drive.example.com/file/d/abc?x=1&amp;y=2"' in html
    assert 'rel="noopener noreferrer"' in html
    assert f'href="/tasks/{seeded.own_task}"' in html  # the way back


async def test_a_link_that_is_not_http_is_never_a_link(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    evidence_id = add_link(services, seeded.own_task, seeded.officer)
    with Session(services.engine) as session:
        row = session.get(Evidence, evidence_id)
        assert row is not None
        row.url = "javascript:alert(document.cookie)"
        session.add(row)
        session.commit()
    client = await sign_in(seeded.office)
    response = await client.get(f"/evidence/{evidence_id}", allow_redirects=False)
    assert response.status == 404 and "javascript:" not in await response.text()


def _evidence_cells(data: bytes) -> dict[str, str]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == "TT")
    return {str(row[0]): str(row[10] or "") for row in rows[start + 1 :]}


async def test_exports_mark_each_piece_of_evidence(
    seeded: Seeded, sign_in: SignIn, services: Services
) -> None:
    link_id = add_link(services, seeded.own_task, seeded.officer)
    client = await sign_in(seeded.office)
    cells = _evidence_cells(await (await client.get("/export/tasks.xlsx")).read())
    rejected = next(c for c in cells.values() if f"/evidence/{seeded.other_evidence}" in c)
    assert re.search(
        rf"Bị trả lại \(Thiếu chữ ký\): http://\S+/evidence/{seeded.other_evidence}", rejected
    )
    own = next(c for c in cells.values() if f"/evidence/{seeded.own_evidence}" in c)
    assert "Chờ duyệt: http://" in own and f"/evidence/{link_id}" in own
    assert OUTSIDE not in own  # the outside address goes through the warning page too
