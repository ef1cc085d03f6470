"""A package as confirmShipment takes it, and what Amazon still counts as unshipped.

`packageReferenceId` must be a positive number written as text, unique within the order
(models issues #5094, jlevers #489). It is made from the tracking number, so the same
parcel confirmed twice (a retry after a lost answer) is the same package to Amazon:

    package_reference("1Z999AA10123456784") -> "573306913590"   # always the same
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..base import Rejected
from ..kit.fields import units

__all__ = ["package_detail", "package_reference", "unshipped", "wanted_lines"]


def package_reference(tracking_no: str) -> str:
    """A positive numeric reference, the same for the same tracking number."""
    digest = hashlib.sha256(tracking_no.strip().upper().encode()).hexdigest()
    return str(int(digest[:12], 16) % 10**12 + 1)


def wanted_lines(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Quantity per OrderItemId, repeated lines added; Rejected for a count of nothing."""
    wanted: dict[str, int] = {}
    for item_id, quantity in lines:
        if quantity <= 0:
            raise Rejected(f"line {item_id} ships {quantity} units", code="bad_quantity")
        wanted[str(item_id)] = wanted.get(str(item_id), 0) + int(quantity)
    return wanted


def unshipped(items: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """OrderItemId → units Amazon counts as ordered but not shipped."""
    left: dict[str, int] = {}
    for item in items:
        ordered = units(item.get("QuantityOrdered"), "QuantityOrdered", empty=0)
        shipped = units(item.get("QuantityShipped"), "QuantityShipped", empty=0)
        if ordered > shipped and item.get("OrderItemId"):
            left[str(item["OrderItemId"])] = ordered - shipped
    return left


def package_detail(
    *,
    reference: str,
    carrier: str,
    tracking_no: str,
    items: Mapping[str, int],
    shipped_at: datetime,
    carrier_codes: Mapping[str, str],
    shipping_method: str,
) -> dict[str, Any]:
    """confirmShipment's `packageDetail`; a carrier Amazon has no code for is "Other"
    with its name."""
    code = carrier_codes.get(carrier.strip().upper())
    detail: dict[str, Any] = {
        "packageReferenceId": reference,
        "carrierCode": code or "Other",
        "trackingNumber": tracking_no,
        "shipDate": shipped_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orderItems": [{"orderItemId": i, "quantity": q} for i, q in items.items()],
    }
    if code is None:
        detail["carrierName"] = carrier.strip() or "Other"
    if shipping_method:
        detail["shippingMethod"] = shipping_method
    return detail
