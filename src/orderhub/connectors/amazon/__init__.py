"""Amazon (Selling Partner API) as a sales channel: pulled MFN orders with their buyer
and address through a Restricted Data Token, package confirmations, MFN quantities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .channel import AmazonChannel
from .settings import AmazonSettings

__all__ = ["AmazonChannel", "AmazonSettings", "from_settings"]


def from_settings(settings: Mapping[str, Any]) -> AmazonChannel:
    """A channel for one seller account; raises ValueError naming a missing or bad setting."""
    return AmazonChannel(settings)
