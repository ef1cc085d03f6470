"""17TRACK (API v2.2) as a parcel tracker: registrations, signed pushes, queries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .tracker import Track17Settings, Track17Tracker

__all__ = ["Track17Settings", "Track17Tracker", "tracker_from_settings"]


def tracker_from_settings(settings: Mapping[str, Any]) -> Track17Tracker:
    """A tracker for one account; raises ValueError naming a missing or bad setting."""
    return Track17Tracker(settings)
