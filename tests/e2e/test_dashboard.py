"""The dashboard counts what a person would count by hand, within their shops."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from orderhub.config import HubConfig, SkuConfig
from orderhub.demo_stack import Stack
from orderhub.domain.access import Principal, Role
from orderhub.services import queries
from orderhub.services.dashboard import connection_health, dashboard, percentile, push_latency
from orderhub.services.hub import Hub
from orderhub.services.inventory import adjust_stock
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from orderhub.store.calls import CallTally
from support import api_token, bearer, offline_shop, offline_warehouse, wait_until


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
        lambda: (
            [o.status for o in queries.order_list(stack.hub)].count("pushed") == 4
            and len(queries.order_list(stack.hub)) == 5
        ),
        what="five orders in, four at the warehouse (the hub has heard it accepted them)",
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


def test_the_dashboard_shows_each_shops_time_to_the_warehouse_and_each_connections_health(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=2, ship_delay=3600.0)
    for _ in range(4):
        stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    stack.shops["SHOP2"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: len(stack.qimen.orders()) == 5, what="five orders at the warehouse")

    board = httpx.get(
        f"{stack.api.url}/api/v1/dashboard", headers=bearer(api_token(stack.hub, "viewer"))
    ).json()

    # The same figures counted by hand from each order's arrival and its push.
    with stack.hub.reader() as uow:
        rows = uow.stock.conn.execute(
            select(t.orders.c.shop, t.orders.c.created_at, t.trace_events.c.at)
            .join(t.trace_events, t.trace_events.c.order_id == t.orders.c.id)
            .where(t.trace_events.c.stage == "push", t.trace_events.c.status == "ok")
        ).all()
    by_shop: dict[str, list[float]] = {}
    for shop, arrived, pushed in rows:
        by_shop.setdefault(shop, []).append((pushed - arrived).total_seconds())
    shop1 = sorted(by_shop["SHOP1"])
    latency = {x["shop"]: x for x in board["push_latency"]}
    assert latency["SHOP1"]["hour"]["orders"] == 4
    assert latency["SHOP1"]["hour"]["p50"] == pytest.approx(shop1[1])  # 2nd of 4
    assert latency["SHOP1"]["hour"]["p95"] == pytest.approx(shop1[3])
    assert latency["SHOP1"]["day"] == latency["SHOP1"]["hour"]
    assert latency["SHOP2"]["hour"]["orders"] == 1
    health = {x["connector"]: x for x in board["connections"]}
    assert health["WH1"]["kind"] == "node"
    assert (health["WH1"]["calls_hour"], health["WH1"]["failed_hour"]) == (5, 0)
    assert health["WH1"]["error_rate"] == 0
    assert health["WH1"]["last_success"] is not None
    assert health["WH1"]["rate_limited"] is False

    scoped = httpx.get(
        f"{stack.api.url}/api/v1/dashboard",
        headers=bearer(api_token(stack.hub, "operator", shops=("SHOP2",))),
    ).json()
    assert [x["shop"] for x in scoped["push_latency"]] == ["SHOP2"]
    assert {x["connector"]: x["calls_hour"] for x in scoped["connections"]} == {"WH1": 1}


def test_latency_percentiles_and_error_rates_from_known_figures() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    hour_ago = now - timedelta(hours=1)
    delays = [
        ("S1", now - timedelta(seconds=s + 60), now - timedelta(seconds=60)) for s in range(1, 21)
    ] + [("S1", now - timedelta(hours=3, seconds=100), now - timedelta(hours=3))]
    (row,) = push_latency(delays, hour_ago)
    assert row["hour"] == {"orders": 20, "p50": 10.0, "p95": 19.0}
    assert row["day"] == {"orders": 21, "p50": 11.0, "p95": 20.0}
    assert percentile([], 0.5) is None

    day = CallTally("S1", 10, 4, now, now - timedelta(minutes=5), "shop API was rate limited")
    hour = CallTally("S1", 8, 2, now, now - timedelta(minutes=5), "shop API was rate limited")
    shown = connection_health(day, hour, "shop")
    assert (shown["error_rate"], shown["failed_day"], shown["rate_limited"]) == (0.25, 4, True)
    quiet = connection_health(day, None, "shop")
    assert (quiet["error_rate"], quiet["rate_limited"]) == (None, False)


def test_the_dashboard_lists_the_stock_at_or_below_its_low_stock_threshold(hub: Hub) -> None:
    apply_config(
        hub,
        HubConfig(
            shops=[offline_shop("S1", nodes=["WH1", "WH2"])],
            nodes=[offline_warehouse("WH1"), offline_warehouse("WH2")],
            skus=[
                SkuConfig(sku="TEA", low_stock_threshold=5),
                SkuConfig(sku="CUP", low_stock_threshold=2),
                SkuConfig(sku="POT"),  # no threshold: never low
            ],
        ),
    )
    adjust_stock(hub, "WH1", "TEA", 4, reason="count")
    adjust_stock(hub, "WH2", "TEA", 50, reason="count")
    adjust_stock(hub, "WH1", "CUP", 3, reason="count")
    adjust_stock(hub, "WH1", "POT", 1, reason="count")
    with hub.uow() as uow:
        assert uow.stock.reserve("WH1", "CUP", 1, order_id="o-1")  # 2 left: at the threshold
        uow.commit()

    board = dashboard(hub, Principal("li", Role.VIEWER))

    assert board["low_stock"] == [
        {"node": "WH1", "sku": "CUP", "available": 2, "threshold": 2},
        {"node": "WH1", "sku": "TEA", "available": 4, "threshold": 5},
    ]
