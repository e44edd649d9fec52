"""Submitting a village report: one function, one outcome the chat only renders."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.i18n import translator
from bot.services import Services
from bot.tallies.submission import NeedsConfirmation, Refused, Saved, submit_report
from db.models import Person, Tally, Village
from tests.factories import add_person, village_id

TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
MARCH, FEB = dt.date(2026, 3, 1), dt.date(2026, 2, 1)


def test_each_outcome(services: Services) -> None:
    member = add_person(services, roles=("team",), village="Xóm 3")
    t = translator("vi")
    with Session(services.engine) as session:
        village = session.get(Village, village_id(services, "Xóm 3"))
        actor = session.get(Person, member)
        assert village is not None and actor is not None

        def submit(period: dt.date, values: dict[str, int], **flags: bool) -> object:
            return submit_report(
                session,
                village=village,
                period=period,
                values=values,
                actor=actor,
                now=NOW,
                today=TODAY,
                **flags,
            )

        closed = submit(FEB, {"vneid": 10})
        assert isinstance(closed, Refused) and closed.period_closed and closed.kept == {}
        assert [r.render(t) for r in closed.reasons] == [
            "Tháng 2/2026 đã khóa sổ, chỉ quản trị viên mới sửa được. "
            "Bạn hãy gửi số liệu của tháng này."
        ]
        assert isinstance(submit(FEB, {"vneid": 10}, is_admin=True), Saved)

        impossible = submit(MARCH, {"vneid": 10, "cks": 500})
        assert isinstance(impossible, Refused) and not impossible.period_closed
        assert impossible.kept == {"vneid": 10}
        assert "Chữ ký số: 500 lớn hơn" in impossible.reasons[0].render(t)

        drop = submit(MARCH, {"vneid": 5})  # February has 10
        assert isinstance(drop, NeedsConfirmation) and drop.values == {"vneid": 5}
        assert [w.kind for w in drop.warnings] == ["drop"]
        saved = submit(MARCH, {"vneid": 5}, confirmed=True)
        assert isinstance(saved, Saved) and saved.recorded.recorded == {"vneid": 5}
        again = submit(MARCH, {"vneid": 5})
        assert isinstance(again, NeedsConfirmation)  # still lower than February
        same = submit(MARCH, {"vneid": 5}, confirmed=True)
        assert isinstance(same, Saved) and not same.unchanged  # flagged again
        stored = {(row.period, row.code): row.value for row in session.exec(select(Tally))}
        assert stored == {(FEB, "vneid"): 10, (MARCH, "vneid"): 5}
