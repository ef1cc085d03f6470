"""Every parcel followed after it leaves: subscribed when its tracking number arrives,
its scans kept as a timeline, and what a person must know raised.

* Delivered marks the order's parcel delivered.
* Returned to the sender opens the return of what the parcel carried.
* A carrier's exception is an alert in the carrier's words.
* No scan for `stuck_hours` (per tracker, per carrier) is a stuck-parcel alert, once a
  window.

Callbacks are verified, stored before they are read, and applied by a job, as every
inbound payload is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from orderhub.connectors.base import ShipmentConfirmed
from orderhub.domain.alerts import Alert
from orderhub.domain.order import Order
from orderhub.domain.tracking import ParcelStatus, TrackingUpdate
from orderhub.observability import metrics
from orderhub.services.alerts import raise_alert
from orderhub.services.callback_inbox import keep_callback, replay_callback
from orderhub.services.hub import Hub
from orderhub.services.ingest import BadSignature
from orderhub.services.parcel_status import queue_parcel_status
from orderhub.services.returns import NothingToReturn, open_returns
from orderhub.store.outbox import Job
from orderhub.store.parcels import Parcel, TrackerRecord
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_TRACKING_EVENT",
    "JOB_TRACKING_SCAN",
    "JOB_TRACKING_SUBSCRIBE",
    "apply_tracking",
    "follow_parcel",
    "receive_tracking_callback",
    "replay_tracking_callback",
    "scan_quiet_parcels",
    "schedule_tracking_scan",
    "subscribe_parcel",
    "tracking_scan_job",
]

JOB_TRACKING_SUBSCRIBE = "tracking.subscribe"
JOB_TRACKING_EVENT = "tracking.event"
JOB_TRACKING_SCAN = "tracking.scan"
DEFAULT_STUCK_HOURS = 48.0
_COUNTRIES = {"中国": "CN", "CHINA": "CN", "中华人民共和国": "CN"}


def country_code(order: Order) -> str:
    """The destination as an ISO code; a shop's orders without one are domestic (CN)."""
    given = order.receiver.country.strip().upper()
    if len(given) == 2:
        return given
    return _COUNTRIES.get(given, "CN" if not given else "")


def _tracker_for(trackers: list[TrackerRecord], country: str) -> TrackerRecord | None:
    """The first tracker serving the destination; one naming no countries serves all."""
    for tracker in trackers:
        served = [str(c).upper() for c in tracker.settings.get("countries") or []]
        if not served or country in served:
            return tracker
    return None


def follow_parcel(uow: UnitOfWork, order: Order, shipment: ShipmentConfirmed) -> None:
    """A parcel left: keep it and queue its subscription (when a tracker serves it)."""
    if not shipment.tracking_no:
        return
    country = country_code(order)
    tracker = _tracker_for(uow.parcels.trackers(), country)
    if tracker is None:
        return
    parcel = uow.parcels.add(
        shipment.tracking_no,
        carrier=shipment.carrier,
        tracker=tracker.code,
        city=order.receiver.city,
        country=country,
        shipped_at=shipment.shipped_at,
    )
    if parcel is None:
        return  # a merged parcel: followed once for every order it carries
    uow.outbox.add(
        JOB_TRACKING_SUBSCRIBE,
        {"parcel_id": parcel.id, "order_id": order.id},
        key=f"track:{parcel.tracking_no}",
        order_id=order.id,
    )


def subscribe_parcel(hub: Hub, job: Job) -> None:
    """Ask the tracker to follow the parcel and call the hub back."""
    with hub.reader() as uow:
        parcel = uow.parcels.get(str(job.payload["parcel_id"]))
        tracker = uow.parcels.tracker(parcel.tracker)
        order = uow.orders.get(str(job.payload["order_id"]))
    base = hub.settings.public_url.rstrip("/")
    hub.tracker(tracker).subscribe(
        tracking_no=parcel.tracking_no,
        carrier=parcel.carrier,
        callback_url=f"{base}/tracking/{tracker.code}",
        phone=order.receiver.phone if not order.receiver.sealed else "",
        destination_country=parcel.country,
    )
    with hub.uow() as uow:
        uow.parcels.subscribed(parcel.id, tracker=tracker.code)
        for order_id in uow.parcels.orders_of(parcel.tracking_no):
            uow.orders.trace(
                order_id,
                "track",
                "ok",
                f"{tracker.platform} follows {parcel.carrier} {parcel.tracking_no}",
                job_id=job.id,
            )
        uow.commit()


def receive_tracking_callback(
    hub: Hub,
    tracker_code: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[bytes, str]:
    """Verify and store a tracker's callback, queue it, answer as the tracker expects."""
    with hub.reader() as uow:
        record = uow.parcels.tracker(tracker_code)
    connector = hub.tracker(record)
    if not connector.verify_callback(query, headers, body):
        metrics.inbound.labels("tracker", "bad_signature").inc()
        raise BadSignature(f"callback from tracker {tracker_code} has a bad signature")
    problem = keep_callback(
        hub,
        source="tracker",
        code=tracker_code,
        topic="tracking",
        body=body,
        headers={"query": json.dumps(dict(query)), "headers": json.dumps(dict(headers))},
        read=lambda: connector.parse_callback(query, headers, body),
        job_kind=JOB_TRACKING_EVENT,
    )
    if problem:
        return connector.callback_reply(ok=False, message="the callback cannot be read")
    return connector.callback_reply(ok=True)


def apply_tracking(hub: Hub, uow: UnitOfWork, job: Job) -> None:
    """Apply a stored callback: each parcel's new scans, status and consequences."""
    _apply_item(hub, uow, str(job.payload["inbox_id"]), job.id)


def replay_tracking_callback(hub: Hub, inbox_id: str) -> str | None:
    """Apply a held tracking callback again, whole (after the tracker's settings were fixed)."""
    return replay_callback(hub, inbox_id, _apply_item)


def _apply_item(hub: Hub, uow: UnitOfWork, inbox_id: str, job_id: int | None) -> None:
    item = uow.inbox.get(inbox_id)
    if item.status != "pending":
        return
    record = uow.parcels.tracker(item.shop)
    query = json.loads(item.headers.get("query", "{}"))
    headers = json.loads(item.headers.get("headers", "{}"))
    try:
        updates = hub.tracker(record).parse_callback(query, headers, item.body)
    except ValueError as exc:
        uow.exceptions.open(
            stage="parse",
            code="malformed_callback",
            message=f"callback from {record.code} is unreadable: {exc}",
            inbox_id=item.id,
        )
        uow.inbox.mark(item.id, "failed", error=str(exc))
        return
    first = None
    for update in updates:
        first = _apply_update(uow, update, job_id) or first
    uow.inbox.mark(item.id, "processed", order_id=first)


def _apply_update(uow: UnitOfWork, update: TrackingUpdate, job_id: int | None) -> str | None:
    parcel = uow.parcels.by_tracking_no(update.tracking_no)
    if parcel is None:
        uow.exceptions.open(
            stage="track",
            code="unknown_parcel",
            message=f"a tracker reported {update.tracking_no}, which no parcel of ours carries",
        )
        return None
    new = uow.parcels.add_events(parcel.id, update.events)
    before = ParcelStatus(parcel.status)
    status = update.status
    latest = max((e.at for e in update.events), default=None)
    known = parcel.last_event_at
    orders = uow.parcels.orders_of(parcel.tracking_no)
    if latest is None and update.finished:
        # The tracker stopped following the parcel and says nothing of where it is.
        uow.parcels.moved(
            parcel.id, status=before, last_event_at=None, finished=True, detail=update.detail
        )
        if before not in (ParcelStatus.DELIVERED, ParcelStatus.RETURNED):
            _alert(uow, "tracking_stopped", parcel, orders, update.detail or "no longer followed")
        return orders[0] if orders else None
    if known is not None and (latest is None or latest < known or (latest == known and not new)):
        # A push that left before the one already applied (trackers resend the whole
        # history; copies can cross on the way): its scans are kept, its status is old.
        return None
    # Delivered is the end; a parcel sent back is the return's to follow from here on.
    finished = update.finished or status in (ParcelStatus.DELIVERED, ParcelStatus.RETURNED)
    uow.parcels.moved(
        parcel.id, status=status, last_event_at=latest, finished=finished, detail=update.detail
    )
    words = next((e.description for e in reversed(update.events) if e.description), "")
    if status is not before:
        for order_id in orders:
            uow.orders.trace(
                order_id,
                "track",
                "ok",
                f"{parcel.carrier} {parcel.tracking_no}: {status.value} {words}".strip(),
                job_id=job_id,
            )
    if status is not before:
        queue_parcel_status(
            uow, orders, tracking_no=parcel.tracking_no, status=status, at=latest, words=words
        )
    if status is ParcelStatus.DELIVERED and before is not status:
        _delivered(uow, parcel, orders)
    elif status is ParcelStatus.RETURNED and before is not status:
        _returned(uow, parcel, orders, words)
    elif status is ParcelStatus.EXCEPTION and (before is not status or new):
        _alert(uow, "parcel_exception", parcel, orders, f"the carrier says: {words}", "warning")
    if update.finished and status not in (ParcelStatus.DELIVERED, ParcelStatus.RETURNED):
        _alert(uow, "tracking_stopped", parcel, orders, update.detail or "no longer followed")
    return orders[0] if orders else None


def _delivered(uow: UnitOfWork, parcel: Parcel, orders: list[str]) -> None:
    """The parcel reached the buyer: its part of each order is delivered."""
    for order_id in orders:
        order = uow.orders.get(order_id, for_update=True)
        for fulfillment in order.fulfillments:
            if fulfillment.tracking_no == parcel.tracking_no:
                fulfillment.status = "delivered"
        uow.orders.save(order)
        every = all(f.status == "delivered" for f in order.fulfillments)
        uow.orders.trace(
            order_id,
            "deliver",
            "ok",
            f"{parcel.tracking_no} delivered"
            + ("; every parcel of the order is delivered" if every else ""),
        )


def _returned(uow: UnitOfWork, parcel: Parcel, orders: list[str], words: str) -> None:
    """The carrier sends the parcel back: what it carries is expected back at the node."""
    for order_id in orders:
        order = uow.orders.get(order_id, for_update=True)
        wanted: dict[str, int] = {}
        for fulfillment in order.fulfillments:
            if fulfillment.tracking_no == parcel.tracking_no:
                fulfillment.status = "returned"
                for line in fulfillment.lines:
                    wanted[line.line_id] = wanted.get(line.line_id, 0) + line.quantity
        try:
            open_returns(uow, order, wanted, reason=f"returned to sender by the carrier {words}")
        except NothingToReturn as exc:
            uow.orders.save(order)
            uow.orders.trace(order_id, "return", "skipped", str(exc))
    _alert(uow, "parcel_returned", parcel, orders, f"returned to the sender: {words}")


def _alert(
    uow: UnitOfWork,
    kind: str,
    parcel: Parcel,
    orders: list[str],
    why: str,
    severity: str = "warning",
    *,
    window: float = 3600.0,
    now: datetime | None = None,
) -> bool:
    return raise_alert(
        uow,
        Alert(
            kind=kind,
            key=f"{kind}:{parcel.tracking_no}",
            message=f"parcel {parcel.carrier} {parcel.tracking_no}: {why}",
            severity=severity,
            data={"tracking_no": parcel.tracking_no, "orders": orders},
        ),
        window=window,
        now=now,
    )


def stuck_hours(tracker: TrackerRecord | None, carrier: str) -> float:
    settings: Mapping[str, Any] = tracker.settings if tracker else {}
    by_carrier = settings.get("stuck_hours_by_carrier") or {}
    if isinstance(by_carrier, Mapping) and carrier.upper() in by_carrier:
        return float(by_carrier[carrier.upper()])
    return float(settings.get("stuck_hours") or DEFAULT_STUCK_HOURS)


def scan_quiet_parcels(hub: Hub, *, now: datetime | None = None) -> int:
    """Alert each parcel without a scan for longer than its carrier allows, once per that
    many hours; how many alerts were raised."""
    moment = now or datetime.now(UTC)
    raised = 0
    with hub.uow() as uow:
        trackers = {x.code: x for x in uow.parcels.trackers()}
        if not trackers:
            return 0
        shortest = min(
            [stuck_hours(x, "") for x in trackers.values()]
            + [
                float(h)
                for x in trackers.values()
                for h in dict(x.settings.get("stuck_hours_by_carrier") or {}).values()
            ]
        )
        for parcel in uow.parcels.quiet_since(moment - timedelta(hours=shortest)):
            hours = stuck_hours(trackers.get(parcel.tracker), parcel.carrier)
            since = parcel.last_event_at or parcel.subscribed_at
            if since is None or moment - since < timedelta(hours=hours):
                continue
            quiet = (moment - since).total_seconds() / 3600
            orders = uow.parcels.orders_of(parcel.tracking_no)
            why = f"no scan for {quiet:.0f} hours (its carrier's limit is {hours:g})"
            if _alert(uow, "parcel_stuck", parcel, orders, why, window=hours * 3600, now=moment):
                raised += 1
                for order_id in orders:
                    uow.orders.trace(order_id, "track", "late", why)
        uow.commit()
    return raised


def schedule_tracking_scan(hub: Hub, *, slot: int) -> None:
    with hub.uow() as uow:
        if uow.parcels.trackers():
            uow.outbox.add(JOB_TRACKING_SCAN, {}, key=f"tracking-scan:{uow.tenant}:{slot}")
        uow.commit()


def tracking_scan_job(hub: Hub, job: Job) -> None:
    scan_quiet_parcels(hub)
