"""Read a WooCommerce order refund (`GET /orders/{id}/refunds/{refund_id}`) for the hub.

An order names its refunds only as `{id, reason, total}`; the refund itself says what came
back (`_order-refunds.md`): `amount` (a string), `reason`, `date_created_gmt`, and
`line_items` whose `quantity` is negative and whose `_refunded_item_id` meta names the
order's line item. The refund does not carry its order's id; its `_links.up` points at
`…/wc/v3/orders/{id}`.

A refund that takes back units is a return (goods come back); one with an amount only is
money back. WooCommerce's `api_restock` is write-only, so whether the shop restocked is
not readable; the hub's warehouse receives the goods either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..base import ChannelRefund
from ..kit import fields

__all__ = ["order_of", "parse_refund"]

REFUNDED_ITEM = "_refunded_item_id"


def order_of(refund: Mapping[str, Any]) -> str:
    """The id of the order a refund belongs to, from its `up` link."""
    links = refund.get("_links")
    ups = links.get("up") if isinstance(links, Mapping) else None
    for link in ups if isinstance(ups, list) else ():
        href = str(link.get("href") or "") if isinstance(link, Mapping) else ""
        parts = href.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2] == "orders" and parts[-1].isdigit():
            return parts[-1]
    raise ValueError("The WooCommerce refund does not link to its order (_links.up).")


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"The refund's date_created_gmt {value!r} is not a time.") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _lines(items: Any) -> list[tuple[str, int]]:
    lines: list[tuple[str, int]] = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping):
            raise ValueError("A WooCommerce refund line is not an object.")
        refunded = next(
            (
                m.get("value")
                for m in item.get("meta_data") or []
                if isinstance(m, Mapping) and m.get("key") == REFUNDED_ITEM
            ),
            None,
        )
        if refunded in (None, ""):
            raise ValueError(f"Refund line {item.get('id')} does not name its order line.")
        quantity = abs(fields.units(item.get("quantity"), "line_items.quantity", signed=True))
        if quantity:
            lines.append((str(refunded), quantity))
    return lines


def parse_refund(payload: Mapping[str, Any]) -> ChannelRefund:
    """A refund as a ChannelRefund; ValueError when a part is missing or garbled.

    `{"id": 724, "amount": "9.00", "line_items": [{"quantity": -1, "meta_data":
    [{"key": "_refunded_item_id", "value": "311"}]}], "_links": {"up": [{"href":
    ".../orders/723"}]}}` → order 723, refund 724, line 311 × 1, 9.00 back, a return.
    """
    if payload.get("id") in (None, "") or isinstance(payload.get("id"), bool):
        raise ValueError("The WooCommerce refund has no 'id'.")
    lines = _lines(payload.get("line_items"))
    return ChannelRefund(
        channel_order_id=order_of(payload),
        refund_id=str(payload["id"]),
        lines=lines,
        amount=abs(fields.amount(payload.get("amount") or "0", "amount")),
        restock=bool(lines),
        reason=str(payload.get("reason") or ""),
        created_at=_time(payload.get("date_created_gmt")),
    )
