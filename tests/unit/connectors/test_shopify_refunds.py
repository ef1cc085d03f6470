"""ShopifyChannel.parse_refund on Refund resources shaped like Shopify's own examples."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orderhub.connectors.base import ChannelConnector, ChannelRefund
from orderhub.connectors.shopify import ShopifyChannel
from orderhub.connectors.shopify.consts import DEFAULT_TOPICS

SETTINGS = {
    "base_url": "http://shop.test",
    "shop_domain": "demo-shop.myshopify.com",
    "access_token": "shpat_x",
    "webhook_secret": "shpss_x",
}


def money_set(amount: str) -> dict[str, Any]:
    bag = {"amount": amount, "currency_code": "USD"}
    return {"shop_money": dict(bag), "presentment_money": dict(bag)}


def refund_line(line_id: int, quantity: int, restock_type: str) -> dict[str, Any]:
    return {
        "id": 1058498320 + line_id % 1000,
        "line_item_id": line_id,
        "location_id": None if restock_type == "no_restock" else 487838322,
        "quantity": quantity,
        "restock_type": restock_type,
        "subtotal": 195.66,
        "subtotal_set": money_set("195.66"),
        "total_tax": 3.98,
        "total_tax_set": money_set("3.98"),
        "line_item": {
            "id": line_id,
            "variant_id": 49148385,
            "title": "IPod Nano - 8gb",
            "quantity": 2,
            "sku": "IPOD2008RED",
            "price": "199.00",
        },
    }


def transaction(amount: str, *, status: str = "success", kind: str = "refund") -> dict[str, Any]:
    return {
        "id": 1068278526,
        "order_id": 450789469,
        "kind": kind,
        "gateway": "bogus",
        "status": status,
        "message": "Bogus Gateway: Forced success",
        "created_at": "2025-07-02T11:38:34-05:00",
        "parent_id": 801038806,
        "amount": amount,
        "currency": "USD",
    }


REFUND: dict[str, Any] = {
    "id": 929361472,
    "order_id": 450789469,
    "created_at": "2025-07-02T11:38:34-05:00",
    "processed_at": "2025-07-02T11:38:34-05:00",
    "note": "wrong size",
    "user_id": None,
    "restock": True,
    "duties": [],
    "total_duties_set": money_set("0.00"),
    "return": None,
    "additional_fees": [],
    "refund_shipping_lines": [],
    "admin_graphql_api_id": "gid://shopify/Refund/929361472",
    "order_adjustments": [],
    "refund_line_items": [refund_line(518995019, 2, "return"), refund_line(703073504, 1, "return")],
    "transactions": [transaction("597.00")],
}


@pytest.fixture
def channel() -> Iterator[ShopifyChannel]:
    shop = ShopifyChannel(SETTINGS)
    yield shop
    shop.close()


def test_a_return_refund_reads_as_lines_money_and_restock(channel: ShopifyChannel) -> None:
    refund = channel.parse_refund(REFUND)

    assert refund == ChannelRefund(
        channel_order_id="450789469",
        refund_id="929361472",
        lines=[("518995019", 2), ("703073504", 1)],
        amount=Decimal("597.00"),
        restock=True,
        reason="wrong size",
        created_at=datetime(2025, 7, 2, 16, 38, 34, tzinfo=UTC),
    )


def test_a_partial_refund_counts_only_successful_refund_transactions(
    channel: ShopifyChannel,
) -> None:
    payload = copy.deepcopy(REFUND)
    payload["refund_line_items"] = [refund_line(518995019, 1, "return")]
    payload["transactions"] = [
        transaction("41.94"),
        transaction("5.00"),
        transaction("199.00", status="failure"),
        transaction("12.00", kind="sale"),
    ]

    refund = channel.parse_refund({"refund": payload})

    assert refund.lines == [("518995019", 1)]
    assert refund.amount == Decimal("46.94")
    assert refund.restock


def test_a_refund_without_restock_is_money_only(channel: ShopifyChannel) -> None:
    payload = copy.deepcopy(REFUND)
    payload["restock"] = False
    payload["note"] = None
    payload["refund_line_items"] = [
        refund_line(518995019, 1, "no_restock"),
        refund_line(703073504, 1, "cancel"),
    ]
    payload["transactions"] = [transaction("41.94")]

    refund = channel.parse_refund(payload)

    assert not refund.restock
    assert refund.reason == ""
    assert refund.lines == [("518995019", 1), ("703073504", 1)]
    assert refund.amount == Decimal("41.94")


def test_a_shipping_only_refund_has_no_lines_and_no_restock(channel: ShopifyChannel) -> None:
    payload = copy.deepcopy(REFUND)
    payload["refund_line_items"] = []
    payload["transactions"] = [transaction("5.00")]

    refund = channel.parse_refund(payload)

    assert (refund.lines, refund.restock, refund.amount) == ([], False, Decimal("5.00"))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"order_id": None}, "order_id"),
        ({"id": ""}, "'id'"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"transactions": [{"kind": "refund", "amount": "lots"}]}, "amount"),
        ({"refund_line_items": [{"quantity": 1}]}, "line_item_id"),
    ],
)
def test_an_unreadable_refund_raises_value_error(
    channel: ShopifyChannel, change: dict[str, Any], problem: str
) -> None:
    payload = {**copy.deepcopy(REFUND), **change}

    with pytest.raises(ValueError, match=problem):
        channel.parse_refund(payload)


def test_the_refund_topic_is_subscribed_and_described(channel: ShopifyChannel) -> None:
    headers = {
        "X-Shopify-Topic": "refunds/create",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Shop-Domain": "demo-shop.myshopify.com",
    }

    delivery = channel.describe_webhook(headers)

    assert "refunds/create" in DEFAULT_TOPICS
    assert (delivery.topic, delivery.delivery_id) == (
        "refunds/create",
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    )
    connector: ChannelConnector = channel
    assert connector.platform == "shopify"
