"""An order's whole journey over real HTTP: shop → hub → warehouse → hub → shop."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.sync import pull_orders
from support import mute_webhooks, shopify_signature, wait_until


def hub_order(stack: Stack, shop: str, channel_order_id: Any) -> Any:
    with stack.hub.uow() as uow:
        return uow.orders.by_channel_ref(shop, str(channel_order_id))


def test_an_order_travels_to_the_warehouse_and_its_tracking_number_back_to_the_shop(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 2}]})

    def completed() -> bool:
        order = hub_order(stack, "SHOP1", placed["id"])
        return order is not None and order.status == "completed"

    wait_until(completed, what="the order to complete")
    order = hub_order(stack, "SHOP1", placed["id"])
    wms_order = stack.qimen.order(order.id)
    tracking = order.fulfillments[0].tracking_no
    assert wms_order["status"] == "DELIVERED" and wms_order["tracking_no"] == tracking
    assert [(x["item_code"], x["plan_qty"]) for x in wms_order["lines"]] == [("SKU-001", 2)]
    assert shop.stats()["tracking_numbers"][str(placed["id"])] == [tracking]
    assert stack.qimen.stats()["distinct_orders"] == 1
    wait_until(
        lambda: shop.inventory_by_sku()["SKU-001"] == 98,
        what=lambda: f"stock pushed: {shop.inventory_by_sku()} {queries.job_list(stack.hub)}",
    )
    view = queries.order_view(stack.hub, order.id)
    stages = [(t.stage, t.status) for t in view.trace]
    assert stages[:4] == [("receive", "ok"), ("allocate", "ok"), ("reserve", "ok"), ("push", "ok")]
    assert ("confirm", "ok") in stages
    push = next(t for t in view.trace if t.stage == "push")
    assert push.latency_ms is not None and push.latency_ms > 0


def test_a_pull_finds_orders_whose_webhooks_never_arrived(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    mute_webhooks(shop)
    placed = [shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]}) for _ in range(3)]
    result = pull_orders(stack.hub, "SHOP1")
    assert (result.fetched, result.new) == (3, 3)
    for p in placed:
        wait_until(
            lambda p=p: (
                (o := hub_order(stack, "SHOP1", p["id"])) is not None and o.status == "completed"
            ),
            what="pulled orders to complete",
        )
    pull_orders(stack.hub, "SHOP1")  # picks up the shop's own "fulfilled" updates
    wait_until(stack.settled, what="the hub to settle")
    assert pull_orders(stack.hub, "SHOP1").new == 0
    assert sum(queries.hub_stats(stack.hub)["orders"].values()) == 3
    assert stack.qimen.stats()["create_calls"] == 3


def test_the_same_webhook_ten_times_makes_one_order(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    shop.faults.update({"duplicate_webhooks": 9})
    placed = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(
        lambda: (
            (o := hub_order(stack, "SHOP1", placed["id"])) is not None and o.status == "completed"
        ),
        what="the order to complete",
    )
    shop.faults.reset()
    wait_until(stack.webhooks_settled, what="every duplicate delivered")
    stats = queries.hub_stats(stack.hub)
    assert sum(stats["orders"].values()) == 1
    assert stack.qimen.stats()["create_calls"] == 1
    assert len(shop.fulfillments_for(placed["id"])) == 1


def test_an_update_arriving_before_its_create_leaves_the_latest_state(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    mute_webhooks(shop)
    created = shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 1}]})
    cancelled = shop.cancel_order(created["id"])
    secret = shop.client_secret
    with httpx.Client(base_url=stack.api.url) as client:
        for topic, payload, delivery in (
            ("orders/cancelled", cancelled, "d2"),
            ("orders/create", created, "d1"),
        ):
            body = json.dumps(payload).encode()
            response = client.post(
                "/webhooks/SHOP1",
                content=body,
                headers={
                    "X-Shopify-Topic": topic,
                    "X-Shopify-Hmac-Sha256": shopify_signature(secret, body),
                    "X-Shopify-Shop-Domain": shop.shop_domain,
                    "X-Shopify-Webhook-Id": delivery,
                    "Content-Type": "application/json",
                },
            )
            assert response.status_code == 200
    wait_until(lambda: stack.settled(), what="the hub to settle")
    order = hub_order(stack, "SHOP1", created["id"])
    assert order.status == "cancelled"
    assert sum(queries.hub_stats(stack.hub)["orders"].values()) == 1
    # Whichever webhook a worker took first, nothing may ship from the warehouse.
    assert all(o["status"] == "CANCELED" for o in stack.qimen.orders().values())


def test_a_bad_signature_is_refused_and_nothing_is_stored(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    body = json.dumps({"id": 1}).encode()
    response = httpx.post(
        f"{stack.api.url}/webhooks/SHOP1",
        content=body,
        headers={
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": "bm9wZQ==",
            "X-Shopify-Webhook-Id": "x1",
        },
    )
    assert response.status_code == 401
    assert queries.hub_stats(stack.hub)["inbox"] == {}


def test_malformed_json_is_answered_400_and_kept_as_an_exception(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    body = b'{"id": 12, "line_items": ['
    secret = stack.shops["SHOP1"].client_secret
    response = httpx.post(
        f"{stack.api.url}/webhooks/SHOP1",
        content=body,
        headers={
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": "m1",
            "X-Shopify-Hmac-Sha256": shopify_signature(secret, body),
        },
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]
    [exception] = queries.exception_list(stack.hub)
    assert exception.code == "malformed_payload" and exception.inbox_id
    with stack.hub.uow() as uow:
        assert uow.inbox.get(exception.inbox_id).body == body


def test_an_unknown_sku_is_held_as_an_exception_and_nothing_is_pushed(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    placed = stack.shops["SHOP1"].place_order(
        {"lines": [{"sku": "NOT-OURS", "quantity": 1, "title": "Mystery"}]}
    )
    wait_until(
        lambda: (o := hub_order(stack, "SHOP1", placed["id"])) is not None and o.status == "held",
        what="the order to be held",
    )
    [exception] = queries.exception_list(stack.hub)
    assert exception.code == "unknown_sku" and "NOT-OURS" in exception.message
    wait_until(stack.settled, what="the hub to settle")
    assert stack.qimen.stats()["create_calls"] == 0


def test_two_shops_racing_for_the_last_unit_get_one_reservation(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=2, stock=1, skus=1)
    a = stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    b = stack.shops["SHOP2"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(stack.settled, what="the hub to settle")
    statuses = sorted(
        [hub_order(stack, "SHOP1", a["id"]).status, hub_order(stack, "SHOP2", b["id"]).status]
    )
    assert statuses == ["completed", "held"]
    [exception] = queries.exception_list(stack.hub)
    assert exception.code == "out_of_stock"
    assert queries.hub_stats(stack.hub)["oversold"] == 0
    wait_until(
        lambda: all(s.inventory_by_sku()["SKU-001"] == 0 for s in stack.shops.values()),
        what="both shops to show 0",
    )
