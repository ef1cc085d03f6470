"""The emulated 京东云仓's books: one department (事业部), its warehouses and shop, the
goods it stocks, and the outbound orders (销售出库单) it was sent.

Nothing here speaks HTTP. A refusal leaves as `JdFailure(role, zh, en)`, which the JOS
gateway writes into `error_response`. One re-entrant lock guards everything because the
HTTP handlers and the helpers tests call run on different threads.

Stock per warehouse and goods is `total` (on hand) and `usable` (not yet promised): an
accepted order takes from `usable`, its shipment from `total`, a cancellation gives back
to `usable`. An order for more than is usable is refused (UNCONFIRMED: ECLP may accept it
and wait for stock instead).
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from orderhub.sandbox.jd.wire import JdFailure

__all__ = ["EclpState", "Goods", "Line", "OrderRequest", "Outbound", "Status", "Stock"]


@dataclass(frozen=True)
class Goods:
    """One article: ECLP's own number (`goodsNo`) and the merchant's (`isvGoodsNo`)."""

    goods_no: str
    isv_goods_no: str
    name: str


@dataclass
class Stock:
    """Units of one article in one warehouse: on hand, and not yet promised."""

    total: int = 0
    usable: int = 0


@dataclass(frozen=True)
class Line:
    goods: Goods
    quantity: int
    price: Decimal | None
    order_line: str


@dataclass(frozen=True)
class Status:
    """One row of `orderStatusList`."""

    code: str
    name: str
    at: datetime
    user: str


@dataclass(frozen=True)
class OrderRequest:
    """An addOrder call, read and checked for form; master data is checked here."""

    isv_uuid: str
    isv_source: str
    department_no: str
    shop_no: str
    warehouse_no: str
    shipper_no: str
    platform_order_no: str
    platform_source: str
    consignee: Mapping[str, str]
    goods_nos: list[str]
    isv_goods_nos: list[str]
    quantities: list[int]
    prices: list[Decimal | None]
    order_lines: list[str]
    remark: str = ""


@dataclass
class Outbound:
    """A 销售出库单 and its history."""

    eclp_so_no: str
    isv_uuid: str
    warehouse_no: str
    shop_no: str
    shipper_no: str
    platform_order_no: str
    platform_source: str
    consignee: dict[str, str]
    lines: list[Line]
    statuses: list[Status] = field(default_factory=list)
    waybills: list[str] = field(default_factory=list)
    remark: str = ""

    def has(self, code: str) -> bool:
        return any(s.code == code for s in self.statuses)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class EclpState:
    """Master data, stock and orders of one department."""

    def __init__(
        self,
        *,
        department_no: str,
        warehouse_nos: Iterable[str],
        shop_no: str,
        isv_source: str,
        shippers: Mapping[str, str],
        statuses: Mapping[str, tuple[str, str]],
        seed: int | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.department_no = department_no
        self.warehouse_nos = list(warehouse_nos)
        self.shop_no = shop_no
        self.isv_source = isv_source
        self.shippers = dict(shippers)
        self.statuses = dict(statuses)
        self.goods: dict[str, Goods] = {}
        self.stock: dict[tuple[str, str], Stock] = {}
        self.orders: dict[str, Outbound] = {}
        self.add_calls = 0
        self._by_isv_goods: dict[str, str] = {}
        self._by_uuid: dict[str, str] = {}
        self._numbers = itertools.count(1)
        self._rng = random.Random(seed)

    # master data and stock

    def seed_goods(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add articles `{"sku", "name"?, "stock"?, "warehouse"?}`; stock is on hand and
        usable in that warehouse (the first one by default)."""
        added = []
        with self.lock:
            for item in items:
                sku = str(item["sku"])
                goods_no = self._by_isv_goods.get(sku) or f"EMG{4418000000000 + len(self.goods)}"
                goods = Goods(goods_no, sku, str(item.get("name") or sku))
                self.goods[goods_no] = goods
                self._by_isv_goods[sku] = goods_no
                if "stock" in item:
                    self.set_stock(sku, int(item["stock"]), warehouse=item.get("warehouse"))
                added.append({"sku": sku, "goods_no": goods_no, "name": goods.name})
        return added

    def article(self, *, goods_no: str = "", isv_goods_no: str = "") -> Goods | None:
        """The article by ECLP number (which wins, as addOrder documents) or merchant code."""
        if goods_no:
            return self.goods.get(goods_no)
        found = self._by_isv_goods.get(isv_goods_no)
        return None if found is None else self.goods[found]

    def set_stock(self, sku: str, total: int, *, warehouse: Any = None) -> None:
        """On hand becomes `total`; usable is what open orders have not promised."""
        with self.lock:
            goods = self.article(isv_goods_no=sku)
            if goods is None:
                raise KeyError(sku)
            where = str(warehouse or self.warehouse_nos[0])
            promised = sum(
                line.quantity
                for order in self.orders.values()
                if order.warehouse_no == where and self._open(order)
                for line in order.lines
                if line.goods.goods_no == goods.goods_no
            )
            self.stock[(where, goods.goods_no)] = Stock(total, max(total - promised, 0))

    def levels(self, warehouse: str | None = None) -> dict[str, dict[str, int]]:
        """Merchant code → {"total", "usable"} in one warehouse (the first by default)."""
        where = warehouse or self.warehouse_nos[0]
        with self.lock:
            return {
                self.goods[goods_no].isv_goods_no: {"total": level.total, "usable": level.usable}
                for (wh, goods_no), level in sorted(self.stock.items())
                if wh == where
            }

    def stock_rows(
        self, *, warehouse_no: str, goods: set[str] | None, zero: bool
    ) -> list[tuple[str, Goods, Stock]]:
        """(warehouse, article, stock) rows, warehouse `""` meaning all of them."""
        with self.lock:
            rows = []
            for (wh, goods_no), level in sorted(self.stock.items()):
                if warehouse_no and wh != warehouse_no:
                    continue
                if goods is not None and goods_no not in goods:
                    continue
                if level.total or zero:
                    rows.append((wh, self.goods[goods_no], Stock(level.total, level.usable)))
            return rows

    # orders

    def add_order(self, request: OrderRequest) -> tuple[str, bool]:
        """The ECLP number for the request, and whether it is new: an `isvUUID` seen
        before gets its first order's number back, whatever else the call says."""
        with self.lock:
            self.add_calls += 1
            known = self._by_uuid.get(request.isv_uuid)
            if known is not None:
                return known, False
            self._check_master(request)
            lines = self._lines(request)
            for line in lines:
                level = self.stock.get((request.warehouse_no, line.goods.goods_no)) or Stock()
                if level.usable < line.quantity:
                    raise JdFailure(
                        "stock_short",
                        f"商品[{line.goods.isv_goods_no}]库存不足, 可用{level.usable}",
                        f"quantity: only {level.usable} of {line.goods.isv_goods_no} usable",
                    )
            for line in lines:
                self.stock[(request.warehouse_no, line.goods.goods_no)].usable -= line.quantity
            number = f"ESL{4418046000000 + next(self._numbers)}"
            order = Outbound(
                eclp_so_no=number,
                isv_uuid=request.isv_uuid,
                warehouse_no=request.warehouse_no,
                shop_no=request.shop_no,
                shipper_no=request.shipper_no,
                platform_order_no=request.platform_order_no,
                platform_source=request.platform_source,
                consignee=dict(request.consignee),
                lines=lines,
                remark=request.remark,
            )
            self._status(order, "created")
            self.orders[number] = order
            self._by_uuid[request.isv_uuid] = number
            return number, True

    def find(self, number: str) -> Outbound:
        """An order by ECLP number or by `isvUUID`; KeyError when unknown."""
        with self.lock:
            if number in self.orders:
                return self.orders[number]
            return self.orders[self._by_uuid[number]]

    def cancel(self, number: str, *, by_warehouse: bool = False) -> tuple[int, str]:
        """(`cancelorder_result.code`, `msg`): 1 once cancelled, 2 once it left."""
        with self.lock:
            order = self.find(number)
            if order.has(self.code("cancelled")):
                return 1, "订单已取消"
            if not self._open(order):
                self._status(order, "cancel_failed")
                return 2, "订单已出库, 不能取消"
            for line in order.lines:
                self.stock[(order.warehouse_no, line.goods.goods_no)].usable += line.quantity
            self._status(order, "cancelled", user="warehouse" if by_warehouse else "isv")
            return 1, "取消成功"

    def pack(self, number: str) -> Outbound:
        with self.lock:
            order = self._movable(number)
            self._status(order, "packed")
            return order

    def ship(self, number: str, *, waybill: str = "", shipper_no: str = "") -> Outbound:
        """The order leaves: stock goes, a waybill and carrier are on it."""
        with self.lock:
            order = self._movable(number)
            if shipper_no:
                if shipper_no not in self.shippers:
                    raise KeyError(shipper_no)
                order.shipper_no = shipper_no
            order.waybills = [waybill or f"JDVA{self._rng.randrange(10**10, 10**11)}"]
            for line in order.lines:
                self.stock[(order.warehouse_no, line.goods.goods_no)].total -= line.quantity
            self._status(order, "shipped")
            return order

    def deliver(self, number: str) -> Outbound:
        with self.lock:
            order = self.find(number)
            if not order.has(self.code("shipped")):
                raise ValueError(f"{number} has not shipped")
            self._status(order, "delivered")
            return order

    def code(self, role: str) -> str:
        return self.statuses[role][0]

    def _open(self, order: Outbound) -> bool:
        """Neither shipped nor cancelled: still in the warehouse's hands."""
        ended = {self.code("shipped"), self.code("delivered"), self.code("cancelled")}
        return not any(s.code in ended for s in order.statuses)

    def _movable(self, number: str) -> Outbound:
        order = self.find(number)
        if not self._open(order):
            raise ValueError(f"{number} has already shipped or was cancelled")
        return order

    def _status(self, order: Outbound, role: str, *, user: str = "eclp") -> None:
        code, name = self.statuses[role]
        order.statuses.append(Status(code, name, _now(), user))

    def _check_master(self, request: OrderRequest) -> None:
        if request.isv_source != self.isv_source:
            raise JdFailure(
                "unknown_isv_source",
                f"ISV来源编号[{request.isv_source}]不存在",
                f"isvSource: unknown ISV source {request.isv_source}",
            )
        if request.department_no != self.department_no:
            raise JdFailure(
                "unknown_department",
                f"事业部编号[{request.department_no}]不存在或与pin不匹配",
                f"departmentNo: unknown department {request.department_no}",
            )
        if request.shop_no != self.shop_no:
            raise JdFailure(
                "unknown_shop",
                f"店铺编号[{request.shop_no}]不存在",
                f"shopNo: unknown shop {request.shop_no}",
            )
        if request.warehouse_no not in self.warehouse_nos:
            raise JdFailure(
                "unknown_warehouse",
                f"库房编号[{request.warehouse_no}]不存在",
                f"warehouseNo: unknown warehouse {request.warehouse_no}",
            )
        if request.shipper_no not in self.shippers:
            raise JdFailure(
                "unknown_shipper",
                f"承运商编号[{request.shipper_no}]不存在",
                f"shipperNo: unknown carrier {request.shipper_no}",
            )

    def _lines(self, request: OrderRequest) -> list[Line]:
        lines = []
        for n, quantity in enumerate(request.quantities):
            goods_no = request.goods_nos[n] if request.goods_nos else ""
            isv_no = request.isv_goods_nos[n] if request.isv_goods_nos else ""
            goods = self.article(goods_no=goods_no, isv_goods_no=isv_no)
            if goods is None:
                name, value = ("goodsNo", goods_no) if goods_no else ("isvGoodsNo", isv_no)
                raise JdFailure(
                    "unknown_goods",
                    f"商品[{value}]在事业部[{request.department_no}]下不存在",
                    f"{name}: unknown goods {value}",
                )
            lines.append(
                Line(goods, quantity, request.prices[n], request.order_lines[n] or str(n + 1))
            )
        return lines
