"""Douyin Shop (抖店) as a sales channel: pushed and pulled orders, parcels, stock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .channel import DouyinChannel, DouyinSettings

__all__ = ["DouyinChannel", "DouyinSettings", "from_settings"]


def from_settings(settings: Mapping[str, Any]) -> DouyinChannel:
    """A channel for one shop; raises ValueError naming a missing or bad setting."""
    return DouyinChannel(settings)
