"""Orders of the emulated store: built from a REST body, with WooCommerce's totals.

Amounts follow `_orders.md`: a line's `subtotal` is before coupons and its `total` after,
both without tax; `discount_total` is what coupons took; `total` is the line totals plus
shipping, fees and every tax. Status changes do what WooCommerce does around them:
`date_paid` set on the first paid status (processing, completed), `date_completed` on
completed, stock taken on payment and given back on cancellation, and a system note
"Order status changed from Processing to Completed.".
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .catalog import Catalog
from .wire import CENT, Json, WooError, invalid_param, money, parse_amount, site_dates

__all__ = ["STATUSES", "OrderBook", "StoredOrder"]

STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
PAID = frozenset({"processing", "completed"})
TAKES_STOCK = frozenset({"processing", "completed", "on-hold"})
LABELS = {s: s.replace("-", " ").title().replace("Checkout Draft", "Draft") for s in STATUSES}
ADDRESS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state")
ADDRESS_END = ("postcode", "country")


@dataclass
class StoredOrder:
    """One order: its resource, its times, notes and full refunds (newest first)."""

    data: Json
    created: datetime
    modified: datetime
    notes: list[Json] = field(default_factory=list)
    refunds: list[Json] = field(default_factory=list)
    stock_taken: bool = False


def _address(given: Any, *, billing: bool) -> Json:
    given = given if isinstance(given, Mapping) else {}
    keys = (*ADDRESS, *ADDRESS_END, *(("email", "phone") if billing else ("phone",)))
    return {key: str(given.get(key) or "") for key in keys}


class OrderBook:
    """Builds and changes orders; the caller holds the store's lock."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        next_id: Callable[[], int],
        next_item: Callable[[], int],
        now: Callable[[], datetime],
        offset: timezone,
        currency: str,
    ) -> None:
        self.catalog = catalog
        self._next_id = next_id
        self._next_item = next_item
        self._now = now
        self._offset = offset
        self.currency = currency
        self.orders: dict[int, StoredOrder] = {}

    def get(self, order_id: int) -> StoredOrder:
        stored = self.orders.get(order_id)
        if stored is None:
            raise WooError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return stored

    # building

    def _line(self, spec: Mapping[str, Any], rate: Decimal) -> Json:
        """One line item from `{product_id, variation_id, quantity, subtotal?, total?}` (or a
        `sku`, the emulator's shorthand)."""
        item = None
        if spec.get("sku"):
            item = self.catalog.by_sku(str(spec["sku"]))
        elif spec.get("variation_id") or spec.get("product_id"):
            found = self.catalog.items.get(int(spec.get("variation_id") or spec["product_id"]))
            if found is None:
                raise WooError(
                    400, "woocommerce_rest_invalid_product_id", "Product ID provided is invalid."
                )
            item = found
        quantity = int(spec.get("quantity") or 1)
        if quantity <= 0:
            raise invalid_param("line_items", "quantity must be greater than 0.")
        if item is not None:
            product = self.catalog.items[item.product_id].data
            name = str(product["name"])
            if item.is_variation:
                options = ", ".join(a["option"] for a in item.data.get("attributes") or [])
                name = f"{name} - {options}" if options else name
            price = Decimal(str(spec.get("price") or item.data["price"]))
            sku, pid, vid = str(item.data.get("sku") or ""), item.product_id, item.id
            vid = vid if item.is_variation else 0
        else:
            name = str(spec.get("name") or spec.get("sku") or "Custom item")
            price = parse_amount(spec.get("price", "10.00"), "price")
            sku, pid, vid = str(spec.get("sku") or ""), 0, 0
        subtotal = parse_amount(spec.get("subtotal", price * quantity), "subtotal")
        total = parse_amount(
            spec.get("total", subtotal - Decimal(str(spec.get("discount") or 0))), "total"
        )
        tax = (total * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        sub_tax = (subtotal * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        return {
            "id": self._next_item(),
            "name": name,
            "product_id": pid,
            "variation_id": vid,
            "quantity": quantity,
            "tax_class": "",
            "subtotal": money(subtotal),
            "subtotal_tax": money(sub_tax),
            "total": money(total),
            "total_tax": money(tax),
            "taxes": [{"id": 1, "total": money(tax), "subtotal": money(sub_tax)}] if rate else [],
            "meta_data": [],
            "sku": sku,
            "price": float(total / quantity),
        }

    def create(self, body: Mapping[str, Any], *, at: datetime | None = None) -> StoredOrder:
        """A new order from a POST /orders body; `tax_rate` is the emulator's own knob."""
        status = str(body.get("status") or "pending")
        if status not in STATUSES:
            raise invalid_param("status", f"status is not one of {', '.join(STATUSES)}.")
        rate = parse_amount(body.get("tax_rate") or "0", "tax_rate")
        lines = [self._line(spec, rate) for spec in body.get("line_items") or []]
        shipping = [
            {
                "id": self._next_item(),
                "method_title": str(s.get("method_title") or "Flat rate"),
                "method_id": str(s.get("method_id") or "flat_rate"),
                "total": money(parse_amount(s.get("total") or "0", "shipping_lines.total")),
                "total_tax": money(parse_amount(s.get("total") or "0", "total") * rate),
                "taxes": [],
                "meta_data": [],
            }
            for s in body.get("shipping_lines") or []
        ]
        fees = [
            {
                "id": self._next_item(),
                "name": str(f.get("name") or "Fee"),
                "tax_class": "",
                "tax_status": "none",
                "total": money(parse_amount(f.get("total") or "0", "fee_lines.total")),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
            }
            for f in body.get("fee_lines") or []
        ]
        oid = self._next_id()
        moment = at or self._now()
        local, gmt = site_dates(moment, self._offset)
        data: Json = {
            "id": oid,
            "parent_id": 0,
            "number": str(oid),
            "order_key": f"wc_order_{secrets.token_hex(7)[:13]}",
            "created_via": str(body.get("created_via") or "rest-api"),
            "version": "9.4.0",
            "status": status,
            "currency": str(body.get("currency") or self.currency),
            "date_created": local,
            "date_created_gmt": gmt,
            "date_modified": local,
            "date_modified_gmt": gmt,
            "prices_include_tax": False,
            "customer_id": int(body.get("customer_id") or 0),
            "customer_ip_address": "",
            "customer_user_agent": "",
            "customer_note": str(body.get("customer_note") or ""),
            "billing": _address(body.get("billing"), billing=True),
            "shipping": _address(body.get("shipping") or body.get("billing"), billing=False),
            "payment_method": str(body.get("payment_method") or "bacs"),
            "payment_method_title": str(body.get("payment_method_title") or "Direct bank transfer"),
            "transaction_id": str(body.get("transaction_id") or ""),
            "date_paid": None,
            "date_paid_gmt": None,
            "date_completed": None,
            "date_completed_gmt": None,
            "cart_hash": "",
            "meta_data": [],
            "line_items": lines,
            "tax_lines": [],
            "shipping_lines": shipping,
            "fee_lines": fees,
            "coupon_lines": [],
            "refunds": [],
        }
        _totals(data)
        stored = StoredOrder(data, moment, moment)
        self.orders[oid] = stored
        if body.get("set_paid"):
            status = "processing"
        data["status"] = "pending"
        self.set_status(stored, status, at=moment, note=False)
        for meta in body.get("meta_data") or []:
            self.set_meta(stored, meta)
        return stored

    # changing

    def touch(self, stored: StoredOrder, at: datetime | None = None) -> None:
        stored.modified = at or self._now()
        local, gmt = site_dates(stored.modified, self._offset)
        stored.data["date_modified"], stored.data["date_modified_gmt"] = local, gmt

    def set_status(
        self, stored: StoredOrder, status: str, *, at: datetime | None = None, note: bool = True
    ) -> bool:
        """Move the order to `status` with WooCommerce's side effects; False if unchanged."""
        if status not in STATUSES:
            raise invalid_param("status", f"status is not one of {', '.join(STATUSES)}.")
        data, before = stored.data, stored.data["status"]
        if status == before:
            return False
        moment = at or self._now()
        data["status"] = status
        local, gmt = site_dates(moment, self._offset)
        if status in PAID and not data["date_paid"]:
            data["date_paid"], data["date_paid_gmt"] = local, gmt
        if status == "completed":
            data["date_completed"], data["date_completed_gmt"] = local, gmt
        if status in TAKES_STOCK and not stored.stock_taken:
            self._move_stock(stored, -1)
            stored.stock_taken = True
        elif status in ("cancelled", "pending") and stored.stock_taken:
            self._move_stock(stored, +1)
            stored.stock_taken = False
        if note:
            text = f"Order status changed from {LABELS[before]} to {LABELS[status]}."
            self.add_note(stored, text, customer_note=False, at=moment)
        self.touch(stored, moment)
        return True

    def _move_stock(self, stored: StoredOrder, sign: int) -> None:
        for line in stored.data["line_items"]:
            self.catalog.adjust(line["product_id"], line["variation_id"], sign * line["quantity"])

    def set_meta(self, stored: StoredOrder, meta: Any) -> None:
        """`update_meta_data`: by `id` when given, else the first entry with the key."""
        if not isinstance(meta, Mapping) or not meta.get("key"):
            raise invalid_param("meta_data", "meta_data[0][key] is a required property.")
        entries = stored.data["meta_data"]
        target = next(
            (
                e
                for e in entries
                if (meta.get("id") and e["id"] == meta["id"])
                or (not meta.get("id") and e["key"] == meta["key"])
            ),
            None,
        )
        if target is None:
            entries.append(
                {"id": self._next_item(), "key": str(meta["key"]), "value": meta.get("value")}
            )
        else:
            target["key"], target["value"] = str(meta["key"]), meta.get("value")
        self.touch(stored)

    def add_note(
        self,
        stored: StoredOrder,
        text: str,
        *,
        customer_note: bool,
        at: datetime | None = None,
        by_user: bool = False,
    ) -> Json:
        local, gmt = site_dates(at or self._now(), self._offset)
        note = {
            "id": self._next_item(),
            "author": "admin" if by_user else "system",
            "date_created": local,
            "date_created_gmt": gmt,
            "note": text,
            "customer_note": customer_note,
        }
        stored.notes.insert(0, note)
        return note


def _totals(data: Json) -> None:
    """WooCommerce's order totals from its lines (amounts as two-decimal strings)."""
    lines = data["line_items"]
    subtotal = sum((Decimal(x["subtotal"]) for x in lines), Decimal("0"))
    after = sum((Decimal(x["total"]) for x in lines), Decimal("0"))
    cart_tax = sum((Decimal(x["total_tax"]) for x in lines), Decimal("0"))
    shipping = sum((Decimal(x["total"]) for x in data["shipping_lines"]), Decimal("0"))
    shipping_tax = sum((Decimal(x["total_tax"]) for x in data["shipping_lines"]), Decimal("0"))
    fees = sum((Decimal(x["total"]) for x in data["fee_lines"]), Decimal("0"))
    data["discount_total"] = money(subtotal - after)
    data["discount_tax"] = "0.00"
    data["shipping_total"] = money(shipping)
    data["shipping_tax"] = money(shipping_tax)
    data["cart_tax"] = money(cart_tax)
    data["total_tax"] = money(cart_tax + shipping_tax)
    data["total"] = money(after + shipping + fees + cart_tax + shipping_tax)
