"""A WooCommerce store's REST API (v3) emulator: orders, notes, refunds, products,
variations, stock, webhooks.

Sources: woocommerce/woocommerce-rest-api-docs `source/includes/wp-api-v3/` —
`_introduction.md` (errors, paging headers, Link), `_authentication.md` (Basic over HTTPS,
keys as query parameters, OAuth 1.0a over HTTP), `_orders.md`, `_order-notes.md`,
`_order-refunds.md`, `_products.md`, `_product-variations.md`, `_webhooks.md`;
woocommerce/woocommerce `includes/class-wc-rest-authentication.php` (the checks and their
error codes), `includes/class-wc-webhook.php` (delivery headers, signature, delivery id,
failure count, the creation ping); the Shipment Tracking extension's documentation
(woocommerce.com/document/shipment-tracking/) for `_wc_shipment_tracking_items`.

Routes under `/wp-json/wc/v3`: orders (list with `modified_after`/`modified_before`/
`after`/`before`, `dates_are_gmt`, `status`, `orderby`, `order`, `page`, `per_page` ≤ 100,
`offset`; read; create; update `status`, `set_paid`, `meta_data`), order notes, order
refunds, products (`sku`, `type`), variations, webhooks. Comparisons of dates are strict
(`>`/`<`), as WordPress's date queries are.

Choices where the sources are silent (UNCONFIRMED), each documented where it is made:
refund validation (`refunds.py`), the 429 body (core WooCommerce does not throttle), the
`Link` header leaving out credentials and OAuth parameters, Basic auth taken over plain
HTTP (`basic_over_http`, the store standing behind HTTPS).

The official Python client (`woocommerce`, `from woocommerce import API`) works against
it unchanged (over http:// it signs with OAuth 1.0a).
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .emulator import (
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    DEFAULT_WEBHOOK_SECRET,
    WooCommerceEmulator,
    create_app,
)

__all__ = [
    "DEFAULT_CONSUMER_KEY",
    "DEFAULT_CONSUMER_SECRET",
    "DEFAULT_WEBHOOK_SECRET",
    "WooCommerceEmulator",
    "create_app",
    "run",
]


def run(port: int, *, host: str = "127.0.0.1", **settings: Any) -> None:
    """Serve a fresh emulator in the foreground and print the ready line."""
    emulator = WooCommerceEmulator(**settings)
    serve_forever(
        emulator.app,
        host=host,
        port=port,
        platform="woocommerce",
        credentials=emulator.credentials,
    )
