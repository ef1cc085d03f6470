"""Verify and describe WooCommerce webhook deliveries from their headers and raw body.

`X-WC-Webhook-Signature` is base64(HMAC-SHA256(webhook secret, raw body)), computed on the
JSON exactly as sent, so it is checked on the bytes received before anything is parsed.
`X-WC-Webhook-Delivery-ID` is `wp_hash(webhook id . unix second)` (class-wc-webhook.php):
two deliveries of one webhook within the same second share it, so it does not name an
event on its own and the hub keys a delivery by it and by the body's digest.

The ping WooCommerce sends when a webhook is created (a form body `webhook_id=N`) carries
no signature and is refused like any unsigned body; WooCommerce ignores the answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from ..base import WebhookDelivery
from .consts import (
    DEFAULT_TOPICS,
    HEADER_DELIVERY_ID,
    HEADER_SIGNATURE,
    HEADER_SOURCE,
    HEADER_TOPIC,
    HEADER_WEBHOOK_ID,
)

__all__ = ["describe", "header", "signature", "verify"]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its lower-case name, whatever case it arrived in."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def signature(secret: str, body: bytes) -> str:
    """The X-WC-Webhook-Signature WooCommerce sends for this body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """True only when the body carries a valid signature made with `secret`."""
    given = header(headers, HEADER_SIGNATURE)
    if not secret or not given:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), given.strip().encode())


def describe(headers: Mapping[str, str]) -> WebhookDelivery:
    """Topic and delivery of a webhook; a topic other than an order's is kept, not acted on."""
    topic = header(headers, HEADER_TOPIC)
    delivery = header(headers, HEADER_DELIVERY_ID)
    if not topic:
        raise ValueError("The webhook has no X-WC-Webhook-Topic header.")
    if not delivery:
        raise ValueError("The webhook has no X-WC-Webhook-Delivery-ID header.")
    webhook = header(headers, HEADER_WEBHOOK_ID) or ""
    return WebhookDelivery(
        topic=topic,
        delivery_id=f"{webhook}:{delivery}",
        shop_domain=header(headers, HEADER_SOURCE),
        handled=topic in DEFAULT_TOPICS,
        keyed_by_body=True,
    )
