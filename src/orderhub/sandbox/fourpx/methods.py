"""The warehouse methods 4PX answers, from the JSON body to the envelope's `data`.

A call that cannot be carried out raises `FourpxFailure`, which the gateway answers as
`{"result": "0", "errors": [{"error_code", "error_msg", "error_data"}]}`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .codes import CANCEL_TYPES, LIMITS, MAX_PAGE
from .state import Consignment, FourpxFailure, FourpxState, Line, now_ms

__all__ = ["CUSTOMS_FIELDS", "Handler", "Methods"]

Handler = Callable[[Mapping[str, Any]], Awaitable[Any]]

CUSTOMS_FIELDS = (
    "hs_code",
    "declare_name_en",
    "declare_value",
    "declare_currency",
    "origin_country",
)
"""What an `oconsignment_sku` row declares to customs (UNCONFIRMED names: 4PX keeps
declarations per SKU through `com.basis.declare.*`; this emulator takes them inline)."""
MONTH_MS = 30 * 86400 * 1000
"""getlist's longest time range: thirty days."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()


def _need(data: Mapping[str, Any], name: str, role: str) -> str:
    value = _text(data, name)
    if not value:
        raise FourpxFailure(role, f"[{name}]不能为空", name)
    return value


def _object(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    if not isinstance(value, Mapping):
        raise FourpxFailure("param", f"[{name}]必须是对象", name)
    return value


def _page(data: Mapping[str, Any]) -> tuple[int, int]:
    try:
        page = int(data.get("page_no") or 1)
        size = int(data.get("page_size") or 50)
    except (TypeError, ValueError) as exc:
        raise FourpxFailure("param", "page_no/page_size 必须是整数", "page_no") from exc
    if page < 1 or not 1 <= size <= MAX_PAGE:
        raise FourpxFailure("param", f"page_no 从1开始, page_size 1..{MAX_PAGE}", "page_size")
    return page, size


def _paged(rows: list[dict[str, Any]], page: int, size: int) -> dict[str, Any]:
    start = (page - 1) * size
    return {
        "page_no": str(page),
        "page_size": str(size),
        "total": str(len(rows)),
        "data": rows[start : start + size],
    }


def _millis(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError as exc:
        raise FourpxFailure("param", f"[{name}]必须是毫秒时间戳", name) from exc


class Methods:
    """Handlers bound to one account's books."""

    def __init__(self, state: FourpxState, *, duplicate_ref: str = "error") -> None:
        self.state = state
        self.duplicate_ref = duplicate_ref

    def table(self) -> dict[str, Handler]:
        return {
            "fu.wms.outbound.create": self.create,
            "fu.wms.outbound.cancel": self.cancel,
            "fu.wms.outbound.getlist": self.getlist,
            "fu.wms.inventory.get": self.inventory,
        }

    async def create(self, data: Mapping[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.create_calls += 1
        ref_no = _need(data, "ref_no", "ref_no_empty")
        if len(ref_no) > LIMITS["ref_no"]:
            raise FourpxFailure("ref_no_long", "客户参考号长度超出", ref_no)
        known = self.state.by_ref.get(ref_no)
        if known is not None:
            return self._again(self.state.find(known))
        warehouse = _need(data, "from_warehouse_code", "warehouse_empty")
        if warehouse not in self.state.warehouses:
            raise FourpxFailure("warehouse_unknown", f"仓库[{warehouse}]不存在", warehouse)
        _need(data, "consignment_type", "type_empty")
        service = data.get("logistics_service_info")
        product = _text(service, "logistics_product_code") if isinstance(service, Mapping) else ""
        if not product:
            raise FourpxFailure(
                "product_empty", "出库委托[派送方式]不能为空", "logistics_product_code"
            )
        if product not in self.state.products:
            raise FourpxFailure("product_unknown", f"物流产品[{product}]不存在", product)
        consignee = self._consignee(_object(data, "oconsignment_desc"))
        abroad = consignee["country"] != self.state.warehouses[warehouse]
        lines = self._lines(data.get("oconsignment_sku"), abroad=abroad)
        remark = _text(data, "remark")[: LIMITS["remark"]]
        body = {**data, "remark": remark}
        found, new = self.state.create(
            ref_no=ref_no,
            warehouse=warehouse,
            product=product,
            body=body,
            consignee=consignee,
            lines=lines,
        )
        return self._created(found) if new else self._again(found)

    def _again(self, found: Consignment) -> dict[str, Any]:
        """A ref_no used before: the first consignment, or a refusal naming it."""
        if self.duplicate_ref == "existing":
            return self._created(found)
        raise FourpxFailure(
            "ref_no_used",
            f"参考号[{found.ref_no}]已存在, 出库委托单号[{found.consignment_no}]",
            found.consignment_no,
        )

    @staticmethod
    def _created(found: Consignment) -> dict[str, Any]:
        return {
            "consignment_no": found.consignment_no,
            "4px_tracking_no": found.tracking_no,
            "ref_no": found.ref_no,
        }

    @staticmethod
    def _consignee(desc: Mapping[str, Any]) -> dict[str, str]:
        names = (
            "country",
            "state",
            "city",
            "district",
            "post_code",
            "street",
            "house_number",
            "company",
            "last_name",
            "first_name",
            "phone",
            "email",
        )
        found = {name: _text(desc, name) for name in names}
        for name, role in (
            ("country", "country_empty"),
            ("street", "street_empty"),
            ("first_name", "first_name_empty"),
        ):
            if not found[name]:
                raise FourpxFailure(role, f"出库委托[{name}]不能为空", name)
        if not (found["state"] or found["city"]):
            raise FourpxFailure("param", "state 或 city 必须填写一个", "state")
        if found["email"] and not _EMAIL.match(found["email"]):
            raise FourpxFailure("email", "邮箱格式错误", found["email"])
        found["country"] = found["country"].upper()
        return found

    @staticmethod
    def _lines(rows: Any, *, abroad: bool) -> list[Line]:
        if not isinstance(rows, list) or not rows:
            raise FourpxFailure("sku_empty", "出库委托[SKU]不能为空", "oconsignment_sku")
        if len(rows) > LIMITS["skus"]:
            raise FourpxFailure("param", f"单次最多{LIMITS['skus']}种SKU", "oconsignment_sku")
        lines = []
        for row in rows:
            if not isinstance(row, Mapping):
                raise FourpxFailure(
                    "param", "oconsignment_sku 的每项必须是对象", "oconsignment_sku"
                )
            sku = _need(row, "sku_code", "sku_empty")
            try:
                quantity = int(str(row.get("qty")))
            except ValueError as exc:
                raise FourpxFailure("sku_qty", "出库委托[SKU数量]只能为正整数", sku) from exc
            if quantity <= 0:
                raise FourpxFailure("sku_qty", "出库委托[SKU数量]只能为正整数", sku)
            declared = {name: _text(row, name) for name in CUSTOMS_FIELDS if _text(row, name)}
            if abroad:
                Methods._declared(sku, declared)
            lines.append(Line(sku, quantity, _text(row, "unit_price"), declared))
        return lines

    @staticmethod
    def _declared(sku: str, declared: Mapping[str, str]) -> None:
        """A parcel leaving the warehouse's country declares an HS code and a value."""
        if not declared.get("hs_code"):
            raise FourpxFailure("customs", f"SKU[{sku}]跨境出库必须申报海关编码 hs_code", sku)
        try:
            value = Decimal(declared.get("declare_value") or "0")
        except InvalidOperation as exc:
            raise FourpxFailure("customs", f"SKU[{sku}]申报价值无效", sku) from exc
        if value <= 0:
            raise FourpxFailure("customs", f"SKU[{sku}]跨境出库必须申报价值 declare_value", sku)

    async def cancel(self, data: Mapping[str, Any]) -> dict[str, Any]:
        number = _text(data, "consignment_no") or _text(data, "ref_no")
        if not number:
            raise FourpxFailure("cancel_which", "委托单号和参考号不能全为空", "consignment_no")
        kind = _text(data, "cancel_type")
        if kind not in CANCEL_TYPES:
            raise FourpxFailure("cancel_type", "取消原因类型错误，可选值：AP RO OS BC CF OT", kind)
        if len(_text(data, "cancel_remark")) > LIMITS["remark"]:
            raise FourpxFailure("param", "备注信息长度超出200", "cancel_remark")
        try:
            found = self.state.cancel(number)
        except KeyError as exc:
            raise FourpxFailure("not_found", f"出库委托[{number}]不存在", number) from exc
        return {
            "consignment_no": found.consignment_no,
            "ref_no": found.ref_no,
            "status": found.status,
        }

    async def getlist(self, data: Mapping[str, Any]) -> dict[str, Any]:
        page, size = _page(data)
        refs = {r.strip() for r in _text(data, "ref_no").split(",") if r.strip()}
        numbers = {_text(data, "consignment_no")} - {""}
        tracking = _text(data, "4px_tracking_no")
        status = _text(data, "status")
        warehouse = _text(data, "from_warehouse_code")
        ranges = []
        for name in ("create_time", "complete_time"):
            start, end = _millis(data, f"{name}_start"), _millis(data, f"{name}_end")
            if start is not None or end is not None:
                start = start if start is not None else (end or now_ms()) - MONTH_MS
                end = end if end is not None else start + MONTH_MS
                if end - start > MONTH_MS:
                    raise FourpxFailure(
                        "param", "最大支持一个月（30天）数据进行查询", f"{name}_end"
                    )
                ranges.append((name, start, end))
        if not (refs or numbers or tracking or ranges):
            day = int(time.time() // 86400) * 86400 * 1000
            ranges.append(("create_time", day, day + 86400 * 1000))
        with self.state.lock:
            rows = [
                self.row(c)
                for c in sorted(self.state.consignments.values(), key=lambda c: c.create_time)
                if (not refs or c.ref_no in refs)
                and (not numbers or c.consignment_no in numbers)
                and (not tracking or c.tracking_no == tracking)
                and (not status or c.status == status)
                and (not warehouse or c.warehouse == warehouse)
                and all(start <= (getattr(c, n) or -1) <= end for n, start, end in ranges)
            ]
        return _paged(rows, page, size)

    def row(self, c: Consignment) -> dict[str, Any]:
        """One consignment as getlist shows it, with a row per parcel that left."""
        return {
            "consignment_no": c.consignment_no,
            "customer_code": self.state.customer_code,
            "4px_tracking_no": c.tracking_no,
            "ref_no": c.ref_no,
            "from_warehouse_code": c.warehouse,
            "status": c.status,
            "consignment_type": str(c.body.get("consignment_type") or "S"),
            "logistics_product_code": c.product,
            "sales_platform": str(c.body.get("sales_platform") or ""),
            "sales_no": str(c.body.get("sales_no") or ""),
            "shipping_no": ",".join(p.shipping_no for p in c.parcels),
            "create_time": c.create_time,
            "update_time": c.update_time,
            "complete_time": c.complete_time or None,
            "remark": str(c.body.get("remark") or ""),
            **c.consignee,
            "outboundlist_sku": [
                {
                    "consignment_no": c.consignment_no,
                    "sku_code": line.sku,
                    "qty": line.quantity,
                    "stock_quality": "G",
                    "sku_id": self.state.skus[line.sku]["sku_id"],
                    "sku_name": self.state.skus[line.sku]["name"],
                }
                for line in c.lines
            ],
            "outboundlist_package": [
                {
                    "shipping_no": p.shipping_no,
                    "complete_time": p.at,
                    "package_sku": [{"sku_code": s, "qty": q} for s, q in p.lines.items()],
                }
                for p in c.parcels
            ],
        }

    async def inventory(self, data: Mapping[str, Any]) -> dict[str, Any]:
        page, size = _page(data)
        skus = data.get("lstsku") or []
        if not isinstance(skus, list) or len(skus) > LIMITS["skus"]:
            raise FourpxFailure("param", f"lstsku 最多{LIMITS['skus']}个", "lstsku")
        wanted = {str(s) for s in skus}
        warehouse = _text(data, "warehouse_code")
        if warehouse and warehouse not in self.state.warehouses:
            raise FourpxFailure("warehouse_unknown", f"仓库[{warehouse}]不存在", warehouse)
        with self.state.lock:
            rows = [
                {
                    "customer_code": self.state.customer_code,
                    "warehouse_code": wh,
                    "sku_id": self.state.skus[sku]["sku_id"],
                    "sku_code": sku,
                    "batch_no": "",
                    "available_stock": level.available,
                    "pending_stock": level.pending,
                    "onway_stock": 0,
                    "stock_quality": "G",
                }
                for (wh, sku), level in sorted(self.state.stock.items())
                if (not warehouse or wh == warehouse) and (not wanted or sku in wanted)
            ]
        return _paged(rows, page, size)
