"""A WooCommerce store end to end: orders pushed by signed webhooks (and caught up by the
pull), routed to the Qimen warehouse, tracking and `completed` back on the store, stock
pushed, refunds turned into returns.

The store is the WooCommerce emulator over real HTTP, delivering its webhooks to the hub's
webhook URL as registered by the hub itself; the warehouse is the Qimen emulator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from orderhub.connectors.base import Rejected
from orderhub.connectors.registry import channel_connector
from orderhub.demo_stack import Stack
from orderhub.sandbox.server import serve_in_thread
from orderhub.sandbox.woocommerce import WooCommerceEmulator
from orderhub.services.sync import pull_orders
from orderhub.store import tables as t
from support import wait_until

SHOP = "WC1"


def woo_stack(
    make_stack: Callable[..., Stack], **options: Any
) -> tuple[Stack, WooCommerceEmulator]:
    stack = make_stack(shops=0, marketplaces=("woocommerce",), **options)
    store: WooCommerceEmulator = stack.marketplaces[SHOP]
    return stack, store


def statuses(stack: Stack) -> dict[str, str]:
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(t.orders.c.channel_order_id, t.orders.c.status).where(t.orders.c.shop == SHOP)
        ).all()
    return {row.channel_order_id: row.status for row in rows}


def status(stack: Stack, order_id: int) -> str | None:
    return statuses(stack).get(str(order_id))


def test_a_paid_order_arrives_by_webhook_and_the_store_shows_its_tracking_and_completed(
    make_stack: Callable[..., Stack],
) -> None:
    stack, store = woo_stack(make_stack)
    order_id = store.place_order({"lines": [{"sku": "SKU-001", "quantity": 2}]})
    wait_until(
        lambda: store.order(order_id)["status"] == "completed",
        what=lambda: f"the order on the store: {store.order(order_id)['status']}",
    )
    [code] = stack.qimen.orders()
    shipped = stack.qimen.order(code)
    order = store.order(order_id)
    [tracking] = order["tracking"]
    assert tracking["tracking_number"] == shipped["tracking_no"]
    assert any(shipped["tracking_no"] in note["note"] for note in order["notes"])
    assert store.stats()["calls"].get("GET /orders", 0) == 0  # the webhook was enough
    wait_until(lambda: status(stack, order_id) == "completed", what="completed in the hub")


def test_an_order_on_hold_waits_until_paid_and_a_cancelled_one_never_ships(
    make_stack: Callable[..., Stack],
) -> None:
    stack, store = woo_stack(make_stack, ship_delay=3600.0)
    waiting = store.place_order({"lines": [{"sku": "SKU-001"}], "status": "on-hold"})
    dropped = store.place_order({"lines": [{"sku": "SKU-002"}], "status": "pending"})
    wait_until(
        lambda: status(stack, waiting) == "held" and status(stack, dropped) == "held",
        what=lambda: f"both held as unpaid: {statuses(stack)}",
    )
    assert stack.qimen.orders() == {}
    store.cancel_order(dropped)
    store.pay_order(waiting)
    wait_until(lambda: len(stack.qimen.orders()) == 1, what="the paid order at the warehouse")
    wait_until(lambda: status(stack, dropped) == "cancelled", what="the cancelled order")
    [sent] = stack.qimen.orders().values()
    assert "SKU-001" in json.dumps(sent) and "SKU-002" not in json.dumps(sent)


def test_stock_is_shown_on_the_store_as_the_hub_counts_it(make_stack: Callable[..., Stack]) -> None:
    stack, store = woo_stack(make_stack, ship_delay=3600.0, stock=30)
    wait_until(
        lambda: store.stock() == {sku: 30 for sku in stack.sku_codes},
        what=lambda: f"stock on the store {store.stock()}",
    )
    store.place_order({"lines": [{"sku": "SKU-002", "quantity": 4}]})
    wait_until(lambda: store.stock()["SKU-002"] == 26, what=lambda: f"stock {store.stock()}")


def test_a_refund_before_shipping_cancels_and_one_after_opens_a_return(
    make_stack: Callable[..., Stack],
) -> None:
    stack, store = woo_stack(make_stack, ship_delay=3600.0)
    early = store.place_order({"lines": [{"sku": "SKU-001"}]})
    late = store.place_order({"lines": [{"sku": "SKU-002", "quantity": 2}, {"sku": "SKU-003"}]})
    wait_until(lambda: len(stack.qimen.orders()) == 2, what="both at the warehouse")
    store.refund(early)  # the whole order, before it left
    late_code = next(c for c, o in stack.qimen.orders().items() if "SKU-002" in json.dumps(o))
    stack.qimen.ship_now(late_code)
    wait_until(lambda: store.order(late)["status"] == "completed", what="the late order shipped")
    store.refund(late, lines=[("SKU-002", 1)], reason="arrived broken")
    wait_until(lambda: status(stack, early) == "cancelled", what=lambda: f"early {statuses(stack)}")
    wait_until(
        lambda: status(stack, late) in ("returning", "returned"),
        what=lambda: f"late {status(stack, late)}",
    )
    wait_until(lambda: len(stack.qimen.return_orders()) == 1, what="the return at the warehouse")
    [back] = stack.qimen.return_orders().values()
    assert "SKU-002" in json.dumps(back) and "SKU-003" not in json.dumps(back)


def test_the_catch_up_pull_brings_every_order_whose_webhook_never_came(
    make_stack: Callable[..., Stack],
) -> None:
    stack, store = woo_stack(make_stack, ship_delay=3600.0)
    for hook in store.webhooks():
        store.state.update_webhook(int(hook["id"]), {"status": "paused"})
    now = datetime.now(UTC)
    rng = random.Random(5)
    placed = [
        store.place_order(
            {"lines": [{"sku": rng.choice(stack.sku_codes)}]},
            at=now - timedelta(minutes=rng.randint(5, 3 * 24 * 60)),
        )
        for _ in range(130)
    ]
    result = pull_orders(stack.hub, SHOP, since=now - timedelta(days=4))
    assert result.fetched >= len(placed) and result.calls > result.windows  # paged
    wait_until(
        lambda: len(statuses(stack)) == len(placed),
        what=lambda: f"{len(statuses(stack))} of {len(placed)} orders in the hub",
    )
    assert set(statuses(stack)) == {str(o) for o in placed}
    assert pull_orders(stack.hub, SHOP).new == 0


def test_two_orders_sharing_a_delivery_id_both_arrive_and_repeats_are_kept_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack, store = woo_stack(make_stack, ship_delay=3600.0)
    store.dispatcher.delivery_id = lambda webhook_id: "d41d8cd98f00b204e9800998ecf8427e"  # type: ignore[method-assign]
    store.faults.update({"duplicate_webhooks": 2})
    first = store.place_order({"lines": [{"sku": "SKU-001"}]})
    second = store.place_order({"lines": [{"sku": "SKU-002"}]})
    wait_until(
        lambda: {str(first), str(second)} <= set(statuses(stack)),
        what=lambda: f"both orders in the hub: {statuses(stack)}",
    )
    store.wait_for_webhooks()
    with stack.hub.db.engine.connect() as conn:
        created = conn.execute(
            select(func.count()).where(t.inbox.c.shop == SHOP, t.inbox.c.topic == "order.created")
        ).scalar_one()
    assert created == 2


def test_a_webhook_with_a_wrong_signature_is_refused_and_nothing_is_kept(
    make_stack: Callable[..., Stack],
) -> None:
    stack, _ = woo_stack(make_stack)
    body = json.dumps({"id": 1, "status": "processing"}).encode()
    forged = base64.b64encode(hmac.new(b"guess", body, hashlib.sha256).digest()).decode()
    headers = {
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Signature": forged,
        "X-WC-Webhook-ID": "1",
        "X-WC-Webhook-Delivery-ID": "0" * 32,
    }
    answer = httpx.post(f"{stack.api.url}/webhooks/{SHOP}", content=body, headers=headers)
    assert answer.status_code == 401
    with stack.hub.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.inbox)).scalar_one() == 0


def test_stock_by_sku_reaches_a_variation_and_a_recreated_product_is_found_again() -> None:
    store = WooCommerceEmulator(seed=2)
    store.seed_items(
        [
            {"sku": "TEE-S", "product": "Tee", "option": "S", "stock": 1},
            {"sku": "TEE-M", "product": "Tee", "option": "M", "stock": 1},
            {"sku": "MUG-1", "stock": 1},
        ]
    )
    server = serve_in_thread(store.app)
    channel = channel_connector("woocommerce", {"url": server.url, **store.credentials})
    try:
        channel.set_stock(channel_sku="TEE-M", available=12)
        channel.set_stock(channel_sku="MUG-1", available=3)
        with store.state.lock:  # the merchant deletes the mug and adds it again
            old = store.state.catalog.by_sku("MUG-1")
            assert old is not None
            del store.state.catalog.items[old.id]
        store.seed_items([{"sku": "MUG-1", "stock": 0}])
        channel.set_stock(channel_sku="MUG-1", available=5)
    finally:
        channel.close()
        server.stop()
        store.stop()
    assert store.stock() == {"TEE-S": 1, "TEE-M": 12, "MUG-1": 5}


def test_a_sku_the_store_does_not_sell_is_refused_without_reading_the_catalogue_each_time() -> None:
    store = WooCommerceEmulator(seed=4)
    store.seed_items([{"sku": "TEE-S", "product": "Tee", "option": "S", "stock": 1}])
    server = serve_in_thread(store.app)
    channel = channel_connector("woocommerce", {"url": server.url, **store.credentials})
    try:
        for _ in range(3):
            with pytest.raises(Rejected) as refused:
                channel.set_stock(channel_sku="NOT-SOLD", available=4)
            assert refused.value.code == "unknown_sku"
    finally:
        channel.close()
        server.stop()
        store.stop()
    calls = store.stats()["calls"]
    assert calls["GET /products"] == 3 + 1  # a SKU search per push, one walk of the catalogue
    assert calls["GET /products/{id:int}/variations"] == 1


def test_a_repeated_confirmation_adds_nothing_and_the_last_parcel_completes_the_order() -> None:
    store = WooCommerceEmulator(seed=6)
    store.seed_items([{"sku": "MUG-1", "stock": 9}, {"sku": "TEE-1", "stock": 9}])
    server = serve_in_thread(store.app)
    channel = channel_connector("woocommerce", {"url": server.url, **store.credentials})
    order_id = store.place_order({"lines": [{"sku": "MUG-1", "quantity": 2}, {"sku": "TEE-1"}]})
    mug, tee = (str(x["id"]) for x in store.order(order_id)["line_items"])
    try:
        for _ in range(2):  # the worker retries after a timeout: the same parcel again
            channel.confirm_shipment(
                channel_order_id=str(order_id), carrier="UPS", tracking_no="1Z1", lines=[(mug, 2)]
            )
        assert store.order(order_id)["status"] == "processing"  # the tee has not left yet
        channel.confirm_shipment(
            channel_order_id=str(order_id), carrier="ZTO", tracking_no="ZT2", lines=[(tee, 1)]
        )
    finally:
        channel.close()
        server.stop()
        store.stop()
    order = store.order(order_id)
    assert order["status"] == "completed"
    assert [(t["tracking_provider"], t["custom_tracking_provider"], t["tracking_number"])
            for t in order["tracking"]] == [("ups", "", "1Z1"), ("", "ZTO", "ZT2")]  # fmt: skip
    shipped_notes = [n["note"] for n in order["notes"] if "tracking number" in n["note"]]
    assert sorted(shipped_notes) == [
        "Shipped with UPS, tracking number 1Z1.",
        "Shipped with ZTO, tracking number ZT2.",
    ]
