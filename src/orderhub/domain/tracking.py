"""A parcel as every tracker reports it: one set of statuses, its scans, its news.

Each tracker (快递100, 17TRACK) speaks its own states; its connector turns them into
these, so the hub's timeline, alerts and buyer page read the same for every carrier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["ParcelStatus", "TrackingEvent", "TrackingUpdate"]


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
