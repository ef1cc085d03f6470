"""A shop's sync switches: orders in, stock out, tracking back, returns in.

Each part can be switched off while the rest runs, and what arrives meanwhile is kept;
switching orders back on takes in what was kept, switching stock on pushes at once.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import api_token, bearer, wait_until


def switch(stack: Stack, token: str, **parts: bool) -> dict[str, bool]:
    answer = httpx.put(
        f"{stack.api.url}/api/v1/shops/SHOP1/sync", json=parts, headers=bearer(token)
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_orders_switched_off_are_kept_and_taken_in_when_switched_on(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    owner = api_token(stack.hub, "owner")
    assert switch(stack, owner, orders=False) == {
        "orders": False,
        "stock": True,
        "tracking": True,
        "returns": True,
    }
    shop = stack.shops["SHOP1"]
    shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(
        lambda: queries.hub_stats(stack.hub)["inbox"].get("ignored", 0) == 1,
        what="the webhook kept and set aside",
    )
    assert queries.order_list(stack.hub) == []

    switch(stack, owner, orders=True)
    wait_until(lambda: len(stack.qimen.orders()) == 1, what="the kept order at the warehouse")
    assert len(queries.order_list(stack.hub)) == 1


def test_tracking_switched_off_completes_the_parcel_without_telling_the_shop(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    switch(stack, api_token(stack.hub, "admin"), tracking=False)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(
        lambda: [r.status for r in queries.order_list(stack.hub)] == ["completed"],
        what="the order shipped and done",
    )
    assert shop.order(placed["id"])["fulfillments"] == []
    [row] = queries.order_list(stack.hub)
    trace = queries.order_view(stack.hub, row.id).trace
    assert any(step.status == "skipped" and "switched off" in step.message for step in trace)


def test_stock_switched_off_is_not_pushed_and_switching_on_pushes_at_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(stock=100)
    shop = stack.shops["SHOP1"]
    wait_until(lambda: shop.inventory_by_sku().get("SKU-001") == 100, what="the first push")
    token = api_token(stack.hub, "admin")
    switch(stack, token, stock=False)
    stack.qimen.stock_change({"SKU-001": -40})
    wait_until(
        lambda: queries.stock_view(stack.hub, sku="SKU-001")["levels"][0]["on_hand"] == 60,
        what="the warehouse's count in the hub",
    )
    wait_until(lambda: not _pushes_waiting(stack), what="the stock push run")
    assert shop.inventory_by_sku()["SKU-001"] == 100
    switch(stack, token, stock=True)
    wait_until(lambda: shop.inventory_by_sku().get("SKU-001") == 60, what="the figure pushed")
    viewer = httpx.put(
        f"{stack.api.url}/api/v1/shops/SHOP1/sync",
        json={"stock": False},
        headers=bearer(api_token(stack.hub, "viewer")),
    )
    assert viewer.status_code == 403


def _pushes_waiting(stack: Stack) -> bool:
    depth, _ = queries.queue_stats(stack.hub)
    return any(
        kind == "stock.push" and status in ("pending", "running") and n
        for (kind, status), n in depth.items()
    )
