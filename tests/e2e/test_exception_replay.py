"""Exceptions are worked through: fix the cause without code, replay, the order flows on."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from orderhub.config import ListingConfig, ShopConfig
from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.exceptions import replay_exception
from orderhub.services.setup import apply_config, put_shop
from support import mute_webhooks, shopify_signature, wait_until


def completed(stack: Stack, channel_order_id: int) -> bool:
    with stack.hub.uow() as uow:
        order = uow.orders.by_channel_ref("SHOP1", str(channel_order_id))
    return order is not None and order.status == "completed"


def test_an_unmapped_sku_is_mapped_by_the_seller_and_the_held_order_replayed(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    shop.seed_product({"title": "Blue mug", "skus": ["MUG-BLUE"], "price": "19.90"})
    placed = shop.place_order({"lines": [{"sku": "MUG-BLUE", "quantity": 1}]})
    wait_until(lambda: bool(queries.exception_list(stack.hub)), what="the order to be held")
    [exception] = queries.exception_list(stack.hub)
    assert exception.code == "unknown_sku"
    assert "listing" in queries.exception_view(stack.hub, exception.id)["action"]

    config = stack.hub_config
    config.listings.append(ListingConfig(shop="SHOP1", channel_sku="MUG-BLUE", sku="SKU-001"))
    apply_config(stack.hub, config)
    result = replay_exception(stack.hub, exception.id)

    assert result.status == "reserved"
    wait_until(lambda: completed(stack, placed["id"]), what="the replayed order to complete")
    assert queries.exception_list(stack.hub) == []
    wait_until(lambda: shop.inventory_by_sku()["MUG-BLUE"] == 99, what="the new listing's stock")
    wms = stack.qimen.order(result.order_id or "")
    assert [(x["item_code"], x["plan_qty"]) for x in wms["lines"]] == [("SKU-001", 1)]


def test_a_payload_the_mapping_cannot_read_is_kept_and_replayed_after_a_mapping_fix(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    mute_webhooks(shop)
    payload = shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 2}]})
    payload["currency"] = None
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{stack.api.url}/webhooks/SHOP1",
        content=body,
        headers={
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": "no-currency",
            "X-Shopify-Hmac-Sha256": shopify_signature(shop.client_secret, body),
        },
    )
    assert response.status_code == 200
    wait_until(lambda: bool(queries.exception_list(stack.hub)), what="a mapping exception")
    [exception] = queries.exception_list(stack.hub)
    assert (exception.code, exception.field, exception.inbox_id is not None) == (
        "invalid_field",
        "currency",
        True,
    )

    current = next(s for s in stack.hub_config.shops if s.code == "SHOP1")
    fixed = ShopConfig(
        **{
            **current.model_dump(),
            "mapping": {"fields": {"currency": {"path": "currency", "default": "USD"}}},
        }
    )
    put_shop(stack.hub, fixed)
    result = replay_exception(stack.hub, exception.id)

    assert result.outcome == "payload mapped again" and result.order_id
    wait_until(lambda: completed(stack, payload["id"]), what="the order to complete")
    order = queries.order_view(stack.hub, result.order_id)
    assert order.currency == "USD"
