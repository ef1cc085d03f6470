"""The emulated shop's books: catalogue, orders, parcels, refunds, under one lock.

Python callers (tests, the control routes) get KeyError for an unknown order and
ValueError for a change the order's state forbids; API callers get `DouyinFailure`,
which the app turns into the platform's envelope. Every check runs before anything
changes, so a refused call stores nothing. Each change calls `emit(event, order,
details)`, which the push worker turns into a message for the hub.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from .catalog import Catalog, fen
from .orders import (
    AFTERSALE_OK,
    APPLIED,
    CANCELLED,
    DONE,
    PENDING,
    PREPARING,
    REFUND_BEFORE_SHIPMENT,
    REFUND_OK,
    REFUND_ONLY,
    REFUND_PENDING,
    RETURN_AND_REFUND,
    RETURNING,
    SHIPPED,
    AfterSale,
    Pack,
    ShopOrder,
    SkuOrder,
)
from .people import cipher, receiver_from
from .wire import BUSINESS_FAILED, INVALID_BIZ_PARAM, DouyinFailure

__all__ = ["CARRIERS", "DouyinState", "Emit", "unix"]

CARRIERS: Mapping[str, tuple[int, str]] = {
    "shunfeng": (12, "顺丰速运"),
    "yuantong": (7, "圆通快递"),
    "zhongtong": (15, "中通快递"),
    "shentong": (8, "申通快递"),
    "yunda": (16, "韵达快递"),
    "ems": (4, "中国邮政速递物流"),
    "jd": (40, "京东物流"),
}
ORDER_BASE = 6_918_000_000_000_000_000
AFTERSALE_BASE = 7_210_000_000_000_000_000
PACK_BASE = 7_300_000_000_000_000_000
MODIFIABLE = frozenset(
    {"seller_words", "seller_remark_stars", "buyer_words", "receiver", "order_status"}
)

Emit = Callable[[str, ShopOrder, Mapping[str, Any]], None]


def unix(at: datetime | None) -> int:
    """UNIX seconds of an aware datetime, or now."""
    if at is None:
        return int(time.time())
    if at.tzinfo is None:
        raise ValueError("`at` must be an aware datetime")
    return int(at.timestamp())


def _failed(message: str) -> DouyinFailure:
    return DouyinFailure(BUSINESS_FAILED, "isv.business-failed", message)


def _invalid(message: str) -> DouyinFailure:
    return DouyinFailure(INVALID_BIZ_PARAM, "isv.parameter-invalid", message)


class DouyinState:
    """Everything one emulated shop knows; `lock` guards it all."""

    def __init__(self, *, emit: Emit, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.catalog = Catalog()
        self.orders: dict[str, ShopOrder] = {}
        self.requests: dict[str, list[dict[str, Any]]] = {}
        self._emit = emit
        self._ids = 0
        self._packs = 0
        self._aftersales = 0

    def _next_id(self) -> str:
        self._ids += 1
        return str(ORDER_BASE + self._ids * 7)

    def order(self, order_id: str) -> ShopOrder:
        """The order; KeyError when unknown."""
        with self.lock:
            return self.orders[str(order_id)]

    def seed_items(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Put SKUs on sale; see `Catalog.seed`."""
        with self.lock:
            return self.catalog.seed(items, unix(None))

    def place_order(self, spec: Mapping[str, Any], at: datetime | None) -> str:
        """Create a shop order as a buyer would; returns its id."""
        moment = unix(at)
        raw_lines = list(spec.get("lines") or [])
        if not raw_lines:
            raise ValueError("an order needs at least one line")
        with self.lock:
            receiver = receiver_from(spec.get("receiver") or {}, self.rng)
            order = ShopOrder(
                order_id=self._next_id(),
                receiver=receiver,
                ciphers={
                    "name": cipher("name", receiver.name, self.rng),
                    "tel": cipher("tel", receiver.tel, self.rng),
                    "addr": cipher("addr", receiver.detail, self.rng),
                },
                lines=[],
                status=PENDING,
                create_time=moment,
                update_time=moment,
                buyer_words=str(spec.get("buyer_message") or ""),
                pay_type=self.rng.choice((1, 2)),
            )
            if spec.get("post_amount") is not None:
                order.post_amount = fen(spec["post_amount"])
            for raw in raw_lines:
                order.lines.append(self._line(raw))
            self.orders[order.order_id] = order
            self._emit("created", order, {})
            if spec.get("paid", True):
                self._pay(order, moment)
            return order.order_id

    def _line(self, raw: Mapping[str, Any]) -> SkuOrder:
        code = str(raw["sku"])
        quantity = int(raw.get("quantity", 1))
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        sku = self.catalog.by_code(code)
        if sku is None:
            self.catalog.seed([{"sku": code, "price": raw.get("price", "19.90")}], unix(None))
            sku = self.catalog.by_code(code)
            assert sku is not None
        price = fen(raw["price"]) if raw.get("price") is not None else sku.price
        name = self.catalog.products[sku.product_id].name
        return SkuOrder(self._next_id(), sku, name, quantity, price, PENDING)

    def _pay(self, order: ShopOrder, moment: int) -> None:
        order.status = PREPARING
        order.pay_time = order.update_time = moment
        for line in order.lines:
            line.status = PREPARING
        self._emit("paid", order, {})

    def pay_order(self, order_id: str, at: datetime | None) -> None:
        """The buyer pays an unpaid order."""
        with self.lock:
            order = self.order(order_id)
            if order.status != PENDING:
                raise ValueError(f"order {order_id} is not awaiting payment")
            self._pay(order, unix(at))

    def modify_order(self, order_id: str, at: datetime | None, changes: Mapping[str, Any]) -> None:
        """Change remarks, receiver or status and bump update_time."""
        unknown = set(changes) - MODIFIABLE
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        with self.lock:
            order = self.order(order_id)
            if "seller_words" in changes:
                order.seller_words = str(changes["seller_words"])
            if "seller_remark_stars" in changes:
                order.seller_remark_stars = int(changes["seller_remark_stars"])
            if "buyer_words" in changes:
                order.buyer_words = str(changes["buyer_words"])
            if "receiver" in changes:
                order.receiver = receiver_from(changes["receiver"], self.rng)
                r = order.receiver
                order.ciphers = {
                    "name": cipher("name", r.name, self.rng),
                    "tel": cipher("tel", r.tel, self.rng),
                    "addr": cipher("addr", r.detail, self.rng),
                }
            if "order_status" in changes:
                order.status = int(changes["order_status"])
            order.update_time = unix(at)
            if {"seller_words", "seller_remark_stars"} & set(changes):
                self._emit("memo", order, {})

    def cancel_order(self, order_id: str, reason: str, at: datetime | None) -> None:
        """Cancel an order nothing of which has shipped."""
        with self.lock:
            order = self.order(order_id)
            if any(line.shipped for line in order.lines) or order.status in (SHIPPED, DONE):
                raise ValueError(f"order {order_id} has shipped")
            if order.status == CANCELLED:
                raise ValueError(f"order {order_id} is cancelled already")
            order.status = CANCELLED
            order.cancel_reason = reason
            order.cancel_time = order.update_time = unix(at)
            for line in order.lines:
                line.status = CANCELLED
            self._emit("canceled", order, {})

    def complete_order(self, order_id: str, at: datetime | None) -> None:
        """The buyer confirms receipt of a shipped order."""
        with self.lock:
            order = self.order(order_id)
            if order.status != SHIPPED:
                raise ValueError(f"order {order_id} is not shipped")
            order.status = DONE
            order.finish_time = order.update_time = unix(at)
            for line in order.lines:
                line.status = DONE if not line.closed else line.status
            self._emit("success", order, {})

    def refund(
        self,
        order_id: str,
        line_index: int,
        quantity: int | None,
        returned: bool,
        at: datetime | None,
    ) -> None:
        """Open a refund on one line: settled at once before shipment, in progress after."""
        with self.lock:
            order = self.order(order_id)
            line = order.lines[line_index]
            if order.status in (PENDING, CANCELLED):
                raise ValueError(f"order {order_id} is unpaid or cancelled")
            if line.after_sale is not None or line.closed:
                raise ValueError(f"line {line_index} of {order_id} is refunded already")
            count = line.quantity if quantity is None else int(quantity)
            if not 0 < count <= line.quantity:
                raise ValueError(f"quantity must be between 1 and {line.quantity}")
            moment = unix(at)
            self._aftersales += 1
            before_shipment = line.shipped == 0 and order.status not in (SHIPPED, DONE)
            if before_shipment:
                kind, status = REFUND_BEFORE_SHIPMENT, APPLIED
            else:
                kind = RETURN_AND_REFUND if returned else REFUND_ONLY
                status = RETURNING if returned else APPLIED
            line.after_sale = AfterSale(
                aftersale_id=AFTERSALE_BASE + self._aftersales * 3,
                kind=kind,
                status=status,
                refund_status=REFUND_PENDING,
                quantity=count,
                amount=line.price * count,
                apply_time=moment,
            )
            order.update_time = moment
            self._emit("refund_created", order, {"line": line})
            if before_shipment:
                line.status = CANCELLED
                self._settle(order, line, moment)
                order.settle_status()
                if order.status == CANCELLED:
                    order.cancel_reason = order.cancel_reason or "买家申请退款"
                    order.cancel_time = moment
                    self._emit("canceled", order, {})

    def settle_refund(self, order_id: str, line_index: int, at: datetime | None) -> None:
        """The refund in progress on a line succeeds."""
        with self.lock:
            order = self.order(order_id)
            line = order.lines[line_index]
            if line.after_sale is None or not line.after_sale.open:
                raise ValueError(f"line {line_index} of {order_id} has no refund in progress")
            self._settle(order, line, unix(at))

    def _settle(self, order: ShopOrder, line: SkuOrder, moment: int) -> None:
        assert line.after_sale is not None
        line.after_sale.status = AFTERSALE_OK
        line.after_sale.refund_status = REFUND_OK
        line.after_sale.success_time = moment
        order.update_time = moment
        self._emit("refund_success", order, {"line": line})

    def ship_all(self, order_id: str, company_code: str, tracking_no: str) -> Pack:
        """`order.logisticsAdd`: every open line in one parcel."""
        with self.lock:
            order = self._shippable(order_id)
            lines = [(line.order_id, line.to_ship) for line in order.open_lines]
            return self._ship(order, company_code, tracking_no, lines)

    def ship_packs(
        self, order_id: str, packs: Sequence[tuple[str, str, list[tuple[str, int]]]]
    ) -> list[Pack]:
        """`order.logisticsAddMultiPack`: (company, tracking no, [(sku order, num)]) each."""
        with self.lock:
            order = self._shippable(order_id)
            wanted: dict[str, int] = {}
            resolved = []
            for company, tracking, lines in packs:
                counted = []
                for sku_order_id, num in lines:
                    line = order.line(sku_order_id)
                    if line is None:
                        raise _invalid(f"子订单{sku_order_id}不属于订单{order_id}")
                    if line.closed:
                        raise _failed(f"子订单{sku_order_id}已取消或已退款，不能发货")
                    if line.to_ship == 0:
                        raise _failed(f"子订单{sku_order_id}已发货，不能重复发货")
                    count = num or line.to_ship
                    wanted[sku_order_id] = wanted.get(sku_order_id, 0) + count
                    if count < 0 or wanted[sku_order_id] > line.to_ship:
                        raise _invalid(f"子订单{sku_order_id}发货数量超过待发货数量")
                    counted.append((sku_order_id, count))
                resolved.append((company, tracking, counted))
            return [self._ship(order, *pack) for pack in resolved]

    def _shippable(self, order_id: str) -> ShopOrder:
        order = self.orders.get(str(order_id))
        if order is None:
            raise _failed("订单不存在")
        if order.status == PENDING:
            raise _failed("订单未支付，不能发货")
        if order.status == CANCELLED:
            raise _failed("订单已取消，不能发货")
        if order.status in (SHIPPED, DONE) or not order.open_lines:
            raise _failed("订单已发货，不能重复发货")
        return order

    def _ship(
        self, order: ShopOrder, company: str, tracking: str, lines: list[tuple[str, int]]
    ) -> Pack:
        self._packs += 1
        moment = unix(None)
        pack = Pack(str(PACK_BASE + self._packs * 11), company, tracking, lines, moment)
        for sku_order_id, num in lines:
            line = order.line(sku_order_id)
            assert line is not None
            line.shipped += num
        order.packs.append(pack)
        order.ship_time = order.ship_time or moment
        order.update_time = moment
        order.settle_status()
        event = "shipped" if order.status == SHIPPED else "partly_shipped"
        self._emit(event, order, {"pack": pack})
        return pack

    def search(
        self,
        *,
        ranges: Mapping[str, tuple[int | None, int | None]],
        end_inclusive: bool,
        statuses: set[int] | None,
        after_sale: str,
    ) -> list[ShopOrder]:
        """Orders whose times fall within every (start, end) of `ranges`, unsorted."""
        with self.lock:
            return [
                order
                for order in self.orders.values()
                if all(
                    _within(getattr(order, name), start, end, end_inclusive)
                    for name, (start, end) in ranges.items()
                )
                and (statuses is None or order.status in statuses)
                and _after_sale_matches(order, after_sale)
            ]


def _within(moment: int, start: int | None, end: int | None, end_inclusive: bool) -> bool:
    if start is not None and moment < start:
        return False
    if end is None:
        return True
    return moment <= end if end_inclusive else moment < end


def _after_sale_matches(order: ShopOrder, wanted: str) -> bool:
    if wanted in ("", "all"):
        return True
    sales = [line.after_sale for line in order.lines if line.after_sale]
    if wanted in ("in_aftersale", "refund"):
        return any(s.open for s in sales)
    if wanted == "refund_success":
        return any(s.refund_status == REFUND_OK for s in sales)
    return False
