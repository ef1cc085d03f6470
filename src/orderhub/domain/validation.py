"""Checks an order must pass before it may be routed; each failure is a `Problem`.

The checks are pure: what the hub knows (which SKUs exist, which channel SKUs map to
which of ours) is passed in.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import phonenumbers

from orderhub.domain.errors import Problem
from orderhub.domain.masking import mask_phone
from orderhub.domain.order import ChannelStatus, Order, OrderStatus

__all__ = [
    "AMOUNT_TOLERANCE",
    "DUPLICATE_WINDOW",
    "DuplicateCandidate",
    "check_duplicate",
    "check_order",
    "check_phone",
    "check_ship_by",
    "line_quantities",
    "resolve_skus",
]

AMOUNT_TOLERANCE = Decimal("0.01")
DUPLICATE_WINDOW = timedelta(hours=24)

# Keep every number pattern phonenumbers compiles. Left to `re`'s own cache (512
# patterns), a mix of countries (+1 alone checks 25 regions) evicts patterns that are
# compiled again on the next order.
phonenumbers.enable_pattern_cache()


def resolve_skus(
    order: Order,
    *,
    listings: Mapping[str, str],
    known_skus: Container[str],
    packs: Mapping[str, int] | None = None,
) -> list[Problem]:
    """Set each line's internal SKU from the shop's listings, or take the channel SKU as is,
    and how many of ours one unit of the line is (`packs`: a listing's multiplier).

    A channel SKU that names one of our SKUs directly needs no listing.
    """
    problems: list[Problem] = []
    for i, line in enumerate(order.lines):
        if not line.channel_sku:
            continue
        sku = listings.get(line.channel_sku)
        line.pack = (packs or {}).get(line.channel_sku, 1) if sku is not None else 1
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
    if order.address_withheld and not r.address1.strip():
        # One exception that says why, not one per field the platform kept back.
        return [
            Problem(
                "missing_address",
                f"the street address is missing: {order.address_withheld}",
                "receiver.address1",
            )
        ]
    if not (r.address1 or r.city or r.province or r.country):
        return [Problem("missing_address", "the order has no shipping address", "receiver")]
    problems = []
    if r.sealed:
        # The platform sealed who and where; its masks are all the hub may see, and the
        # warehouse prints from the sealed receiver. Only the region must be readable.
        if not r.province.strip():
            problems.append(
                Problem("missing_address", "the province is empty", "receiver.province")
            )
        return problems
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


def check_phone(order: Order) -> list[Problem]:
    """The receiver's phone must be a real number of the receiver's country, so the
    carrier can call before delivery (`+86 138 1234 8000` and `13812348000` both pass in
    CN). A number written with its own country prefix (`+44 …`) passes on any address:
    buyers abroad often give their own mobile for a gift.

    An empty phone or a country that is not a code is reported by `check_order`.
    """
    r = order.receiver
    raw, country = r.phone.strip(), r.country
    if r.sealed or not raw or country not in phonenumbers.SUPPORTED_REGIONS:
        return []
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None:
        # A number valid for the receiver's country is valid (one check, not two).
        if raw.startswith(("+", "00")):
            valid = phonenumbers.is_valid_number(number)
        else:
            valid = phonenumbers.is_valid_number_for_region(number, country)
        if valid:
            return []
    # The number is personal data: exception messages are stored and shown in clear.
    return [
        Problem(
            "invalid_phone",
            f"{mask_phone(raw)} is not a valid phone number in {country}",
            "receiver.phone",
        )
    ]


_NOT_SHIPPING = (
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.CANCELLING,
    OrderStatus.CANCELLED,
)


def check_ship_by(order: Order, now: datetime) -> list[Problem]:
    """A warning when the channel's ship-by time has passed and the order has not left:
    it still ships, but late, and the shop may penalise the seller."""
    if order.ship_by is None or order.status in _NOT_SHIPPING or now < order.ship_by:
        return []
    late = now - order.ship_by
    hours = int(late.total_seconds() // 3600)
    return [
        Problem(
            "ship_by_passed",
            f"it had to ship by {order.ship_by:%Y-%m-%d %H:%M} UTC"
            + (f", {hours} h ago" if hours else "")
            + "; it ships late",
            "ship_by",
            "warning",
        )
    ]


@dataclass(frozen=True)
class DuplicateCandidate:
    """An earlier order of the same buyer, as much of it as a duplicate check needs.

    `skus` is keyed like `line_quantities`: our SKU, or the channel SKU when unmapped.
    """

    order_no: str
    placed_at: datetime
    skus: Mapping[str, int] = field(default_factory=dict)
    grand_total: Decimal = Decimal("0")

    @classmethod
    def of(cls, order: Order) -> DuplicateCandidate:
        return cls(
            order.order_no or order.channel_order_id,
            order.placed_at,
            line_quantities(order),
            order.totals.grand_total,
        )


def line_quantities(order: Order) -> dict[str, int]:
    """Quantity per SKU (ours once mapped, else the channel's): `{"SKU-1": 2}`."""
    quantities: dict[str, int] = {}
    for line in order.lines:
        key = line.sku or line.channel_sku
        quantities[key] = quantities.get(key, 0) + line.quantity
    return quantities


def check_duplicate(
    order: Order,
    earlier: Sequence[DuplicateCandidate],
    *,
    window: timedelta = DUPLICATE_WINDOW,
) -> list[Problem]:
    """Hold an order that repeats one the same buyer placed shortly before: same lines,
    same total, within `window`. Double clicks and re-sent carts ship twice otherwise."""
    mine = line_quantities(order)
    own_no = order.order_no or order.channel_order_id
    for candidate in sorted(earlier, key=lambda c: c.placed_at, reverse=True):
        if candidate.order_no == own_no:
            continue
        if abs(order.placed_at - candidate.placed_at) > window:
            continue
        same_total = abs(candidate.grand_total - order.totals.grand_total) <= AMOUNT_TOLERANCE
        if same_total and dict(candidate.skus) == mine:
            return [
                Problem(
                    "possible_duplicate",
                    f"same lines and total as order {candidate.order_no}, placed "
                    f"{candidate.placed_at:%Y-%m-%d %H:%M} UTC",
                    "lines",
                    "hold",
                )
            ]
    return []
