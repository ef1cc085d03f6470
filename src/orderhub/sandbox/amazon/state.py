"""The emulated seller account: MFN orders with their items and packages, and listings.

Order ids are Amazon's 3-7-7 digits, item ids 14 digits. An order is placed Unshipped
(payment authorised) unless asked to start Pending; a confirmed package ships its
items, and the order becomes PartiallyShipped or Shipped. A package is known by its
`packageReferenceId` within the order: confirming it again changes its carrier and
tracking number but ships nothing more; a new package on an order with nothing left to
ship is refused as Amazon words it ("…order already fulfilled", models issue #5037).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .wire import Json, invalid, iso

__all__ = ["STATUSES", "AmazonState", "Line", "Listing", "Order", "Package"]

STATUSES = (
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Canceled",
    "Unfulfillable",
    "InvoiceUnconfirmed",
    "PendingAvailability",
)
SHIPPABLE = frozenset({"Unshipped", "PartiallyShipped"})

PLACES = (
    ("Seattle", "WA", "98109", "Terry Ave N", "206"),
    ("Austin", "TX", "78701", "W 2nd St", "512"),
    ("Brooklyn", "NY", "11201", "Jay St", "718"),
    ("Denver", "CO", "80202", "Champa St", "303"),
    ("Portland", "OR", "97205", "SW Morrison St", "503"),
    ("Columbus", "OH", "43215", "N High St", "614"),
)
FIRST = ("Emma", "Liam", "Olivia", "Noah", "Ava", "Mason", "Sofia", "Lucas", "Mia", "Ethan")
LAST = ("Johnson", "Smith", "Brown", "Davis", "Garcia", "Miller", "Wilson", "Lee", "Clark")


@dataclass
class Line:
    """One OrderItem: `price` is the unit price; Amazon sends ItemPrice = price × qty."""

    item_id: str
    sku: str
    asin: str
    title: str
    quantity: int
    price: Decimal
    shipping: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    shipped: int = 0


@dataclass
class Package:
    """One confirmShipment: the seller's reference, carrier, tracking and what left."""

    reference: str
    carrier_code: str
    carrier_name: str
    shipping_method: str
    tracking_number: str
    ship_date: str
    items: list[tuple[str, int]]
    confirmed_at: datetime
    times_confirmed: int = 1


@dataclass
class Order:
    order_id: str
    purchased: datetime
    updated: datetime
    status: str
    buyer: dict[str, str]
    address: dict[str, str]
    lines: list[Line]
    marketplace_id: str
    currency: str = "USD"
    seller_order_id: str = ""
    packages: list[Package] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((ln.price * ln.quantity + ln.shipping + ln.tax for ln in self.lines), Decimal(0))

    def snapshot(self) -> Json:
        return {
            "order_id": self.order_id,
            "status": self.status,
            "purchase_date": iso(self.purchased),
            "last_update": iso(self.updated),
            "buyer": dict(self.buyer),
            "address": dict(self.address),
            "lines": [
                {
                    "item_id": ln.item_id,
                    "sku": ln.sku,
                    "quantity": ln.quantity,
                    "shipped": ln.shipped,
                }
                for ln in self.lines
            ],
            "shipments": [
                {
                    "package": p.reference,
                    "carrier_code": p.carrier_code,
                    "carrier_name": p.carrier_name,
                    "tracking_number": p.tracking_number,
                    "ship_date": p.ship_date,
                    "items": [{"item_id": i, "quantity": q} for i, q in p.items],
                    "times_confirmed": p.times_confirmed,
                }
                for p in self.packages
            ],
        }


@dataclass
class Listing:
    """One SKU the seller lists, with its MFN quantity (fulfillment_availability)."""

    sku: str
    asin: str
    title: str
    product_type: str
    price: Decimal
    quantity: int
    created: datetime
    updated: datetime


class AmazonState:
    """Orders and listings behind one lock; every change stamps `LastUpdateDate`."""

    def __init__(self, *, marketplace_id: str, seed: int | None = None) -> None:
        self.marketplace_id = marketplace_id
        self.lock = threading.RLock()
        self.orders: dict[str, Order] = {}
        self.listings: dict[str, Listing] = {}
        self.patches: list[Json] = []
        self.refund_events: list[Json] = []  # Finances' RefundEventList, oldest first
        self._rng = random.Random(seed)

    # listings

    def seed(self, items: Iterable[Mapping[str, Any]]) -> list[Json]:
        """Add listings `{"sku", "title"?, "price"?, "stock"?, "product_type"?}`."""
        now = datetime.now(UTC)
        added = []
        with self.lock:
            for item in items:
                sku = str(item["sku"])
                listing = Listing(
                    sku=sku,
                    asin=str(item.get("asin") or f"B0{self._rng.randrange(10**8):08d}"),
                    title=str(item.get("title") or f"Demo item {sku}"),
                    product_type=str(item.get("product_type") or "HOME"),
                    price=Decimal(str(item.get("price", "19.99"))),
                    quantity=int(item.get("stock", 0)),
                    created=now,
                    updated=now,
                )
                self.listings[sku] = listing
                added.append({"sku": sku, "asin": listing.asin})
        return added

    def set_quantity(self, sku: str, quantity: int, product_type: str) -> None:
        with self.lock:
            listing = self.listings[sku]
            listing.quantity = quantity
            listing.updated = datetime.now(UTC)
            self.patches.append(
                {
                    "sku": sku,
                    "quantity": quantity,
                    "product_type": product_type,
                    "at": iso(listing.updated),
                }
            )

    # orders

    def place(self, spec: Mapping[str, Any], at: datetime | None) -> str:
        """Place an order `{"lines": [{"sku", "quantity", "price"?}], "status"?, "buyer"?,
        "receiver"?}`; returns its AmazonOrderId."""
        moment = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        status = str(spec.get("status") or "Unshipped")
        if status not in ("Pending", "Unshipped"):
            raise ValueError("an order starts Pending or Unshipped")
        raw_lines = spec.get("lines") or []
        if not raw_lines:
            raise ValueError("an order needs lines")
        with self.lock:
            order_id = self._order_id()
            lines = [self._line(raw) for raw in raw_lines]
            city, state, postcode, street, area = self._rng.choice(PLACES)
            street = f"{self._rng.randrange(1, 3000)} {street}"
            phone = f"+1 {area}-555-{self._rng.randrange(100, 200):04d}"
            name = f"{self._rng.choice(FIRST)} {self._rng.choice(LAST)}"
            receiver = dict(spec.get("receiver") or {})
            address = {
                "Name": str(receiver.get("name", name)),
                "AddressLine1": str(receiver.get("line1", street)),
                "AddressLine2": str(receiver.get("line2", "")),
                "City": str(receiver.get("city", city)),
                "StateOrRegion": str(receiver.get("state", state)),
                "PostalCode": str(receiver.get("postcode", postcode)),
                "CountryCode": str(receiver.get("country", "US")),
                "Phone": str(receiver.get("phone", phone)),
                "AddressType": "Residential",
            }
            buyer = dict(spec.get("buyer") or {})
            self.orders[order_id] = Order(
                order_id=order_id,
                purchased=moment,
                updated=moment,
                status=status,
                buyer={
                    "BuyerEmail": str(
                        buyer.get("email", f"{order_id[-7:]}@marketplace.amazon.com")
                    ),
                    "BuyerName": str(buyer.get("name", address["Name"])),
                },
                address=address,
                lines=lines,
                marketplace_id=self.marketplace_id,
                seller_order_id=str(spec.get("seller_order_id", "")),
            )
            for line in lines:
                listing = self.listings.get(line.sku)
                if listing is not None:
                    listing.quantity = max(0, listing.quantity - line.quantity)
        return order_id

    def _order_id(self) -> str:
        while True:
            found = (
                f"{self._rng.randrange(111, 115)}-{self._rng.randrange(10**7):07d}-"
                f"{self._rng.randrange(10**7):07d}"
            )
            if found not in self.orders:
                return found

    def _line(self, raw: Mapping[str, Any]) -> Line:
        sku = str(raw["sku"])
        listing = self.listings.get(sku)
        price = raw.get("price", listing.price if listing else "19.99")
        return Line(
            item_id=f"{self._rng.randrange(10**13, 10**14)}",
            sku=sku,
            asin=listing.asin if listing else f"B0{self._rng.randrange(10**8):08d}",
            title=str(raw.get("title") or (listing.title if listing else sku)),
            quantity=int(raw.get("quantity", 1)),
            price=Decimal(str(price)),
            shipping=Decimal(str(raw.get("shipping", "0"))),
            tax=Decimal(str(raw.get("tax", "0"))),
        )

    def get(self, order_id: str) -> Order:
        """The order; KeyError when unknown."""
        return self.orders[order_id]

    def set_status(self, order_id: str, status: str, at: datetime | None) -> None:
        """Move an order as Amazon would on its own: Pending → Unshipped when payment is
        authorised, Pending/Unshipped → Canceled when the buyer cancels."""
        if status not in STATUSES:
            raise ValueError(f"unknown OrderStatus {status!r}")
        with self.lock:
            order = self.orders[order_id]
            if order.status in ("Shipped", "Canceled"):
                raise ValueError(f"order {order_id} is {order.status}")
            order.status = status
            order.updated = self._later(order, at)

    def _later(self, order: Order, at: datetime | None) -> datetime:
        moment = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        return max(moment, order.updated + timedelta(seconds=1))

    def confirm(self, order_id: str, package: Mapping[str, Any]) -> None:
        """confirmShipment of one package (already checked for its fields)."""
        with self.lock:
            order = self.orders[order_id]
            if order.status not in SHIPPABLE and order.status != "Shipped":
                raise invalid(f"The order is {order.status} and cannot be confirmed as shipped.")
            reference = str(package["packageReferenceId"])
            known = next((p for p in order.packages if p.reference == reference), None)
            if known is not None:
                known.carrier_code = str(package["carrierCode"])
                known.carrier_name = str(package.get("carrierName") or "")
                known.tracking_number = str(package["trackingNumber"])
                known.times_confirmed += 1
                order.updated = self._later(order, None)
                return
            lines = {ln.item_id: ln for ln in order.lines}
            wanted = [(str(i["orderItemId"]), int(i["quantity"])) for i in package["orderItems"]]
            if all(ln.shipped >= ln.quantity for ln in order.lines):
                raise invalid(
                    "Failed to create package due to not finding a matching package or order "
                    "already fulfilled."
                )
            for item_id, quantity in wanted:
                line = lines.get(item_id)
                if line is None:
                    raise invalid(f"Invalid orderItemId {item_id} for order {order_id}.")
                if quantity < 1 or quantity > line.quantity - line.shipped:
                    raise invalid(
                        f"Invalid quantity {quantity} for orderItemId {item_id}: "
                        f"{line.quantity - line.shipped} left to ship."
                    )
            for item_id, quantity in wanted:
                lines[item_id].shipped += quantity
            order.packages.append(
                Package(
                    reference=reference,
                    carrier_code=str(package["carrierCode"]),
                    carrier_name=str(package.get("carrierName") or ""),
                    shipping_method=str(package.get("shippingMethod") or ""),
                    tracking_number=str(package["trackingNumber"]),
                    ship_date=str(package["shipDate"]),
                    items=wanted,
                    confirmed_at=datetime.now(UTC),
                )
            )
            done = all(ln.shipped >= ln.quantity for ln in order.lines)
            order.status = "Shipped" if done else "PartiallyShipped"
            order.updated = self._later(order, None)

    def refund(self, order_id: str, items: Mapping[str, int] | None, at: datetime | None) -> Json:
        """The seller refunds units of an order (every shipped unit without `items`, by
        SKU): a RefundEvent as listFinancialEvents shows it, amounts negative."""
        with self.lock:
            order = self.orders[order_id]
            wanted = dict(items) if items else {ln.sku: ln.shipped for ln in order.lines}
            adjustments = []
            for line in order.lines:
                quantity = wanted.get(line.sku, 0)
                if quantity < 1:
                    continue
                if quantity > line.quantity:
                    raise invalid(f"{line.sku}: {quantity} is more than the {line.quantity} sold")
                adjustments.append(
                    {
                        "SellerSKU": line.sku,
                        "OrderItemId": line.item_id,
                        "OrderAdjustmentItemId": str(self._rng.randrange(10**13, 10**14)),
                        "QuantityShipped": quantity,
                        "ItemChargeAdjustmentList": [
                            _charge("Principal", -line.price * quantity, order.currency),
                            _charge("Tax", -line.tax * quantity / line.quantity, order.currency),
                        ],
                    }
                )
            if not adjustments:
                raise invalid(f"nothing of order {order_id} to refund")
            event: Json = {
                "AmazonOrderId": order_id,
                "SellerOrderId": order.seller_order_id or order_id,
                "MarketplaceName": MARKETPLACE_NAMES.get(order.marketplace_id, "Amazon.com"),
                "PostedDate": iso((at or datetime.now(UTC)).replace(microsecond=0)),
                "ShipmentItemAdjustmentList": adjustments,
            }
            self.refund_events.append(event)
            return event

    def snapshots(self) -> dict[str, Json]:
        with self.lock:
            return {oid: o.snapshot() for oid, o in self.orders.items()}

    def shipments(self) -> list[Json]:
        """Every package confirmed, oldest first, with its order id."""
        with self.lock:
            found = [
                {"order_id": o.order_id, **shipment}
                for o in self.orders.values()
                for shipment in o.snapshot()["shipments"]
            ]
        return found


MARKETPLACE_NAMES = {"ATVPDKIKX0DER": "Amazon.com", "A1F83G8C2ARO7P": "Amazon.co.uk"}


def _charge(kind: str, amount: Decimal, currency: str) -> Json:
    value = float(amount.quantize(Decimal("0.01")))
    return {"ChargeType": kind, "ChargeAmount": {"CurrencyCode": currency, "CurrencyAmount": value}}
