"""What some connectors can do beyond their interface in `base`: the hub asks with the
questions at the end (`names_refunds(channel)`) and takes the other way for those that
cannot.

A protocol's own `isinstance` looks up each of its members on the object every time
(11–15 µs, and the pipeline asks several times per order); whether a connector has them
is a matter of its class, so each question is answered once per class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

from .base import (
    CancelResult,
    ConnectorError,
    NodeEvent,
    OutboundOrder,
    OutboundReceipt,
    SetsStockInBatches,
)

if TYPE_CHECKING:
    from .kit.pull import Page, PullRules, Window

__all__ = [
    "BatchOutbound",
    "CancelsByNodeId",
    "NamesRefunds",
    "PolledNode",
    "PullsRefunds",
    "ReportsParcelStatus",
    "cancels_by_node_id",
    "is_polled",
    "names_refunds",
    "pulls_refunds",
    "reports_parcel_status",
    "sets_stock_in_batches",
    "takes_outbound_batches",
]


@runtime_checkable
class NamesRefunds(Protocol):
    """A channel whose orders name their refunds by id only (WooCommerce's `refunds[]`):
    what came back is in the refund itself, fetched whole and read by `parse_refund`."""

    def refunds_named(self, payload: Mapping[str, Any]) -> list[str]:
        """The refund ids a raw order lists."""
        ...

    def fetch_refund(self, channel_order_id: str, refund_id: str) -> dict[str, Any]:
        """One refund, raw, as `parse_refund` reads it."""
        ...


@runtime_checkable
class PolledNode(Protocol):
    """A node that calls nothing back (京东云仓): the hub asks it what became of the
    orders it holds. Each event's `raw` is what the hub stores, and `parse_callback`
    reads it again into the same event, so a polled event is applied as a callback is."""

    def poll_events(self, orders: Mapping[str, str]) -> list[NodeEvent]:
        """Shipments (carrier, tracking number) and cancellations among these outbound
        orders, given as our code → the node's own number; the others are left out."""
        ...


@runtime_checkable
class BatchOutbound(Protocol):
    """A node that can take many delivery orders in one call (Qimen's
    `deliveryorder.batchcreate`), where its settings say it does."""

    @property
    def outbound_batch(self) -> int:
        """Delivery orders one call carries; 1 when the node takes them one by one."""
        ...

    def create_outbounds(
        self, orders: Sequence[OutboundOrder]
    ) -> list[OutboundReceipt | ConnectorError]:
        """As `NodeConnector.create_outbound` for many orders in one call: each order's
        own outcome, in order; an error for the whole call is raised."""
        ...


@runtime_checkable
class CancelsByNodeId(Protocol):
    """A node that knows an order by its own number once it took it (ECLP's eclpSoNo):
    a cancel names that number, which the hub kept from the receipt."""

    def cancel_outbound_at(self, *, code: str, external_id: str, reason: str) -> CancelResult:
        """As `NodeConnector.cancel_outbound`, for the order the node numbered so."""
        ...


@runtime_checkable
class ReportsParcelStatus(Protocol):
    """A channel that shows the buyer where a parcel is (Shopify's fulfillment events):
    the hub tells it each new status its tracker reports."""

    def report_parcel_status(
        self,
        *,
        channel_order_id: str,
        channel_fulfillment_id: str,
        status: str,
        happened_at: datetime,
        message: str = "",
    ) -> bool:
        """Tell the channel the parcel's status (one of `domain.tracking.ParcelStatus`);
        False when the channel has no word for it, so nothing was sent."""
        ...


@runtime_checkable
class PullsRefunds(Protocol):
    """A channel whose refunds are a list of their own, not part of the order (Amazon's
    Finances API): the hub pulls them by window as it pulls orders, each page's items
    being `PulledOrder`s whose payload `parse_refund` reads."""

    @property
    def refund_rules(self) -> PullRules:
        """How refunds are searched: window size, paging, overlap, lag."""
        ...

    def search_refunds(self, window: Window, page: int | str | None, size: int) -> Page:
        """One page of refunds posted within the window."""
        ...


_KNOWN: dict[tuple[type, type], bool] = {}


def _can(connector: object, capability: type) -> bool:
    """`isinstance(connector, capability)`, remembered for the connector's class. Asked of
    connectors the hub has set up: a property among the members (`outbound_batch`) reads
    the connector's settings."""
    key = (type(connector), capability)
    known = _KNOWN.get(key)
    if known is None:
        known = _KNOWN[key] = isinstance(connector, capability)
    return known


def names_refunds(channel: object) -> TypeGuard[NamesRefunds]:
    return _can(channel, NamesRefunds)


def is_polled(node: object) -> TypeGuard[PolledNode]:
    return _can(node, PolledNode)


def takes_outbound_batches(node: object) -> TypeGuard[BatchOutbound]:
    return _can(node, BatchOutbound)


def cancels_by_node_id(node: object) -> TypeGuard[CancelsByNodeId]:
    return _can(node, CancelsByNodeId)


def reports_parcel_status(channel: object) -> TypeGuard[ReportsParcelStatus]:
    return _can(channel, ReportsParcelStatus)


def pulls_refunds(channel: object) -> TypeGuard[PullsRefunds]:
    return _can(channel, PullsRefunds)


def sets_stock_in_batches(channel: object) -> TypeGuard[SetsStockInBatches]:
    return _can(channel, SetsStockInBatches)
