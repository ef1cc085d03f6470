"""Telling a WooCommerce store that a parcel left: tracking, a note, then `completed`.

WooCommerce core has no tracking field. The tracking goes where the Shipment Tracking
extension keeps it, the order meta `_wc_shipment_tracking_items` (a list of
`{tracking_provider, custom_tracking_provider, custom_tracking_link, tracking_number,
date_shipped, tracking_id}`, `date_shipped` in UNIX seconds), so the store's emails and
"My account" page show it when the extension is installed; an order note says the same in
words for stores without it. The order becomes `completed` (WooCommerce's "shipped")
once every unit has left: a split shipment records each parcel's lines in the hub's own
meta `_orderhub_parcels`, and only the parcel that covers the rest completes the order.

Each step looks before it writes, so a confirmation repeated after a crash or a timeout
adds no second tracking item, parcel or note.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..base import Rejected
from .client import WooClient
from .consts import CARRIERS, META_PARCELS, META_TRACKING, PLATFORM, STATUS_COMPLETED

__all__ = ["confirm_shipment", "covered", "tracking_item"]

Json = dict[str, Any]
CLOSED = frozenset({"cancelled", "refunded", "trash", "failed"})


def _slug(name: str) -> str:
    """The extension's `sanitize_title` of a provider name: "SF Express" → "sf-express"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def tracking_item(carrier: str, tracking_no: str, shipped_at: datetime) -> Json:
    """One `_wc_shipment_tracking_items` entry; an unlisted carrier is a custom provider."""
    known = CARRIERS.get(carrier.strip().upper())
    provider = _slug(known) if known else ""
    return {
        "tracking_provider": provider,
        "custom_tracking_provider": "" if known else carrier.strip(),
        "custom_tracking_link": "",
        "tracking_number": tracking_no,
        "date_shipped": str(int(shipped_at.timestamp())),
        "tracking_id": hashlib.md5(f"{provider or carrier}-{tracking_no}".encode()).hexdigest(),
    }


def _meta(order: Mapping[str, Any], key: str) -> Any:
    for entry in order.get("meta_data") or []:
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


def covered(order: Mapping[str, Any], parcels: Mapping[str, Mapping[str, int]]) -> bool:
    """Whether these parcels carry every unit of the order (an empty parcel is all of it)."""
    if any(not lines for lines in parcels.values()):
        return True
    sent: dict[str, int] = {}
    for lines in parcels.values():
        for line_id, quantity in lines.items():
            sent[str(line_id)] = sent.get(str(line_id), 0) + int(quantity)
    return all(
        sent.get(str(item.get("id")), 0) >= int(item.get("quantity") or 0)
        for item in order.get("line_items") or []
        if isinstance(item, Mapping)
    )


def confirm_shipment(
    api: WooClient,
    order_id: int,
    *,
    carrier: str,
    tracking_no: str,
    lines: Sequence[tuple[str, int]],
    notify_customer: bool,
    now: datetime,
) -> str:
    """Record the parcel on the order and complete it once everything has left; the
    reference is "{order id}:{tracking number}"."""
    order = api.get_order(order_id)
    status = str(order.get("status") or "")
    if status in CLOSED:
        raise Rejected(
            f"{PLATFORM} order {order_id} is {status}; the parcel {tracking_no} left anyway, "
            "so expect it back",
            code="order_closed",
        )
    items = [i for i in _meta(order, META_TRACKING) or [] if isinstance(i, dict)]
    stored = _meta(order, META_PARCELS)
    parcels: dict[str, dict[str, int]] = dict(stored) if isinstance(stored, dict) else {}
    changes: list[Json] = []
    if not any(str(i.get("tracking_number")) == tracking_no for i in items):
        items.append(tracking_item(carrier, tracking_no, now))
        changes.append({"key": META_TRACKING, "value": items})
    if tracking_no not in parcels:
        parcel: dict[str, int] = {}
        for line_id, quantity in lines:
            parcel[str(line_id)] = parcel.get(str(line_id), 0) + int(quantity)
        parcels[tracking_no] = parcel
        changes.append({"key": META_PARCELS, "value": parcels})
    if changes:
        order = api.update_order(order_id, {"meta_data": changes})
    notes = api.list_notes(order_id)
    if not any(tracking_no in str(n.get("note") or "") for n in notes):
        name = CARRIERS.get(carrier.strip().upper(), carrier.strip())
        api.add_note(
            order_id,
            f"Shipped with {name}, tracking number {tracking_no}.",
            customer_note=notify_customer,
        )
    if status != STATUS_COMPLETED and covered(order, parcels):
        api.update_order(order_id, {"status": STATUS_COMPLETED})
    return f"{order_id}:{tracking_no}"
