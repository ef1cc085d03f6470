"""4PX 递四方 overseas warehouse (and 菜鸟 GFN, same format) as a node, polled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from .settings import FourpxSettings
from .warehouse import FourpxWarehouse

__all__ = ["FourpxSettings", "FourpxWarehouse", "from_settings"]


def from_settings(
    settings: Mapping[str, Any], *, client: httpx.Client | None = None
) -> FourpxWarehouse:
    """The connector for one account; ValueError names a missing or bad setting."""
    return FourpxWarehouse(settings, client=client)
