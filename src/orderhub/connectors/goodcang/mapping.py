"""GoodCang's shapes and the hub's: an outbound order as a create_order body, and a
polled `OrderItemComposite` as NodeEvents (one shipment per parcel, or a cancellation).

A polled event's `raw` is `{"code": our code, "parcel": tracking number or "", "order":
…}`, the payload the hub stores; `read_polled` turns those bytes into the same event
again, so a stored poll is applied, and replayed, exactly as a warehouse callback is.

Parcels: every `orderBoxInfo` row is one product in one box, with the box's
`tracking_number`; rows sharing a tracking number are one parcel. While the order is
still W a parcel with a number is a partial shipment (`final=False`); once D every parcel
is final. A D order without boxes is one parcel under `tracking_no` with all its items.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..base import NodeEvent, OutboundOrder, ShipmentConfirmed, ShipmentLine
from ..kit import bounded_json, fields
from .consts import Path
from .settings import GoodCangSettings

__all__ = ["POLLED", "create_order_body", "polled_events", "read_polled"]

POLLED = Path.ORDER_LIST.value
"""The call a polled event is stored under: what it was read from."""
ADDRESS_LINE = 50


def _split(address: str) -> tuple[str, str]:
    """address1 and address2 (50 characters each), cut at a space where one is near."""
    text = " ".join(address.split())
    if len(text) <= ADDRESS_LINE:
        return text, ""
    cut = text.rfind(" ", 0, ADDRESS_LINE + 1)
    cut = cut if cut > ADDRESS_LINE // 2 else ADDRESS_LINE
    return text[:cut].strip(), text[cut:].strip()[:ADDRESS_LINE]


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def create_order_body(order: OutboundOrder, s: GoodCangSettings) -> dict[str, Any]:
    """The create_order request: our code as `reference_no` (unique at GoodCang), the
    order's shipping method else the node's, customs per item, tax numbers in
    `vat_change_info`; empty fields left out."""
    address1, address2 = _split(order.address)
    items = []
    for line in order.lines:
        item: dict[str, Any] = {"product_sku": line.sku, "quantity": line.quantity}
        if line.hs_code:
            value = line.declared_value if line.declared_value > 0 else line.unit_price
            item["hs_code"] = line.hs_code
            item["product_declared_value"] = _money(value)
        items.append(item)
    vat = {"ioss_number": order.ioss_number, "shipper_vat": order.vat_number}
    body: dict[str, Any] = {
        "reference_no": order.code,
        "platform": s.platform,
        "shipping_method": order.shipping_method or s.shipping_method,
        "warehouse_code": s.warehouse_code,
        "country_code": order.country,
        "province": order.province or order.city,
        "city": order.city,
        "address1": address1,
        "address2": address2,
        "zipcode": order.postcode,
        "name": order.receiver_name,
        "phone": order.receiver_phone,
        "email": order.email,
        "verify": s.verify,
        "order_desc": (order.seller_remark or order.buyer_remark)[:500],
        "items": items,
        "vat_change_info": {k: v for k, v in vat.items() if v},
    }
    return {k: v for k, v in body.items() if v not in ("", {}, None)}


def _time(text: str) -> datetime | None:
    """A GoodCang time (`YYYY-MM-DD HH:MM:SS`), taken as UTC (UNCONFIRMED: its zone)."""
    text = text.strip()
    if not text or text.startswith("0000"):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"date_shipping: {text!r} is not YYYY-MM-DD HH:MM:SS") from exc


def _sku(barcode: str, skus: list[str], s: GoodCangSettings) -> str:
    """The SKU a box row's `product_barcode` names (customer code, dash, SKU)."""
    for sku in skus:
        if barcode == sku or barcode.endswith(s.barcode_separator + sku):
            return sku
    return barcode.split(s.barcode_separator, 1)[-1]


def _parcels(order: Mapping[str, Any], s: GoodCangSettings) -> dict[str, list[ShipmentLine]]:
    """Tracking number → the lines it carries, in the order the boxes were added."""
    listed = order.get("items")
    items: list[Any] = listed if isinstance(listed, list) else []
    skus = [str(i.get("product_sku") or "") for i in items if isinstance(i, dict)]
    parcels: dict[str, dict[str, int]] = {}
    boxes = order.get("orderBoxInfo")
    for row in boxes if isinstance(boxes, list) else []:
        tracking = str(row.get("tracking_number") or "").strip() if isinstance(row, dict) else ""
        if not tracking:
            continue
        sku = _sku(str(row.get("product_barcode") or ""), skus, s)
        quantity = fields.units(row.get("ob_qty"), "orderBoxInfo.ob_qty", empty=0)
        lines = parcels.setdefault(tracking, {})
        lines[sku] = lines.get(sku, 0) + quantity
    status = str(order.get("order_status") or "")
    tracking_no = str(order.get("tracking_no") or "").strip()
    if not parcels and status in s.shipped_statuses and tracking_no:
        for item in items:
            if isinstance(item, dict):
                sku = str(item.get("product_sku") or "")
                quantity = fields.units(item.get("quantity"), "items.quantity", empty=0)
                lines = parcels.setdefault(tracking_no, {})
                lines[sku] = lines.get(sku, 0) + quantity
    return {
        tn: [ShipmentLine(sku=k, quantity=q) for k, q in lines.items() if k and q > 0]
        for tn, lines in parcels.items()
    }


def _event(
    code: str, order: Mapping[str, Any], parcel: str, lines: list[ShipmentLine], s: GoodCangSettings
) -> NodeEvent:
    raw = {"code": code, "parcel": parcel, "order": dict(order)}
    method = str(order.get("shipping_method") or "")
    number = str(order.get("order_code") or code)
    shipment = ShipmentConfirmed(
        code=code,
        carrier=s.carriers.get(method, method),
        tracking_no=parcel,
        lines=lines,
        confirm_id=f"{number}:{parcel}",
        final=str(order.get("order_status") or "") in s.shipped_statuses,
        shipped_at=_time(str(order.get("date_shipping") or "")),
    )
    return NodeEvent(method=POLLED, shipment=shipment, raw=raw)


def polled_events(code: str, order: Mapping[str, Any], s: GoodCangSettings) -> list[NodeEvent]:
    """What an order's view says happened to our order `code`: a shipment per parcel,
    a cancellation, or nothing yet."""
    status = str(order.get("order_status") or "")
    if status in s.cancelled_statuses:
        return [NodeEvent(method=POLLED, cancelled=code, raw={"code": code, "order": dict(order)})]
    return [_event(code, order, tn, lines, s) for tn, lines in _parcels(order, s).items()]


def read_polled(body: bytes, s: GoodCangSettings) -> NodeEvent:
    """A stored poll as its event again; ValueError, naming the field, if unreadable."""
    data = bounded_json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the stored GoodCang poll is not a JSON object")
    code = str(data.get("code") or "").strip()
    order = data.get("order")
    if not code or not isinstance(order, dict):
        raise ValueError("the stored GoodCang poll has no code or no order")
    parcel = str(data.get("parcel") or "")
    for event in polled_events(code, order, s):
        if event.cancelled is not None or (event.shipment and event.shipment.tracking_no == parcel):
            return event
    return NodeEvent(method=POLLED, raw=data)
