from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderhub.domain.errors import IllegalTransition
from orderhub.domain.order import TRANSITIONS, OrderStatus
from support import make_order


def test_an_order_moves_from_received_to_completed_along_allowed_moves() -> None:
    order = make_order()
    for status in (
        OrderStatus.RESERVED,
        OrderStatus.PUSHED,
        OrderStatus.SHIPPED,
        OrderStatus.COMPLETED,
    ):
        order.move_to(status)
    assert order.status is OrderStatus.COMPLETED


def test_a_shipped_order_cannot_be_cancelled_silently() -> None:
    order = make_order(status=OrderStatus.SHIPPED)
    with pytest.raises(IllegalTransition) as caught:
        order.move_to(OrderStatus.CANCELLED)
    assert caught.value.from_ == OrderStatus.SHIPPED
    assert order.status is OrderStatus.SHIPPED


def test_a_cancelled_order_has_no_way_out() -> None:
    assert TRANSITIONS[OrderStatus.CANCELLED] == frozenset()


def test_a_completed_order_can_only_come_back_as_a_return() -> None:
    assert TRANSITIONS[OrderStatus.COMPLETED] == frozenset({OrderStatus.RETURNING})
    assert TRANSITIONS[OrderStatus.RETURNING] == frozenset(
        {OrderStatus.RETURNING, OrderStatus.RETURNED}
    )


def test_a_split_order_ships_part_by_part() -> None:
    order = make_order(status=OrderStatus.PUSHED)
    order.move_to(OrderStatus.PARTIALLY_SHIPPED)
    order.move_to(OrderStatus.PARTIALLY_SHIPPED)
    order.move_to(OrderStatus.SHIPPED)
    with pytest.raises(IllegalTransition):
        order.move_to(OrderStatus.PARTIALLY_SHIPPED)


@given(st.lists(st.sampled_from(list(OrderStatus)), max_size=20))
def test_no_sequence_of_moves_reaches_an_undefined_state(moves: list[OrderStatus]) -> None:
    order = make_order()
    for target in moves:
        before = order.status
        try:
            order.move_to(target)
        except IllegalTransition:
            assert order.status is before
        assert order.status in TRANSITIONS
