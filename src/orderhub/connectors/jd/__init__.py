"""JD (京东 JOS, POP merchants) as a sales channel: pulled orders, waybills, stock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .channel import JdChannel, JdSettings

__all__ = ["JdChannel", "JdSettings", "from_settings"]


def from_settings(settings: Mapping[str, Any]) -> JdChannel:
    """A channel for one shop; raises ValueError naming a missing or bad setting."""
    return JdChannel(settings)
