"""快递100 as a parcel tracker: subscriptions, signed callbacks, real-time queries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .tracker import Kuaidi100Settings, Kuaidi100Tracker

__all__ = ["Kuaidi100Settings", "Kuaidi100Tracker", "tracker_from_settings"]


def tracker_from_settings(settings: Mapping[str, Any]) -> Kuaidi100Tracker:
    """A tracker for one account; raises ValueError naming a missing or bad setting."""
    return Kuaidi100Tracker(settings)
