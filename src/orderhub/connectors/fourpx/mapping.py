"""4PX's shapes and the hub's: an outbound order as a `fu.wms.outbound.create` body, and
a getlist row as NodeEvents (one shipment per parcel that left, or a cancellation).

A polled event's `raw` is `{"code": our code, "parcel": its tracking number or "",
"outbound": the getlist row}`; `read_polled` turns those bytes into the same event again,
so a stored poll is applied, and replayed, exactly as a warehouse callback is.

Customs fields of an SKU row (`hs_code`, `declare_name_en`, `declare_value`,
`declare_currency`, `origin_country`) and the order's `ioss_no` / `vat_no` are
UNCONFIRMED names; a parcel list `outboundlist_package` is UNCONFIRMED too: without it a
consignment that left is one parcel carrying every SKU, under its first `shipping_no`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..base import NodeEvent, OutboundOrder, ShipmentConfirmed, ShipmentLine
from ..kit import bounded_json, fields
from .consts import (
    CANCELLED,
    CARRIER,
    CONSIGNMENT_TYPE,
    SALES_PLATFORMS,
    SHIPPED,
    STOCK_QUALITY,
    Method,
)
from .settings import FourpxSettings

__all__ = ["POLLED", "create_body", "polled_events", "read_polled"]

POLLED = Method.LIST.value
"""The method a polled event is stored under: what it was read from."""


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _sku_row(line: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sku_code": line.sku,
        "qty": line.quantity,
        "stock_quality": STOCK_QUALITY,
        "unit_price": _money(line.unit_price),
    }
    if line.hs_code:
        row.update(
            {
                "hs_code": line.hs_code,
                "declare_name_en": line.customs_description,
                "declare_value": _money(line.declared_value),
                "declare_currency": line.declared_currency,
                "origin_country": line.origin_country,
            }
        )
    return {key: value for key, value in row.items() if value != ""}


def create_body(order: OutboundOrder, s: FourpxSettings) -> dict[str, Any]:
    """The create request: our code as `ref_no` (4PX's key for it), the order's shipping
    method or the account's default product, customs per SKU when it crosses a border."""
    body: dict[str, Any] = {
        "customer_code": s.customer_code,
        "ref_no": order.code,
        "from_warehouse_code": s.warehouse_code,
        "consignment_type": CONSIGNMENT_TYPE,
        "logistics_service_info": {
            "logistics_product_code": order.shipping_method or s.logistics_product_code
        },
        "sales_platform": SALES_PLATFORMS.get(order.platform.lower(), ""),
        "sales_no": order.channel_order_id,
        "remark": order.seller_remark[:200],
        "ioss_no": order.ioss_number,
        "vat_no": order.vat_number,
        "oconsignment_desc": {
            key: value
            for key, value in {
                "country": order.country,
                "state": order.province,
                "city": order.city,
                "district": order.district,
                "post_code": order.postcode,
                "street": order.address,
                "first_name": order.receiver_name,
                "phone": order.receiver_phone,
                "email": order.email,
            }.items()
            if value
        },
        "oconsignment_sku": [_sku_row(line) for line in order.lines],
    }
    return {key: value for key, value in body.items() if value != ""}


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _moment(value: Any) -> datetime | None:
    """An epoch-millisecond time, as 4PX gives them."""
    if value in (None, "", 0):
        return None
    return datetime.fromtimestamp(fields.whole_number(value, "complete_time") / 1000, UTC)


def _lines(rows: list[dict[str, Any]]) -> list[ShipmentLine]:
    lines = []
    for row in rows:
        sku = str(row.get("sku_code") or "").strip()
        quantity = fields.units(row.get("qty"), "qty", empty=0)
        if sku and quantity > 0:
            lines.append(ShipmentLine(sku=sku, quantity=quantity))
    return lines


def _parcels(row: Mapping[str, Any]) -> list[tuple[str, list[ShipmentLine], datetime | None]]:
    """(tracking number, what it carried, when) of every parcel that left."""
    packages = _rows(row.get("outboundlist_package"))
    if packages:
        return [
            (
                str(p.get("shipping_no") or "").strip(),
                _lines(_rows(p.get("package_sku"))),
                _moment(p.get("complete_time")),
            )
            for p in packages
            if str(p.get("shipping_no") or "").strip()
        ]
    numbers = [n.strip() for n in str(row.get("shipping_no") or "").split(",") if n.strip()]
    if str(row.get("status")) != SHIPPED or not numbers:
        return []
    lines = _lines(_rows(row.get("outboundlist_sku")))
    return [(numbers[0], lines, _moment(row.get("complete_time")))]


def _event(code: str, row: Mapping[str, Any], s: FourpxSettings, parcel: int) -> NodeEvent:
    parcels = _parcels(row)
    number, lines, moment = parcels[parcel]
    product = str(row.get("logistics_product_code") or "")
    consignment = str(row.get("consignment_no") or code)
    shipment = ShipmentConfirmed(
        code=code,
        carrier=s.carriers.get(product, CARRIER),
        tracking_no=number,
        lines=lines,
        confirm_id=f"{consignment}:{number}",
        final=str(row.get("status")) == SHIPPED and parcel == len(parcels) - 1,
        shipped_at=moment,
    )
    raw = {"code": code, "parcel": number, "outbound": dict(row)}
    return NodeEvent(method=POLLED, shipment=shipment, raw=raw)


def polled_events(code: str, row: Mapping[str, Any], s: FourpxSettings) -> list[NodeEvent]:
    """What a getlist row says happened to our order `code`: a shipment per parcel that
    left (the last one final once the consignment is shipped), or its cancellation."""
    if str(row.get("status")) == CANCELLED:
        raw = {"code": code, "parcel": "", "outbound": dict(row)}
        return [NodeEvent(method=POLLED, cancelled=code, raw=raw)]
    return [_event(code, row, s, n) for n in range(len(_parcels(row)))]


def read_polled(body: bytes, s: FourpxSettings) -> NodeEvent:
    """A stored poll as its event again; ValueError, naming the field, if unreadable."""
    data = bounded_json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the stored 4PX poll is not a JSON object")
    code, row = str(data.get("code") or "").strip(), data.get("outbound")
    if not code or not isinstance(row, dict):
        raise ValueError("the stored 4PX poll has no code or no outbound row")
    parcel = str(data.get("parcel") or "")
    if not parcel:
        events = polled_events(code, row, s)
        return events[0] if events and events[0].cancelled else NodeEvent(POLLED, raw=data)
    numbers = [number for number, _, _ in _parcels(row)]
    if parcel not in numbers:
        raise ValueError(f"parcel: {parcel!r} is not in the stored 4PX outbound row")
    return _event(code, row, s, numbers.index(parcel))
