"""The dashboard counts what a person would count by hand, within their shops."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import api_token, bearer, wait_until


def test_the_dashboard_counts_todays_orders_exceptions_and_arrivals_per_shop(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=2, ship_delay=3600.0)
    first, second = stack.shops["SHOP1"], stack.shops["SHOP2"]
    first.seed_product({"title": "Blue mug", "skus": ["MUG-BLUE"], "price": "19.90"})
    for _ in range(3):
        first.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    first.place_order({"lines": [{"sku": "MUG-BLUE", "quantity": 1}]})
    second.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(
        lambda: len(queries.order_list(stack.hub)) == 5 and len(stack.qimen.orders()) == 4,
        what="five orders in, four at the warehouse",
    )

    everything = httpx.get(
        f"{stack.api.url}/api/v1/dashboard", headers=bearer(api_token(stack.hub, "viewer"))
    ).json()
    assert everything["orders_today"] == {"SHOP1": {"pushed": 3, "held": 1}, "SHOP2": {"pushed": 1}}
    assert sum(everything["orders_per_minute"]) == 5
    assert everything["open_exceptions"] == {"unknown_sku": 1}
    assert everything["late"] == {"at_risk": 0, "overdue": 0}

    scoped = httpx.get(
        f"{stack.api.url}/api/v1/dashboard",
        headers=bearer(api_token(stack.hub, "operator", shops=("SHOP2",))),
    ).json()
    assert scoped["orders_today"] == {"SHOP2": {"pushed": 1}}
    assert sum(scoped["orders_per_minute"]) == 1
    assert scoped["open_exceptions"] == {}
