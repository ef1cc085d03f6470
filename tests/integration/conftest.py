"""Fixtures the integration tests share."""

from __future__ import annotations

from typing import Any

import pytest

from orderhub.sandbox.shopify import ShopifyEmulator


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """A real Shopify order of one unit of SKU-A, to copy into other orders."""
    emulator = ShopifyEmulator(shop_domain="x.myshopify.com")
    try:
        return emulator.place_order({"lines": [{"sku": "SKU-A", "quantity": 1}]})
    finally:
        emulator.close()
