"""The small interfaces every connector implements, and the errors they raise.

A connector is the only code that talks to an external system. It turns the
platform's wire format into plain data the hub understands and back. Errors from
the wire are translated here into a short tree the worker knows how to treat:
retry later (`RateLimited`, `Unavailable`) or hand to a person (`Rejected`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .kit.pull import Page, PullRules, Window

__all__ = [
    "CancelResult",
    "ChannelConnector",
    "ChannelItem",
    "ChannelRefund",
    "ConnectorError",
    "InventoryLevel",
    "NodeConnector",
    "NodeEvent",
    "OutboundLine",
    "OutboundOrder",
    "OutboundReceipt",
    "PulledOrder",
    "RateLimited",
    "Rejected",
    "ReturnLine",
    "ReturnOrder",
    "ReturnReceived",
    "SetsStockInBatches",
    "ShipmentConfirmed",
    "ShipmentLine",
    "StockChange",
    "Unavailable",
    "WebhookDelivery",
]


class ConnectorError(Exception):
    """A call to an external system did not succeed."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class RateLimited(ConnectorError):
    """The platform asked us to slow down; try again after `retry_after` seconds."""

    def __init__(
        self, message: str, *, retry_after: float | None, status_code: int | None = 429
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class Unavailable(ConnectorError):
    """The platform could not be reached or failed on its side (5xx, timeout)."""


class Rejected(ConnectorError):
    """The platform refused the request; retrying the same request will not help."""

    def __init__(self, message: str, *, code: str = "", status_code: int | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.code = code


@dataclass(frozen=True)
class WebhookDelivery:
    """What the headers of one inbound webhook say about it."""

    topic: str
    delivery_id: str
    event_id: str | None = None
    shop_domain: str | None = None
    triggered_at: str | None = None
    handled: bool = True  # False: a topic the hub does not act on (stored, not processed)
    # True when the platform's delivery id is not unique per event (WooCommerce hashes the
    # webhook id with the second it was sent), so the body's digest is part of the key.
    keyed_by_body: bool = False


@dataclass(frozen=True)
class PulledOrder:
    """One raw order as returned by a pull, with the platform's update time."""

    channel_order_id: str
    updated_at: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ChannelItem:
    """One SKU a shop sells, by its merchant code (the seller's own code for it)."""

    channel_sku: str
    title: str
    platform_ref: str  # the platform's ids for it, as text: "num_iid/sku_id"


@dataclass(frozen=True)
class OpenedReceiver:
    """A sealed receiver in clear, as the platform's decrypt call gave it; never stored."""

    name: str
    phone: str
    address: str
    via: str  # the platform call that opened it, which the platform counts


@dataclass(frozen=True)
class InventoryLevel:
    """Stock of one item at a warehouse as the warehouse itself counts it."""

    sku: str
    quantity: int
    locked: int = 0


@dataclass(frozen=True)
class OutboundLine:
    """One line of an order sent to a warehouse."""

    line_no: str
    sku: str
    quantity: int
    title: str = ""
    unit_price: Decimal = Decimal("0")
    # Customs, for a parcel that crosses a border (empty otherwise): per unit.
    hs_code: str = ""
    customs_description: str = ""
    declared_value: Decimal = Decimal("0")
    declared_currency: str = ""
    origin_country: str = ""


@dataclass(frozen=True)
class OutboundOrder:
    """An order as a warehouse needs it: who gets what, where. PII is clear text here."""

    code: str
    shop_code: str
    platform: str
    channel_order_id: str
    placed_at: datetime
    paid_at: datetime | None
    currency: str
    grand_total: Decimal
    shipping_fee: Decimal
    discount: Decimal
    receiver_name: str
    receiver_phone: str
    country: str
    province: str
    city: str
    district: str
    address: str
    postcode: str
    lines: Sequence[OutboundLine]
    buyer_remark: str = ""
    seller_remark: str = ""
    buyer_nick: str = ""
    town: str = ""
    # Taobao's OAID: the name, phone and address above are then its masks, and the
    # warehouse prints the waybill through the platform with it. A receiver sealed field by
    # field (Pinduoduo, Douyin, JD) comes as the platform's ciphertexts in those fields.
    sealed_receiver: str = ""
    # Across a border: the receiver above is the Latin-script one, the node's shipping
    # method for the destination ("" keeps the node's default) and the seller's numbers.
    email: str = ""
    shipping_method: str = ""
    ioss_number: str = ""
    vat_number: str = ""


@dataclass(frozen=True)
class OutboundReceipt:
    """The warehouse accepted the order and gave it its own id."""

    external_id: str


@dataclass(frozen=True)
class CancelResult:
    """Whether the warehouse stopped the order; if not, why (usually: already shipped)."""

    cancelled: bool
    reason: str = ""


@dataclass(frozen=True)
class ShipmentLine:
    """A quantity of one SKU that left the warehouse."""

    sku: str
    quantity: int
    line_no: str | None = None


@dataclass(frozen=True)
class ShipmentConfirmed:
    """The warehouse says an order left with this carrier and tracking number."""

    code: str
    carrier: str
    tracking_no: str
    lines: Sequence[ShipmentLine]
    confirm_id: str
    final: bool = True
    shipped_at: datetime | None = None


@dataclass(frozen=True)
class StockChange:
    """A change of stock the node reports on its own (damage, count, inbound, transfer).

    `by_shipment` marks changes that a shipment confirmation already carries, which the
    hub must not count twice.
    """

    sku: str
    delta: int
    kind: str
    reference: str = ""
    by_shipment: bool = False


@dataclass(frozen=True)
class ReturnOrder:
    """Goods a buyer sends back, announced to the node that will receive them.

    `code` is our return id (the node's idempotency key); `original_code` is the code of
    the outbound order the goods left with.
    """

    code: str
    original_code: str
    shop_code: str
    channel_order_id: str
    sender_name: str
    sender_phone: str
    country: str
    province: str
    city: str
    address: str
    lines: Sequence[OutboundLine]
    carrier: str = ""
    tracking_no: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ReturnLine:
    """Units of one SKU the node received back; `quality` is "good" or "defective"."""

    sku: str
    quantity: int
    quality: str = "good"
    line_no: str | None = None


@dataclass(frozen=True)
class ReturnReceived:
    """The node says a return arrived, and in what state each item was."""

    code: str
    lines: Sequence[ReturnLine]
    confirm_id: str
    received_at: datetime | None = None


@dataclass(frozen=True)
class NodeEvent:
    """A callback from a node: a shipment, an acknowledgement (suppliers), a return
    received, stock changes it reports, or an outbound it cancelled on its own."""

    method: str
    shipment: ShipmentConfirmed | None = None
    stock_changes: Sequence[StockChange] = ()
    acknowledged: str | None = None
    returned: ReturnReceived | None = None
    cancelled: str | None = None  # the code of an outbound the node stopped itself
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelRefund:
    """A refund or return the buyer opened on the channel.

    `lines` are (channel line id, quantity); empty means the whole order. `restock` says
    whether goods come back (a return) or only money goes back.
    """

    channel_order_id: str
    refund_id: str
    lines: Sequence[tuple[str, int]] = ()
    amount: Decimal = Decimal("0")
    restock: bool = True
    reason: str = ""
    created_at: datetime | None = None


class ChannelConnector(Protocol):
    """A sales channel (shop): where orders come from and tracking goes back to."""

    platform: str
    can_cancel_orders: bool  # whether `cancel_order` can reach the platform at all
    refunds_on_order: bool  # refunds ride on the pulled order, not on webhooks of their own
    pushes_ids_only: bool  # its pushed messages name orders, which are then fetched whole

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """True when the signature proves the body came from the platform."""
        ...

    def describe_webhook(self, headers: Mapping[str, str]) -> WebhookDelivery:
        """Topic, delivery id and event id from a webhook's headers."""
        ...

    def order_ref(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        """(channel order id, updated_at) of a raw order payload, for de-duplication."""
        ...

    def orders_in_message(self, body: bytes) -> list[str]:
        """The order ids a pushed message names (channels whose pushes name orders);
        UnreadableJson, naming the field, when the message cannot be read."""
        ...

    def fetch_order(self, order_id: str) -> PulledOrder:
        """One order, whole, as a pull finds it."""
        ...

    def open_receiver(self, channel_order_id: str, sealed: str) -> OpenedReceiver:
        """The receiver behind a seal, through the platform's own decrypt call (which it
        counts and caps); Rejected where the platform seals nothing."""
        ...

    pull_rules: PullRules  # the platform's window, paging and page cap

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page:
        """One page of the orders modified within `window`, for the pull engine."""
        ...

    def parse_refund(self, payload: Mapping[str, Any]) -> ChannelRefund:
        """A refund webhook or pulled refund as a ChannelRefund; ValueError if unreadable."""
        ...

    def confirm_shipment(
        self,
        *,
        channel_order_id: str,
        carrier: str,
        tracking_no: str,
        lines: Sequence[tuple[str, int]],
        notify_customer: bool = True,
    ) -> str:
        """Tell the platform the order (or these (line id, qty) lines) shipped; its id."""
        ...

    def set_stock(self, *, channel_sku: str, available: int) -> None:
        """Show `available` units of this listing on the shop."""
        ...

    def list_items(self) -> list[ChannelItem]:
        """Every SKU the shop sells that has a merchant code."""
        ...

    def cancel_order(self, *, channel_order_id: str, reason: str = "other") -> None:
        """Cancel the order on the platform (done already counts); Rejected once shipped."""
        ...

    def register_webhooks(self, *, address: str, topics: Sequence[str]) -> None:
        """Subscribe `address` to these topics, once each (existing ones are kept)."""
        ...

    def close(self) -> None:
        """Release the HTTP client."""
        ...


@runtime_checkable
class SetsStockInBatches(Protocol):
    """A sales channel that shows many listings' stock in one call (Shopify's
    inventorySetQuantities): a shop is told of every SKU changed in a window at once,
    instead of a call per SKU against its rate limit."""

    stock_batch: int  # the most figures one call sets

    def set_stocks(self, figures: Sequence[tuple[str, int]]) -> dict[str, ConnectorError]:
        """Show each (channel SKU, available) figure; the channel SKUs not set, each with
        why. A call refused or lost as a whole raises, so that the push is tried again."""
        ...


class NodeConnector(Protocol):
    """A place that ships: a warehouse (WMS) or a drop-ship supplier."""

    platform: str

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        """Ask the node to ship the order. Idempotent on `order.code`."""
        ...

    def cancel_outbound(self, *, code: str, reason: str) -> CancelResult:
        """Ask the node to stop an order it has not shipped yet."""
        ...

    def create_return(self, order: ReturnOrder) -> OutboundReceipt:
        """Announce goods coming back. Idempotent on `order.code`; a node that takes no
        returns through its API raises Rejected."""
        ...

    def query_inventory(self, skus: Sequence[str]) -> list[InventoryLevel]:
        """Stock as the node counts it."""
        ...

    def verify_callback(self, query: Mapping[str, str], body: bytes) -> bool:
        """True when a callback from the node is signed with our shared secret."""
        ...

    def parse_callback(self, query: Mapping[str, str], body: bytes) -> NodeEvent:
        """Turn a verified callback into a NodeEvent; raises ValueError if unreadable."""
        ...

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        """The body and content type the node expects as an answer to its callback."""
        ...

    def close(self) -> None:
        """Release the HTTP client."""
        ...
