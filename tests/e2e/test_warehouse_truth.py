"""The warehouse is the truth: the hub's stock follows its counts and its reports, over
real HTTP against the Qimen emulator, with every shop's listed stock following the hub.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.demo_stack import QIMEN_CUSTOMER, Stack
from orderhub.domain.order import Order
from orderhub.sandbox.qimen.callbacks import to_xml, wire_time
from orderhub.sandbox.server import serve_in_thread
from orderhub.services.inventory import Difference, adjust_stock, apply_stocktake, reconcile_node
from orderhub.store import tables as t
from support import api_token, bearer, wait_until

Json = dict[str, Any]

RECONCILED = "reconciled with the warehouse's count"


@dataclass
class AlertInbox:
    """The seller's own endpoint for alerts, and what it has received."""

    url: str
    received: list[Json] = field(default_factory=list)


@pytest.fixture
def alert_inbox() -> Iterator[AlertInbox]:
    inbox = AlertInbox(url="")

    async def receive(request: Request) -> Response:
        inbox.received.append(await request.json())
        return JSONResponse({"ok": True})

    server = serve_in_thread(Starlette(routes=[Route("/alerts", receive, methods=["POST"])]))
    inbox.url = f"{server.url}/alerts"
    yield inbox
    server.stop()


def levels(stack: Stack) -> dict[str, tuple[int, int]]:
    """SKU → (on hand, reserved) at WH1, as the hub has it."""
    with stack.hub.uow() as uow:
        return {x.sku: (x.on_hand, x.reserved) for x in uow.stock.levels(nodes=["WH1"])}


def ledger(stack: Stack, sku: str) -> list[tuple[str, int, str]]:
    """(kind, on-hand change, reason) of every ledger row of a SKU at WH1, oldest first."""
    c = t.stock_ledger.c
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(c.kind, c.on_hand_delta, c.reason)
            .where(c.tenant == stack.hub.db.tenant, c.node == "WH1", c.sku == sku)
            .order_by(c.id)
        ).all()
    return [(kind, delta, reason) for kind, delta, reason in rows]


def no_mismatches(stack: Stack) -> bool:
    with stack.hub.uow() as uow:
        return uow.stock.ledger_mismatches() == []


def wait_listed(stack: Stack, expected: dict[str, int]) -> None:
    """Wait until every shop lists exactly these figures for these SKUs."""

    def shown() -> dict[str, dict[str, int]]:
        return {
            code: {sku: shop.inventory_by_sku().get(sku, -1) for sku in expected}
            for code, shop in stack.shops.items()
        }

    wait_until(
        lambda: all(row == expected for row in shown().values()),
        timeout=15,
        what=lambda: f"shops to list {expected}, they list {shown()}",
    )


def place(stack: Stack, sku: str, quantity: int, *, shop: str = "SHOP1") -> Json:
    return stack.shops[shop].place_order({"lines": [{"sku": sku, "quantity": quantity}]})


def hub_order(stack: Stack, placed: Json, *, shop: str = "SHOP1") -> Order | None:
    with stack.hub.uow() as uow:
        return uow.orders.by_channel_ref(shop, str(placed["id"]))


def wait_for_status(stack: Stack, placed: Json, status: str) -> Order:
    wait_until(
        lambda: (o := hub_order(stack, placed)) is not None and o.status == status,
        timeout=20,
        what=lambda: (
            f"order {placed['id']} to be {status}, it is "
            f"{getattr(hub_order(stack, placed), 'status', 'missing')}"
        ),
    )
    order = hub_order(stack, placed)
    assert order is not None
    return order


def lock_at_the_warehouse(stack: Stack, code: str, sku: str, quantity: int) -> None:
    """An outbound order the warehouse took from another system: stock locked, not shipped."""
    stack.qimen.configure(ship_delay=3600)
    stack.qimen.state.create(
        {
            "deliveryOrder": {
                "deliveryOrderCode": code,
                "orderType": "JYCK",
                "warehouseCode": "WH1",
                "receiverInfo": {
                    "name": "李四",
                    "mobile": "13900001111",
                    "province": "上海",
                    "city": "上海市",
                    "detailAddress": "浦东新区世纪大道 1 号",
                },
            },
            "orderLines": [{"orderLineNo": "1", "itemCode": sku, "planQty": str(quantity)}],
        }
    )
    stack.qimen.configure(ship_delay=0.05)


# reconciliation


def test_reconciling_sets_the_hub_to_the_warehouse_count_alerts_and_every_shop_follows(
    make_stack: Callable[..., Stack], alert_inbox: AlertInbox
) -> None:
    stack = make_stack(
        settings={"alert_webhook_url": alert_inbox.url, "stock_difference_alert": 5},
        shops=2,
        stock=100,
    )
    wait_listed(stack, {"SKU-001": 100, "SKU-002": 100, "SKU-003": 100})
    # Counted at the warehouse: 12 SKU-001 missing, 3 SKU-002 more; 4 SKU-003 are locked
    # for another system's order, which the warehouse still counts as on hand.
    stack.qimen.set_stock({"SKU-001": 88, "SKU-002": 103})
    lock_at_the_warehouse(stack, "B2B-0001", "SKU-003", 4)

    differences = reconcile_node(stack.hub, "WH1")

    assert differences == [
        Difference("WH1", "SKU-001", hub=100, counted=88),
        Difference("WH1", "SKU-002", hub=100, counted=103),
    ]
    assert levels(stack) == {"SKU-001": (88, 0), "SKU-002": (103, 0), "SKU-003": (100, 0)}
    assert ledger(stack, "SKU-001")[-1] == ("stocktake", -12, RECONCILED)
    assert ledger(stack, "SKU-002")[-1] == ("stocktake", 3, RECONCILED)
    assert len(ledger(stack, "SKU-003")) == 1
    assert no_mismatches(stack)
    wait_listed(stack, {"SKU-001": 88, "SKU-002": 103, "SKU-003": 100})
    wait_until(lambda: len(alert_inbox.received) >= 1, timeout=10, what="the alert to arrive")
    # A second run finds nothing to correct and alerts nothing more.
    assert reconcile_node(stack.hub, "WH1") == []
    wait_until(stack.settled, timeout=10, what="the hub to settle")
    [alert] = alert_inbox.received
    assert (alert["kind"], alert["key"]) == ("stock_difference", "stock_difference:WH1:SKU-001")
    assert alert["data"] == {"node": "WH1", "sku": "SKU-001", "delta": -12}
    assert alert["message"] == "SKU-001 at WH1: hub had 100, warehouse counts 88 (-12)"


def test_skus_with_orders_in_flight_are_left_for_the_next_reconciliation(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(ship_delay=3600)
    placed = place(stack, "SKU-001", 2)
    order = wait_for_status(stack, placed, "pushed")
    wait_until(lambda: order.id in stack.qimen.orders(), what="the warehouse to have the order")
    stack.qimen.set_stock({"SKU-001": 60, "SKU-002": 95})

    first = reconcile_node(stack.hub, "WH1")

    # SKU-001 is moving (2 units on their way out), so only SKU-002 is corrected.
    assert [(d.sku, d.counted) for d in first] == [("SKU-002", 95)]
    assert levels(stack)["SKU-001"] == (100, 2)
    assert levels(stack)["SKU-002"] == (95, 0)

    stack.qimen.ship_now(order.id)
    wait_for_status(stack, placed, "completed")
    assert levels(stack)["SKU-001"] == (98, 0)
    second = reconcile_node(stack.hub, "WH1")

    assert second == [Difference("WH1", "SKU-001", hub=98, counted=58)]
    assert levels(stack)["SKU-001"] == (58, 0)
    assert no_mismatches(stack)
    wait_listed(stack, {"SKU-001": 58, "SKU-002": 95, "SKU-003": 100})


# stock reports from the warehouse


def test_a_stock_change_reported_by_the_warehouse_moves_the_hub_and_every_shop(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=2, stock=100)
    wait_listed(stack, {"SKU-001": 100, "SKU-002": 100})

    stack.qimen.stock_change({"SKU-001": -3})
    stack.qimen.stock_change({"SKU-002": 4})

    wait_until(
        lambda: levels(stack)["SKU-001"] == (97, 0) and levels(stack)["SKU-002"] == (104, 0),
        timeout=10,
        what=lambda: f"the hub to apply the reports, it has {levels(stack)}",
    )
    [(kind, delta, reason)] = ledger(stack, "SKU-001")[1:]
    assert (kind, delta) == ("warehouse_report", -3) and reason.startswith("QTCK ")
    [(kind, delta, reason)] = ledger(stack, "SKU-002")[1:]
    assert (kind, delta) == ("warehouse_report", 4) and reason.startswith("QTRK ")
    assert no_mismatches(stack)
    wait_listed(stack, {"SKU-001": 97, "SKU-002": 104, "SKU-003": 100})
    wait_until(
        lambda: {d["status"] for d in stack.qimen.callbacks()} == {"sent"},
        timeout=5,
        what=lambda: f"the warehouse to see both reports taken, it has {stack.qimen.callbacks()}",
    )


def test_a_reported_change_for_a_shipment_the_hub_already_counted_is_not_counted_twice(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(stock=100)
    placed = place(stack, "SKU-001", 2)
    order = wait_for_status(stack, placed, "completed")
    assert levels(stack)["SKU-001"] == (98, 0)

    # Some WMSs report every movement, the shipment (JYCK) as well as a write-off.
    now = wire_time(datetime.now(UTC), stack.qimen.zone)
    report = {
        "items": [
            {
                "ownerCode": QIMEN_CUSTOMER,
                "warehouseCode": "WH1",
                "orderCode": order.id,
                "orderType": "JYCK",
                "outBizCode": "SC-JY-1",
                "itemCode": "SKU-001",
                "inventoryType": "ZP",
                "quantity": -2,
                "changeTime": now,
            },
            {
                "ownerCode": QIMEN_CUSTOMER,
                "warehouseCode": "WH1",
                "orderCode": "ADJ-77",
                "orderType": "QTCK",
                "outBizCode": "SC-QT-1",
                "itemCode": "SKU-002",
                "inventoryType": "ZP",
                "quantity": -1,
                "changeTime": now,
            },
        ]
    }
    stack.qimen.state.add_delivery(
        method="stockchange.report", key="SC-JY-1", ref=order.id, body=to_xml(report)
    )
    stack.qimen.worker.wake()

    wait_until(
        lambda: levels(stack)["SKU-002"] == (99, 0),
        timeout=10,
        what=lambda: f"the write-off to be applied, the hub has {levels(stack)}",
    )
    assert levels(stack)["SKU-001"] == (98, 0)
    assert [kind for kind, _, _ in ledger(stack, "SKU-001")] == [
        "stocktake",
        "reservation",
        "shipment",
    ]
    assert no_mismatches(stack)
    wait_listed(stack, {"SKU-001": 98, "SKU-002": 99})


# orders waiting for stock


def test_orders_held_out_of_stock_ship_once_a_stocktake_or_an_adjustment_brings_stock(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(stock=1, skus=2)
    counted = place(stack, "SKU-001", 3)
    received = place(stack, "SKU-002", 2)
    for placed in (counted, received):
        order = wait_for_status(stack, placed, "held")
        with stack.hub.uow() as uow:
            assert [e.code for e in uow.orders.exceptions_of(order.id)] == ["out_of_stock"]
    stack.qimen.set_stock({"SKU-001": 6, "SKU-002": 5})

    apply_stocktake(stack.hub, "WH1", {"SKU-001": 6}, reason="stocktake after a recount")
    adjust_stock(stack.hub, "WH1", "SKU-002", 4, reason="received PO-77")

    for placed in (counted, received):
        order = wait_for_status(stack, placed, "completed")
        [fulfillment] = stack.shops["SHOP1"].fulfillments_for(placed["id"])
        assert fulfillment["tracking_number"] == order.fulfillments[0].tracking_no
        with stack.hub.uow() as uow:
            assert all(e.resolved for e in uow.orders.exceptions_of(order.id))
    assert levels(stack) == {"SKU-001": (3, 0), "SKU-002": (3, 0)}
    assert no_mismatches(stack)
    wait_listed(stack, {"SKU-001": 3, "SKU-002": 3})


# the API


def test_the_api_explains_a_listings_figure_with_safety_stock_and_sync_ratio(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(ship_delay=3600)
    placed = place(stack, "SKU-001", 3)
    wait_for_status(stack, placed, "pushed")
    with stack.hub.uow() as uow:
        shop = uow.catalog.shop("SHOP1")
    body = {
        "code": "SHOP1",
        "platform": shop.platform,
        "nodes": list(shop.nodes),
        "safety_stock": 5,
        "sync_ratio": "0.6",
        "settings": dict(shop.settings),
        "secrets": dict(shop.secrets),
    }

    with httpx.Client(
        base_url=stack.api.url, timeout=10, headers=bearer(api_token(stack.hub))
    ) as api:
        assert api.put("/api/v1/shops/SHOP1", json=body).status_code == 200
        stock = api.get("/api/v1/stock", params={"sku": "SKU-001"}).json()
        [listing] = [x for x in stock["listings"] if x["shop"] == "SHOP1"]
        explained = api.get(f"/api/v1/listings/{listing['listing_id']}/ats")
        no_reason = api.post(
            "/api/v1/stock/adjustments",
            json={"node": "WH1", "sku": "SKU-001", "delta": 10, "reason": ""},
        )
        adjusted = api.post(
            "/api/v1/stock/adjustments",
            json={"node": "WH1", "sku": "SKU-001", "delta": 10, "reason": "found in returns"},
        )
        after = api.get(f"/api/v1/listings/{listing['listing_id']}/ats").json()

    assert explained.status_code == 200
    view = explained.json()
    assert (view["sku"], view["channel_sku"], view["shop"]) == ("SKU-001", "SKU-001", "SHOP1")
    assert view["available_to_sell"] == 55
    steps = [(s["step"], s["value"]) for s in view["steps"]]
    assert steps[:2] == [
        ("SKU-001: 100 on hand − 3 reserved", 97),
        ("SKU-001: less safety stock 5 at each node", 92),
    ]
    [(ratio_step, value)] = steps[2:]
    ratio = re.fullmatch(r"× sync ratio ([0-9.]+), rounded down", ratio_step)
    assert ratio is not None and Decimal(ratio.group(1)) == Decimal("0.6"), ratio_step
    assert value == 55  # 92 × 0.6 = 55.2
    assert no_reason.status_code == 422
    assert adjusted.status_code == 200
    assert after["available_to_sell"] == 61  # (110 − 3 − 5) × 0.6 = 61.2
    assert levels(stack)["SKU-001"] == (110, 3)
    wait_listed(stack, {"SKU-001": 61})
