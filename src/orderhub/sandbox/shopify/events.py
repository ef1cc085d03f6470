"""Fulfillment events: where a parcel is, as a carrier or an app tells Shopify.

`POST orders/{order_id}/fulfillments/{fulfillment_id}/events.json` with `{"event":
{"status": ...}}` adds one; the fulfillment's `shipment_status` becomes the newest
event's status, which the buyer sees on the order status page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .common import Json, gid, iso, not_found, parse_time, unprocessable

__all__ = ["EVENT_STATUSES", "add_event"]

EVENT_STATUSES = frozenset(
    {
        "label_printed",
        "label_purchased",
        "attempted_delivery",
        "ready_for_pickup",
        "picked_up",
        "confirmed",
        "in_transit",
        "out_for_delivery",
        "delivered",
        "failure",
        "carrier_picked_up",
        "delayed",
    }
)
_TEXT = ("message", "city", "province", "country", "zip", "address1")


def add_event(
    event_id: int,
    order: Json,
    fulfillment_id: int,
    body: Mapping[str, Any],
    events: list[Json],
    *,
    shop_id: int,
    tz: timezone,
    now: datetime,
) -> Json:
    """The event made from a request body, added to `events` (the fulfillment's)."""
    fulfillment = next((f for f in order["fulfillments"] if f["id"] == fulfillment_id), None)
    if fulfillment is None:
        raise not_found()
    status = body.get("status")
    if not isinstance(status, str) or not status:
        raise unprocessable("status", "can't be blank")
    if status not in EVENT_STATUSES:
        raise unprocessable("status", "is not included in the list")
    happened = body.get("happened_at")
    try:
        happened_at = now if happened in (None, "") else parse_time(str(happened), tz)
    except ValueError as exc:
        raise unprocessable("happened_at", "is invalid") from exc
    event: Json = {
        "id": event_id,
        "fulfillment_id": fulfillment_id,
        "status": status,
        "happened_at": iso(happened_at),
        **{key: _text(body.get(key)) for key in _TEXT},
        "latitude": body.get("latitude"),
        "longitude": body.get("longitude"),
        "shop_id": shop_id,
        "created_at": iso(now),
        "updated_at": iso(now),
        "estimated_delivery_at": body.get("estimated_delivery_at"),
        "order_id": order["id"],
        "admin_graphql_api_id": gid("FulfillmentEvent", event_id),
    }
    events.append(event)
    newest = max(events, key=lambda e: (e["happened_at"], e["id"]))
    fulfillment["shipment_status"] = newest["status"]
    fulfillment["updated_at"] = iso(now)
    return event


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
