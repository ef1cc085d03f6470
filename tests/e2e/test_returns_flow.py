"""Returns and refunds over real HTTP: Shopify refund → hub → Qimen return → stock back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from orderhub.demo_stack import Stack
from orderhub.domain.order import Order
from orderhub.services import queries
from orderhub.services.returns import create_exchange, list_returns
from orderhub.store import tables as t
from support import api_token, bearer, shopify_signature, wait_until


def hub_order(stack: Stack, shop: str, channel_order_id: Any) -> Order | None:
    with stack.hub.uow() as uow:
        return uow.orders.by_channel_ref(shop, str(channel_order_id))


def status_of(stack: Stack, channel_order_id: Any) -> str | None:
    order = hub_order(stack, "SHOP1", channel_order_id)
    return None if order is None else str(order.status)


def level(stack: Stack, sku: str) -> tuple[int, int]:
    with stack.hub.uow() as uow:
        found = uow.stock.level("WH1", sku)
    assert found is not None
    return found.on_hand, found.reserved


def ledger_kinds(stack: Stack, sku: str) -> list[tuple[str, int]]:
    """(kind, on-hand change) of every ledger row of a SKU, oldest first."""
    c = t.stock_ledger.c
    with stack.hub.uow() as uow:
        rows = uow.stock.conn.execute(
            select(c.kind, c.on_hand_delta).where(c.sku == sku).order_by(c.id)
        )
        return [(r.kind, int(r.on_hand_delta)) for r in rows]


def post_refund(stack: Stack, payload: dict[str, Any], delivery: str) -> None:
    shop = stack.shops["SHOP1"]
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{stack.api.url}/webhooks/SHOP1",
        content=body,
        headers={
            "X-Shopify-Topic": "refunds/create",
            "X-Shopify-Hmac-Sha256": shopify_signature(shop.client_secret, body),
            "X-Shopify-Shop-Domain": shop.shop_domain,
            "X-Shopify-Webhook-Id": delivery,
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200


def test_a_returned_line_comes_back_good_units_restocked_defective_written_off(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    stack.qimen.configure(return_delay=0.05)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-002", "quantity": 1}]}
    )
    wait_until(lambda: status_of(stack, placed["id"]) == "completed", what="the order to complete")
    assert level(stack, "SKU-001") == (98, 0)
    stack.qimen.mark_defective("SKU-001", 1)

    refund = shop.refund_order(
        placed["id"], lines=[("SKU-001", 2)], restock_type="return", note="too small"
    )

    wait_until(
        lambda: status_of(stack, placed["id"]) == "returned",
        what=lambda: f"the order to be returned: {status_of(stack, placed['id'])}",
    )
    order = hub_order(stack, "SHOP1", placed["id"])
    assert order is not None
    [record] = list_returns(stack.hub, order_id=order.id)
    assert record.status == "closed" and record.refund_status == "refunded"
    assert record.channel_refund_id == str(refund["id"])
    assert record.dispatch_id == order.id and record.node == "WH1"
    assert [(i.sku, i.quantity) for i in record.lines] == [("SKU-001", 2)]
    at_wms = stack.qimen.return_order(record.id)
    assert at_wms["status"] == "FULFILLED"
    assert (at_wms["lines"][0]["good_qty"], at_wms["lines"][0]["defective_qty"]) == (1, 1)
    assert record.restock == {"restocked": {"SKU-001": 1}, "written_off": {"SKU-001": 1}}
    # One good unit back on hand; the defective one booked in and written off again.
    assert level(stack, "SKU-001") == (99, 0)
    assert level(stack, "SKU-002") == (99, 0)
    assert ledger_kinds(stack, "SKU-001")[-3:] == [
        ("return", 1),
        ("return_defective", 1),
        ("write_off", -1),
    ]
    assert queries.ledger_mismatches(stack.hub) == []
    stages = [(t.stage, t.status) for t in queries.order_view(stack.hub, order.id).trace]
    assert ("refund", "ok") in stages and stages[-1] == ("return", "ok")
    wait_until(
        lambda: shop.inventory_by_sku()["SKU-001"] == 99,
        what=lambda: f"the restocked unit shown on the shop: {shop.inventory_by_sku()}",
    )

    # The same refund again, a shipping-only refund, and an unreadable one.
    post_refund(stack, shop.refunds_of(placed["id"])[0], "again-1")
    post_refund(
        stack,
        {
            "id": 990001,
            "order_id": placed["id"],
            "refund_line_items": [],
            "transactions": [{"kind": "refund", "amount": "5.00"}],
        },
        "ship-1",
    )
    post_refund(stack, {"id": 990002, "refund_line_items": "garbled"}, "bad-1")
    wait_until(stack.settled, what="the hub to settle")
    assert len(list_returns(stack.hub)) == 1
    assert stack.qimen.stats()["distinct_returns"] == 1
    order = hub_order(stack, "SHOP1", placed["id"])
    assert order is not None and order.status == "returned" and order.channel_status == "paid"
    trace = queries.order_view(stack.hub, order.id).trace
    assert any("refund 990001: 5.00" in t.message and "no goods" in t.message for t in trace)
    [bad] = [e for e in queries.exception_list(stack.hub) if e.code == "malformed_refund"]
    assert bad.inbox_id
    assert level(stack, "SKU-001") == (99, 0)


def test_an_exchange_takes_a_line_back_and_sends_another_sku_as_a_free_order(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    stack.qimen.configure(return_delay=0.05)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: status_of(stack, placed["id"]) == "completed", what="the order to complete")
    order = hub_order(stack, "SHOP1", placed["id"])
    assert order is not None

    exchange = create_exchange(stack.hub, order.id, [(order.lines[0].line_id, 1)], "SKU-002")

    assert exchange.channel_order_id == f"{placed['id']}-EX1"
    wait_until(
        lambda: status_of(stack, placed["id"]) == "returned",
        what=lambda: f"the old goods back: {status_of(stack, placed['id'])}",
    )
    new = hub_order(stack, "SHOP1", exchange.channel_order_id)
    assert new is not None and new.totals.grand_total == 0
    assert new.receiver == order.receiver
    assert [(line.sku, line.quantity) for line in new.lines] == [("SKU-002", 1)]
    wait_until(
        lambda: stack.qimen.order(exchange.order_id)["status"] == "DELIVERED",
        what="the replacement to leave the warehouse",
    )
    assert level(stack, "SKU-001") == (100, 0)  # shipped one, got it back in good order
    # The warehouse's confirmation reaches the hub a moment after the parcel leaves.
    wait_until(lambda: level(stack, "SKU-002") == (99, 0), what="the replacement consumed")
    assert queries.ledger_mismatches(stack.hub) == []
    # The shop never saw the replacement: it completes without a call to the shop.
    wait_until(
        lambda: status_of(stack, exchange.channel_order_id) == "completed",
        what="the replacement to complete",
    )
    assert shop.fulfillments_for(placed["id"]) and len(shop.fulfillments_for(placed["id"])) == 1


def test_a_refund_before_shipment_cancels_the_order_and_releases_its_stock(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(ship_delay=30)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 2}]})
    wait_until(lambda: status_of(stack, placed["id"]) == "pushed", what="the order at the WMS")
    assert level(stack, "SKU-003") == (100, 2)

    shop.refund_order(placed["id"], restock_type="cancel", note="changed my mind")

    wait_until(
        lambda: status_of(stack, placed["id"]) == "cancelled",
        what=lambda: f"the order cancelled: {status_of(stack, placed['id'])}",
    )
    order = hub_order(stack, "SHOP1", placed["id"])
    assert order is not None
    assert stack.qimen.order(order.id)["status"] == "CANCELED"
    assert level(stack, "SKU-003") == (100, 0)
    assert list_returns(stack.hub) == []
    assert queries.ledger_mismatches(stack.hub) == []


def test_a_person_limited_to_one_shop_sees_only_that_shops_returns(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=2)
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: status_of(stack, placed["id"]) == "completed", what="the order to complete")
    order = hub_order(stack, "SHOP1", placed["id"])
    assert order is not None
    exchange = create_exchange(stack.hub, order.id, [(order.lines[0].line_id, 1)], "SKU-002")
    [return_id] = exchange.return_ids

    def seen(token: str, path: str = "/api/v1/returns") -> httpx.Response:
        return httpx.get(f"{stack.api.url}{path}", headers=bearer(token))

    theirs = api_token(stack.hub, "operator", shops=("SHOP1",))
    other = api_token(stack.hub, "operator", shops=("SHOP2",))
    assert [r["id"] for r in seen(theirs).json()] == [return_id]
    assert seen(theirs, f"/api/v1/returns/{return_id}").json()["shop"] == "SHOP1"
    assert seen(other).json() == []
    assert seen(other, f"/api/v1/returns/{return_id}").status_code == 404
