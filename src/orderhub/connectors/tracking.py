"""What every parcel tracker offers the hub: a parcel followed, its scans pushed back.

A tracker (快递100, 17TRACK) follows a tracking number once subscribed and calls the
hub back as the carrier scans the parcel. Each tracker speaks its own states; the
connector turns them into one set of parcel statuses, so the hub's timeline, alerts
and buyer page read the same whatever the carrier and the tracker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

__all__ = ["ParcelStatus", "TrackerConnector", "TrackingEvent", "TrackingUpdate"]


class ParcelStatus(StrEnum):
    """Where a parcel is, in one set for every carrier."""

    PENDING = "pending"  # subscribed, nothing scanned yet
    INFO_RECEIVED = "info_received"  # the carrier has the parcel's data, not the parcel
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    FAILED_ATTEMPT = "failed_attempt"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"  # at a locker or a pickup point
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # held, refused, lost, damaged: the carrier's words say which
    RETURNED = "returned"  # on its way back to the sender, or back already


@dataclass(frozen=True)
class TrackingEvent:
    """One scan: when, what the carrier wrote, and what it means."""

    at: datetime
    status: ParcelStatus
    description: str
    location: str = ""
    code: str = ""  # the tracker's own state or sub-status, kept for people to read


@dataclass(frozen=True)
class TrackingUpdate:
    """A tracker's news of one parcel: its status now and the scans it knows of."""

    tracking_no: str
    carrier: str  # the tracker's carrier code
    status: ParcelStatus
    events: Sequence[TrackingEvent] = field(default=())
    finished: bool = False  # the tracker stopped following it (signed for, or gave up)
    detail: str = ""  # why it stopped, in the tracker's words


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
