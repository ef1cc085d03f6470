"""The WooCommerce connector's pure parts: webhook signatures and keys, OAuth's base
string, refunds, parcels, and the mapping on orders the emulator writes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orderhub.connectors.registry import order_mapping
from orderhub.connectors.woocommerce import WooCommerceChannel
from orderhub.connectors.woocommerce.auth import signature_base
from orderhub.connectors.woocommerce.refunds import parse_refund
from orderhub.connectors.woocommerce.shipping import covered, tracking_item
from orderhub.connectors.woocommerce.webhooks import describe, verify
from orderhub.domain.validation import check_order
from orderhub.sandbox.woocommerce import WooCommerceEmulator

BODY = b'{"id":727,"status":"processing","_links":{"self":[{"href":"https:\\/\\/x"}]}}'
SETTINGS = {
    "url": "https://shop.example.com",
    "consumer_key": "ck_1",
    "consumer_secret": "cs_1",
    "webhook_secret": "whsec",
}


def signed(body: bytes, secret: str = "whsec", **extra: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "X-WC-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-ID": "42",
        "X-WC-Webhook-Delivery-ID": "9f86d081884c7d659a2feaa0c55ad015",
        **extra,
    }


def test_a_webhook_is_trusted_only_with_the_signature_of_its_exact_bytes() -> None:
    assert verify("whsec", signed(BODY), BODY)
    assert not verify("whsec", signed(BODY), BODY.replace(b"\\/", b"/"))  # re-encoded
    assert not verify("other", signed(BODY), BODY)
    assert not verify("whsec", {}, BODY)
    assert not verify("", signed(BODY, secret=""), BODY)


def test_a_delivery_is_keyed_by_webhook_and_delivery_id_and_by_its_body() -> None:
    delivery = describe(signed(BODY))
    assert delivery.delivery_id == "42:9f86d081884c7d659a2feaa0c55ad015"
    assert delivery.keyed_by_body and delivery.handled
    coupon = describe({**signed(BODY), "X-WC-Webhook-Topic": "coupon.created"})
    assert not coupon.handled
    with pytest.raises(ValueError, match="Topic"):
        describe({"X-WC-Webhook-Delivery-ID": "1"})


def test_the_oauth_base_string_is_the_documented_one() -> None:
    base = signature_base(
        "get",
        "http://www.example.com/wp-json/wc/v3/orders",
        {"oauth_consumer_key": "abc123", "oauth_signature_method": "HMAC-SHA1"},
    )
    assert base == (
        "GET&http%3A%2F%2Fwww.example.com%2Fwp-json%2Fwc%2Fv3%2Forders"
        "&oauth_consumer_key%3Dabc123%26oauth_signature_method%3DHMAC-SHA1"
    )


REFUND: dict[str, Any] = {
    "id": 724,
    "date_created_gmt": "2017-03-21T19:55:37",
    "amount": "9.00",
    "reason": "chipped",
    "line_items": [
        {
            "id": 314,
            "quantity": -1,
            "meta_data": [{"id": 2076, "key": "_refunded_item_id", "value": "311"}],
        }
    ],
    "_links": {"up": [{"href": "https://example.com/wp-json/wc/v3/orders/723"}]},
}


def test_a_refund_names_its_order_lines_money_and_time() -> None:
    refund = parse_refund(REFUND)
    assert (refund.channel_order_id, refund.refund_id) == ("723", "724")
    assert refund.lines == [("311", 1)]
    assert refund.amount == Decimal("9.00") and refund.restock
    assert refund.created_at == datetime(2017, 3, 21, 19, 55, 37, tzinfo=UTC)
    money_only = parse_refund({**REFUND, "line_items": []})
    assert not money_only.restock and money_only.lines == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"_links": {}}, "_links.up"),
        ({"id": None}, "'id'"),
        ({"line_items": [{"id": 1, "quantity": -1, "meta_data": []}]}, "does not name"),
        ({"amount": "lots"}, "amount"),
    ],
)
def test_a_refund_that_cannot_be_read_says_why(change: dict[str, Any], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_refund({**REFUND, **change})


def test_an_order_is_complete_once_its_parcels_carry_every_unit() -> None:
    order = {"line_items": [{"id": 1, "quantity": 2}, {"id": 2, "quantity": 1}]}
    assert not covered(order, {"T1": {"1": 2}})
    assert covered(order, {"T1": {"1": 2}, "T2": {"2": 1}})
    assert covered(order, {"T1": {}})  # a parcel with no lines is the whole order


def test_a_known_carrier_is_a_listed_provider_and_another_is_custom() -> None:
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    ups = tracking_item("ups", "1Z9", moment)
    assert (ups["tracking_provider"], ups["custom_tracking_provider"]) == ("ups", "")
    assert ups["date_shipped"] == str(int(moment.timestamp()))
    other = tracking_item("ZTO", "ZT1", moment)
    assert (other["tracking_provider"], other["custom_tracking_provider"]) == ("", "ZTO")


def test_settings_name_what_is_missing_or_wrong() -> None:
    with pytest.raises(ValueError, match="'url'"):
        WooCommerceChannel({k: v for k, v in SETTINGS.items() if k != "url"})
    with pytest.raises(ValueError, match="'consumer_secret'"):
        WooCommerceChannel({k: v for k, v in SETTINGS.items() if k != "consumer_secret"})
    with pytest.raises(ValueError, match="'page_size'"):
        WooCommerceChannel({**SETTINGS, "page_size": 500})
    assert "cs_1" not in repr(WooCommerceChannel(SETTINGS).settings)


@pytest.fixture(scope="module")
def store() -> Iterator[WooCommerceEmulator]:
    emulator = WooCommerceEmulator(seed=11, utc_offset_minutes=480)
    emulator.seed_items([{"sku": "MUG-1", "price": "19.90", "stock": 50}])
    yield emulator
    emulator.stop()


def test_an_order_the_store_writes_maps_with_totals_that_add_up(store: WooCommerceEmulator) -> None:
    order_id = store.place_order(
        {
            "lines": [{"sku": "MUG-1", "quantity": 3, "discount": "5.00"}],
            "shipping_total": "4.99",
            "fees": [{"name": "Cash on delivery", "total": "2.00"}],
            "tax_rate": "0.1",
            "note": "Leave it with the neighbour",
        }
    )
    raw = store.order(order_id)
    order = order_mapping("woocommerce").map(raw, shop="WC1")
    assert order.channel_order_id == str(order_id) and order.channel_status == "paid"
    t = order.totals
    assert (t.items, t.discount, t.shipping) == (Decimal("59.70"), Decimal("5.00"), Decimal("6.99"))
    assert t.items + t.shipping - t.discount + t.tax == t.grand_total == Decimal(raw["total"])
    assert order.lines[0].unit_price * 3 == Decimal("59.70")
    assert order.remarks.buyer == "Leave it with the neighbour"
    assert order.placed_at.tzinfo is not None  # read from date_created_gmt
    assert [p.code for p in check_order(order)] == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", "unpaid"),
        ("on-hold", "unpaid"),
        ("processing", "paid"),
        ("completed", "paid"),
        ("cancelled", "cancelled"),
        ("refunded", "refunded"),
        ("failed", "unpaid"),
    ],
)
def test_only_a_processing_or_completed_order_counts_as_paid(
    store: WooCommerceEmulator, status: str, expected: str
) -> None:
    raw = store.order(store.place_order({"lines": [{"sku": "MUG-1"}]}))
    raw["status"] = status
    assert order_mapping("woocommerce").map(raw, shop="WC1").channel_status == expected
