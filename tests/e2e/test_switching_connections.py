"""A whole connection switched off and on again, without losing it.

A shop switched off syncs nothing and keeps what arrives; a warehouse switched off is
given no new orders and its stock is no longer offered to the shops.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import api_token, bearer, wait_until

SKU = "SKU-001"


def switch(stack: Stack, token: str, kind: str, code: str, on: bool) -> httpx.Response:
    return httpx.put(
        f"{stack.api.url}/api/v1/{kind}/{code}/enabled",
        json={"enabled": on},
        headers=bearer(token),
    )


def shown(stack: Stack) -> int:
    return int(stack.shops["SHOP1"].inventory_by_sku()[SKU])


def test_a_shop_switched_off_keeps_its_orders_aside_until_switched_on(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    admin = api_token(stack.hub, "admin")
    assert switch(stack, admin, "shops", "SHOP1", False).json() == {"enabled": False}
    listed = httpx.get(f"{stack.api.url}/api/v1/connections", headers=bearer(admin)).json()
    [shop] = listed["shops"]
    assert shop["enabled"] is False
    assert not any(shop["sync"].values())

    stack.shops["SHOP1"].place_order({"lines": [{"sku": SKU, "quantity": 1}]})
    wait_until(
        lambda: queries.hub_stats(stack.hub)["inbox"].get("ignored", 0) == 1,
        what="the webhook kept and set aside",
    )
    assert queries.order_list(stack.hub) == []

    assert switch(stack, admin, "shops", "SHOP1", True).json() == {"enabled": True}
    wait_until(lambda: len(stack.qimen.orders()) == 1, what="the kept order at the warehouse")


def test_a_warehouse_switched_off_gets_no_new_orders_and_its_stock_is_not_offered(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(warehouses=2, stock_by_node={"WH1": {SKU: 40}, "WH2": {SKU: 7}})
    owner = api_token(stack.hub, "owner")
    wait_until(lambda: shown(stack) == 47, what="both warehouses' stock offered")

    assert switch(stack, owner, "nodes", "WH1", False).status_code == 200
    wait_until(lambda: shown(stack) == 7, what="only WH2's stock offered")
    stack.shops["SHOP1"].place_order({"lines": [{"sku": SKU, "quantity": 1}]})
    wait_until(lambda: len(stack.warehouses["WH2"].orders()) == 1, what="the order sent to WH2")
    assert stack.warehouses["WH1"].orders() == {}

    assert switch(stack, owner, "nodes", "WH1", True).status_code == 200
    wait_until(lambda: shown(stack) == 46, what="WH1's stock offered again")


def test_switching_needs_the_right_to_change_connections(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    refused = switch(stack, api_token(stack.hub, "operator"), "nodes", "WH1", False)
    assert refused.status_code == 403
    assert switch(stack, api_token(stack.hub, "owner"), "nodes", "NOPE", False).status_code == 404
    bad = httpx.put(
        f"{stack.api.url}/api/v1/shops/SHOP1/enabled",
        json={"enabled": "perhaps"},
        headers=bearer(api_token(stack.hub, "owner")),
    )
    assert bad.status_code == 422 and "enabled" in bad.text
