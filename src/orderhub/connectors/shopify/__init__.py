"""Shopify (Admin REST API) as a sales channel: pull orders, confirm shipments, push stock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderhub.connectors.shopify.channel import ShopifyChannel, ShopifySettings

__all__ = ["ShopifyChannel", "ShopifySettings", "from_settings"]


def from_settings(settings: Mapping[str, Any]) -> ShopifyChannel:
    """A channel for one shop; raises ValueError naming a missing or bad setting."""
    return ShopifyChannel(settings)
