"""The life of a report: every legal move, and every illegal one refused in words."""

from __future__ import annotations

import pytest

from bot.feedback.status import (
    MSG_CLOSED,
    MSG_NO_UNIT,
    MSG_NOT_NOW,
    MSG_NOT_YOURS,
    MSG_REOPEN_ONCE,
    RESIDENT_LABELS,
    STATUS_LABELS,
    Actor,
    Move,
    MoveRefused,
    Status,
    is_open,
    transition,
)
from bot.i18n import translator

# (from, move, actor) -> to: the whole table of allowed moves.
ALLOWED = {
    (Status.RECEIVED, Move.ASSIGN, Actor.SYSTEM): Status.ASSIGNED,
    **{(s, Move.ASSIGN, Actor.OFFICE): Status.ASSIGNED for s in Status if s is not Status.CLOSED},
    (Status.ASSIGNED, Move.ANSWER, Actor.UNIT): Status.ANSWERED,
    (Status.RETURNED, Move.ANSWER, Actor.UNIT): Status.ANSWERED,
    (Status.ANSWERED, Move.RETURN, Actor.OFFICE): Status.RETURNED,
    (Status.REOPENED, Move.RETURN, Actor.OFFICE): Status.RETURNED,
    (Status.ASSIGNED, Move.HAND_BACK, Actor.UNIT): Status.RECEIVED,
    (Status.RETURNED, Move.HAND_BACK, Actor.UNIT): Status.RECEIVED,
    **{(s, Move.CLOSE, Actor.OFFICE): Status.CLOSED for s in Status if s is not Status.CLOSED},
    (Status.ANSWERED, Move.CLOSE, Actor.RESIDENT): Status.CLOSED,
    (Status.ANSWERED, Move.REOPEN, Actor.RESIDENT): Status.REOPENED,
    (Status.CLOSED, Move.REOPEN, Actor.RESIDENT): Status.REOPENED,
}


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("move", list(Move))
@pytest.mark.parametrize("actor", list(Actor))
def test_every_move_is_allowed_or_refused_as_the_table_says(
    current: Status, move: Move, actor: Actor
) -> None:
    expected = ALLOWED.get((current, move, actor))
    if expected is not None:
        assert transition(current, move, actor, code="PA-0001") == expected
        return
    with pytest.raises(MoveRefused) as refused:
        transition(current, move, actor, code="PA-0001")
    assert refused.value.params == {"code": "PA-0001"}
    assert refused.value.message_id in {MSG_CLOSED, MSG_NOT_NOW, MSG_NOT_YOURS}


def test_a_report_reopens_only_once() -> None:
    assert transition(Status.ANSWERED, Move.REOPEN, Actor.RESIDENT, reopened=0) == Status.REOPENED
    with pytest.raises(MoveRefused) as refused:
        transition(Status.ANSWERED, Move.REOPEN, Actor.RESIDENT, code="PA-0002", reopened=1)
    assert refused.value.message_id == MSG_REOPEN_ONCE


def test_an_answer_goes_back_only_to_a_unit() -> None:
    with pytest.raises(MoveRefused) as refused:
        transition(Status.REOPENED, Move.RETURN, Actor.OFFICE, code="PA-0003", has_unit=False)
    assert refused.value.message_id == MSG_NO_UNIT


def test_refusals_read_in_vietnamese() -> None:
    with pytest.raises(MoveRefused) as refused:
        transition(Status.CLOSED, Move.ANSWER, Actor.UNIT, code="PA-0427")
    assert refused.value.render(translator("vi")) == "Phản ánh PA-0427 đã đóng."
    with pytest.raises(MoveRefused) as refused:
        transition(Status.ASSIGNED, Move.ANSWER, Actor.RESIDENT, code="PA-0427")
    assert refused.value.render(translator("vi")) == (
        "Bạn không thể làm việc này với phản ánh PA-0427."
    )


def test_labels_cover_every_status_and_hide_returns_from_residents() -> None:
    assert set(STATUS_LABELS) == set(Status) == set(RESIDENT_LABELS)
    assert RESIDENT_LABELS[Status.RETURNED] == RESIDENT_LABELS[Status.ASSIGNED]
    assert [s for s in Status if not is_open(s)] == [Status.CLOSED]
