"""Taobao and Tmall (TOP) as a sales channel: pulled orders, shipments, stock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .channel import TaobaoChannel, TaobaoSettings

__all__ = ["TaobaoChannel", "TaobaoSettings", "from_settings"]


def from_settings(settings: Mapping[str, Any]) -> TaobaoChannel:
    """A channel for one shop; raises ValueError naming a missing or bad setting."""
    return TaobaoChannel(settings)
