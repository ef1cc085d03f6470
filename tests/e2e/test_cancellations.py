"""A shop cancels an order the warehouse already has: intercept it, or learn it is too late."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import wait_until


def hub_order(stack: Stack, channel_order_id: Any) -> Any:
    with stack.hub.reader() as uow:
        return uow.orders.by_channel_ref("SHOP1", str(channel_order_id))


def status_of(stack: Stack, channel_order_id: Any) -> str | None:
    order = hub_order(stack, channel_order_id)
    return None if order is None else str(order.status)


def reserved(stack: Stack, sku: str) -> int:
    with stack.hub.reader() as uow:
        return sum(level.reserved for level in uow.stock.levels(skus=[sku]))


def test_an_order_cancelled_before_it_ships_is_intercepted_and_its_stock_released(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(ship_delay=60)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 2}]})
    wait_until(lambda: status_of(stack, placed["id"]) == "pushed", what="the order at the WMS")
    assert reserved(stack, "SKU-001") == 2

    shop.cancel_order(placed["id"])

    wait_until(lambda: status_of(stack, placed["id"]) == "cancelled", what="the intercept")
    order = hub_order(stack, placed["id"])
    assert stack.qimen.order(order.id)["status"] == "CANCELED"
    assert reserved(stack, "SKU-001") == 0
    stages = [(t.stage, t.status) for t in queries.order_view(stack.hub, order.id).trace]
    assert ("intercept", "ok") in stages
    assert queries.exception_list(stack.hub) == []


def test_an_order_cancelled_after_it_left_the_warehouse_raises_an_intercept_exception(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(ship_delay=60)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})
    wait_until(lambda: status_of(stack, placed["id"]) == "pushed", what="the order at the WMS")
    order = hub_order(stack, placed["id"])
    # The parcel leaves, but the warehouse's confirmation has not reached the hub yet.
    stack.qimen.configure(callback_url=None)
    assert stack.qimen.ship_now(order.id)["status"] == "DELIVERED"

    shop.cancel_order(placed["id"])

    wait_until(
        lambda: any(e.code == "intercept_failed" for e in queries.exception_list(stack.hub)),
        what="the refused intercept",
    )
    [exception] = [e for e in queries.exception_list(stack.hub) if e.code == "intercept_failed"]
    assert "expect a shipment and a return" in exception.message
    assert exception.order_id == order.id
    assert status_of(stack, placed["id"]) == "cancelling"
    assert reserved(stack, "SKU-002") == 1  # the units are gone, not back on sale
