"""ECLP's shapes and the hub's: an outbound order as addOrder parameters, and a polled
queryOrder result as a NodeEvent (shipped with carrier and waybill, or cancelled).

A polled event's `raw` is `{"code": our code, "queryorder_result": …}`, the payload the
hub stores; `read_polled` turns those bytes into the same event again, so a stored poll
is applied, and replayed, exactly as a warehouse callback is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..base import NodeEvent, OutboundOrder, Rejected, ShipmentConfirmed, ShipmentLine
from ..jd.client import BEIJING, jd_time
from ..kit import bounded_json, fields
from .consts import ORDER_MARK, OTHER_PLATFORM, Method
from .settings import EclpSettings

__all__ = ["POLLED", "add_order_params", "polled_event", "read_polled"]

POLLED = Method.QUERY_ORDER.value
"""The method a polled event is stored under: what it was read from."""


def _listed(values: list[str], what: str) -> str:
    """Values joined for a comma-separated parallel field; a comma inside one would shift
    every later line, so it is refused."""
    for value in values:
        if "," in value:
            raise Rejected(
                f"{what} {value!r} contains a comma, which ECLP's comma-separated goods "
                "fields cannot carry",
                code="comma_in_goods",
            )
    return ",".join(values)


def add_order_params(order: OutboundOrder, s: EclpSettings) -> dict[str, Any]:
    """The addOrder request for an order: our code as `isvUUID` (ECLP's key for it),
    goods by the merchant's code (`isvGoodsNo`), empty fields left out."""
    lines = order.lines
    params: dict[str, Any] = {
        "isvUUID": order.code,
        "isvSource": s.isv_source,
        "shopNo": s.shop_no,
        "departmentNo": s.department_no,
        "warehouseNo": s.warehouse_no,
        "shipperNo": s.shipper_no,
        "salesPlatformOrderNo": order.channel_order_id,
        "salePlatformSource": s.platform_sources.get(order.platform.lower(), OTHER_PLATFORM),
        "salesPlatformCreateTime": jd_time(order.placed_at),
        "consigneeName": order.receiver_name,
        "consigneeMobile": order.receiver_phone,
        "addressProvince": order.province,
        "addressCity": order.city,
        "addressCounty": order.district,
        "addressTown": order.town,
        "consigneeAddress": order.address,
        "consigneePostcode": order.postcode,
        "consigneeRemark": order.buyer_remark,
        "sellerNote": order.seller_remark,
        "orderMark": ORDER_MARK,
        "isvGoodsNo": _listed([line.sku for line in lines], "SKU"),
        "quantity": ",".join(str(line.quantity) for line in lines),
        "price": ",".join(str(line.unit_price.quantize(Decimal("0.01"))) for line in lines),
        "orderLine": _listed([line.line_no for line in lines], "line number"),
    }
    return {key: value for key, value in params.items() if value != ""}


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _waybills(result: Mapping[str, Any]) -> list[str]:
    """`wayBill` (comma-separated when several parcels), else the packages' numbers."""
    found = [w.strip() for w in str(result.get("wayBill") or "").split(",") if w.strip()]
    if not found:
        packages = _rows(result.get("orderPackageList"))
        found = [str(p["packageNo"]).strip() for p in packages if p.get("packageNo")]
    return found


def _lines(result: Mapping[str, Any]) -> list[ShipmentLine]:
    """The goods that left, by merchant code (ECLP's number when it gives no other)."""
    lines = []
    for row in _rows(result.get("orderDetailList")):
        sku = str(row.get("isvGoodsNo") or row.get("goodsNo") or "").strip()
        quantity = fields.units(row.get("quantity"), "orderDetailList.quantity", empty=0)
        if sku and quantity > 0:
            line_no = str(row.get("orderLine") or "").strip() or None
            lines.append(ShipmentLine(sku=sku, quantity=quantity, line_no=line_no))
    return lines


def polled_event(code: str, result: Mapping[str, Any], s: EclpSettings) -> NodeEvent | None:
    """What a queryOrder result says happened to our order `code`: shipped (with the
    first waybill as its tracking number), cancelled, or nothing final yet (None).

    A shipped order whose waybill is not on it yet is left for the next poll.
    """
    statuses = _rows(result.get("orderStatusList"))
    codes = {str(row.get("soStatusCode") or "") for row in statuses}
    raw = {"code": code, "queryorder_result": dict(result)}
    if codes & s.shipped_codes:
        waybills = _waybills(result)
        if not waybills:
            return None
        left = next(r for r in statuses if str(r.get("soStatusCode") or "") in s.shipped_codes)
        moment = str(left.get("operateTime") or "").strip()
        shipper = str(result.get("shipperNo") or "").strip()
        number = str(result.get("eclpSoNo") or code)
        shipment = ShipmentConfirmed(
            code=code,
            carrier=s.shippers.get(shipper, shipper),
            tracking_no=waybills[0],
            lines=_lines(result),
            confirm_id=f"{number}:{waybills[0]}",
            final=True,
            shipped_at=_time(moment),
        )
        return NodeEvent(method=POLLED, shipment=shipment, raw=raw)
    if codes & s.cancelled_codes:
        return NodeEvent(method=POLLED, cancelled=code, raw=raw)
    return None


def _time(text: str) -> datetime | None:
    """An `operateTime` (Beijing time, to the second)."""
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise ValueError(f"operateTime: {text!r} is not yyyy-MM-dd HH:mm:ss") from exc


def read_polled(body: bytes, s: EclpSettings) -> NodeEvent:
    """A stored poll as its event again; ValueError, naming the field, if unreadable."""
    data = bounded_json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the stored ECLP poll is not a JSON object")
    code = str(data.get("code") or "").strip()
    result = data.get("queryorder_result")
    if not code or not isinstance(result, dict):
        raise ValueError("the stored ECLP poll has no code or no queryorder_result")
    return polled_event(code, result, s) or NodeEvent(method=POLLED, raw=data)
