"""Inbound Shopify webhooks: signature checks on raw bytes and header reading."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from orderhub.connectors.shopify import ShopifyChannel, from_settings
from orderhub.connectors.shopify.webhooks import describe, header, verify

SECRET = "shpss_unit_secret"
BODY = json.dumps({"id": 820982911946154508, "name": "#1001", "note": "请周末送货"}).encode()


def signed(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def make_channel() -> ShopifyChannel:
    return from_settings(
        {
            "base_url": "https://unit-shop.myshopify.com",
            "access_token": "shpat_unit",
            "webhook_secret": SECRET,
        }
    )


def test_a_body_signed_with_the_client_secret_verifies() -> None:
    assert verify(SECRET, {"X-Shopify-Hmac-Sha256": signed(BODY)}, BODY)


def test_header_names_match_in_any_case_and_with_either_prefix() -> None:
    assert verify(SECRET, {"x-shopify-hmac-sha256": signed(BODY)}, BODY)
    assert verify(SECRET, {"Shopify-Hmac-SHA256": signed(BODY)}, BODY)
    assert header({"SHOPIFY-TOPIC": "orders/create"}, "topic") == "orders/create"


def test_a_signature_made_with_another_secret_is_refused() -> None:
    assert not verify(SECRET, {"X-Shopify-Hmac-Sha256": signed(BODY, "other")}, BODY)


def test_a_body_changed_after_signing_is_refused() -> None:
    reserialized = json.dumps(json.loads(BODY), ensure_ascii=False).encode()
    assert reserialized != BODY
    assert not verify(SECRET, {"X-Shopify-Hmac-Sha256": signed(BODY)}, reserialized)


def test_a_missing_or_garbled_signature_is_refused() -> None:
    assert not verify(SECRET, {}, BODY)
    assert not verify(SECRET, {"X-Shopify-Hmac-Sha256": ""}, BODY)
    assert not verify(SECRET, {"X-Shopify-Hmac-Sha256": "not base64 ✗"}, BODY)


def test_an_empty_secret_never_verifies() -> None:
    assert not verify("", {"X-Shopify-Hmac-Sha256": signed(BODY, "")}, BODY)


def test_the_channel_verifies_with_its_webhook_secret() -> None:
    channel = make_channel()
    try:
        assert channel.verify_webhook({"X-Shopify-Hmac-Sha256": signed(BODY)}, BODY)
        assert not channel.verify_webhook({"X-Shopify-Hmac-Sha256": signed(b"{}")}, BODY)
    finally:
        channel.close()


def test_describe_reads_topic_delivery_and_event_ids() -> None:
    delivery = describe(
        {
            "x-shopify-topic": "orders/updated",
            "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            "X-SHOPIFY-EVENT-ID": "98880550-7158-44d4-b7cd-2c97c8a091b5",
            "X-Shopify-Shop-Domain": "unit-shop.myshopify.com",
            "X-Shopify-Triggered-At": "2025-07-02T16:38:15.123456Z",
        }
    )
    assert delivery.topic == "orders/updated"
    assert delivery.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert delivery.event_id == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert delivery.shop_domain == "unit-shop.myshopify.com"
    assert delivery.triggered_at == "2025-07-02T16:38:15.123456Z"


def test_describe_refuses_a_webhook_without_topic_or_id() -> None:
    with pytest.raises(ValueError, match="Topic"):
        describe({"X-Shopify-Webhook-Id": "abc"})
    with pytest.raises(ValueError, match="Webhook-Id"):
        describe({"X-Shopify-Topic": "orders/create"})
