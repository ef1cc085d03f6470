"""The emulated 4PX warehouse account's books: warehouses, SKUs, stock and outbound
consignments (出库委托), each shipped in one or more parcels.

Nothing here speaks HTTP. A refusal leaves as `FourpxFailure(role, message, data)`,
which the gateway writes into the `errors` of 4PX's envelope. One re-entrant lock guards
everything: the HTTP handlers and the helpers tests call run on different threads.

Stock per warehouse and SKU is `on_hand`, `available` and `pending` (promised to open
consignments): a consignment moves units from available to pending, a parcel takes them
from pending and on hand, a cancel gives them back to available.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .codes import STATUS

__all__ = ["Consignment", "FourpxFailure", "FourpxState", "Line", "Parcel", "Stock"]


class FourpxFailure(Exception):
    """A call 4PX refuses: the role of its error code, a message and the value at fault."""

    def __init__(self, role: str, message: str, data: str = "") -> None:
        super().__init__(message)
        self.role = role
        self.message = message
        self.data = data


@dataclass
class Stock:
    """Units of one SKU in one warehouse."""

    on_hand: int = 0
    available: int = 0
    pending: int = 0


@dataclass(frozen=True)
class Line:
    """One `oconsignment_sku` row, with what it declares to customs."""

    sku: str
    quantity: int
    unit_price: str = ""
    declared: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Parcel:
    """What left in one parcel, under the carrier's number."""

    shipping_no: str
    lines: Mapping[str, int]
    at: int


@dataclass
class Consignment:
    consignment_no: str
    ref_no: str
    tracking_no: str
    warehouse: str
    product: str
    body: dict[str, Any]
    consignee: dict[str, str]
    lines: list[Line]
    status: str
    create_time: int
    update_time: int
    complete_time: int = 0
    parcels: list[Parcel] = field(default_factory=list)

    def shipped(self, sku: str) -> int:
        return sum(p.lines.get(sku, 0) for p in self.parcels)

    def left(self) -> dict[str, int]:
        """Units of each SKU still in the warehouse."""
        left: dict[str, int] = {}
        for line in self.lines:
            left[line.sku] = left.get(line.sku, 0) + line.quantity
        return {sku: n - self.shipped(sku) for sku, n in left.items() if n > self.shipped(sku)}


def now_ms() -> int:
    return int(time.time() * 1000)


class FourpxState:
    """Master data, stock and consignments of one customer account."""

    def __init__(
        self,
        *,
        customer_code: str,
        warehouses: Mapping[str, str],
        products: Mapping[str, str],
        seed: int | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.customer_code = customer_code
        self.warehouses = dict(warehouses)
        self.products = dict(products)
        self.skus: dict[str, dict[str, str]] = {}
        self.stock: dict[tuple[str, str], Stock] = {}
        self.consignments: dict[str, Consignment] = {}
        self.by_ref: dict[str, str] = {}
        self.create_calls = 0
        self._numbers = itertools.count(1)
        self._rng = random.Random(seed)

    @property
    def first_warehouse(self) -> str:
        return next(iter(self.warehouses))

    # master data and stock

    def seed_skus(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
        """Add SKUs `{"sku", "name"?, "stock"?, "warehouse"?}`; their 4PX sku ids."""
        added = []
        with self.lock:
            for item in items:
                sku = str(item["sku"])
                known = self.skus.get(sku)
                sku_id = known["sku_id"] if known else str(921000000000 + len(self.skus))
                self.skus[sku] = {"sku_id": sku_id, "name": str(item.get("name") or sku)}
                if "stock" in item:
                    self.set_stock(sku, int(item["stock"]), warehouse=item.get("warehouse"))
                added.append({"sku": sku, **self.skus[sku]})
        return added

    def set_stock(self, sku: str, on_hand: int, *, warehouse: Any = None) -> None:
        """On hand becomes `on_hand`; available is what open consignments left of it."""
        with self.lock:
            if sku not in self.skus:
                raise KeyError(sku)
            where = str(warehouse or self.first_warehouse)
            if where not in self.warehouses:
                raise KeyError(where)
            level = self.stock.setdefault((where, sku), Stock())
            level.on_hand = on_hand
            level.available = max(on_hand - level.pending, 0)

    def levels(self, warehouse: str | None = None) -> dict[str, dict[str, int]]:
        where = warehouse or self.first_warehouse
        with self.lock:
            return {
                sku: {"on_hand": s.on_hand, "available": s.available, "pending": s.pending}
                for (wh, sku), s in sorted(self.stock.items())
                if wh == where
            }

    # consignments

    def create(
        self,
        *,
        ref_no: str,
        warehouse: str,
        product: str,
        body: dict[str, Any],
        consignee: dict[str, str],
        lines: list[Line],
    ) -> tuple[Consignment, bool]:
        """A new consignment, or the one this ref_no already made (and False)."""
        with self.lock:
            known = self.by_ref.get(ref_no)
            if known is not None:
                return self.consignments[known], False
            wanted: dict[str, int] = {}
            for line in lines:
                if line.sku not in self.skus:
                    raise FourpxFailure("sku_unknown", f"SKU[{line.sku}]不存在", line.sku)
                wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
            for sku, quantity in wanted.items():
                level = self.stock.get((warehouse, sku)) or Stock()
                if level.available < quantity:
                    raise FourpxFailure(
                        "stock_short", f"库存不足: {sku} 可用 {level.available}", sku
                    )
            for sku, quantity in wanted.items():
                level = self.stock[(warehouse, sku)]
                level.available -= quantity
                level.pending += quantity
            moment = now_ms()
            day = time.strftime("%y%m%d", time.gmtime(moment / 1000))
            serial = next(self._numbers)
            consignment = Consignment(
                consignment_no=f"OC{self.customer_code}{day}{serial:05d}",
                ref_no=ref_no,
                tracking_no=f"{self._rng.randrange(10**11, 10**12)}",
                warehouse=warehouse,
                product=product,
                body=body,
                consignee=consignee,
                lines=lines,
                status=STATUS["submitted"],
                create_time=moment,
                update_time=moment,
            )
            self.consignments[consignment.consignment_no] = consignment
            self.by_ref[ref_no] = consignment.consignment_no
            return consignment, True

    def find(self, number: str) -> Consignment:
        """A consignment by its number or our ref_no; KeyError when unknown."""
        with self.lock:
            if number in self.consignments:
                return self.consignments[number]
            return self.consignments[self.by_ref[number]]

    def cancel(self, number: str) -> Consignment:
        with self.lock:
            found = self.find(number)
            if found.status == STATUS["cancelled"]:
                raise FourpxFailure("repeat_cancel", "出库委托 重复取消", found.consignment_no)
            if found.parcels or found.status == STATUS["shipped"]:
                raise FourpxFailure("shipped", "出库委托已经签出，不能操作", found.consignment_no)
            for sku, quantity in found.left().items():
                level = self.stock[(found.warehouse, sku)]
                level.pending -= quantity
                level.available += quantity
            found.status = STATUS["cancelled"]
            found.update_time = now_ms()
            return found

    def ship(
        self, number: str, *, lines: Mapping[str, int] | None = None, shipping_no: str = ""
    ) -> Parcel:
        """A parcel leaves with these units (all that is left by default); the
        consignment is shipped (C) once nothing is left, picked (P) before."""
        with self.lock:
            found = self.find(number)
            if found.status in (STATUS["cancelled"], STATUS["shipped"]):
                raise ValueError(f"{number} is cancelled or shipped already")
            left = found.left()
            taking = dict(lines) if lines else left
            for sku, quantity in taking.items():
                if quantity <= 0 or quantity > left.get(sku, 0):
                    raise ValueError(f"{number} has {left.get(sku, 0)} of {sku} left to ship")
            moment = now_ms()
            parcel = Parcel(
                shipping_no or f"9400{self._rng.randrange(10**17, 10**18)}", taking, moment
            )
            found.parcels.append(parcel)
            for sku, quantity in taking.items():
                level = self.stock[(found.warehouse, sku)]
                level.pending -= quantity
                level.on_hand -= quantity
            done = not found.left()
            found.status = STATUS["shipped"] if done else STATUS["picked"]
            found.update_time = moment
            if done:
                found.complete_time = moment
            return parcel

    def mark(self, number: str, role: str) -> Consignment:
        """The warehouse puts a consignment in another state (exception, say)."""
        with self.lock:
            found = self.find(number)
            found.status = STATUS[role]
            found.update_time = now_ms()
            return found
