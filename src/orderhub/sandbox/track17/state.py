"""What the emulated 17TRACK account keeps: its numbers, their scans, its quota.

A number is kept by itself (17TRACK keys a record by number and carrier; one carrier per
number is enough here). Its tracking information is built from the scans added through
the control routes, in the v2.2 shape: `latest_status`, `latest_event`, `milestone`
and one provider whose `events` run newest first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

__all__ = ["MAIN_STATUSES", "SUB_STATUSES", "Account", "Parcel", "Refused", "Scan"]

BEIJING = timezone(timedelta(hours=8))

MAIN_STATUSES = (
    "NotFound",
    "InfoReceived",
    "InTransit",
    "Expired",
    "AvailableForPickup",
    "OutForDelivery",
    "DeliveryFailure",
    "Delivered",
    "Exception",
)
SUB_STATUSES = frozenset(
    {
        "NotFound_Other",
        "NotFound_InvalidCode",
        "InfoReceived",
        "InTransit_PickedUp",
        "InTransit_Other",
        "InTransit_Departure",
        "InTransit_Arrival",
        "InTransit_CustomsProcessing",
        "InTransit_CustomsReleased",
        "InTransit_CustomsRequiringInformation",
        "Expired_Other",
        "AvailableForPickup_Other",
        "OutForDelivery_Other",
        "DeliveryFailure_Other",
        "DeliveryFailure_NoBody",
        "DeliveryFailure_Security",
        "DeliveryFailure_Rejected",
        "DeliveryFailure_InvalidAddress",
        "Delivered_Other",
        "Exception_Other",
        "Exception_Returning",
        "Exception_Returned",
        "Exception_NoBody",
        "Exception_Security",
        "Exception_Damage",
        "Exception_Rejected",
        "Exception_Delayed",
        "Exception_Lost",
        "Exception_Destroyed",
        "Exception_Cancel",
    }
)
MILESTONES = {
    "InfoReceived": "InfoReceived",
    "InTransit_PickedUp": "PickedUp",
    "InTransit_Departure": "Departure",
    "InTransit_Arrival": "Arrival",
    "AvailableForPickup_Other": "AvailableForPickup",
    "OutForDelivery_Other": "OutForDelivery",
    "Delivered_Other": "Delivered",
    "Exception_Returning": "Returning",
    "Exception_Returned": "Returned",
}
"""The milestone (and event `stage`) a sub-status reaches; the others reach none."""
UNREACHED = {"time_iso": None, "time_utc": None}

CARRIER_NAMES = {
    3011: "China Post",
    3013: "China EMS",
    21051: "USPS",
    100001: "DHL",
    100002: "UPS",
    100003: "FedEx",
    100012: "SF Express",
    190094: "4PX",
    190157: "YTO Express",
    190324: "STO Express",
    190455: "ZTO Express",
}
DETECTED = (
    (re.compile(r"SF\d{12,15}"), 100012),
    (re.compile(r"YT\d{13,16}"), 190157),
    (re.compile(r"1Z[0-9A-Z]{16}"), 100002),
    (re.compile(r"E[A-Z]\d{9}CN"), 3013),
    (re.compile(r"[A-Z]{2}\d{9}CN"), 3011),
)
"""The numbers this account's auto-detection recognises; others need a carrier."""
NUMBER = re.compile(r"[A-Za-z0-9-]{5,50}")


class Refused(Exception):
    """17TRACK's code and words for an item (or a call) it does not take."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _times(moment: datetime) -> dict[str, str]:
    return {
        "time_iso": moment.isoformat(timespec="seconds"),
        "time_utc": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@dataclass(frozen=True)
class Scan:
    """One event the carrier reported."""

    at: datetime
    status: str
    sub_status: str
    description: str
    location: str = ""

    def event(self) -> dict[str, Any]:
        return {
            **_times(self.at),
            "description": self.description,
            "description_translation": None,
            "location": self.location,
            "stage": MILESTONES.get(self.sub_status),
            "sub_status": self.sub_status,
            "address": {"country": None, "state": None, "city": self.location or None},
        }


@dataclass
class Parcel:
    """A registered number and what 17TRACK found for it."""

    number: str
    carrier: int
    origin: int  # 1 detected by 17TRACK, 2 the carrier given was right
    tag: str | None = None
    param: str | None = None
    tracking: bool = True
    retracked: bool = False
    scans: list[Scan] = field(default_factory=list)  # oldest first

    def track_info(self) -> dict[str, Any]:
        newest = self.scans[-1] if self.scans else None
        reached: dict[str, datetime] = {}
        for scan in self.scans:
            stage = MILESTONES.get(scan.sub_status)
            if stage:
                reached.setdefault(stage, scan.at)
        events = [scan.event() for scan in reversed(self.scans)]
        return {
            "latest_status": {
                "status": newest.status if newest else "NotFound",
                "sub_status": newest.sub_status if newest else "NotFound_Other",
                "sub_status_descr": None,
            },
            "latest_event": events[0] if events else None,
            "milestone": [
                {"key_stage": stage, **(_times(reached[stage]) if stage in reached else UNREACHED)}
                for stage in dict.fromkeys(MILESTONES.values())
            ],
            "tracking": {
                "providers": [
                    {
                        "provider": {
                            "key": self.carrier,
                            "name": CARRIER_NAMES.get(self.carrier, f"Carrier {self.carrier}"),
                        },
                        "latest_sync_status": "Success",
                        "events": events,
                    }
                ]
            },
        }

    def item(self) -> dict[str, Any]:
        """The parcel as `gettrackinfo` and the push carry it."""
        return {
            "number": self.number,
            "carrier": self.carrier,
            "param": self.param,
            "tag": self.tag,
            "track_info": self.track_info(),
        }

    def summary(self) -> dict[str, Any]:
        info = self.track_info()["latest_status"]
        return {
            "carrier": self.carrier,
            "origin": self.origin,
            "tag": self.tag,
            "param": self.param,
            "tracking_status": "Tracking" if self.tracking else "Stopped",
            "status": info["status"],
            "sub_status": info["sub_status"],
            "scans": len(self.scans),
        }


class Account:
    """One account's numbers and quota; every method is safe across threads."""

    def __init__(self, *, quota: int) -> None:
        self.quota_total = quota
        self.quota_used = 0
        self.parcels: dict[str, Parcel] = {}
        self.lock = threading.RLock()

    def register(self, item: Mapping[str, Any]) -> dict[str, Any]:
        number = _number(item)
        given = item.get("carrier")
        with self.lock:
            if number in self.parcels:
                raise Refused(-18019901, f"Tracking number {number} is already registered.")
            carrier, origin = _carrier(number, given), 1 if given in (None, "", 0) else 2
            if self.quota_used >= self.quota_total:
                raise Refused(-18019908, "The quota has run out.")
            self.quota_used += 1
            parcel = Parcel(
                number,
                carrier,
                origin,
                tag=_optional(item.get("tag")),
                param=_optional(item.get("param")),
            )
            self.parcels[number] = parcel
            return {"origin": origin, "number": number, "carrier": carrier, "tag": parcel.tag}

    def info(self, item: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            return self._registered(item).item()

    def stop(self, item: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            parcel = self._registered(item)
            if not parcel.tracking:
                raise Refused(-18019906, "Only numbers being tracked can be stopped.")
            parcel.tracking = False
            return {"number": parcel.number, "carrier": parcel.carrier}

    def retrack(self, item: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            parcel = self._registered(item)
            if parcel.tracking:
                raise Refused(-18019904, "Only stopped numbers can be retracked.")
            if parcel.retracked:
                raise Refused(-18019905, "Each number can be retracked only once.")
            parcel.tracking, parcel.retracked = True, True
            return {"number": parcel.number, "carrier": parcel.carrier}

    def quota(self) -> dict[str, Any]:
        with self.lock:
            return {
                "quota_total": self.quota_total,
                "quota_used": self.quota_used,
                "quota_remain": self.quota_total - self.quota_used,
                "max_track_daily": 10_000,
            }

    def scan(self, number: str, scan: Scan) -> dict[str, Any] | None:
        """Record a scan; the parcel as a push carries it, or None when not followed.
        Scans keep their order: one dated before the last is moved just after it."""
        with self.lock:
            parcel = self.parcels[number]
            if parcel.scans and scan.at <= parcel.scans[-1].at:
                later = parcel.scans[-1].at + timedelta(seconds=1)
                scan = Scan(later, scan.status, scan.sub_status, scan.description, scan.location)
            parcel.scans.append(scan)
            if not parcel.tracking:
                return None
            item = parcel.item()
            if scan.status in ("Delivered", "Expired") or scan.sub_status == "Exception_Returned":
                parcel.tracking = False  # 17TRACK stops following a parcel that is done
            return item

    def summaries(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {n: p.summary() for n, p in self.parcels.items()}

    def _registered(self, item: Mapping[str, Any]) -> Parcel:
        number = _number(item)
        parcel = self.parcels.get(number)
        if parcel is None:
            raise Refused(
                -18019902, f"Tracking number {number} is not registered yet. Register first."
            )
        return parcel


def make_scan(spec: Mapping[str, Any]) -> Scan:
    """A scan from the control route's fields; ValueError names the field that is wrong."""
    status = str(spec.get("status") or "")
    if status not in MAIN_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(MAIN_STATUSES)}")
    default = "InfoReceived" if status == "InfoReceived" else f"{status}_Other"
    sub_status = str(spec.get("sub_status") or default)
    if sub_status not in SUB_STATUSES or not sub_status.startswith(status):
        raise ValueError(f"sub_status {sub_status!r} is not a sub-status of {status}")
    text = spec.get("time")
    try:
        at = datetime.fromisoformat(str(text)) if text else datetime.now(BEIJING)
    except ValueError:
        raise ValueError(f"time {text!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=BEIJING)
    return Scan(
        at.replace(microsecond=0),
        status,
        sub_status,
        str(spec.get("description") or sub_status),
        str(spec.get("location") or ""),
    )


def _number(item: Mapping[str, Any]) -> str:
    number = item.get("number")
    if number in (None, ""):
        raise Refused(-18010010, "Please provide the data number.")
    if not isinstance(number, str) or not NUMBER.fullmatch(number):
        raise Refused(-18010012, f"The format of data {number} is invalid.")
    return number


def _carrier(number: str, given: Any) -> int:
    if given in (None, "", 0):
        for pattern, key in DETECTED:
            if pattern.fullmatch(number.upper()):
                return key
        raise Refused(
            -18019903,
            "Carrier cannot be detected. Visit carrier info for carrier code and send as a "
            "parameter.",
        )
    if isinstance(given, bool) or not isinstance(given, int) or given < 0:
        raise Refused(-18010011, "The value of data carrier is invalid.")
    return given


def _optional(value: Any) -> str | None:
    return None if value in (None, "") else str(value)[:100]
