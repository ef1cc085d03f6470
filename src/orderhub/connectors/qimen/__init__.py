"""Warehouses (WMS) reached through the Qimen (奇门) standard ERP↔WMS interface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from .settings import QimenSettings
from .warehouse import QimenWarehouse

__all__ = ["QimenSettings", "QimenWarehouse", "from_settings"]


def from_settings(
    settings: Mapping[str, Any], *, client: httpx.Client | None = None
) -> QimenWarehouse:
    """Build the connector from a warehouse's settings; ValueError names a missing key."""
    return QimenWarehouse(settings, client=client)
