"""Turn a `POST orders.json` body into the full Order resource the real API returns.

Totals follow Shopify's arithmetic: `subtotal_price = total_line_items_price -
total_discounts`, `total_price = subtotal_price + shipping + total_tax` (tax added only
when `taxes_included` is false). Amounts are two-decimal strings with `*_set` money bags.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

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

__all__ = ["FINANCIAL_STATUSES", "OrderContext", "build_order", "normalize_address"]

FINANCIAL_STATUSES = frozenset(
    {"pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided"}
)
ZERO = Decimal("0")

COUNTRY_CODES = {
    "china": "CN",
    "united states": "US",
    "united kingdom": "GB",
    "germany": "DE",
    "france": "FR",
    "canada": "CA",
    "australia": "AU",
    "japan": "JP",
    "hong kong": "HK",
    "taiwan": "TW",
    "singapore": "SG",
}


class OrderContext(Protocol):
    """What building an order needs from the shop: ids, clock, catalog and customers."""

    currency: str
    shop_domain: str
    shop_id: int

    def next_id(self) -> int:
        """A fresh, larger id."""
        ...

    def next_order_number(self) -> int:
        """The next order number (1001, 1002, ...)."""
        ...

    def now(self) -> datetime:
        """The shop's clock."""
        ...

    def variant(self, variant_id: int) -> tuple[Json, Json] | None:
        """(variant, product) for a variant id, or None."""
        ...

    def customer_for(self, data: Mapping[str, Any], email: str | None, phone: str | None) -> Json:
        """The customer record an order links to, created on first sight."""
        ...


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def normalize_address(raw: Mapping[str, Any] | None) -> Json | None:
    """Fill the derived fields Shopify adds to an address (name, country_code, ...)."""
    if raw is None:
        return None
    first = str(raw.get("first_name") or "")
    last = str(raw.get("last_name") or "")
    if raw.get("name"):
        name = str(raw["name"])
    elif _is_cjk(first + last):
        name = f"{last}{first}"
    else:
        name = " ".join(part for part in (first, last) if part)
    country = raw.get("country")
    code = raw.get("country_code") or COUNTRY_CODES.get(str(country or "").lower())
    return {
        "first_name": first or None,
        "last_name": last or None,
        "name": name or None,
        "company": raw.get("company"),
        "address1": raw.get("address1"),
        "address2": raw.get("address2"),
        "city": raw.get("city"),
        "province": raw.get("province"),
        "province_code": raw.get("province_code"),
        "zip": raw.get("zip"),
        "country": country,
        "country_code": code,
        "phone": raw.get("phone"),
        "latitude": raw.get("latitude"),
        "longitude": raw.get("longitude"),
    }


def _tax_lines(raw: Any, currency: str, field: str) -> list[Json]:
    lines: list[Json] = []
    for item in raw or []:
        price = to_decimal(item.get("price", "0"), field)
        lines.append(
            {
                "price": money(price),
                "rate": float(item.get("rate", 0)),
                "title": str(item.get("title", "Tax")),
                "price_set": money_set(price, currency),
                "channel_liable": False,
            }
        )
    return lines


def _line_item(ctx: OrderContext, raw: Mapping[str, Any], index: int) -> Json:
    field = "line_items"
    if not isinstance(raw, Mapping):
        raise unprocessable(field, f"line item {index + 1} is invalid")
    quantity = to_int(raw.get("quantity", 0), field)
    if quantity < 1:
        raise unprocessable(field, "quantity must be greater than or equal to 1")
    variant_id = raw.get("variant_id")
    product: Json | None = None
    variant: Json | None = None
    if variant_id is not None:
        found = ctx.variant(to_int(variant_id, field))
        if found is None:
            raise unprocessable(field, f"variant {variant_id} does not exist")
        variant, product = found
    title = raw.get("title") or (product["title"] if product else None)
    if not title:
        raise unprocessable(field, f"line item {index + 1}: title can't be blank")
    if raw.get("price") is not None:
        price = to_decimal(raw["price"], field)
    elif variant is not None:
        price = Decimal(variant["price"])
    else:
        raise unprocessable(field, f"line item {index + 1}: price can't be blank")
    variant_title = variant["title"] if variant and variant["title"] != "Default Title" else None
    sku = raw.get("sku") if raw.get("sku") is not None else (variant or {}).get("sku")
    line_id = ctx.next_id()
    grams = int(raw.get("grams", (variant or {}).get("grams", 0)) or 0)
    return {
        "id": line_id,
        "admin_graphql_api_id": gid("LineItem", line_id),
        "attributed_staffs": [],
        "current_quantity": quantity,
        "fulfillable_quantity": quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": bool(raw.get("gift_card", False)),
        "grams": grams,
        "name": f"{title} - {variant_title}" if variant_title else str(title),
        "price": money(price),
        "price_set": money_set(price, ctx.currency),
        "product_exists": product is not None,
        "product_id": product["id"] if product else None,
        "properties": list(raw.get("properties") or []),
        "quantity": quantity,
        "requires_shipping": bool(raw.get("requires_shipping", True)),
        "sku": sku,
        "taxable": bool(raw.get("taxable", True)),
        "title": str(title),
        "total_discount": "0.00",
        "total_discount_set": money_set(ZERO, ctx.currency),
        "variant_id": variant["id"] if variant else None,
        "variant_inventory_management": "shopify" if variant else None,
        "variant_title": variant_title,
        "vendor": raw.get("vendor") or (product or {}).get("vendor"),
        "tax_lines": _tax_lines(raw.get("tax_lines"), ctx.currency, field),
        "duties": [],
        "discount_allocations": [],
    }


def _discounts(
    raw: Sequence[Mapping[str, Any]], items_total: Decimal, currency: str
) -> tuple[Decimal, list[Json], list[Json]]:
    total = ZERO
    codes: list[Json] = []
    applications: list[Json] = []
    for entry in raw:
        kind = str(entry.get("type", "fixed_amount"))
        value = to_decimal(entry.get("amount", "0"), "discount_codes")
        if kind == "percentage":
            amount = (items_total * value / 100).quantize(Decimal("0.01"))
        elif kind == "fixed_amount":
            amount = value
        else:
            raise unprocessable("discount_codes", f"type {kind} is not supported")
        total += amount
        codes.append({"code": str(entry.get("code", "")), "amount": money(amount), "type": kind})
        applications.append(
            {
                "target_type": "line_item",
                "type": "discount_code",
                "value": money(value) if kind == "fixed_amount" else str(value),
                "value_type": kind,
                "allocation_method": "across",
                "target_selection": "all",
                "code": str(entry.get("code", "")),
            }
        )
    if total > items_total:
        raise unprocessable("discount_codes", "discount is greater than the order subtotal")
    return total, codes, applications


def _allocate(lines: list[Json], discount: Decimal, items_total: Decimal, currency: str) -> None:
    """Spread an order discount over the lines in proportion to their value."""
    if discount <= 0 or items_total <= 0:
        return
    remaining = discount
    for index, line in enumerate(lines):
        value = Decimal(line["price"]) * line["quantity"]
        share = (
            remaining
            if index == len(lines) - 1
            else (discount * value / items_total).quantize(Decimal("0.01"))
        )
        remaining -= share
        line["total_discount"] = money(share)
        line["total_discount_set"] = money_set(share, currency)
        line["discount_allocations"] = [
            {
                "amount": money(share),
                "amount_set": money_set(share, currency),
                "discount_application_index": 0,
            }
        ]


def _shipping_lines(raw: Any, currency: str) -> tuple[Decimal, list[Json]]:
    total = ZERO
    lines: list[Json] = []
    for entry in raw or []:
        price = to_decimal(entry.get("price", "0"), "shipping_lines")
        total += price
        lines.append(
            {
                "title": str(entry.get("title", "Standard Shipping")),
                "code": entry.get("code") or str(entry.get("title", "Standard Shipping")),
                "source": str(entry.get("source", "shopify")),
                "price": money(price),
                "price_set": money_set(price, currency),
                "discounted_price": money(price),
                "discounted_price_set": money_set(price, currency),
                "carrier_identifier": None,
                "requested_fulfillment_service_id": None,
                "tax_lines": [],
                "discount_allocations": [],
            }
        )
    return total, lines


def build_order(ctx: OrderContext, body: Mapping[str, Any]) -> Json:
    """A complete Order resource from a create body; raises ApiError(422) when invalid."""
    raw_lines = body.get("line_items")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise unprocessable("line_items", "must have at least one line item")
    currency = str(body.get("currency") or ctx.currency)
    financial_status = str(body.get("financial_status") or "paid")
    if financial_status not in FINANCIAL_STATUSES:
        raise unprocessable("financial_status", f"{financial_status} is not a valid status")
    lines = [_line_item(ctx, raw, i) for i, raw in enumerate(raw_lines)]
    items_total = sum((Decimal(li["price"]) * li["quantity"] for li in lines), ZERO)
    discount, codes, applications = _discounts(
        body.get("discount_codes") or [], items_total, currency
    )
    _allocate(lines, discount, items_total, currency)
    shipping, shipping_lines = _shipping_lines(body.get("shipping_lines"), currency)
    order_tax_lines = _tax_lines(body.get("tax_lines"), currency, "tax_lines")
    if order_tax_lines:
        tax = sum((Decimal(t["price"]) for t in order_tax_lines), ZERO)
    else:
        tax = sum((Decimal(t["price"]) for li in lines for t in li["tax_lines"]), ZERO)
    taxes_included = bool(body.get("taxes_included", False))
    subtotal = items_total - discount
    total = subtotal + shipping + (ZERO if taxes_included else tax)
    now = ctx.now()
    processed_at = str(body.get("processed_at") or iso(now))
    email = body.get("email") or (body.get("customer") or {}).get("email")
    phone = body.get("phone")
    customer = ctx.customer_for(body.get("customer") or {}, email, phone)
    shipping_address = normalize_address(body.get("shipping_address"))
    billing_address = normalize_address(body.get("billing_address") or body.get("shipping_address"))
    number = ctx.next_order_number()
    order_id = ctx.next_id()
    token = secrets.token_hex(16)
    stamp = iso(now)
    outstanding = ZERO if financial_status in {"paid", "partially_refunded", "refunded"} else total
    amounts = {
        "current_subtotal_price": subtotal,
        "current_total_discounts": discount,
        "current_total_price": total,
        "current_total_tax": tax,
        "subtotal_price": subtotal,
        "total_discounts": discount,
        "total_line_items_price": items_total,
        "total_price": total,
        "total_tax": tax,
    }
    order: Json = {
        "id": order_id,
        "admin_graphql_api_id": gid("Order", order_id),
        "app_id": 1354745,
        "browser_ip": None,
        "buyer_accepts_marketing": bool(body.get("buyer_accepts_marketing", False)),
        "cancel_reason": None,
        "cancelled_at": None,
        "cart_token": None,
        "checkout_id": None,
        "checkout_token": None,
        "client_details": None,
        "closed_at": None,
        "confirmation_number": secrets.token_hex(5).upper()[:9],
        "confirmed": True,
        "contact_email": email,
        "created_at": stamp,
        "currency": currency,
        "customer_locale": body.get("customer_locale"),
        "email": email or "",
        "estimated_taxes": False,
        "financial_status": financial_status,
        "fulfillment_status": None,
        "landing_site": None,
        "location_id": None,
        "name": f"#{number}",
        "note": body.get("note"),
        "note_attributes": list(body.get("note_attributes") or []),
        "number": number - 1000,
        "order_number": number,
        "order_status_url": f"https://{ctx.shop_domain}/{ctx.shop_id}/orders/{token}/authenticate",
        "payment_gateway_names": list(body.get("payment_gateway_names") or ["manual"]),
        "phone": phone,
        "presentment_currency": currency,
        "processed_at": processed_at,
        "reference": None,
        "referring_site": None,
        "source_identifier": None,
        "source_name": str(body.get("source_name") or "api"),
        "tags": str(body.get("tags") or ""),
        "tax_lines": order_tax_lines,
        "taxes_included": taxes_included,
        "test": bool(body.get("test", False)),
        "token": token,
        "total_outstanding": money(outstanding),
        "total_tip_received": "0.00",
        "total_weight": sum(li["grams"] * li["quantity"] for li in lines),
        "updated_at": stamp,
        "user_id": None,
        "billing_address": billing_address,
        "customer": customer,
        "discount_applications": applications,
        "discount_codes": codes,
        "fulfillments": [],
        "line_items": lines,
        "payment_terms": None,
        "refunds": [],
        "shipping_address": shipping_address,
        "shipping_lines": shipping_lines,
        "total_shipping_price_set": money_set(shipping, currency),
    }
    for key, value in amounts.items():
        order[key] = money(value)
        order[f"{key}_set"] = money_set(value, currency)
    return order
