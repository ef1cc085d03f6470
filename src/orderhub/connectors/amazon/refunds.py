"""Refunds from the Finances API: each RefundEvent of listFinancialEvents is one refund.

A RefundEvent is a ShipmentEvent whose `ShipmentItemAdjustmentList` names each refunded
order item (`OrderItemId`, the id the order's lines carry) and how many units; the
money is in `ItemChargeAdjustmentList`, negative. The event has no id of its own, so the
refund is known by its order and `PostedDate` with its adjustment item ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ..base import ChannelRefund

__all__ = ["read_refund", "refund_events"]

REFUNDED = ("Principal", "Tax", "ShippingCharge", "ShippingTax", "GiftWrap")
"""Charges given back to the buyer; fees and commissions are the seller's, not the buyer's."""


def refund_events(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The RefundEvents of a listFinancialEvents payload."""
    events = (payload.get("FinancialEvents") or {}).get("RefundEventList") or []
    return [dict(e) for e in events if isinstance(e, dict)]


def read_refund(event: Mapping[str, Any], *, restock: bool) -> ChannelRefund:
    """One RefundEvent as a refund of its order; ValueError naming what is unreadable."""
    order_id = str(event.get("AmazonOrderId") or "")
    if not order_id:
        raise ValueError("The Amazon refund has no 'AmazonOrderId'.")
    posted_raw = str(event.get("PostedDate") or "")
    try:
        posted = datetime.fromisoformat(posted_raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"The Amazon refund's 'PostedDate' {posted_raw!r} is not a time.") from exc
    lines: list[tuple[str, int]] = []
    ids: list[str] = []
    amount = Decimal("0")
    for i, item in enumerate(event.get("ShipmentItemAdjustmentList") or []):
        where = f"ShipmentItemAdjustmentList[{i}]"
        if not isinstance(item, dict) or not item.get("OrderItemId"):
            raise ValueError(f"The Amazon refund's {where} has no 'OrderItemId'.")
        try:
            quantity = int(item.get("QuantityShipped") or 0)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"The Amazon refund's {where}.QuantityShipped is not a number."
            ) from exc
        if quantity > 0:
            lines.append((str(item["OrderItemId"]), quantity))
        ids.append(str(item.get("OrderAdjustmentItemId") or item["OrderItemId"]))
        amount += _given_back(item.get("ItemChargeAdjustmentList") or [], where)
    if not ids:
        raise ValueError("The Amazon refund names no item (ShipmentItemAdjustmentList).")
    return ChannelRefund(
        channel_order_id=order_id,
        refund_id=f"{posted_raw}:{','.join(ids)}",
        lines=lines,
        amount=amount,
        restock=restock and bool(lines),
        reason="refunded on Amazon",
        created_at=posted,
    )


def _given_back(charges: Any, where: str) -> Decimal:
    total = Decimal("0")
    for charge in charges if isinstance(charges, list) else []:
        if not isinstance(charge, dict) or charge.get("ChargeType") not in REFUNDED:
            continue
        value = (charge.get("ChargeAmount") or {}).get("CurrencyAmount")
        try:
            total -= Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"The Amazon refund's {where} has an unreadable amount.") from exc
    return total
