"""谷仓 (GoodCang) overseas warehouse as a node, REST V1, polled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from .settings import GoodCangSettings
from .warehouse import GoodCangWarehouse

__all__ = ["GoodCangSettings", "GoodCangWarehouse", "from_settings"]


def from_settings(
    settings: Mapping[str, Any], *, client: httpx.Client | None = None
) -> GoodCangWarehouse:
    """The connector for one account and warehouse; ValueError names a bad setting."""
    return GoodCangWarehouse(settings, client=client)
