"""京东云仓 (JD cloud warehouse, ECLP) as a node, over the JOS gateway, polled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from .settings import EclpSettings
from .warehouse import EclpWarehouse

__all__ = ["EclpSettings", "EclpWarehouse", "from_settings"]


def from_settings(
    settings: Mapping[str, Any], *, client: httpx.Client | None = None
) -> EclpWarehouse:
    """The connector for one department; ValueError names a missing or bad setting."""
    return EclpWarehouse(settings, client=client)
