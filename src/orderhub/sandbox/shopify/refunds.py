"""Refunds as `POST /orders/{id}/refunds.json` creates them, and their effect on the order.

Source: Shopify/shopify-api-ruby `test/rest/2025_07/refund_test.rb` (the request body
`{"refund": {"note", "notify", "shipping", "refund_line_items": [{"line_item_id",
"quantity", "restock_type", "location_id"}], "transactions": [{"parent_id", "amount",
"kind", "gateway"}]}}` and the Refund resource it answers with: `id, order_id,
created_at, processed_at, note, restock, user_id, refund_line_items[{id, line_item_id,
line_item, quantity, restock_type, location_id, subtotal, total_tax, subtotal_set,
total_tax_set}], transactions[{id, order_id, kind, gateway, status, amount, currency,
parent_id, ...}], order_adjustments, refund_shipping_lines, duties`); restock types from
the GraphQL `RefundLineItemRestockType` enum (no_restock, cancel, return; legacy_restock
is no longer accepted on create).

Choices where the sources are silent: the 422 messages below; a refund may not return
more units of a line than were bought minus those already refunded, nor more money than
was paid minus what was already refunded; a line's `current_quantity` drops by the
refunded units, and `cancel` also takes them out of what is still fulfillable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderhub.sandbox.shopify.common import (
    Json,
    gid,
    iso,
    money,
    money_set,
    to_decimal,
    to_int,
    unprocessable,
)

__all__ = [
    "CREATE_RESTOCK_TYPES",
    "OVER_REFUND_AMOUNT",
    "OVER_REFUND_QUANTITY",
    "UNKNOWN_LINE_ITEM",
    "apply_refund",
    "build_refund",
    "refund_items",
    "refund_value",
    "refunded_amount",
    "refunded_quantities",
    "unit_value",
]

CREATE_RESTOCK_TYPES = frozenset({"no_restock", "cancel", "return"})
UNKNOWN_LINE_ITEM = "line item {} does not belong to this order"
OVER_REFUND_QUANTITY = "cannot refund more items than were purchased"
OVER_REFUND_AMOUNT = "cannot refund more than the amount that was paid"
ZERO = Decimal("0")


def refunded_quantities(order: Mapping[str, Any]) -> dict[int, int]:
    """Units already refunded per line item id."""
    done: dict[int, int] = {}
    for refund in order.get("refunds") or []:
        for item in refund.get("refund_line_items") or []:
            line_id = int(item["line_item_id"])
            done[line_id] = done.get(line_id, 0) + int(item["quantity"])
    return done


def refunded_amount(order: Mapping[str, Any]) -> Decimal:
    """Money already refunded by successful refund transactions."""
    return sum(
        (
            Decimal(str(t["amount"]))
            for refund in order.get("refunds") or []
            for t in refund.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status") == "success"
        ),
        ZERO,
    )


def unit_value(line: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """(price after the line's discount share, tax) of one unit of a line item."""
    quantity = max(int(line["quantity"]), 1)
    gross = Decimal(line["price"]) * quantity - Decimal(line.get("total_discount") or "0")
    tax = sum((Decimal(t["price"]) for t in line.get("tax_lines") or []), ZERO)
    return gross / quantity, tax / quantity


def _refund_line(
    raw: Any, index: int, lines: Mapping[int, Json], left: dict[int, int]
) -> tuple[Json, Json]:
    """(checked request line, the order's line item) for one `refund_line_items` entry."""
    field = "refund_line_items"
    if not isinstance(raw, Mapping):
        raise unprocessable(field, f"refund line item {index + 1} is invalid")
    line_id = to_int(raw.get("line_item_id"), f"{field}.line_item_id")
    line = lines.get(line_id)
    if line is None:
        raise unprocessable(f"{field}.line_item_id", UNKNOWN_LINE_ITEM.format(line_id))
    quantity = to_int(raw.get("quantity", 0), f"{field}.quantity")
    if quantity < 1:
        raise unprocessable(f"{field}.quantity", "must be greater than 0")
    if quantity > left[line_id]:
        raise unprocessable(f"{field}.quantity", OVER_REFUND_QUANTITY)
    left[line_id] -= quantity
    restock_type = str(raw.get("restock_type") or "no_restock")
    if restock_type not in CREATE_RESTOCK_TYPES:
        raise unprocessable(f"{field}.restock_type", f"{restock_type} is not a valid type")
    location_id = raw.get("location_id")
    return {
        "line_item_id": line_id,
        "quantity": quantity,
        "restock_type": restock_type,
        "location_id": None if restock_type == "no_restock" else location_id,
    }, line


def build_refund(
    order: Json,
    body: Mapping[str, Any],
    *,
    next_id: Callable[[], int],
    now: datetime,
    default_location_id: int,
) -> Json:
    """A Refund resource for `order` from a create body; ApiError(422) when invalid.

    Nothing on the order changes here; `apply_refund` does that once the refund is built.
    """
    lines = {int(li["id"]): li for li in order["line_items"]}
    done = refunded_quantities(order)
    left = {line_id: int(li["quantity"]) - done.get(line_id, 0) for line_id, li in lines.items()}
    currency = str(order["currency"])
    stamp = iso(now)
    refund_id = next_id()
    raw_items = body.get("refund_line_items") or []
    if not isinstance(raw_items, Sequence) or isinstance(raw_items, str):
        raise unprocessable("refund_line_items", "must be a list")
    items: list[Json] = []
    for index, raw in enumerate(raw_items):
        checked, line = _refund_line(raw, index, lines, left)
        if checked["restock_type"] != "no_restock" and checked["location_id"] is None:
            checked["location_id"] = default_location_id
        price, tax = unit_value(line)
        subtotal = price * checked["quantity"]
        total_tax = tax * checked["quantity"]
        items.append(
            {
                "id": next_id(),
                **checked,
                "subtotal": float(money(subtotal)),
                "subtotal_set": money_set(subtotal, currency),
                "total_tax": float(money(total_tax)),
                "total_tax_set": money_set(total_tax, currency),
                "line_item": dict(line),
            }
        )
    paid = Decimal(order["total_price"])
    available = paid - refunded_amount(order)
    transactions: list[Json] = []
    for raw in body.get("transactions") or []:
        if not isinstance(raw, Mapping):
            raise unprocessable("transactions", "is invalid")
        amount = to_decimal(raw.get("amount", "0"), "transactions.amount")
        if amount <= 0:
            raise unprocessable("transactions.amount", "must be greater than 0")
        if amount > available:
            raise unprocessable("transactions.amount", OVER_REFUND_AMOUNT)
        available -= amount
        transaction_id = next_id()
        transactions.append(
            {
                "id": transaction_id,
                "admin_graphql_api_id": gid("OrderTransaction", transaction_id),
                "order_id": order["id"],
                "kind": "refund",
                "gateway": str(raw.get("gateway") or "manual"),
                "status": "success",
                "message": None,
                "created_at": stamp,
                "processed_at": stamp,
                "test": bool(order.get("test", False)),
                "authorization": None,
                "parent_id": raw.get("parent_id"),
                "amount": money(amount),
                "currency": currency,
                "source_name": "web",
                "receipt": {},
                "error_code": None,
                "location_id": None,
                "user_id": None,
                "device_id": None,
            }
        )
    zero = money_set(ZERO, currency)
    return {
        "id": refund_id,
        "admin_graphql_api_id": gid("Refund", refund_id),
        "order_id": order["id"],
        "created_at": stamp,
        "processed_at": stamp,
        "note": body.get("note"),
        "user_id": None,
        "restock": any(item["restock_type"] != "no_restock" for item in items),
        "return": None,
        "duties": [],
        "total_duties_set": zero,
        "additional_fees": [],
        "total_additional_fees_set": zero,
        "order_adjustments": [],
        "refund_shipping_lines": [],
        "refund_line_items": items,
        "transactions": transactions,
    }


def apply_refund(order: Json, refund: Json, fulfillment_orders: list[Json]) -> None:
    """Record a refund on its order: quantities, financial status and current totals."""
    by_id = {int(li["id"]): li for li in order["line_items"]}
    for item in refund["refund_line_items"]:
        line = by_id[int(item["line_item_id"])]
        quantity = int(item["quantity"])
        line["current_quantity"] = max(int(line["current_quantity"]) - quantity, 0)
        if item["restock_type"] == "cancel":
            line["fulfillable_quantity"] = max(int(line["fulfillable_quantity"]) - quantity, 0)
            for fo in fulfillment_orders:
                for fo_line in fo.get("line_items") or []:
                    if int(fo_line["line_item_id"]) == line["id"]:
                        take = min(quantity, int(fo_line["fulfillable_quantity"]))
                        fo_line["fulfillable_quantity"] -= take
                        quantity -= take
    order["refunds"].append(refund)
    total_refunded = refunded_amount(order)
    if total_refunded > 0:
        full = total_refunded >= Decimal(order["total_price"])
        order["financial_status"] = "refunded" if full else "partially_refunded"
    current = max(Decimal(order["total_price"]) - total_refunded, ZERO)
    order["current_total_price"] = money(current)
    order["current_total_price_set"] = money_set(current, str(order["currency"]))
    order["updated_at"] = refund["created_at"]


def refund_items(
    order: Mapping[str, Any], lines: Sequence[tuple[int | str, int]] | None, restock_type: str
) -> list[Json]:
    """`refund_line_items` for (line item id or SKU, quantity) pairs; None means all left.

    An unknown SKU is passed through as line item 0, so the refund is refused with a 422.
    """
    done = refunded_quantities(order)
    by_sku = {str(li.get("sku")): int(li["id"]) for li in order["line_items"] if li.get("sku")}
    if lines is None:
        wanted = [
            (int(li["id"]), int(li["quantity"]) - done.get(int(li["id"]), 0))
            for li in order["line_items"]
        ]
        return [
            {"line_item_id": line_id, "quantity": qty, "restock_type": restock_type}
            for line_id, qty in wanted
            if qty > 0
        ]
    items = []
    for ref, quantity in lines:
        text = str(ref)
        line_id = by_sku.get(text, int(text) if text.isdigit() else 0)
        items.append({"line_item_id": line_id, "quantity": quantity, "restock_type": restock_type})
    return items


def refund_value(order: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> Decimal:
    """What these refund lines are worth to the buyer, capped at what is still refundable."""
    lines = {int(li["id"]): li for li in order["line_items"]}
    total = ZERO
    for item in items:
        line = lines.get(int(item["line_item_id"]))
        if line is None:
            continue
        price, tax = unit_value(line)
        per_unit = price if order.get("taxes_included") else price + tax
        total += per_unit * int(item["quantity"])
    left = Decimal(order["total_price"]) - refunded_amount(order)
    return Decimal(money(min(total, max(left, ZERO))))
