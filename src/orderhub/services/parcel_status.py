"""A parcel's new status, told to the shops that show it to the buyer (Shopify).

Each status a tracker reports becomes one job per order, keyed by the status, so a
tracker's repeated pushes tell the shop once. A shop that has not had the parcel's
tracking number yet is asked again later: the status follows the confirmation.
"""

from __future__ import annotations

from datetime import UTC, datetime

from orderhub.connectors.base import Unavailable
from orderhub.connectors.capabilities import reports_parcel_status
from orderhub.domain.tracking import ParcelStatus
from orderhub.services.hub import Hub
from orderhub.services.switches import syncs
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = ["JOB_PARCEL_STATUS", "queue_parcel_status", "tell_parcel_status"]

JOB_PARCEL_STATUS = "channel.parcel_status"


def queue_parcel_status(
    uow: UnitOfWork,
    orders: list[str],
    *,
    tracking_no: str,
    status: ParcelStatus,
    at: datetime | None,
    words: str,
) -> None:
    """One job per order to tell its shop where the parcel is now."""
    if status is ParcelStatus.PENDING:
        return
    for order_id in orders:
        uow.outbox.add(
            JOB_PARCEL_STATUS,
            {
                "order_id": order_id,
                "tracking_no": tracking_no,
                "status": status.value,
                "at": (at or datetime.now(UTC)).isoformat(),
                "message": words[:255],
            },
            key=f"parcel-status:{order_id}:{tracking_no}:{status.value}",
            order_id=order_id,
        )


def tell_parcel_status(hub: Hub, job: Job) -> None:
    """Send the status to the order's shop, when the shop shows such statuses."""
    order_id = str(job.payload["order_id"])
    tracking_no = str(job.payload["tracking_no"])
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        shop = uow.catalog.shop(order.shop)
    if order.origin != "channel" or not syncs(shop, "tracking"):
        return
    channel = hub.channel(shop)
    if not reports_parcel_status(channel):
        return
    parcel = next((f for f in order.fulfillments if f.tracking_no == tracking_no), None)
    if parcel is None:
        return
    if not parcel.confirmed_to_channel:
        raise Unavailable(f"{shop.code} has not had {tracking_no} yet; its status follows")
    if not parcel.channel_fulfillment_id:
        return
    status = str(job.payload["status"])
    sent = channel.report_parcel_status(
        channel_order_id=order.channel_order_id,
        channel_fulfillment_id=parcel.channel_fulfillment_id,
        status=status,
        happened_at=datetime.fromisoformat(str(job.payload["at"])),
        message=str(job.payload.get("message") or ""),
    )
    with hub.uow() as uow:
        uow.orders.trace(
            order.id,
            "track",
            "ok" if sent else "skipped",
            f"{shop.code} told {tracking_no} is {status}"
            if sent
            else f"{shop.code} has no status for {status}",
            job_id=job.id,
        )
        uow.commit()
