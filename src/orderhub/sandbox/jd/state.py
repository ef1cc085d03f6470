"""The emulated JD shop's books: orders, waybills and refunds, over the catalogue.

Nothing here speaks HTTP. Business refusals leave as `Refused(role, zh, en)`, which the
gateway writes into the method's own result (`apiResult`, `sopjosshipment_result`);
gateway-level refusals are `JdFailure`. One re-entrant lock guards everything because
the HTTP handlers and the Python helpers used by tests run on different threads.

An unpaid order is held back, on the UNCONFIRMED understanding that JOS lists an
online-payment POP order once it is paid: it is invisible to search, detail and
shipment until `modify_order(id, paid=True)`.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .catalog import Catalog, price_of
from .people import Receiver, ciphertext, receiver_from
from .wire import (
    FINISHED,
    ORDER_STATES,
    TRADE_CANCELED,
    WAIT_GOODS_RECEIVE_CONFIRM,
    WAIT_SELLER_STOCK_OUT,
)

__all__ = ["JdState", "Line", "Order", "Refund", "Refused", "Shipment", "utc_second"]

ENCRYPTED_FIELDS = (
    "encrypt_fullname",
    "encrypt_mobile",
    "encrypt_telephone",
    "encrypt_fullAddress",
)


class Refused(Exception):
    """A business refusal the method reports in its own result object."""

    def __init__(self, role: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.role = role
        self.zh = zh
        self.en = en


def utc_second(at: datetime | None = None) -> datetime:
    """`at` (aware) or now, in UTC, to the second: JOS times have no fractions."""
    if at is None:
        at = datetime.now(UTC)
    elif at.tzinfo is None:
        raise ValueError("`at` must be an aware datetime")
    return at.astimezone(UTC).replace(microsecond=0)


@dataclass
class Line:
    sku_id: int
    ware_id: int
    outer_id: str
    name: str
    price: Decimal
    quantity: int


@dataclass
class Shipment:
    carrier_id: str
    carrier_name: str
    tracking_no: str
    shipped_at: datetime


@dataclass
class Refund:
    line_index: int
    quantity: int
    returned: bool
    state: str
    created_at: datetime


@dataclass
class Order:
    order_id: str
    lines: list[Line]
    receiver: Receiver
    tokens: dict[str, str]
    created: datetime
    modified: datetime
    paid_at: datetime | None
    pin: str
    freight: Decimal
    buyer_message: str = ""
    vender_remark: str = ""
    state: str = WAIT_SELLER_STOCK_OUT
    ended: datetime | None = None
    shipment: Shipment | None = None
    refunds: list[Refund] = field(default_factory=list)

    @property
    def visible(self) -> bool:
        return self.paid_at is not None

    @property
    def refund_state(self) -> str:
        if not self.refunds:
            return "none"
        return "refunding" if any(r.state == "refunding" for r in self.refunds) else "refunded"

    def total(self) -> Decimal:
        return sum((line.price * line.quantity for line in self.lines), Decimal("0"))

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready view for tests and the control endpoints (not the wire shape)."""
        ship = self.shipment
        return {
            "order_id": self.order_id,
            "status": self.state,
            "paid": self.visible,
            "created": self.created.isoformat(),
            "modified": self.modified.isoformat(),
            "buyer_message": self.buyer_message,
            "vender_remark": self.vender_remark,
            "receiver": self.receiver.clear(),
            "lines": [
                {
                    "sku": ln.outer_id,
                    "sku_id": str(ln.sku_id),
                    "ware_id": str(ln.ware_id),
                    "quantity": ln.quantity,
                    "price": str(ln.price),
                }
                for ln in self.lines
            ],
            "shipments": []
            if ship is None
            else [
                {
                    "carrier_code": ship.carrier_id,
                    "carrier_name": ship.carrier_name,
                    "tracking_no": ship.tracking_no,
                    "lines": list(range(len(self.lines))),
                    "shipped_at": ship.shipped_at.isoformat(),
                }
            ],
            "refund_state": self.refund_state,
            "refunds": [
                {
                    "line_index": r.line_index,
                    "quantity": r.quantity,
                    "returned": r.returned,
                    "state": r.state,
                }
                for r in self.refunds
            ],
        }


class JdState:
    """One POP shop's data."""

    def __init__(self, *, carriers: Mapping[str, str], seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.carriers = dict(carriers)
        self.catalog = Catalog(self.rng)
        self.orders: dict[str, Order] = {}
        self._next_order = 289_000_000_000 + self.rng.randrange(10**8)

    # orders

    def place(self, spec: Mapping[str, Any], at: datetime | None) -> str:
        moment = utc_second(at)
        lines_spec = spec.get("lines") or []
        if not lines_spec:
            raise ValueError("an order needs at least one line")
        with self.lock:
            lines = []
            for raw in lines_spec:
                code = str(raw["sku"])
                sku = self.catalog.by_merchant_code(code)
                quantity = int(raw.get("quantity", 1))
                if quantity < 1:
                    raise ValueError("quantity must be at least 1")
                price = price_of(raw["price"]) if raw.get("price") is not None else sku.price
                lines.append(Line(sku.sku_id, sku.ware_id, code, sku.title, price, quantity))
            self._next_order += self.rng.randrange(1, 5000)
            order_id = str(self._next_order)
            paid = bool(spec.get("paid", True))
            order = Order(
                order_id=order_id,
                lines=lines,
                receiver=receiver_from(spec.get("receiver"), self.rng),
                tokens={name: ciphertext(self.rng) for name in ENCRYPTED_FIELDS},
                created=moment,
                modified=moment,
                paid_at=moment if paid else None,
                pin=f"jd_{self.rng.randrange(16**10):010x}",
                freight=price_of(spec.get("freight", "0.00")),
                buyer_message=str(spec.get("buyer_message") or ""),
            )
            self.orders[order_id] = order
            return order_id

    def get(self, order_id: str) -> Order:
        """Any order, for the Python helpers; KeyError when unknown."""
        with self.lock:
            return self.orders[str(order_id)]

    def visible(self, order_id: str) -> Order | None:
        """An order the API may show."""
        order = self.orders.get(str(order_id).strip())
        return order if order is not None and order.visible else None

    def modify(self, order_id: str, at: datetime | None, changes: Mapping[str, Any]) -> None:
        moment = utc_second(at)
        allowed = {"status", "vender_remark", "memo", "buyer_message", "paid"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
        with self.lock:
            order = self.get(order_id)
            if "status" in changes:
                status = str(changes["status"])
                if status not in ORDER_STATES:
                    raise ValueError(f"unknown order state {status}")
                order.state = status
                if status in (FINISHED, TRADE_CANCELED):
                    order.ended = moment
            for key in ("vender_remark", "memo"):
                if key in changes:
                    order.vender_remark = str(changes[key] or "")
            if "buyer_message" in changes:
                order.buyer_message = str(changes["buyer_message"] or "")
            if changes.get("paid") and order.paid_at is None:
                order.paid_at = moment
            order.modified = moment

    def cancel(self, order_id: str, at: datetime | None) -> None:
        moment = utc_second(at)
        with self.lock:
            order = self.get(order_id)
            if order.shipment is not None:
                raise ValueError(f"order {order_id} has left the warehouse")
            if order.state == TRADE_CANCELED:
                raise ValueError(f"order {order_id} is already cancelled")
            order.state = TRADE_CANCELED
            order.ended = moment
            order.modified = moment

    def refund(
        self,
        order_id: str,
        line_index: int,
        quantity: int | None,
        returned: bool,
        at: datetime | None,
    ) -> None:
        """Before shipment the order is cancelled; after, refunding and then refunded."""
        moment = utc_second(at)
        with self.lock:
            order = self.get(order_id)
            if not 0 <= line_index < len(order.lines):
                raise ValueError(f"order {order_id} has no line {line_index}")
            line = order.lines[line_index]
            units = line.quantity if quantity is None else int(quantity)
            if not 1 <= units <= line.quantity:
                raise ValueError(f"refund quantity must be 1..{line.quantity}")
            if order.state == TRADE_CANCELED:
                raise ValueError(f"order {order_id} is cancelled")
            if order.paid_at is None:
                raise ValueError(f"order {order_id} is not paid")
            if order.shipment is None:
                order.refunds.append(Refund(line_index, units, returned, "refunded", moment))
                order.state = TRADE_CANCELED
                order.ended = moment
            else:
                pending = [r for r in order.refunds if r.state == "refunding"]
                if pending:
                    pending[0].state = "refunded"
                    pending[0].returned = pending[0].returned or returned
                else:
                    order.refunds.append(Refund(line_index, units, returned, "refunding", moment))
            order.modified = moment

    def ship(self, order_id: str, carrier_id: str, tracking_no: str) -> Order:
        with self.lock:
            name = self.carriers.get(carrier_id)
            if name is None:
                raise Refused("carrier", f"物流公司 {carrier_id} 不存在", "invalid logiCoprId")
            order = self.visible(order_id)
            if order is None:
                raise Refused("order_not_found", "订单不存在", f"order {order_id} not found")
            if order.shipment is not None:
                raise Refused("shipped", "订单已出库", "order has already been shipped")
            if order.state != WAIT_SELLER_STOCK_OUT:
                raise Refused(
                    "order_state", "订单状态不允许出库", "order state is not suitable for shipment"
                )
            moment = utc_second()
            order.shipment = Shipment(carrier_id, name, tracking_no, moment)
            order.state = WAIT_GOODS_RECEIVE_CONFIRM
            order.modified = moment
            return order

    def search(
        self,
        *,
        states: frozenset[str],
        start: datetime | None,
        end: datetime | None,
        by_created: bool,
        descending: bool,
    ) -> list[Order]:
        """Visible orders in `states` whose time is in [start, end), ordered by that time."""
        with self.lock:

            def moment(order: Order) -> datetime:
                return order.created if by_created else order.modified

            found = [
                o
                for o in self.orders.values()
                if o.visible
                and o.state in states
                and (start is None or start <= moment(o))
                and (end is None or moment(o) < end)
            ]
            found.sort(key=lambda o: (moment(o), int(o.order_id)), reverse=descending)
            return found

    def snapshots(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {oid: order.snapshot() for oid, order in self.orders.items()}
