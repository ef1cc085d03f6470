"""Returns (售后): goods a buyer sends back, from the channel's refund to the node's receipt.

A return is announced to the node that shipped the goods, received there (each unit
good or defective), then closed once the stock is booked. It can be called off while
the goods have not arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from orderhub.domain.errors import IllegalTransition

__all__ = [
    "RETURN_TRANSITIONS",
    "Quality",
    "RefundStatus",
    "ReturnStatus",
    "ReturnedItem",
    "check_return_move",
    "split_received",
]


class ReturnStatus(StrEnum):
    """Where a return stands inside the hub."""

    REQUESTED = "requested"  # created from a refund or exchange; the node is not told yet
    SENT_TO_NODE = "sent_to_node"  # the node accepted the announcement and expects the parcel
    RECEIVED = "received"  # the node checked the parcel in, unit by unit
    CLOSED = "closed"  # the stock was booked (restocked or written off); nothing left to do
    CANCELLED = "cancelled"  # called off before the goods arrived


RETURN_TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    ReturnStatus.REQUESTED: frozenset({ReturnStatus.SENT_TO_NODE, ReturnStatus.CANCELLED}),
    ReturnStatus.SENT_TO_NODE: frozenset({ReturnStatus.RECEIVED, ReturnStatus.CANCELLED}),
    ReturnStatus.RECEIVED: frozenset({ReturnStatus.CLOSED}),
    ReturnStatus.CLOSED: frozenset(),
    ReturnStatus.CANCELLED: frozenset(),
}


class RefundStatus(StrEnum):
    """What the channel says about the money of a return."""

    NONE = "none"  # no money went back (yet): an exchange, or a return opened by hand
    REFUNDED = "refunded"  # the channel refunded the buyer


class Quality(StrEnum):
    """How the node found a returned unit."""

    GOOD = "good"  # sellable again: back into on-hand stock
    DEFECTIVE = "defective"  # not sellable: written off


def check_return_move(return_id: str, current: ReturnStatus, target: ReturnStatus) -> None:
    """Raise IllegalTransition unless `current` → `target` is an allowed move."""
    if target not in RETURN_TRANSITIONS[current]:
        raise IllegalTransition(return_id, current, target)


@dataclass(frozen=True)
class ReturnedItem:
    """Units of one SKU received back in one state."""

    sku: str
    quantity: int
    quality: Quality


def split_received(items: list[ReturnedItem]) -> tuple[dict[str, int], dict[str, int]]:
    """Units per SKU to restock and to write off.

    >>> good, bad = ReturnedItem("A", 2, Quality.GOOD), ReturnedItem("A", 1, Quality.DEFECTIVE)
    >>> split_received([good, bad])
    ({'A': 2}, {'A': 1})

    Anything the node did not call good is treated as defective: stock that cannot be
    sold must never be shown to a shop.
    """
    good: dict[str, int] = {}
    bad: dict[str, int] = {}
    for item in items:
        if item.quantity <= 0:
            continue
        target = good if item.quality is Quality.GOOD else bad
        target[item.sku] = target.get(item.sku, 0) + item.quantity
    return good, bad
