"""The REST V1 calls this account answers, from the JSON body to the reply body.

Each handler returns the whole success body (`{"ask": "Success", "message": "Success",
…}`); a call that cannot be carried out raises `GcFailure`, answered as GoodCang's
failure body with the field named in the message. Field names and limits follow the
documented `create_order` and `OrderItemComposite`; see `emulator.py` for the sources.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .state import DRAFT, WAITING, GcFailure, GcState, Item, Outbound, now

__all__ = ["MAX_PAGE", "Api", "Handler"]

Handler = Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]

MAX_PAGE = 100
"""Largest `pageSize` of the list calls (documented for get_order_list)."""
REQUIRED = ("shipping_method", "warehouse_code", "country_code", "province", "city")
LIMITS = {
    "reference_no": 50,
    "country_code": 2,
    "province": 20,
    "city": 32,
    "address1": 50,
    "address2": 50,
    "zipcode": 20,
    "name": 48,
    "last_name": 48,
    "phone": 20,
    "email": 100,
    "order_desc": 500,
    "product_sku": 24,
    "hs_code": 10,
}
"""Documented maximum lengths."""
TIME = "%Y-%m-%d %H:%M:%S"
OK = {"ask": "Success", "message": "Success"}


def _param(name: str, why: str) -> GcFailure:
    return GcFailure("param", f"{name}: {why}")


def _text(body: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    value = body.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise _param(name, "必填 (required)")
    limit = LIMITS.get(name)
    if limit is not None and len(text) > limit:
        raise _param(name, f"超过最大长度{limit} (longer than {limit})")
    return text


def _items(body: Mapping[str, Any]) -> list[Item]:
    rows = body.get("items")
    if not isinstance(rows, list) or not rows:
        raise _param("items", "必填 (required)")
    items = []
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise _param(f"items[{n}]", "must be an object")
        sku = _text(row, "product_sku", required=True)
        try:
            quantity = int(row.get("quantity") or 0)
        except (TypeError, ValueError) as exc:
            raise _param(f"items[{n}].quantity", "not a whole number") from exc
        if quantity <= 0:
            raise _param(f"items[{n}].quantity", "must be above 0")
        raw = row.get("product_declared_value")
        try:
            value = None if raw in (None, "") else Decimal(str(raw))
        except InvalidOperation as exc:
            raise _param(f"items[{n}].product_declared_value", "not an amount") from exc
        items.append(Item(sku, quantity, value, _text(row, "hs_code")))
    return items


def _page(body: Mapping[str, Any]) -> tuple[int, int]:
    try:
        page = int(body.get("page") or 1)
        size = int(body.get("pageSize") or 20)
    except (TypeError, ValueError) as exc:
        raise _param("page", "not a number") from exc
    if page < 1 or not 1 <= size <= MAX_PAGE:
        raise _param("pageSize", f"page from 1, pageSize 1..{MAX_PAGE}")
    return page, size


class Api:
    """Handlers bound to one account's books."""

    def __init__(self, state: GcState) -> None:
        self.state = state

    def table(self) -> dict[str, Handler]:
        return {
            "order/create_order": self.create_order,
            "order/cancel_order": self.cancel_order,
            "order/get_order_by_code": self.get_order_by_code,
            "order/get_order_by_ref_code": self.get_order_by_ref_code,
            "order/get_order_list": self.get_order_list,
            "inventory/get_product_inventory": self.get_product_inventory,
            "base_data/get_warehouse": self.get_warehouse,
            "base_data/get_shipping_method": self.get_shipping_method,
        }

    async def create_order(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.create_calls += 1
        try:
            order = self.read_order(body)
            number = self.state.create(order)
        except GcFailure:
            with self.state.lock:
                self.state.create_refused += 1
            raise
        return {**OK, "order_code": number}

    def read_order(self, body: Mapping[str, Any]) -> Outbound:
        """Check a create_order body's form: required fields, lengths, items."""
        fields = {name: _text(body, name, required=True) for name in REQUIRED}
        consignee = {
            "country_code": fields["country_code"].upper(),
            "province": fields["province"],
            "city": fields["city"],
            "address1": _text(body, "address1", required=True),
            "address2": _text(body, "address2"),
            "zipcode": _text(body, "zipcode", required=True),
            "name": _text(body, "name", required=True),
            "last_name": _text(body, "last_name"),
            "phone": _text(body, "phone"),
            "email": _text(body, "email"),
        }
        vat = body.get("vat_change_info") or {}
        if not isinstance(vat, dict):
            raise _param("vat_change_info", "must be an object")
        verify = str(body.get("verify", "0")).strip()
        if verify not in ("0", "1"):
            raise _param("verify", "0 (草稿) or 1 (提交)")
        return Outbound(
            order_code="",
            reference_no=_text(body, "reference_no"),
            platform=_text(body, "platform") or "OTHER",
            shipping_method=fields["shipping_method"],
            warehouse_code=fields["warehouse_code"],
            consignee=consignee,
            items=_items(body),
            vat_change_info={str(k): str(v) for k, v in vat.items() if v not in (None, "")},
            order_desc=_text(body, "order_desc"),
            status=WAITING if verify == "1" else DRAFT,
            created=now(),
        )

    async def cancel_order(self, body: Mapping[str, Any]) -> dict[str, Any]:
        number = _text(body, "order_code", required=True)
        order = self.state.cancel(self._known(number))
        return {**OK, "order_code": order.order_code, "cancel_status": 2}

    async def get_order_by_code(self, body: Mapping[str, Any]) -> dict[str, Any]:
        number = _text(body, "order_code", required=True)
        with self.state.lock:
            order = self.state.orders.get(number)
            if order is None:
                raise GcFailure("not_found", f"订单[{number}]不存在")
            return {**OK, "data": self.view(order)}

    async def get_order_by_ref_code(self, body: Mapping[str, Any]) -> dict[str, Any]:
        reference = _text(body, "reference_no", required=True)
        with self.state.lock:
            try:
                order = self.state.find(reference)
            except KeyError as exc:
                raise GcFailure("not_found", f"参考号[{reference}]没有订单") from exc
            return {**OK, "data": self.view(order)}

    async def get_order_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Documented: only W, D, N, P and X orders are listed; newest last."""
        page, size = _page(body)
        codes = body.get("order_code_arr") or []
        if not isinstance(codes, list):
            raise _param("order_code_arr", "must be an array")
        wanted = {str(c) for c in codes} | ({_text(body, "order_code")} - {""})
        status = _text(body, "order_status")
        method = _text(body, "shipping_method")
        with self.state.lock:
            found = [
                o
                for o in self.state.orders.values()
                if o.status in "WDNPX"
                and (not wanted or o.order_code in wanted)
                and (not status or o.status == status)
                and (not method or o.shipping_method == method)
            ]
            data = [self.view(o) for o in found[(page - 1) * size : page * size]]
        return {**OK, "errCode": "", "data": data, "count": len(found)}

    async def get_product_inventory(self, body: Mapping[str, Any]) -> dict[str, Any]:
        page, size = _page(body)
        warehouse = _text(body, "warehouse_code")
        sku = _text(body, "product_sku")
        if warehouse and warehouse not in self.state.warehouses:
            raise GcFailure("unknown_warehouse", f"仓库代码[{warehouse}]不存在")
        with self.state.lock:
            rows = [
                {
                    "product_sku": s,
                    "product_barcode": self.state.barcode(s),
                    "warehouse_code": wh,
                    "warehouse_desc": f"Emulated warehouse {wh}",
                    "onway": 0,
                    "pending": 0,
                    "sellable": level.sellable,
                    "unsellable": 0,
                    "reserved": level.reserved,
                    "shipped": level.shipped,
                }
                for (wh, s), level in sorted(self.state.stock.items())
                if (not warehouse or wh == warehouse) and (not sku or s == sku)
            ]
        return {**OK, "count": len(rows), "data": rows[(page - 1) * size : page * size]}

    async def get_warehouse(self, _: Mapping[str, Any]) -> dict[str, Any]:
        data = [
            {"warehouse_code": code, "warehouse_name": f"Emulated {code}", "country_code": cc}
            for code, cc in self.state.warehouses.items()
        ]
        return {**OK, "data": data}

    async def get_shipping_method(self, body: Mapping[str, Any]) -> dict[str, Any]:
        warehouse = _text(body, "warehouse_code")
        if warehouse and warehouse not in self.state.warehouses:
            raise GcFailure("unknown_warehouse", f"仓库代码[{warehouse}]不存在")
        data = [{"code": code, "name": name} for code, name in self.state.shipping_methods.items()]
        return {**OK, "data": data}

    def view(self, order: Outbound) -> dict[str, Any]:
        """`OrderItemComposite`: the order, its items and its boxes (`orderBoxInfo`)."""
        c = order.consignee
        first = order.boxes[0].tracking_number if order.boxes else ""
        return {
            "order_code": order.order_code,
            "reference_no": order.reference_no,
            "platform": order.platform,
            "order_status": order.status,
            "abnormal_problem_reason": "",
            "shipping_method": order.shipping_method,
            "tracking_no": first if order.status == "D" else "",
            "warehouse_code": order.warehouse_code,
            "order_desc": order.order_desc,
            "date_create": order.created.strftime(TIME),
            "date_shipping": order.shipped_at.strftime(TIME) if order.shipped_at else "",
            "date_modify": (order.modified or order.created).strftime(TIME),
            "consignee_country_code": c["country_code"],
            "consignee_state": c["province"],
            "consignee_city": c["city"],
            "consignee_address1": c["address1"],
            "consignee_address2": c["address2"],
            "consignee_zipcode": c["zipcode"],
            "consignee_name": c["name"],
            "consignee_last_name": c["last_name"],
            "consignee_phone": c["phone"],
            "consignee_email": c["email"],
            "items": [
                {
                    "product_sku": item.sku,
                    "quantity": item.quantity,
                    "product_declared_value": (
                        "" if item.declared_value is None else str(item.declared_value)
                    ),
                    "hs_code": item.hs_code,
                }
                for item in order.items
            ],
            "orderBoxInfo": [
                {
                    "order_code": order.order_code,
                    "box_no": box.box_no,
                    "tracking_number": box.tracking_number,
                    "product_barcode": self.state.barcode(sku),
                    "ob_qty": quantity,
                    "ob_add_time": box.at.strftime(TIME),
                }
                for box in order.boxes
                for sku, quantity in box.lines
            ],
            "vat_change_info": dict(order.vat_change_info),
        }

    def _known(self, number: str) -> str:
        with self.state.lock:
            if number not in self.state.orders:
                raise GcFailure("not_found", f"订单[{number}]不存在")
        return number
