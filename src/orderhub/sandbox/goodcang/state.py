"""The emulated 谷仓 account's books: its warehouses, shipping methods, products, stock
and the outbound orders (出库单) it was sent.

Nothing here speaks HTTP. A refusal leaves as `GcFailure(role, message)`, which the API
answers as `{"ask": "Failure", "message", "Error": {"errCode", "errMessage"}}`. One
re-entrant lock guards everything: HTTP handlers and test helpers run on different threads.

Stock per warehouse and SKU is `sellable` and `reserved` (an order waiting to ship holds
its units there); a shipment takes them from `reserved`, a discard gives them back.
Several parcels of one order are `orderBoxInfo` rows, one per box and product, each with
the box's `tracking_number`; the order stays W (待发货) until every unit left, then D
(已发货) with the first parcel's number as `tracking_no` (UNCONFIRMED: GoodCang documents
no partly-shipped status and does not say when boxes appear).
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

__all__ = ["Box", "GcFailure", "GcState", "Item", "Outbound", "Stock"]

DRAFT, WAITING, SHIPPED, DISCARDED = "C", "W", "D", "X"
OPEN = frozenset({"C", "W", "H", "N", "P"})
"""Statuses of an order still in the warehouse's hands: it can be discarded."""


class GcFailure(Exception):
    """A call GoodCang refuses; `role` picks the error code from the emulator's table."""

    def __init__(self, role: str, message: str, *, order_code: str = "") -> None:
        super().__init__(message)
        self.role = role
        self.message = message
        self.order_code = order_code


@dataclass
class Stock:
    sellable: int = 0
    reserved: int = 0
    shipped: int = 0


@dataclass(frozen=True)
class Item:
    """One `items` row of an order, as sent."""

    sku: str
    quantity: int
    declared_value: Decimal | None
    hs_code: str


@dataclass(frozen=True)
class Box:
    """One parcel that left: its number, tracking number and what it carries."""

    box_no: str
    tracking_number: str
    lines: tuple[tuple[str, int], ...]
    at: datetime


@dataclass
class Outbound:
    order_code: str
    reference_no: str
    platform: str
    shipping_method: str
    warehouse_code: str
    consignee: dict[str, str]
    items: list[Item]
    vat_change_info: dict[str, str]
    order_desc: str
    status: str
    created: datetime
    boxes: list[Box] = field(default_factory=list)
    shipped_at: datetime | None = None
    modified: datetime | None = None

    def left(self) -> dict[str, int]:
        """Units per SKU not yet in a parcel."""
        remaining: dict[str, int] = {}
        for item in self.items:
            remaining[item.sku] = remaining.get(item.sku, 0) + item.quantity
        for box in self.boxes:
            for sku, quantity in box.lines:
                remaining[sku] -= quantity
        return remaining


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class GcState:
    """Master data, stock and orders of one customer account."""

    def __init__(
        self,
        *,
        customer_code: str,
        warehouses: Mapping[str, str],
        shipping_methods: Mapping[str, str],
        seed: int | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.customer_code = customer_code
        self.warehouses = dict(warehouses)
        self.shipping_methods = dict(shipping_methods)
        self.products: dict[str, str] = {}
        self.stock: dict[tuple[str, str], Stock] = {}
        self.orders: dict[str, Outbound] = {}
        self.create_calls = 0
        self.create_refused = 0
        self._by_ref: dict[str, str] = {}
        self._numbers = itertools.count(1)
        self._rng = random.Random(seed)

    @property
    def first_warehouse(self) -> str:
        return next(iter(self.warehouses))

    # master data and stock

    def seed_products(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add products `{"sku", "name"?, "stock"?, "warehouse"?}`."""
        added = []
        with self.lock:
            for item in items:
                sku = str(item["sku"])
                self.products[sku] = str(item.get("name") or sku)
                if "stock" in item:
                    self.set_stock(sku, int(item["stock"]), warehouse=item.get("warehouse"))
                added.append({"sku": sku, "name": self.products[sku]})
        return added

    def barcode(self, sku: str) -> str:
        """GoodCang's product code: the customer code, a dash, the SKU."""
        return f"{self.customer_code}-{sku}"

    def set_stock(self, sku: str, sellable: int, *, warehouse: Any = None) -> None:
        """Sellable units become `sellable`; reserved ones stay with their orders."""
        with self.lock:
            if sku not in self.products:
                raise KeyError(sku)
            where = str(warehouse or self.first_warehouse)
            if where not in self.warehouses:
                raise KeyError(where)
            self.stock.setdefault((where, sku), Stock()).sellable = sellable

    def levels(self, warehouse: str | None = None) -> dict[str, dict[str, int]]:
        where = warehouse or self.first_warehouse
        with self.lock:
            return {
                sku: {"sellable": s.sellable, "reserved": s.reserved, "shipped": s.shipped}
                for (wh, sku), s in sorted(self.stock.items())
                if wh == where
            }

    # orders

    def create(self, order: Outbound) -> str:
        """Take an order checked for form; its order code. A `reference_no` in use by an
        order not discarded is refused, naming that order."""
        with self.lock:
            known = self._by_ref.get(order.reference_no) if order.reference_no else None
            if known is not None and self.orders[known].status != DISCARDED:
                raise GcFailure(
                    "duplicate_reference",
                    f"参考号[{order.reference_no}]已存在, 订单号[{known}]",
                    order_code=known,
                )
            if order.warehouse_code not in self.warehouses:
                raise GcFailure("unknown_warehouse", f"仓库代码[{order.warehouse_code}]不存在")
            if order.shipping_method not in self.shipping_methods:
                raise GcFailure(
                    "unknown_shipping_method", f"物流产品[{order.shipping_method}]不存在"
                )
            for item in order.items:
                if item.sku not in self.products:
                    raise GcFailure("unknown_sku", f"SKU[{item.sku}]不存在")
            self._check_customs(order)
            if order.status == WAITING:
                self._reserve(order)
            number = f"{self.customer_code}-{now():%y%m%d}-{next(self._numbers):04d}"
            order.order_code = number
            self.orders[number] = order
            if order.reference_no:
                self._by_ref[order.reference_no] = number
            return number

    def find(self, number: str) -> Outbound:
        """An order by order code or reference number; KeyError when unknown."""
        with self.lock:
            if number in self.orders:
                return self.orders[number]
            return self.orders[self._by_ref[number]]

    def cancel(self, number: str) -> Outbound:
        """Discard an order still in the warehouse's hands; GcFailure once it left."""
        with self.lock:
            order = self.find(number)
            if order.status == DISCARDED:
                raise GcFailure("already_discarded", "订单已废弃", order_code=order.order_code)
            if order.status not in OPEN or order.boxes:
                raise GcFailure(
                    "already_shipped", "订单已出库, 不能取消", order_code=order.order_code
                )
            if order.status == WAITING:
                for sku, quantity in order.left().items():
                    level = self.stock[(order.warehouse_code, sku)]
                    level.reserved -= quantity
                    level.sellable += quantity
            order.status = DISCARDED
            order.modified = now()
            return order

    def ship(self, number: str, parcels: Iterable[tuple[str, Mapping[str, int]]] = ()) -> list[Box]:
        """Parcels leave (tracking number, SKU → units; by default one parcel with what is
        left, its number made up); D once nothing is left."""
        with self.lock:
            order = self.find(number)
            if order.status != WAITING:
                raise ValueError(f"{number} is {order.status}, not waiting to ship")
            wanted = [(tn, dict(lines)) for tn, lines in parcels] or [("", order.left())]
            added = []
            for tracking, lines in wanted:
                left = order.left()
                for sku, quantity in lines.items():
                    if quantity <= 0 or left.get(sku, 0) < quantity:
                        raise ValueError(f"{number} has {left.get(sku, 0)} of {sku} left")
                box = Box(
                    box_no=f"{len(order.boxes) + 1}-1",
                    tracking_number=tracking or f"GC{self._rng.randrange(10**11, 10**12)}GB",
                    lines=tuple(sorted((s, q) for s, q in lines.items() if q)),
                    at=now(),
                )
                for sku, quantity in box.lines:
                    level = self.stock[(order.warehouse_code, sku)]
                    level.reserved -= quantity
                    level.shipped += quantity
                order.boxes.append(box)
                added.append(box)
            order.modified = now()
            if not any(order.left().values()):
                order.status = SHIPPED
                order.shipped_at = order.modified
            return added

    def set_status(self, number: str, status: str) -> None:
        """Move an order to a status of the warehouse's own (N 异常, P 问题件, …)."""
        with self.lock:
            self.find(number).status = status

    def _reserve(self, order: Outbound) -> None:
        wanted: dict[str, int] = {}
        for item in order.items:
            wanted[item.sku] = wanted.get(item.sku, 0) + item.quantity
        for sku, quantity in wanted.items():
            level = self.stock.get((order.warehouse_code, sku)) or Stock()
            if level.sellable < quantity:
                raise GcFailure("stock_short", f"SKU[{sku}]库存不足, 可售{level.sellable}")
        for sku, quantity in wanted.items():
            level = self.stock[(order.warehouse_code, sku)]
            level.sellable -= quantity
            level.reserved += quantity

    def _check_customs(self, order: Outbound) -> None:
        """Across a border every item declares an HS code and a value (UNCONFIRMED: where
        GoodCang takes them from its product records instead)."""
        if order.consignee["country_code"] == self.warehouses[order.warehouse_code]:
            return
        for n, item in enumerate(order.items):
            if not item.hs_code:
                raise GcFailure("customs", f"items[{n}].hs_code: 跨境订单海关编码必填")
            if item.declared_value is None or item.declared_value <= 0:
                raise GcFailure(
                    "customs", f"items[{n}].product_declared_value: 跨境订单申报价值必填"
                )
