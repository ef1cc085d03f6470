"""Reading 17TRACK's tracking information into the hub's TrackingUpdate.

An item (an accepted entry of `gettrackinfo`, or a push's `data`) carries `number`,
`carrier` (17TRACK's key) and `track_info`: `latest_status{status, sub_status,
sub_status_descr}`, `latest_event`, `milestone`, and `tracking.providers[].events[]`,
newest first, each with `time_iso` (the carrier's local time and offset), `time_utc`,
`description`, `location`, `stage` and `sub_status`. A value that cannot be read raises
ValueError naming its path, so a person sees which one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..tracking import ParcelStatus, TrackingEvent, TrackingUpdate
from .consts import FINISHED_SUB_STATUSES, STAGES, STATUSES, SUB_STATUSES

__all__ = ["STOPPED", "read_item", "status_of"]

STOPPED = "17TRACK stopped following it"


def status_of(name: str) -> ParcelStatus | None:
    """The hub's status for a 17TRACK status, sub-status or milestone stage."""
    if name in SUB_STATUSES:
        return SUB_STATUSES[name]
    main = name.split("_", 1)[0]
    return STATUSES.get(main) or STAGES.get(name)


def read_item(item: Any, path: str, *, stopped: bool = False) -> TrackingUpdate:
    """One parcel's news; `stopped` when 17TRACK said it stops following the parcel."""
    if not isinstance(item, dict):
        raise ValueError(f"{path}: the item is not an object")
    number = item.get("number")
    if not isinstance(number, str) or not number.strip():
        raise ValueError(f"{path}.number: the item names no tracking number")
    carrier = _text(item.get("carrier"))
    info = item.get("track_info")
    if info is None and stopped:  # says nothing of where the parcel is, only that it ends
        return TrackingUpdate(number, carrier, ParcelStatus.PENDING, finished=True, detail=STOPPED)
    if not isinstance(info, dict):
        raise ValueError(f"{path}.track_info: the item carries no tracking information")
    events = _events(info, f"{path}.track_info")
    main, sub, words = _latest(info, f"{path}.track_info.latest_status")
    status = status_of(sub) or status_of(main)
    if status is None:
        status = events[-1].status if events else ParcelStatus.PENDING
    finished, detail = False, ""
    if status is ParcelStatus.DELIVERED or sub in FINISHED_SUB_STATUSES:
        finished = True
    if main == "Expired" or sub.startswith("Expired"):
        finished = True
        detail = f"expired: {STOPPED}, no news from the carrier for too long"
        detail += f" ({words})" if words else ""
    if stopped:
        finished, detail = True, detail or STOPPED
    return TrackingUpdate(number, carrier, status, events, finished=finished, detail=detail)


def _text(value: Any) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _latest(info: dict[str, Any], path: str) -> tuple[str, str, str]:
    latest = info.get("latest_status")
    if latest is None:
        return "", "", ""
    if not isinstance(latest, dict):
        raise ValueError(f"{path}: the latest status is not an object")
    return (
        _text(latest.get("status")),
        _text(latest.get("sub_status")),
        _text(latest.get("sub_status_descr")),
    )


def _events(info: dict[str, Any], path: str) -> list[TrackingEvent]:
    """Every provider's scans, oldest first; a scan two providers share counts once."""
    found: list[TrackingEvent] = []
    tracking = info.get("tracking")
    if tracking is not None and not isinstance(tracking, dict):
        raise ValueError(f"{path}.tracking: not an object")
    providers = (tracking or {}).get("providers")
    if providers is not None and not isinstance(providers, list):
        raise ValueError(f"{path}.tracking.providers: not a list")
    for i, provider in enumerate(providers or []):
        where = f"{path}.tracking.providers[{i}]"
        if not isinstance(provider, dict):
            raise ValueError(f"{where}: not an object")
        scans = provider.get("events")
        if scans is None:
            continue
        if not isinstance(scans, list):
            raise ValueError(f"{where}.events: the scans are not a list")
        found.extend(_event(scan, f"{where}.events[{j}]") for j, scan in enumerate(scans))
    if not found and info.get("latest_event") is not None:
        found.append(_event(info["latest_event"], f"{path}.latest_event"))
    unique = {(e.at, e.description, e.location): e for e in found}
    return sorted(unique.values(), key=lambda e: e.at)


def _event(scan: Any, path: str) -> TrackingEvent:
    if not isinstance(scan, dict):
        raise ValueError(f"{path}: a scan is not an object")
    sub, stage = _text(scan.get("sub_status")), _text(scan.get("stage"))
    return TrackingEvent(
        at=_moment(scan, path),
        status=status_of(sub) or status_of(stage) or ParcelStatus.IN_TRANSIT,
        description=_text(scan.get("description"))[:500],
        location=_place(scan)[:200],
        code=(sub or stage)[:40],
    )


def _moment(scan: dict[str, Any], path: str) -> datetime:
    """`time_iso` keeps the carrier's offset; without one, `time_utc`; else read as UTC."""
    naive: datetime | None = None
    for key in ("time_iso", "time_utc"):
        text = scan.get(key)
        if not text:
            continue
        try:
            moment = datetime.fromisoformat(str(text))
        except ValueError as exc:
            raise ValueError(f"{path}.{key}: {text!r} is not a time") from exc
        if moment.tzinfo is not None:
            return moment
        naive = naive or moment
    if naive is None:
        raise ValueError(f"{path}.time_iso: the scan has no time")
    return naive.replace(tzinfo=UTC)


def _place(scan: dict[str, Any]) -> str:
    where = _text(scan.get("location"))
    address = scan.get("address")
    if where or not isinstance(address, dict):
        return where
    parts = (_text(address.get(k)) for k in ("city", "state", "country"))
    return ", ".join(p for p in parts if p)
