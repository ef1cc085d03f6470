"""Pinduoduo (POP) as a sales channel: pulled orders, tracking numbers, stock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .channel import PddChannel, PddSettings

__all__ = ["PddChannel", "PddSettings", "from_settings"]


def from_settings(settings: Mapping[str, Any]) -> PddChannel:
    """A channel for one shop; raises ValueError naming a missing or bad setting."""
    return PddChannel(settings)
