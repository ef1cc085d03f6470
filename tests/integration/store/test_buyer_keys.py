"""A buyer key names the person at the door: the same receiver written differently gets
the same key, in one unit of work or another; a receiver changed gets its own."""

from __future__ import annotations

from orderhub.services.hub import Hub
from support import make_order


def test_the_same_receiver_written_differently_has_one_key_and_a_changed_one_another(
    hub: Hub,
) -> None:
    order = make_order(channel_order_id="9001")
    with hub.uow() as uow:
        first = uow.orders.buyer_key(order)
        order.receiver.address1 = f"  {order.receiver.address1.upper()}  "  # spacing, case
        assert uow.orders.buyer_key(order) == first
        order.receiver.address1 = "another street 9"
        moved = uow.orders.buyer_key(order)
        assert moved != first
        assert uow.buyers.key("phone|13800000000") == uow.buyers.key("phone|13800000000")
        assert uow.buyers.key("phone|13800000000") != uow.buyers.key("phone|13800000001")
    with hub.reader() as uow:
        assert uow.orders.buyer_key(order) == moved
        order.receiver.address1 = "ANOTHER  street 9"
        assert uow.orders.buyer_key(order) == moved
