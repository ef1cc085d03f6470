"""An order a person cancels in the hub is cancelled on the shop too, over the shop's API."""

from __future__ import annotations

from collections.abc import Callable

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.exceptions import resolve_exception
from support import wait_until


def test_a_held_order_cancelled_by_a_person_is_cancelled_on_the_shop(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "NOT-OURS", "quantity": 1, "title": "Mystery"}]})
    wait_until(lambda: bool(queries.exception_list(stack.hub)), what="the order held")
    [held] = queries.exception_list(stack.hub)

    result = resolve_exception(stack.hub, held.id, "cancel", note="buyer changed their mind")

    assert result.outcome == "order cancelled; the shop will be told"
    wait_until(
        lambda: shop.order(int(placed["id"]))["cancelled_at"] is not None,
        what="the order cancelled on the shop",
    )

    def told() -> bool:
        trace = queries.order_view(stack.hub, held.order_id or "").trace
        return any(t.stage == "cancel" and t.message == "cancelled on SHOP1" for t in trace)

    # The shop answers before the hub writes down that it did.
    wait_until(told, what="the cancellation on the shop in the order's trace")
    wait_until(stack.settled, what="the shop's own cancellation webhook handled")
    assert queries.order_view(stack.hub, held.order_id or "").status == "cancelled"
