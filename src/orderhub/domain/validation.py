"""Checks an order must pass before it may be routed; each failure is a `Problem`.

The checks are pure: what the hub knows (which SKUs exist, which channel SKUs map to
which of ours) is passed in.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from decimal import Decimal

from orderhub.domain.errors import Problem
from orderhub.domain.order import ChannelStatus, Order

__all__ = ["AMOUNT_TOLERANCE", "check_order", "resolve_skus"]

AMOUNT_TOLERANCE = Decimal("0.01")


def resolve_skus(
    order: Order, *, listings: Mapping[str, str], known_skus: Container[str]
) -> list[Problem]:
    """Set each line's internal SKU from the shop's listings, or take the channel SKU as is.

    A channel SKU that names one of our SKUs directly needs no listing.
    """
    problems: list[Problem] = []
    for i, line in enumerate(order.lines):
        if not line.channel_sku:
            continue
        sku = listings.get(line.channel_sku)
        if sku is None and line.channel_sku in known_skus:
            sku = line.channel_sku
        if sku is None:
            problems.append(
                Problem(
                    "unknown_sku",
                    f"SKU {line.channel_sku!r} is not one of ours and has no mapping",
                    f"lines[{i}].channel_sku",
                )
            )
        line.sku = sku
    return problems


def check_order(order: Order) -> list[Problem]:
    """Every reason this order cannot be shipped as it stands, in plain words."""
    problems: list[Problem] = []
    problems += _check_receiver(order)
    problems += _check_lines(order)
    problems += _check_amounts(order)
    if order.channel_status is ChannelStatus.UNPAID:
        problems.append(Problem("not_paid", "the order is not paid yet", "channel_status", "hold"))
    return problems


def _check_receiver(order: Order) -> list[Problem]:
    r = order.receiver
    if not (r.address1 or r.city or r.province or r.country):
        return [Problem("missing_address", "the order has no shipping address", "receiver")]
    problems = []
    if not r.name.strip():
        problems.append(Problem("missing_receiver", "the receiver has no name", "receiver.name"))
    if not r.phone.strip():
        problems.append(
            Problem("missing_phone", "the receiver has no phone number", "receiver.phone")
        )
    if not r.address1.strip():
        problems.append(
            Problem("missing_address", "the street address is empty", "receiver.address1")
        )
    if not r.city.strip():
        problems.append(Problem("missing_address", "the city is empty", "receiver.city"))
    if len(r.country) != 2 or not r.country.isalpha() or not r.country.isupper():
        problems.append(
            Problem(
                "invalid_country",
                f"country {r.country!r} is not an ISO 3166-1 alpha-2 code",
                "receiver.country",
            )
        )
    return problems


def _check_lines(order: Order) -> list[Problem]:
    if not order.lines:
        return [Problem("no_lines", "the order has no lines", "lines")]
    problems = []
    for i, line in enumerate(order.lines):
        if not line.channel_sku.strip():
            problems.append(
                Problem(
                    "line_without_sku",
                    f"line {line.title or line.line_id!r} has no SKU",
                    f"lines[{i}].channel_sku",
                )
            )
        if line.quantity <= 0:
            problems.append(
                Problem(
                    "bad_quantity",
                    f"line {line.line_id} has quantity {line.quantity}; it must be positive",
                    f"lines[{i}].quantity",
                )
            )
        if line.unit_price < 0:
            problems.append(
                Problem("bad_price", "a unit price is negative", f"lines[{i}].unit_price")
            )
    return problems


def _check_amounts(order: Order) -> list[Problem]:
    t = order.totals
    problems = []
    lines_sum = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0"))
    if order.lines and abs(lines_sum - t.items) > AMOUNT_TOLERANCE:
        problems.append(
            Problem(
                "amounts_mismatch",
                f"the lines add up to {lines_sum} but the items total is {t.items}",
                "totals.items",
            )
        )
    expected = t.items + t.shipping - t.discount + t.tax
    if abs(expected - t.grand_total) > AMOUNT_TOLERANCE:
        problems.append(
            Problem(
                "amounts_mismatch",
                f"items + shipping − discount + tax = {expected}, "
                f"but the grand total is {t.grand_total}",
                "totals.grand_total",
            )
        )
    return problems
