"""The emulated WMS's books: orders, stock, counters and the log of callbacks it owes.

Nothing here speaks HTTP or XML; requests arrive as the dicts the app parsed and
refusals leave as `WmsFailure(code, message)`, which the app turns into a Qimen
`<flag>failure</flag>` reply. One re-entrant lock guards everything because the
HTTP handlers and the shipping thread change the same books.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "CARRIER_NAMES",
    "INVALID_FIELD",
    "INVALID_WAREHOUSE",
    "MISSING_FIELD",
    "ORDER_NOT_FOUND",
    "ORDER_SHIPPED",
    "Delivery",
    "WmsFailure",
    "WmsLine",
    "WmsOrder",
    "WmsState",
]

MISSING_FIELD = "MISSING_FIELD"
INVALID_FIELD = "INVALID_FIELD"
INVALID_WAREHOUSE = "INVALID_WAREHOUSE"
ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
ORDER_SHIPPED = "ORDER_SHIPPED"

ACCEPT, DELIVERED, CANCELED = "ACCEPT", "DELIVERED", "CANCELED"
PENDING, SENT, FAILED = "pending", "sent", "failed"

CARRIER_NAMES: Mapping[str, str] = {
    "SF": "顺丰速运",
    "YTO": "圆通速递",
    "ZTO": "中通快递",
    "STO": "申通快递",
    "YUNDA": "韵达快递",
    "JD": "京东物流",
    "EMS": "中国邮政速递物流",
    "POSTB": "邮政快递包裹",
}
_TRACKING_SHAPE: Mapping[str, tuple[str, int]] = {
    "SF": ("SF", 13),
    "YTO": ("YT", 13),
    "ZTO": ("7", 13),
    "STO": ("77", 12),
    "YUNDA": ("43", 11),
    "JD": ("JDVA", 11),
    "EMS": ("11", 11),
}


class WmsFailure(Exception):
    """The WMS refuses a request; `code` and `message` go into the failure reply."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class WmsLine:
    """One line of a delivery order as the warehouse keeps it."""

    line_no: str
    item_code: str
    plan_qty: int
    actual_qty: int = 0


@dataclass
class WmsOrder:
    """A delivery order inside the warehouse, from acceptance to shipment or cancel."""

    code: str
    delivery_order_id: str
    order_type: str
    lines: list[WmsLine]
    logistics_code: str
    created_at: datetime
    ship_at: float | None
    status: str = ACCEPT
    carrier: str = ""
    tracking_no: str = ""
    oaid: str = ""
    shipped_at: datetime | None = None
    cancel_reason: str = ""
    source_platform: str = ""
    platform_order_id: str = ""
    receiver: dict[str, str] = field(default_factory=dict)
    label: dict[str, str] | None = None
    print_error: str = ""
    print_failures: int = 0

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready view for the control endpoints."""
        return {
            "code": self.code,
            "delivery_order_id": self.delivery_order_id,
            "order_type": self.order_type,
            "status": self.status,
            "carrier": self.carrier,
            "tracking_no": self.tracking_no,
            "oaid": self.oaid,
            "source_platform": self.source_platform,
            "platform_order_id": self.platform_order_id,
            "receiver": dict(self.receiver),
            "label": self.label,
            "print_error": self.print_error,
            "created_at": self.created_at.isoformat(),
            "shipped_at": self.shipped_at.isoformat() if self.shipped_at else None,
            "cancel_reason": self.cancel_reason,
            "lines": [
                {
                    "line_no": ln.line_no,
                    "item_code": ln.item_code,
                    "plan_qty": ln.plan_qty,
                    "actual_qty": ln.actual_qty,
                }
                for ln in self.lines
            ],
        }


@dataclass
class Delivery:
    """One callback the WMS owes the hub, with its attempts; the callback log is these."""

    seq: int
    method: str
    key: str
    ref: str
    body: bytes
    status: str = PENDING
    attempts: int = 0
    next_at: float = 0.0
    last_error: str = ""
    history: list[str] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready view for the control endpoints."""
        return {
            "seq": self.seq,
            "method": self.method,
            "out_biz_code": self.key,
            "ref": self.ref,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "history": list(self.history),
            "body": self.body.decode("utf-8"),
        }


_RECEIVER_KEYS = ("name", "mobile", "province", "city", "area", "town", "detailAddress")


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _required(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _text(data, key)
    if not value:
        raise WmsFailure(MISSING_FIELD, f"{path}{key} is required")
    return value


def _section(data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise WmsFailure(MISSING_FIELD, f"{path}{key} is required")
    return value


def _rows(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, Mapping)]


class WmsState:
    """Orders, stock and callbacks of one emulated warehouse."""

    def __init__(
        self,
        *,
        warehouse_code: str,
        carriers: Sequence[str],
        ship_delay: float,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self.warehouse_code = warehouse_code
        self.carriers = list(carriers) or ["SF"]
        self.ship_delay = ship_delay
        self.clock = clock
        self.orders: dict[str, WmsOrder] = {}
        self.on_hand: dict[str, int] = {}
        self.locked: dict[str, int] = {}
        self.defective: dict[str, int] = {}
        self.create_calls = 0
        self.duplicate_creates = 0
        self.calls_by_code: dict[str, int] = {}
        self.deliveries: list[Delivery] = []
        self._rng = random.Random(seed)
        self._order_seq = 0
        self._delivery_seq = 0
        self._tracking: set[str] = set()

    def create(self, request: Mapping[str, Any]) -> tuple[WmsOrder, bool]:
        """Accept a delivery order; a known code returns the existing one and False."""
        with self.lock:
            self.create_calls += 1
            head = request.get("deliveryOrder")
            code = _text(head, "deliveryOrderCode") if isinstance(head, Mapping) else ""
            if code:
                self.calls_by_code[code] = self.calls_by_code.get(code, 0) + 1
            head = _section(request, "deliveryOrder", "")
            _required(head, "deliveryOrderCode", "deliveryOrder.")
            self._check_warehouse(_required(head, "warehouseCode", "deliveryOrder."))
            receiver = _section(head, "receiverInfo", "deliveryOrder.")
            for key in ("name", "mobile", "province", "city", "detailAddress"):
                _required(receiver, key, "deliveryOrder.receiverInfo.")
            lines = self._lines(request.get("orderLines"))
            existing = self.orders.get(code)
            if existing is not None:
                self.duplicate_creates += 1
                return existing, False
            self._order_seq += 1
            delay = self.ship_delay
            order = WmsOrder(
                code=code,
                delivery_order_id=f"DO{self._order_seq:010d}",
                order_type=_text(head, "orderType") or "JYCK",
                lines=lines,
                logistics_code=_text(head, "logisticsCode"),
                oaid=_text(receiver, "oaid"),
                source_platform=_text(head, "sourcePlatformCode"),
                platform_order_id=_text(_rows(request.get("orderLines"))[0], "sourceOrderCode"),
                receiver={key: _text(receiver, key) for key in _RECEIVER_KEYS},
                created_at=datetime.now(UTC),
                ship_at=self.clock() + delay if delay > 0 else None,
            )
            self.orders[code] = order
            for line in lines:
                self.locked[line.item_code] = self.locked.get(line.item_code, 0) + line.plan_qty
            return order, True

    def cancel(self, request: Mapping[str, Any]) -> WmsOrder:
        """Stop an order that has not left; refuse with ORDER_SHIPPED once it has."""
        with self.lock:
            self._check_warehouse(_required(request, "warehouseCode", ""))
            code = _required(request, "orderCode", "")
            order = self.orders.get(code)
            if order is None:
                raise WmsFailure(ORDER_NOT_FOUND, f"order {code} is not known to this warehouse")
            if order.status == DELIVERED:
                raise WmsFailure(ORDER_SHIPPED, f"order {code} has already shipped")
            if order.status != CANCELED:
                order.status = CANCELED
                order.cancel_reason = _text(request, "cancelReason")
                order.ship_at = None
                self._release(order)
            return order

    def inventory(self, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Stock for each asked item this warehouse knows: sellable (ZP, free and locked)
        or, when the criteria ask for CC, the defective units returns brought back."""
        with self.lock:
            criteria = _rows(request.get("criteriaList"))
            if not criteria:
                raise WmsFailure(MISSING_FIELD, "criteriaList.criteria is required")
            items = []
            for number, row in enumerate(criteria, start=1):
                sku = _required(row, "itemCode", f"criteriaList.criteria[{number}].")
                kind = _text(row, "inventoryType") or "ZP"
                if kind == "CC" and sku in self.defective:
                    items.append(
                        {
                            "warehouseCode": self.warehouse_code,
                            "itemCode": sku,
                            "inventoryType": "CC",
                            "quantity": self.defective[sku],
                            "lockQuantity": 0,
                        }
                    )
                    continue
                if kind != "ZP" or (sku not in self.on_hand and sku not in self.locked):
                    continue
                locked = self.locked.get(sku, 0)
                items.append(
                    {
                        "warehouseCode": self.warehouse_code,
                        "itemCode": sku,
                        "inventoryType": "ZP",
                        "quantity": self.on_hand.get(sku, 0) - locked,
                        "lockQuantity": locked,
                    }
                )
            return items

    def set_stock(self, items: Mapping[str, int]) -> None:
        """Set on-hand units per SKU (a stocktake)."""
        with self.lock:
            for sku, quantity in items.items():
                self.on_hand[sku] = int(quantity)

    def adjust_stock(self, deltas: Mapping[str, int]) -> None:
        """Add (or, negative, remove) on-hand units per SKU."""
        with self.lock:
            for sku, delta in deltas.items():
                self.on_hand[sku] = self.on_hand.get(sku, 0) + int(delta)

    def due_for_shipping(self) -> list[str]:
        """Codes of accepted orders whose ship time has come."""
        now = self.clock()
        with self.lock:
            return [
                o.code
                for o in self.orders.values()
                if o.status == ACCEPT and o.ship_at is not None and o.ship_at <= now
            ]

    def to_print(self, code: str) -> tuple[WmsOrder, dict[str, str]] | None:
        """The order and its receiver as given, while it waits to ship; None once it left."""
        with self.lock:
            order = self.orders.get(code)
            if order is None:
                raise WmsFailure(ORDER_NOT_FOUND, f"order {code} is not known to this warehouse")
            return (order, dict(order.receiver)) if order.status == ACCEPT else None

    def print_failed(self, code: str, error: str, retry_in: float) -> None:
        """The label could not be printed: the parcel waits and printing is tried again."""
        with self.lock:
            order = self.orders[code]
            order.print_error = error
            order.print_failures += 1
            if order.status == ACCEPT:
                order.ship_at = self.clock() + retry_in

    def ship(self, code: str, label: dict[str, str] | None = None) -> WmsOrder | None:
        """Pick, pack, label and hand over to a carrier; None when it already left or was
        cancelled."""
        with self.lock:
            order = self.orders.get(code)
            if order is None:
                raise WmsFailure(ORDER_NOT_FOUND, f"order {code} is not known to this warehouse")
            if order.status != ACCEPT:
                return None
            order.label = label
            order.print_error = ""
            wanted = order.logistics_code
            order.carrier = wanted if wanted in self.carriers else self._rng.choice(self.carriers)
            order.tracking_no = self._tracking_number(order.carrier)
            order.status = DELIVERED
            order.shipped_at = datetime.now(UTC)
            order.ship_at = None
            self._release(order)
            for line in order.lines:
                line.actual_qty = line.plan_qty
                self.on_hand[line.item_code] = self.on_hand.get(line.item_code, 0) - line.plan_qty
            return order

    def add_delivery(self, *, method: str, key: str, ref: str, body: bytes) -> Delivery:
        """Owe the hub one more callback, due now."""
        with self.lock:
            self._delivery_seq += 1
            delivery = Delivery(self._delivery_seq, method, key, ref, body, next_at=self.clock())
            self.deliveries.append(delivery)
            return delivery

    def due_deliveries(self) -> list[Delivery]:
        """Pending callbacks whose next attempt is due, oldest first."""
        now = self.clock()
        with self.lock:
            return [d for d in self.deliveries if d.status == PENDING and d.next_at <= now]

    def record_attempt(
        self, delivery: Delivery, *, ok: bool, error: str, retry_delays: Sequence[float]
    ) -> None:
        """Note one attempt; schedule the next one, or give up after the last delay."""
        with self.lock:
            delivery.attempts += 1
            delivery.history.append("ok" if ok else error)
            delivery.last_error = "" if ok else error
            if ok:
                delivery.status = SENT
            elif delivery.attempts > len(retry_delays):
                delivery.status = FAILED
            else:
                delivery.next_at = self.clock() + retry_delays[delivery.attempts - 1]

    def stats(self) -> dict[str, Any]:
        """Counters the tests and the demo read back."""
        with self.lock:
            statuses = [o.status for o in self.orders.values()]
            sent = [d.status for d in self.deliveries]
            return {
                "create_calls": self.create_calls,
                "distinct_orders": len(self.orders),
                "duplicate_creates": self.duplicate_creates,
                "create_calls_by_code": dict(self.calls_by_code),
                "shipped": statuses.count(DELIVERED),
                "cancelled": statuses.count(CANCELED),
                "labels_opened": sum(
                    1 for o in self.orders.values() if o.label is not None and o.label["via"]
                ),
                "print_failures": sum(o.print_failures for o in self.orders.values()),
                "callbacks_sent": sent.count(SENT),
                "callbacks_failed": sent.count(FAILED),
                "callbacks_pending": sent.count(PENDING),
                "callback_attempts": sum(d.attempts for d in self.deliveries),
                "orders": {
                    o.code: {
                        "status": o.status,
                        "delivery_order_id": o.delivery_order_id,
                        "carrier": o.carrier,
                        "tracking_no": o.tracking_no,
                    }
                    for o in self.orders.values()
                },
            }

    def _check_warehouse(self, code: str) -> None:
        if code != self.warehouse_code:
            raise WmsFailure(
                INVALID_WAREHOUSE, f"warehouseCode {code} is not this warehouse's code"
            )

    def _lines(self, value: Any) -> list[WmsLine]:
        rows = _rows(value)
        if not rows:
            raise WmsFailure(MISSING_FIELD, "orderLines.orderLine is required")
        lines = []
        for number, row in enumerate(rows, start=1):
            path = f"orderLines.orderLine[{number}]."
            sku = _required(row, "itemCode", path)
            raw_qty = _required(row, "planQty", path)
            if not raw_qty.isdigit() or int(raw_qty) <= 0:
                raise WmsFailure(INVALID_FIELD, f"{path}planQty must be a positive whole number")
            lines.append(WmsLine(_text(row, "orderLineNo") or str(number), sku, int(raw_qty)))
        return lines

    def _release(self, order: WmsOrder) -> None:
        for line in order.lines:
            self.locked[line.item_code] = self.locked.get(line.item_code, 0) - line.plan_qty

    def _tracking_number(self, carrier: str) -> str:
        prefix, digits = _TRACKING_SHAPE.get(carrier, (carrier, 12))
        while True:
            number = prefix + "".join(str(self._rng.randrange(10)) for _ in range(digits))
            if number not in self._tracking:
                self._tracking.add(number)
                return number
