"""Refunds of the emulated store: `POST /orders/{id}/refunds` and what it does to the order.

Follows `_order-refunds.md`: the body takes `amount` (which wins over the lines' totals),
`reason`, `line_items` of `{id, quantity, refund_total, refund_tax: [{id, refund_total}]}`,
and the write-only `api_refund` and `api_restock` (both default true). The refund shows
its lines with negative quantities and amounts and a `_refunded_item_id` meta naming the
order's line; the order lists it as `{id, reason, total: "-9.00"}`, newest first, and
becomes `refunded` once its whole total is refunded.

Choices where the docs are silent (UNCONFIRMED): more units than are left on a line, a
line id not on the order, or more money than is left is refused with 400
`woocommerce_rest_cannot_create_order_refund`; the gateway is never called, so
`refunded_payment` is simply `api_refund`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from .orders import OrderBook, StoredOrder
from .wire import Json, WooError, money, parse_amount, site_dates

__all__ = ["create_refund", "refunded_total"]


def _refused(message: str) -> WooError:
    return WooError(400, "woocommerce_rest_cannot_create_order_refund", message)


def refunded_total(stored: StoredOrder) -> Decimal:
    return sum((Decimal(r["amount"]) for r in stored.refunds), Decimal("0"))


def _refunded_units(stored: StoredOrder) -> dict[int, int]:
    done: dict[int, int] = {}
    for refund in stored.refunds:
        for item in refund["line_items"]:
            line = int(item["meta_data"][0]["value"])
            done[line] = done.get(line, 0) - int(item["quantity"])
    return done


def _lines(
    stored: StoredOrder, given: Any, next_item: Callable[[], int]
) -> tuple[list[Json], Decimal]:
    """The refund's line items and the money they carry."""
    by_id = {int(line["id"]): line for line in stored.data["line_items"]}
    done = _refunded_units(stored)
    items: list[Json] = []
    money_back = Decimal("0")
    for spec in given if isinstance(given, list) else []:
        if not isinstance(spec, Mapping):
            raise _refused("Invalid refund line items.")
        line = by_id.get(int(spec.get("id") or 0))
        if line is None:
            raise _refused("Invalid refund line items.")
        quantity = int(spec.get("quantity") or spec.get("qty") or 0)
        if quantity > line["quantity"] - done.get(line["id"], 0) or quantity < 0:
            raise _refused("Invalid refund quantity.")
        unit = Decimal(line["total"]) / line["quantity"]
        amount = parse_amount(spec.get("refund_total", unit * quantity), "refund_total")
        tax = sum(
            (
                parse_amount(t.get("refund_total") or 0, "refund_tax")
                for t in spec.get("refund_tax") or []
            ),
            Decimal("0"),
        )
        money_back += amount + tax
        items.append(
            {
                "id": next_item(),
                "name": line["name"],
                "product_id": line["product_id"],
                "variation_id": line["variation_id"],
                "quantity": -quantity,
                "tax_class": "",
                "subtotal": money(-amount),
                "subtotal_tax": money(-tax),
                "total": money(-amount),
                "total_tax": money(-tax),
                "taxes": [],
                "meta_data": [
                    {"id": next_item(), "key": "_refunded_item_id", "value": str(line["id"])}
                ],
                "sku": line["sku"],
                "price": float(-unit),
            }
        )
    return items, money_back


def create_refund(
    book: OrderBook,
    stored: StoredOrder,
    body: Mapping[str, Any],
    *,
    next_id: Callable[[], int],
    next_item: Callable[[], int],
    now: datetime,
    offset: timezone,
) -> Json:
    """Record a refund on the order (restocking its units unless `api_restock` is false)."""
    items, from_lines = _lines(stored, body.get("line_items"), next_item)
    given = body.get("amount")
    amount = parse_amount(given, "amount") if given not in (None, "") else from_lines
    if amount <= 0:
        raise WooError(
            400, "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero."
        )
    left = Decimal(stored.data["total"]) - refunded_total(stored)
    if amount > left:
        raise _refused("Invalid refund amount.")
    local, gmt = site_dates(now, offset)
    refund: Json = {
        "id": next_id(),
        "date_created": local,
        "date_created_gmt": gmt,
        "amount": money(amount),
        "reason": str(body.get("reason") or ""),
        "refunded_by": 1,
        "refunded_payment": bool(body.get("api_refund", True)),
        "meta_data": [],
        "line_items": items,
        "shipping_lines": [],
        "tax_lines": [],
        "fee_lines": [],
    }
    stored.refunds.insert(0, refund)
    stored.data["refunds"].insert(
        0, {"id": refund["id"], "reason": refund["reason"], "total": money(-amount)}
    )
    if body.get("api_restock", True):
        for item in items:
            book.catalog.adjust(item["product_id"], item["variation_id"], -int(item["quantity"]))
    if refunded_total(stored) >= Decimal(stored.data["total"]):
        book.set_status(stored, "refunded", at=now)
    book.touch(stored, now)
    return refund
