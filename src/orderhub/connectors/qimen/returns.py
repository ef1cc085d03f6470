"""Returns through Qimen: the `returnorder.create` we send and the `returnorder.confirm` we read.

A return is announced with the code of the outbound order the goods left with
(`preDeliveryOrderCode`), so the WMS can match the parcel when it arrives. When it has
checked the goods it confirms with `actualQty` per line and an `inventoryType` per
line or per batch: ZP (正品) goes back on the shelf, anything else (CC 残次, JS 机损,
XS 箱损, …) is defective. A WMS may split one line into several `<orderLine>`s with
the same `orderLineNo`, or into `<batchs>`; both shapes are read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import tzinfo
from typing import Any

from ..base import ReturnLine, ReturnOrder, ReturnReceived
from ..kit import fields
from .consts import (
    GOOD_INVENTORY_TYPES,
    LOGISTICS_CODES,
    QUALITY_DEFECTIVE,
    QUALITY_GOOD,
    InventoryType,
    ReturnOrderType,
)
from .xml import parse_time

__all__ = ["quality_of", "return_received", "return_request"]


def quality_of(inventory_type: str) -> str:
    """'good' for a sellable inventory type (ZP, also when absent), else 'defective'."""
    kind = inventory_type.strip().upper() or InventoryType.ZP.value
    return QUALITY_GOOD if kind in GOOD_INVENTORY_TYPES else QUALITY_DEFECTIVE


def return_request(
    order: ReturnOrder,
    *,
    warehouse_code: str,
    owner_code: str,
    default_logistics_code: str,
) -> dict[str, Any]:
    """The `returnorder.create` content for a return (before XML).

    `logisticsCode` is required by the standard: a carrier that is not a Qimen code
    travels as `logisticsName` with the warehouse's default code.
    """
    carrier = order.carrier.strip()
    known = carrier.upper() in LOGISTICS_CODES
    sender = (
        {
            "name": order.sender_name,
            "mobile": order.sender_phone,
            "countryCode": order.country,
            "province": order.province,
            "city": order.city,
            "detailAddress": order.address,
        }
        if order.sender_name
        else None
    )
    return {
        "returnOrder": {
            "returnOrderCode": order.code,
            "warehouseCode": warehouse_code,
            "orderType": ReturnOrderType.THRK.value,
            "preDeliveryOrderCode": order.original_code,
            "logisticsCode": carrier.upper() if known else default_logistics_code,
            "logisticsName": None if known else carrier,
            "expressCode": order.tracking_no,
            "returnReason": order.reason,
            "senderInfo": sender,
            "shopNick": order.shop_code,
        },
        "orderLines": [
            {
                "orderLineNo": line.line_no,
                "sourceOrderCode": order.channel_order_id,
                "ownerCode": owner_code,
                "itemCode": line.sku,
                "itemName": line.title,
                "planQty": line.quantity,
            }
            for line in order.lines
        ],
    }


def _int(value: Any, name: str) -> int:
    return fields.units(value, f"returnorder.confirm {name}", empty=0)


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, Mapping)]


def _received(row: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
    """(inventory type, units) of one confirm line, from its batches when it has any."""
    line_type = str(row.get("inventoryType") or "")
    batches = [b for b in _dicts(row.get("batchs") or []) if b.get("actualQty") not in (None, "")]
    if batches:
        for batch in batches:
            kind = str(batch.get("inventoryType") or line_type)
            yield kind, _int(batch.get("actualQty"), "batchs.batch.actualQty")
    else:
        yield line_type, _int(row.get("actualQty"), "orderLine.actualQty")


def return_received(data: Mapping[str, Any], body: bytes, zone: tzinfo) -> ReturnReceived:
    """A parsed `returnorder.confirm` as ReturnReceived; ValueError when it cannot be read.

    Units of the same line, SKU and quality are added up, whichever shape carried them.
    `confirm_id` is the WMS's `outBizCode` (its de-duplication id), else a hash of the body.
    """
    head = data.get("returnOrder")
    if not isinstance(head, Mapping) or not str(head.get("returnOrderCode") or "").strip():
        raise ValueError("The returnorder.confirm has no returnOrder.returnOrderCode.")
    code = str(head["returnOrderCode"]).strip()
    totals: dict[tuple[str | None, str, str], int] = {}
    for row in _dicts(data.get("orderLines") or []):
        sku = str(row.get("itemCode") or "").strip()
        if not sku:
            raise ValueError(f"A line of the returnorder.confirm for {code} has no itemCode.")
        line_no = str(row.get("orderLineNo") or "").strip() or None
        for kind, units in _received(row):
            if units < 0:
                raise ValueError(f"returnorder.confirm for {code} has a negative actualQty.")
            if units:
                key = (line_no, sku, quality_of(kind))
                totals[key] = totals.get(key, 0) + units
    lines = [
        ReturnLine(sku=sku, quantity=units, quality=quality, line_no=line_no)
        for (line_no, sku, quality), units in totals.items()
    ]
    moment = head.get("orderConfirmTime")
    return ReturnReceived(
        code=code,
        lines=lines,
        confirm_id=str(head.get("outBizCode") or "") or hashlib.sha256(body).hexdigest(),
        received_at=parse_time(str(moment), zone) if moment else None,
    )
