"""WooCommerce (REST API v3) as a sales channel: webhooks and pulls in, tracking and stock out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .channel import WooCommerceChannel, WooCommerceSettings

__all__ = ["WooCommerceChannel", "WooCommerceSettings", "from_settings"]


def from_settings(settings: Mapping[str, Any]) -> WooCommerceChannel:
    """A channel for one store; raises ValueError naming a missing or bad setting."""
    return WooCommerceChannel(settings)
