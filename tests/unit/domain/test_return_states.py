"""The return vocabulary: which moves are allowed, and how received units are booked."""

from __future__ import annotations

import pytest

from orderhub.domain.errors import IllegalTransition
from orderhub.domain.returns import (
    RETURN_TRANSITIONS,
    Quality,
    ReturnedItem,
    ReturnStatus,
    check_return_move,
    split_received,
)

S = ReturnStatus


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (S.REQUESTED, S.SENT_TO_NODE),
        (S.SENT_TO_NODE, S.RECEIVED),
        (S.RECEIVED, S.CLOSED),
        (S.REQUESTED, S.CANCELLED),
        (S.SENT_TO_NODE, S.CANCELLED),
    ],
)
def test_a_return_moves_along_its_allowed_steps(start: ReturnStatus, end: ReturnStatus) -> None:
    check_return_move("rt1", start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (S.REQUESTED, S.RECEIVED),
        (S.RECEIVED, S.CANCELLED),
        (S.CLOSED, S.REQUESTED),
        (S.CANCELLED, S.SENT_TO_NODE),
        (S.SENT_TO_NODE, S.CLOSED),
    ],
)
def test_any_other_move_is_refused_and_names_the_return(
    start: ReturnStatus, end: ReturnStatus
) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_return_move("rt1", start, end)
    assert "rt1" in str(caught.value)


def test_closed_and_cancelled_returns_are_final() -> None:
    assert RETURN_TRANSITIONS[S.CLOSED] == frozenset()
    assert RETURN_TRANSITIONS[S.CANCELLED] == frozenset()
    assert set(RETURN_TRANSITIONS) == set(ReturnStatus)


def test_good_units_are_restocked_and_defective_ones_written_off_per_sku() -> None:
    good, bad = split_received(
        [
            ReturnedItem("MUG", 1, Quality.GOOD),
            ReturnedItem("MUG", 1, Quality.DEFECTIVE),
            ReturnedItem("MUG", 2, Quality.GOOD),
            ReturnedItem("CUP", 1, Quality.DEFECTIVE),
            ReturnedItem("LID", 0, Quality.GOOD),
        ]
    )
    assert good == {"MUG": 3}
    assert bad == {"MUG": 1, "CUP": 1}
