"""Verify and describe inbound Shopify webhooks from their headers and raw body.

The signature is base64(HMAC-SHA256(app client secret, raw body)) in
`X-Shopify-Hmac-Sha256`; it must be checked on the exact bytes received, before any
parsing. Header names are matched case-insensitively with either the `X-Shopify-` or
the `Shopify-` prefix, as Shopify's own libraries do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from orderhub.connectors.base import WebhookDelivery
from orderhub.connectors.shopify.consts import (
    HANDLED_TOPICS,
    HEADER_PREFIXES,
    WEBHOOK_EVENT_ID,
    WEBHOOK_HMAC,
    WEBHOOK_SHOP_DOMAIN,
    WEBHOOK_TOPIC,
    WEBHOOK_TRIGGERED_AT,
    WEBHOOK_WEBHOOK_ID,
)

__all__ = ["describe", "header", "signature", "verify"]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A Shopify header by its unprefixed name, e.g. header(h, "topic")."""
    return _found(_lowered(headers), name)


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _found(lowered: Mapping[str, str], name: str) -> str | None:
    for prefix in HEADER_PREFIXES:
        value = lowered.get(prefix + name)
        if value is not None:
            return value
    return None


def signature(secret: str, body: bytes) -> str:
    """The value Shopify puts in X-Shopify-Hmac-Sha256 for this body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """True only when the body carries a valid signature made with `secret`."""
    given = header(headers, WEBHOOK_HMAC)
    if not secret or not given:
        return False
    expected = signature(secret, body)
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def describe(headers: Mapping[str, str]) -> WebhookDelivery:
    """Topic, delivery id (X-Shopify-Webhook-Id) and event id of a webhook."""
    lowered = _lowered(headers)
    topic = _found(lowered, WEBHOOK_TOPIC)
    delivery_id = _found(lowered, WEBHOOK_WEBHOOK_ID)
    if not topic:
        raise ValueError("The webhook has no X-Shopify-Topic header.")
    if not delivery_id:
        raise ValueError("The webhook has no X-Shopify-Webhook-Id header.")
    return WebhookDelivery(
        topic=topic,
        delivery_id=delivery_id,
        event_id=_found(lowered, WEBHOOK_EVENT_ID),
        shop_domain=_found(lowered, WEBHOOK_SHOP_DOMAIN),
        triggered_at=_found(lowered, WEBHOOK_TRIGGERED_AT),
        handled=topic in HANDLED_TOPICS,
    )
