"""The ECLP methods this warehouse answers, from `360buy_param_json` to the reply body.

Each handler returns what goes inside `{"<method, dots as _>_responce": {"code": "0", …}}`.
A call that cannot be carried out raises `JdFailure`, which the gateway answers as
`error_response` with the field named in both descriptions. Goods come as parallel
fields, each a comma-separated string (as integrators send them) or a JSON list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from orderhub.sandbox.jd.wire import JdFailure, money, parse_time, wire_time

from .codes import DEFAULT_SHIPPER, LIMITS, ORDER_MARK_LENGTH
from .state import EclpState, OrderRequest, Outbound

__all__ = ["MAX_STOCK_PAGE", "Handler", "Methods"]

Handler = Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]

MAX_STOCK_PAGE = 100
"""Largest queryStock `pageSize` (UNCONFIRMED)."""
JD_PLATFORM_SOURCE = "1"
"""`salePlatformSource` of a JD order, which must then carry `salesPlatformOrderNo`."""
GOOD_STOCK = "1"
"""`stockStatus` and `stockType` of sellable stock, the only kind emulated (UNCONFIRMED)."""


def _problem(name: str, why: str) -> JdFailure:
    return JdFailure("eclp_param", f"参数[{name}]错误: {why}", f"{name}: {why}")


def _text(params: Mapping[str, Any], name: str, *, required: bool = False) -> str:
    value = params.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise _problem(name, "required")
    limit = LIMITS.get(name)
    if limit is not None and len(text) > limit:
        raise _problem(name, f"longer than {limit} characters")
    return text


def _items(params: Mapping[str, Any], name: str) -> list[str]:
    """A parallel goods field: a comma-separated string or a JSON list."""
    value = params.get(name)
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    found = [str(item).strip() for item in items]
    limit = LIMITS.get(name)
    if limit is not None and any(len(item) > limit for item in found):
        raise _problem(name, f"an item is longer than {limit} characters")
    return found


def _quantities(values: list[str]) -> list[int]:
    numbers = []
    for value in values:
        try:
            number = int(value)
        except ValueError as exc:
            raise _problem("quantity", f"{value!r} is not a whole number") from exc
        if number <= 0:
            raise _problem("quantity", "every quantity must be above 0")
        numbers.append(number)
    return numbers


def _prices(values: list[str], count: int) -> list[Decimal | None]:
    if not values:
        return [None] * count
    prices: list[Decimal | None] = []
    for value in values:
        try:
            prices.append(Decimal(value) if value else None)
        except InvalidOperation as exc:
            raise _problem("price", f"{value!r} is not an amount") from exc
    return prices


def _flag(params: Mapping[str, Any], name: str) -> bool:
    return str(params.get(name, "")).strip().lower() in {"1", "true", "yes"}


class Methods:
    """Handlers bound to one department's books."""

    def __init__(self, state: EclpState, zone: timezone) -> None:
        self.state = state
        self.zone = zone

    def table(self) -> dict[str, Handler]:
        return {
            "jingdong.eclp.order.addOrder": self.add_order,
            "jingdong.eclp.order.cancelOrder": self.cancel_order,
            "jingdong.eclp.order.queryOrderStatus": self.query_order_status,
            "jingdong.eclp.order.queryOrder": self.query_order,
            "jingdong.eclp.stock.queryStock": self.query_stock,
        }

    async def add_order(self, params: Mapping[str, Any]) -> dict[str, Any]:
        number, _ = self.state.add_order(self.read_order(params))
        return {"eclpSoNo": number}

    def read_order(self, params: Mapping[str, Any]) -> OrderRequest:
        """Check an addOrder call's form: required fields, lengths, goods lists."""
        so_type = _text(params, "soType") or "1"
        source = _text(params, "salePlatformSource", required=True)
        name = _text(params, "consigneeName", required=True)
        mobile, phone = _text(params, "consigneeMobile"), _text(params, "consigneePhone")
        if not (mobile or phone):
            raise _problem("consigneeMobile", "a mobile or a phone number is required")
        mark = _text(params, "orderMark", required=True)
        if len(mark) != ORDER_MARK_LENGTH:
            raise _problem("orderMark", f"must be {ORDER_MARK_LENGTH} characters")
        created = _text(params, "salesPlatformCreateTime")
        if created:
            try:
                parse_time(created, self.zone)
            except ValueError as exc:
                raise _problem("salesPlatformCreateTime", "not yyyy-MM-dd HH:mm:ss") from exc
        goods_nos, isv_nos = _items(params, "goodsNo"), _items(params, "isvGoodsNo")
        quantities = _quantities(_items(params, "quantity"))
        if not quantities:
            raise _problem("quantity", "required")
        if not (goods_nos or isv_nos):
            raise _problem("goodsNo", "goodsNo or isvGoodsNo is required")
        lines = _items(params, "orderLine")
        prices = _items(params, "price")
        count = len(goods_nos or isv_nos)
        for field, values in (
            ("quantity", quantities),
            ("isvGoodsNo", isv_nos),
            ("price", prices),
            ("orderLine", lines),
        ):
            if values and len(values) != count:
                raise _problem(field, f"has {len(values)} items for {count} goods")
        return OrderRequest(
            isv_uuid=_text(params, "isvUUID", required=True),
            isv_source=_text(params, "isvSource", required=True),
            department_no=_text(params, "departmentNo", required=True),
            shop_no=_text(params, "shopNo", required=so_type != "2"),
            warehouse_no=_text(params, "warehouseNo", required=True),
            shipper_no=_text(params, "shipperNo") or DEFAULT_SHIPPER,
            platform_order_no=_text(
                params, "salesPlatformOrderNo", required=source == JD_PLATFORM_SOURCE
            ),
            platform_source=source,
            consignee={
                "name": name,
                "mobile": mobile,
                "phone": phone,
                "province": _text(params, "addressProvince"),
                "city": _text(params, "addressCity"),
                "county": _text(params, "addressCounty"),
                "town": _text(params, "addressTown"),
                "address": _text(params, "consigneeAddress", required=True),
                "postcode": _text(params, "consigneePostcode"),
            },
            goods_nos=goods_nos,
            isv_goods_nos=isv_nos,
            quantities=quantities,
            prices=_prices(prices, len(quantities)),
            order_lines=lines or [""] * len(quantities),
            remark=_text(params, "sellerNote")[:200],
        )

    async def cancel_order(self, params: Mapping[str, Any]) -> dict[str, Any]:
        code, message = self.state.cancel(self._order(params).eclp_so_no)
        return {"cancelorder_result": {"code": code, "msg": message}}

    async def query_order_status(self, params: Mapping[str, Any]) -> dict[str, Any]:
        order = self._order(params)
        with self.state.lock:
            body = {
                "eclpSoNo": order.eclp_so_no,
                "isvUUID": order.isv_uuid,
                "orderStatusList": self._statuses(order),
            }
        return {"queryorderstatus_result": body}

    async def query_order(self, params: Mapping[str, Any]) -> dict[str, Any]:
        order = self._order(params)
        with self.state.lock:
            return {"queryorder_result": self.order_view(order)}

    def order_view(self, order: Outbound) -> dict[str, Any]:
        """`queryorder_result`: the order, its goods, packages and status history."""
        return {
            "eclpSoNo": order.eclp_so_no,
            "isvUUID": order.isv_uuid,
            "warehouseNo": order.warehouse_no,
            "shopNo": order.shop_no,
            "shipperNo": order.shipper_no,
            "shipperName": self.state.shippers.get(order.shipper_no, ""),
            "wayBill": ",".join(order.waybills),
            "salesPlatformOrderNo": order.platform_order_no,
            "currentStatus": order.statuses[-1].code,
            "orderStatusList": self._statuses(order),
            "orderDetailList": [
                {
                    "goodsNo": line.goods.goods_no,
                    "isvGoodsNo": line.goods.isv_goods_no,
                    "goodsName": line.goods.name,
                    "quantity": line.quantity,
                    "orderLine": line.order_line,
                    "price": "" if line.price is None else money(line.price),
                }
                for line in order.lines
            ],
            "orderPackageList": [{"packageNo": w, "packWeight": 0.5} for w in order.waybills],
        }

    async def query_stock(self, params: Mapping[str, Any]) -> dict[str, Any]:
        department = _text(params, "deptNo", required=True)
        if department != self.state.department_no:
            raise JdFailure(
                "unknown_department",
                f"事业部编号[{department}]不存在",
                f"deptNo: unknown department {department}",
            )
        warehouse = _text(params, "warehouseNo")
        if warehouse and warehouse not in self.state.warehouse_nos:
            raise JdFailure(
                "unknown_warehouse",
                f"库房编号[{warehouse}]不存在",
                f"warehouseNo: unknown warehouse {warehouse}",
            )
        page, size = self._page(params)
        kinds = {
            _text(params, "stockStatus") or GOOD_STOCK,
            _text(params, "stockType") or GOOD_STOCK,
        }
        goods = self._goods_filter(params)
        if kinds != {GOOD_STOCK}:
            return {"querystock_result": []}
        rows = self.state.stock_rows(
            warehouse_no=warehouse, goods=goods, zero=_flag(params, "returnZeroStock")
        )
        start = (page - 1) * size
        return {
            "querystock_result": [
                {
                    "deptNo": self.state.department_no,
                    "deptName": "模拟事业部",
                    "warehouseNo": wh,
                    "warehouseName": f"模拟仓{wh}",
                    "goodsNo": article.goods_no,
                    "goodsName": article.name,
                    "sellerGoodsSign": "",
                    "stockStatus": GOOD_STOCK,
                    "stockType": GOOD_STOCK,
                    "totalNum": level.total,
                    "usableNum": level.usable,
                }
                for wh, article, level in rows[start : start + size]
            ]
        }

    def _goods_filter(self, params: Mapping[str, Any]) -> set[str] | None:
        """ECLP numbers asked for by `goodsNo` or by merchant code (`isvSku`); None: all."""
        numbers, skus = _items(params, "goodsNo"), _items(params, "isvSku")
        if not (numbers or skus):
            return None
        wanted = set(numbers)
        for sku in skus:
            article = self.state.article(isv_goods_no=sku)
            if article is not None:
                wanted.add(article.goods_no)
        return wanted

    @staticmethod
    def _page(params: Mapping[str, Any]) -> tuple[int, int]:
        try:
            page = int(str(params.get("currentPage") or 1))
            size = int(str(params.get("pageSize") or MAX_STOCK_PAGE))
        except ValueError as exc:
            raise _problem("currentPage", "not a number") from exc
        if page < 1 or not 1 <= size <= MAX_STOCK_PAGE:
            raise _problem("pageSize", f"currentPage from 1, pageSize 1..{MAX_STOCK_PAGE}")
        return page, size

    def _number(self, params: Mapping[str, Any]) -> str:
        return _text(params, "eclpSoNo", required=True)

    def _order(self, params: Mapping[str, Any]) -> Outbound:
        number = self._number(params)
        with self.state.lock:
            order = self.state.orders.get(number)
        if order is None:
            raise JdFailure(
                "order_not_found",
                f"出库单[{number}]不存在",
                f"eclpSoNo: no order {number}",
            )
        return order

    def _statuses(self, order: Outbound) -> list[dict[str, str]]:
        return [
            {
                "soStatusCode": s.code,
                "soStatusName": s.name,
                "operateTime": wire_time(s.at, self.zone),
                "operateUser": s.user,
            }
            for s in order.statuses
        ]
