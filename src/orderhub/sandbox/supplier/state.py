"""The emulated supplier's books: purchase orders, parcels, stock and the callbacks it owes.

Nothing here speaks HTTP; requests arrive as the JSON the app parsed and refusals leave
as `SupplierFailure(status, code, message)`, which the app turns into the documented
error body. One re-entrant lock guards everything because the HTTP handlers and the
worker thread change the same books.

Timeline of a PO: received → acknowledged `ack_delay` seconds after receipt → shipped
`ship_delay` seconds after acknowledgement (with `split_lines`, one parcel per line,
each `ship_delay` after the previous). Delays are read when due, so changing them (or
making the supplier slow) affects POs already waiting.
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
    "ACKNOWLEDGED",
    "CANCELLED",
    "PARTLY_SHIPPED",
    "RECEIVED",
    "SHIPPED",
    "Delivery",
    "Parcel",
    "PoLine",
    "PurchaseOrder",
    "SupplierFailure",
    "SupplierState",
]

RECEIVED, ACKNOWLEDGED, PARTLY_SHIPPED = "received", "acknowledged", "partly_shipped"
SHIPPED, CANCELLED = "shipped", "cancelled"
PENDING, SENT, FAILED = "pending", "sent", "failed"

_TRACKING_SHAPE: Mapping[str, tuple[str, int]] = {
    "SF": ("SF", 13),
    "YTO": ("YT", 13),
    "ZTO": ("7", 13),
    "STO": ("77", 12),
    "YUNDA": ("43", 11),
    "JD": ("JDVA", 11),
    "EMS": ("11", 11),
}


class SupplierFailure(Exception):
    """The supplier refuses a request with an HTTP status and `{"error": {code, message}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class PoLine:
    """One line of a purchase order; `shipped` counts units that left."""

    line_no: str
    sku: str
    quantity: int
    shipped: int = 0


@dataclass
class Parcel:
    """One parcel handed to a carrier."""

    shipment_id: str
    carrier: str
    tracking_no: str
    lines: list[PoLine]
    shipped_at: datetime


@dataclass
class PurchaseOrder:
    """A PO at the supplier, from receipt to shipment or cancel."""

    po_number: str
    supplier_ref: str
    lines: list[PoLine]
    request: dict[str, Any]
    received_at: datetime
    received_mono: float
    status: str = RECEIVED
    acked_mono: float | None = None
    last_parcel_mono: float | None = None
    parcels: list[Parcel] = field(default_factory=list)
    cancel_reason: str = ""

    def open_lines(self) -> list[PoLine]:
        """Lines with units still to ship."""
        return [line for line in self.lines if line.shipped < line.quantity]

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready view for the control endpoints."""
        return {
            "po_number": self.po_number,
            "supplier_ref": self.supplier_ref,
            "status": self.status,
            "received_at": self.received_at.isoformat(),
            "cancel_reason": self.cancel_reason,
            "lines": [
                {
                    "line_no": ln.line_no,
                    "sku": ln.sku,
                    "quantity": ln.quantity,
                    "shipped": ln.shipped,
                }
                for ln in self.lines
            ],
            "parcels": [
                {
                    "shipment_id": p.shipment_id,
                    "carrier": p.carrier,
                    "tracking_no": p.tracking_no,
                    "shipped_at": p.shipped_at.isoformat(),
                    "lines": [{"line_no": ln.line_no, "sku": ln.sku} for ln in p.lines],
                }
                for p in self.parcels
            ],
            "request": self.request,
        }


@dataclass
class Delivery:
    """One callback the supplier owes the hub, with its attempts; the callback log is these."""

    seq: int
    event: str
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
            "event": self.event,
            "po_number": self.ref,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "history": list(self.history),
            "body": self.body.decode("utf-8"),
        }


def _invalid(message: str) -> SupplierFailure:
    return SupplierFailure(400, "invalid_request", message)


def _text(data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if value is not None and not isinstance(value, str):
        raise _invalid(f"{path}{key} must be a string")
    text = (value or "").strip()
    if required and not text:
        raise _invalid(f"{path}{key} is required")
    return text


def _lines(value: Any) -> list[PoLine]:
    if not isinstance(value, list) or not value:
        raise _invalid("lines must be a non-empty list")
    lines = []
    for index, row in enumerate(value):
        path = f"lines[{index}]."
        if not isinstance(row, Mapping):
            raise _invalid(f"lines[{index}] must be an object")
        quantity = row.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise _invalid(f"{path}quantity must be a positive whole number")
        line_no = _text(row, "line_no", path, required=False) or str(index + 1)
        lines.append(PoLine(line_no, _text(row, "sku", path), quantity))
    return lines


class SupplierState:
    """POs, stock and callbacks of one emulated supplier."""

    def __init__(
        self,
        *,
        carriers: Sequence[str],
        ack_delay: float,
        ship_delay: float,
        split_lines: bool = False,
        paused: bool = False,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self.carriers = list(carriers) or ["SF"]
        self.ack_delay = ack_delay
        self.ship_delay = ship_delay
        self.split_lines = split_lines
        self.paused = paused
        self.clock = clock
        self.orders: dict[str, PurchaseOrder] = {}
        self.on_hand: dict[str, int] = {}
        self.deliveries: list[Delivery] = []
        self.create_calls = 0
        self.duplicate_creates = 0
        self.refused_calls = 0
        self._rng = random.Random(seed)
        self._seq = 0
        self._parcel_seq = 0
        self._delivery_seq = 0
        self._tracking: set[str] = set()

    def create(self, request: Mapping[str, Any]) -> tuple[PurchaseOrder, bool]:
        """Store a PO; a known `po_number` returns the stored one and False."""
        with self.lock:
            self.create_calls += 1
            po_number = _text(request, "po_number", "")
            existing = self.orders.get(po_number)
            if existing is not None:
                self.duplicate_creates += 1
                return existing, False
            ship_to = request.get("ship_to")
            if not isinstance(ship_to, Mapping):
                raise _invalid("ship_to is required")
            for key in ("name", "phone", "province", "city", "address"):
                _text(ship_to, key, "ship_to.")
            lines = _lines(request.get("lines"))
            self._seq += 1
            order = PurchaseOrder(
                po_number=po_number,
                supplier_ref=f"SP{self._seq:08d}",
                lines=lines,
                request=dict(request),
                received_at=datetime.now(UTC),
                received_mono=self.clock(),
            )
            self.orders[po_number] = order
            return order, True

    def get(self, po_number: str) -> PurchaseOrder:
        """The PO or a 404 `po_not_found`."""
        with self.lock:
            order = self.orders.get(po_number)
            if order is None:
                raise SupplierFailure(404, "po_not_found", f"purchase order {po_number} is unknown")
            return order

    def cancel(self, po_number: str, reason: str) -> bool:
        """Cancel an unshipped PO (True, also when cancelled before); False once goods left."""
        with self.lock:
            order = self.get(po_number)
            if order.status in (SHIPPED, PARTLY_SHIPPED):
                return False
            if order.status != CANCELLED:
                order.status = CANCELLED
                order.cancel_reason = reason
            return True

    def available(self, skus: Sequence[str]) -> list[dict[str, Any]]:
        """Units free to promise per known SKU: on hand minus what open POs still need."""
        with self.lock:
            held: dict[str, int] = {}
            for order in self.orders.values():
                if order.status == CANCELLED:
                    continue
                for line in order.open_lines():
                    held[line.sku] = held.get(line.sku, 0) + line.quantity - line.shipped
            return [
                {"sku": sku, "available": max(self.on_hand[sku] - held.get(sku, 0), 0)}
                for sku in dict.fromkeys(skus)
                if sku in self.on_hand
            ]

    def set_stock(self, items: Mapping[str, int]) -> None:
        """Set on-hand units per SKU."""
        with self.lock:
            for sku, quantity in items.items():
                self.on_hand[sku] = int(quantity)

    def due_acks(self) -> list[str]:
        """POs received at least `ack_delay` ago and not yet acknowledged."""
        now = self.clock()
        with self.lock:
            return [
                o.po_number
                for o in self.orders.values()
                if o.status == RECEIVED and now - o.received_mono >= self.ack_delay
            ]

    def due_parcels(self) -> list[str]:
        """Acknowledged POs whose next parcel is due, unless shipping is paused."""
        if self.paused:
            return []
        now = self.clock()
        with self.lock:
            due = []
            for o in self.orders.values():
                if o.status not in (ACKNOWLEDGED, PARTLY_SHIPPED):
                    continue
                since = o.last_parcel_mono if o.last_parcel_mono is not None else o.acked_mono
                if since is not None and now - since >= self.ship_delay:
                    due.append(o.po_number)
            return due

    def acknowledge(self, po_number: str) -> PurchaseOrder | None:
        """Accept a received PO; None when it is past that (or cancelled)."""
        with self.lock:
            order = self.get(po_number)
            if order.status != RECEIVED:
                return None
            order.status = ACKNOWLEDGED
            order.acked_mono = self.clock()
            return order

    def ship_next(self, po_number: str) -> tuple[PurchaseOrder, Parcel] | None:
        """Hand the next parcel (all open lines, or one line when splitting) to a carrier."""
        with self.lock:
            order = self.get(po_number)
            if order.status not in (ACKNOWLEDGED, PARTLY_SHIPPED):
                return None
            open_lines = order.open_lines()
            packed = open_lines[:1] if self.split_lines else open_lines
            carrier = self._rng.choice(self.carriers)
            self._parcel_seq += 1
            parcel = Parcel(
                shipment_id=f"SHP{self._parcel_seq:08d}",
                carrier=carrier,
                tracking_no=self._tracking_number(carrier),
                lines=[PoLine(ln.line_no, ln.sku, ln.quantity - ln.shipped) for ln in packed],
                shipped_at=datetime.now(UTC),
            )
            for line in packed:
                self.on_hand[line.sku] = self.on_hand.get(line.sku, 0) - (
                    line.quantity - line.shipped
                )
                line.shipped = line.quantity
            order.parcels.append(parcel)
            order.last_parcel_mono = self.clock()
            order.status = SHIPPED if not order.open_lines() else PARTLY_SHIPPED
            return order, parcel

    def add_delivery(self, *, event: str, ref: str, body: bytes) -> Delivery:
        """Owe the hub one more callback, due now."""
        with self.lock:
            self._delivery_seq += 1
            delivery = Delivery(self._delivery_seq, event, ref, body, next_at=self.clock())
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
        """Note one attempt; schedule the next or give up once the delays run out."""
        with self.lock:
            delivery.attempts += 1
            delivery.history.append("ok" if ok else error)
            if ok:
                delivery.status = SENT
                return
            delivery.last_error = error
            if delivery.attempts > len(retry_delays):
                delivery.status = FAILED
            else:
                delivery.next_at = self.clock() + retry_delays[delivery.attempts - 1]

    def stats(self) -> dict[str, Any]:
        """Counters for tests and the demo."""
        with self.lock:
            statuses = [o.status for o in self.orders.values()]
            sent = [d.status for d in self.deliveries]
            return {
                "create_calls": self.create_calls,
                "duplicate_creates": self.duplicate_creates,
                "refused_calls": self.refused_calls,
                "purchase_orders": len(self.orders),
                "acknowledged": sum(s != RECEIVED and s != CANCELLED for s in statuses),
                "shipped": statuses.count(SHIPPED),
                "cancelled": statuses.count(CANCELLED),
                "parcels": sum(len(o.parcels) for o in self.orders.values()),
                "callbacks_sent": sent.count(SENT),
                "callbacks_failed": sent.count(FAILED),
                "callbacks_pending": sent.count(PENDING),
                "callback_attempts": sum(d.attempts for d in self.deliveries),
            }

    def _tracking_number(self, carrier: str) -> str:
        prefix, digits = _TRACKING_SHAPE.get(carrier, (carrier, 12))
        while True:
            number = prefix + "".join(str(self._rng.randrange(10)) for _ in range(digits))
            if number not in self._tracking:
                self._tracking.add(number)
                return number
