"""What every parcel tracker offers the hub: a parcel followed, its scans pushed back.

A tracker (快递100, 17TRACK) follows a tracking number once subscribed and calls the
hub back as the carrier scans the parcel. Each tracker speaks its own states; the
connector turns them into one set of parcel statuses, so the hub's timeline, alerts
and buyer page read the same whatever the carrier and the tracker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from orderhub.domain.tracking import ParcelStatus, TrackingEvent, TrackingUpdate

__all__ = ["ParcelStatus", "TrackerConnector", "TrackingEvent", "TrackingUpdate"]


class TrackerConnector(Protocol):
    """A connected client for one tracker account."""

    platform: str

    def subscribe(
        self,
        *,
        tracking_no: str,
        carrier: str,
        callback_url: str,
        phone: str = "",
        destination_country: str = "",
    ) -> None:
        """Follow a parcel; `carrier` is the hub's code (SF, YTO…), mapped to the
        tracker's. Following it again is not an error. Rejected when refused."""
        ...

    def verify_callback(
        self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> bool:
        """True when the callback carries the tracker's valid signature."""
        ...

    def parse_callback(
        self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> list[TrackingUpdate]:
        """The parcels a callback speaks of; ValueError naming the field when unreadable."""
        ...

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        """The exact answer the tracker waits for (body, media type)."""
        ...

    def track(self, *, tracking_no: str, carrier: str) -> TrackingUpdate | None:
        """Ask now, without waiting for a push; None when the tracker knows nothing."""
        ...

    def close(self) -> None: ...
