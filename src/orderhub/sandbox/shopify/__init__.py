"""A Shopify Admin REST API emulator (orders, fulfillments, refunds, inventory, webhooks).

It follows the documented behaviour of the 2025-07 REST Admin API:

* Shopify/shopify-api-ruby: ``lib/shopify_api/rest/resources/2025_07/{order,fulfillment,
  fulfillment_order,inventory_level,webhook}.rb``, ``test/rest/2025_07/{order,fulfillment,
  inventory_level,refund}_test.rb``, ``lib/shopify_api/webhooks/request.rb``,
  ``lib/shopify_api/clients/http_response.rb``, ``lib/shopify_api/clients/http_client.rb``
  (resource fields, paging via ``Link`` with ``page_info``, call-limit header, 429 handling);
* https://shopify.dev/docs/apps/build/webhooks/verify-deliveries and
  https://shopify.dev/docs/apps/build/webhooks/delivery-structure (HMAC, headers);
* https://shopify.dev/changelog/updates-to-webhook-retry-mechanism (8 retries over 4 h);
* https://shopify.dev/docs/api/admin-rest/usage/rate-limits (leaky bucket 40 / 2 per s);
* https://dev.to/shannonllc/shopify-webhooks-hmac-verification-5-second-timeout-retries-jkj
  (1 s connect / 5 s total delivery timeouts).

Choices where the sources are silent, each configurable or documented where it is made:
lists are ordered by ascending id; `status` defaults to ``open``; ``limit`` defaults to 50
(max 250); a request with ``page_info`` may carry only ``limit`` and ``fields``; webhook
retries default to a short exponential series so tests run fast.

Shopify's own Python library (ShopifyAPI) works against it unchanged.
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever
from orderhub.sandbox.shopify.emulator import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_CLIENT_SECRET,
    ShopifyEmulator,
    create_app,
)

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_CLIENT_SECRET",
    "ShopifyEmulator",
    "create_app",
    "run",
]


def run(port: int, *, host: str = "127.0.0.1", **settings: Any) -> None:
    """Serve a fresh emulator in the foreground (`orderhub sandbox serve shopify`)."""
    emulator = ShopifyEmulator(**settings)
    credentials = {
        "shop_domain": emulator.shop_domain,
        "access_token": emulator.access_token,
        "client_secret": emulator.client_secret,
        "api_version": emulator.api_version,
    }
    serve_forever(emulator.app, host=host, port=port, platform="shopify", credentials=credentials)
