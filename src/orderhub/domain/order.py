"""The canonical order: one schema for every platform, and the states it moves through.

Every connector maps its platform's payload into `Order`; everything after that speaks
only this schema. Amounts are `Decimal` (JSON: decimal strings) in `currency`; times are
aware UTC datetimes; `country` is ISO 3166-1 alpha-2.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from orderhub.domain.errors import IllegalTransition

__all__ = [
    "TRANSITIONS",
    "Address",
    "Buyer",
    "ChannelStatus",
    "Code",
    "Customs",
    "Fulfillment",
    "FulfillmentLine",
    "Money",
    "Order",
    "OrderException",
    "OrderLine",
    "OrderStatus",
    "Quantity",
    "Remarks",
    "Text",
    "Totals",
    "TraceEntry",
    "UtcDateTime",
    "sealed_fields",
]


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must carry a UTC offset")
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
Money = Annotated[
    Decimal,
    Field(max_digits=18, decimal_places=4),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]


class OrderStatus(StrEnum):
    """Where an order stands inside the hub."""

    RECEIVED = "received"  # mapped from the channel, not yet checked
    HELD = "held"  # waiting for a person or for stock: see its open exceptions
    RESERVED = "reserved"  # stock reserved at a node; the push to the node is queued
    PUSHED = "pushed"  # the node accepted the order
    PARTIALLY_SHIPPED = "partially_shipped"  # some parcels left; the rest is still at a node
    SHIPPED = "shipped"  # every line left; the confirmation to the channel is queued
    COMPLETED = "completed"  # the channel has every tracking number
    CANCELLING = "cancelling"  # the node was asked to stop it (intercept), no answer yet
    CANCELLED = "cancelled"  # stopped; any reservation released
    RETURNING = "returning"  # the buyer is sending goods back; the node expects them
    RETURNED = "returned"  # the goods came back and were restocked or written off


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.RECEIVED: frozenset(
        {OrderStatus.HELD, OrderStatus.RESERVED, OrderStatus.CANCELLED}
    ),
    OrderStatus.HELD: frozenset(
        {OrderStatus.RECEIVED, OrderStatus.HELD, OrderStatus.RESERVED, OrderStatus.CANCELLED}
    ),
    OrderStatus.RESERVED: frozenset(
        {OrderStatus.PUSHED, OrderStatus.HELD, OrderStatus.CANCELLED, OrderStatus.SHIPPED}
    ),
    OrderStatus.PUSHED: frozenset(
        {
            OrderStatus.RESERVED,  # its merged warehouse order was stopped; sent again
            OrderStatus.PARTIALLY_SHIPPED,
            OrderStatus.SHIPPED,
            OrderStatus.CANCELLING,
            OrderStatus.CANCELLED,
        }
    ),
    OrderStatus.CANCELLING: frozenset(
        {OrderStatus.CANCELLED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED}
    ),
    OrderStatus.PARTIALLY_SHIPPED: frozenset({OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.COMPLETED, OrderStatus.RETURNING}),
    OrderStatus.COMPLETED: frozenset({OrderStatus.RETURNING}),
    OrderStatus.RETURNING: frozenset({OrderStatus.RETURNING, OrderStatus.RETURNED}),
    OrderStatus.RETURNED: frozenset({OrderStatus.RETURNING}),
    OrderStatus.CANCELLED: frozenset(),
}


class ChannelStatus(StrEnum):
    """What the channel says about the order's payment and life."""

    UNPAID = "unpaid"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# Bounds a platform's order never comes near, so a hostile or broken payload is refused
# with the field named instead of failing in the database or stalling a worker.
Code = Annotated[str, Field(max_length=100)]
"""An identifier: order ids and numbers, line ids, SKUs."""
Text = Annotated[str, Field(max_length=2000)]
"""Free text: names, addresses, remarks, titles."""
Quantity = Annotated[int, Field(ge=0, le=1_000_000)]
"""Units of one line; a million is beyond any parcel."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Totals(_Model):
    """Order amounts; `grand_total` = items + shipping − discount + tax."""

    items: Money = Decimal("0")
    shipping: Money = Decimal("0")
    discount: Money = Decimal("0")
    tax: Money = Decimal("0")
    grand_total: Money = Decimal("0")


class Buyer(_Model):
    """Who paid. Personal data: encrypted at rest, masked on screens."""

    name: Text = ""
    email: Text = ""
    phone: Text = ""
    open_id: Text = ""  # the platform's id for the buyer (Shopify customer, Taobao open uid)


class Address(_Model):
    """Who receives the parcel, and where. Personal data like `Buyer`."""

    name: Text = ""
    phone: Text = ""
    country: Text = ""
    province: Text = ""
    city: Text = ""
    district: Text = ""
    town: Text = ""  # 街道/乡镇, below the district on Chinese addresses
    address1: Text = ""
    address2: Text = ""
    postcode: Text = ""
    # The platform's encrypted receiver (Taobao's OAID, Pinduoduo and Douyin ciphertext,
    # JD's encrypt_* fields) exactly as sent: one token, or the ciphertexts of name, phone
    # and street joined by "|". Only the platform can open it; the name, phone and street
    # above are then its masks, and a warehouse prints from this.
    sealed: Text = ""

    @property
    def sealed_fields(self) -> tuple[str, str, str] | None:
        """The platform's ciphertexts of (name, phone, street) when it sealed each field
        (Pinduoduo, Douyin, JD); None for a single token (Taobao's OAID) or no seal."""
        return sealed_fields(self.sealed)


def sealed_fields(sealed: str) -> tuple[str, str, str] | None:
    """(name, phone, street) ciphertexts of a seal made of three, joined by "|"."""
    parts = sealed.split("|")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


class Remarks(_Model):
    """Free text the buyer wrote at checkout and the seller added."""

    buyer: Text = ""
    seller: Text = ""


class OrderLine(_Model):
    """One product line; `sku` is ours, `channel_sku` is what the shop calls it."""

    line_id: Code
    channel_sku: Code = ""
    sku: Code | None = None
    title: Text = ""
    quantity: Quantity
    unit_price: Money = Decimal("0")
    # Units of our SKU in one unit of this line: a listing sold as a 2-pack has 2.
    pack: int = Field(default=1, ge=1, le=10_000)
    node: str | None = None
    # What a parcel abroad declares for this line; filled from the catalogue when empty.
    hs_code: Code = ""
    customs_description: Text = ""  # in English (Latin script), as customs read it
    declared_value: Money | None = None  # per unit; None declares the unit price
    declared_currency: Annotated[str, Field(max_length=3)] = ""  # "" is the order's
    origin_country: Annotated[str, Field(max_length=2)] = ""


class FulfillmentLine(_Model):
    """A quantity of one order line inside a shipment."""

    line_id: Code
    sku: Code
    quantity: Quantity


class Fulfillment(_Model):
    """A parcel that left a node, with its carrier and tracking number."""

    node: str
    lines: list[FulfillmentLine] = Field(default_factory=list)
    carrier: str = ""
    tracking_no: str = ""
    status: str = "shipped"
    shipped_at: UtcDateTime | None = None
    confirmed_to_channel: bool = False
    channel_fulfillment_id: str = ""


class Customs(_Model):
    """The seller's tax numbers a parcel to the EU (IOSS) or the UK (VAT) declares."""

    ioss_number: Code = ""
    vat_number: Code = ""


class OrderException(_Model):
    """Why an order is held, in plain words, and whether it was resolved."""

    id: str = ""
    code: str
    message: str
    field: str = ""
    severity: str = "error"
    resolved: bool = False


class TraceEntry(_Model):
    """One step of an order's life: a stage it passed or an external call made for it."""

    at: UtcDateTime
    stage: str
    status: str
    message: str = ""
    latency_ms: float | None = None
    job_id: str | None = None


class Order(_Model):
    """The canonical order shared by every platform, node and screen."""

    id: str = ""
    shop: str
    platform: str
    channel_order_id: Code = Field(min_length=1, max_length=100)
    order_no: Code = ""
    status: OrderStatus = OrderStatus.RECEIVED
    channel_status: ChannelStatus = ChannelStatus.PAID
    channel_updated_at: UtcDateTime | None = None
    placed_at: UtcDateTime
    paid_at: UtcDateTime | None = None
    ship_by: UtcDateTime | None = None
    approved: bool = False  # a person released it from review: review holds pass it
    origin: str = "channel"  # "exchange": made by the hub, unknown to the shop
    personal_data_purged: bool = False  # past retention: buyer and receiver are masks
    currency: str = Field(min_length=3, max_length=3)
    totals: Totals = Field(default_factory=Totals)
    buyer: Buyer = Field(default_factory=Buyer)
    receiver: Address = Field(default_factory=Address)
    # Why the platform left the receiver's street out on purpose, in its own terms
    # (Amazon sends it only with a Restricted Data Token): held with this reason until a
    # street is set.
    address_withheld: Text = ""
    # The receiver in Latin script, for a label abroad when `receiver` is written in
    # another (a person adds it; None when the receiver is already Latin).
    receiver_latin: Address | None = None
    customs: Customs = Field(default_factory=Customs)
    remarks: Remarks = Field(default_factory=Remarks)
    tags: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list
    )  # the platform's and staff's labels
    lines: list[OrderLine] = Field(default_factory=list)
    fulfillments: list[Fulfillment] = Field(default_factory=list)
    exceptions: list[OrderException] = Field(default_factory=list)
    trace: list[TraceEntry] = Field(default_factory=list)

    def set_receiver(self, name: str, value: str) -> None:
        """Set one receiver field; `latin.<field>` sets the Latin-script receiver, which
        starts as a copy of the receiver the first time."""
        if name.startswith("latin."):
            if self.receiver_latin is None:
                self.receiver_latin = self.receiver.model_copy(update={"sealed": ""})
            setattr(self.receiver_latin, name.removeprefix("latin."), value)
        else:
            setattr(self.receiver, name, value)

    def move_to(self, status: OrderStatus) -> None:
        """Change state along an allowed move; anything else raises IllegalTransition."""
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(self.id or self.channel_order_id, self.status, status)
        self.status = status

    def can_move_to(self, status: OrderStatus) -> bool:
        return status in TRANSITIONS[self.status]

    @property
    def node(self) -> str | None:
        """The node the order was routed to, when every line goes to the same one."""
        nodes = {line.node for line in self.lines}
        return nodes.pop() if len(nodes) == 1 else None

    @property
    def open_exceptions(self) -> list[OrderException]:
        return [e for e in self.exceptions if not e.resolved]

    @property
    def is_final(self) -> bool:
        return self.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.RETURNED)

    def shipped_quantities(self) -> dict[str, int]:
        """Units of each line that have left a node so far."""
        shipped: dict[str, int] = {}
        for parcel in self.fulfillments:
            for line in parcel.lines:
                shipped[line.line_id] = shipped.get(line.line_id, 0) + line.quantity
        return shipped

    @property
    def fully_shipped(self) -> bool:
        shipped = self.shipped_quantities()
        return all(shipped.get(line.line_id, 0) >= line.quantity for line in self.lines)

    def sku_quantities(self) -> dict[str, int]:
        """Total quantity per internal SKU, lines of the same SKU added together."""
        needed: dict[str, int] = {}
        for line in self.lines:
            if line.sku:
                needed[line.sku] = needed.get(line.sku, 0) + line.quantity
        return needed

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The published JSON Schema of the canonical order."""
        schema = cls.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = "https://orderhub.dev/schema/order.json"
        return schema
