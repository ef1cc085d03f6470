"""Read a Shopify Refund (the `refunds/create` webhook body, or one REST refund) for the hub.

The body is the Refund resource (Shopify/shopify-api-ruby `test/rest/2025_07/
refund_test.rb`): `id`, `order_id`, `created_at`, `note`, `refund_line_items[{line_item_id,
quantity, restock_type}]` and `transactions[{kind, status, amount}]`. A REST answer wraps it
as `{"refund": {...}}`; both are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from orderhub.connectors.base import ChannelRefund
from orderhub.connectors.shopify.consts import (
    REFUND_FAILED_STATUSES,
    REFUND_TRANSACTION_KIND,
    RESTOCK_TYPES_GOODS_BACK,
)

__all__ = ["parse_refund"]


def _id(value: Any, name: str) -> str:
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        raise ValueError(f"The Shopify refund has no {name!r}.")
    return str(value).strip()


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"The Shopify refund's created_at {value!r} is not a time.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _amount(transactions: Any) -> Decimal:
    total = Decimal("0")
    for transaction in transactions or []:
        if not isinstance(transaction, Mapping):
            raise ValueError("A Shopify refund transaction is not an object.")
        if transaction.get("kind", REFUND_TRANSACTION_KIND) != REFUND_TRANSACTION_KIND:
            continue
        if str(transaction.get("status") or "").lower() in REFUND_FAILED_STATUSES:
            continue
        try:
            total += Decimal(str(transaction.get("amount") or "0"))
        except InvalidOperation as exc:
            raise ValueError(
                f"A Shopify refund transaction amount is not a number: {transaction!r}"
            ) from exc
    return total


def parse_refund(payload: Mapping[str, Any]) -> ChannelRefund:
    """A Refund as a ChannelRefund; ValueError when a required part is missing or garbled.

    `restock` is True when any line comes back as a return (`restock_type` "return");
    `amount` adds up the successful refund transactions, e.g. 41.94 + 5.00 → 46.94.
    """
    inner = payload.get("refund")
    refund: Mapping[str, Any] = inner if isinstance(inner, Mapping) else payload
    lines: list[tuple[str, int]] = []
    restock = False
    for item in refund.get("refund_line_items") or []:
        if not isinstance(item, Mapping):
            raise ValueError("A Shopify refund line item is not an object.")
        line_id = _id(item.get("line_item_id"), "refund_line_items.line_item_id")
        try:
            quantity = int(item.get("quantity") or 0)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Refund line {line_id} has no whole-number quantity.") from exc
        if quantity > 0:
            lines.append((line_id, quantity))
        restock = restock or str(item.get("restock_type") or "") in RESTOCK_TYPES_GOODS_BACK
    return ChannelRefund(
        channel_order_id=_id(refund.get("order_id"), "order_id"),
        refund_id=_id(refund.get("id"), "id"),
        lines=lines,
        amount=_amount(refund.get("transactions")),
        restock=restock,
        reason=str(refund.get("note") or ""),
        created_at=_time(refund.get("created_at")),
    )
