"""Values read from outside, bounded before they are converted or stored.

A platform or warehouse may send a quantity as `"1e300000"`, `2**63`, `"Infinity"` or a
thousand digits. Each is refused with a sentence naming the field before any conversion
that could grow without limit or overflow a database column.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["MAX_STOCK", "MAX_UNITS", "amount", "stock_count", "units", "whole_number"]

MAX_UNITS = 1_000_000
"""The most units one line, parcel or stock change may carry; more is a typing error."""

MAX_STOCK = 1_000_000_000
"""The most units of one SKU a warehouse may count as held: a cloud warehouse can hold
millions of a cheap item, and a billion still fits the stock columns."""

_TEXT_LIMIT = 40
_DIGITS_LIMIT = 18


def _named(name: str, problem: str) -> str:
    return f"{name}: {problem}" if name else problem


def _decimal(value: Any, name: str, what: str = "a number") -> Decimal:
    if isinstance(value, bool):
        raise ValueError(_named(name, "a yes/no value is not a number"))
    if isinstance(value, int) and abs(value) >= 10**_DIGITS_LIMIT:
        raise ValueError(_named(name, f"{value!r} is too large a number"))
    text = str(value).strip()
    if len(text) > _TEXT_LIMIT:
        raise ValueError(_named(name, f"a number written with {len(text)} characters is too long"))
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(_named(name, f"{text!r} is not {what}")) from exc
    if not number.is_finite():
        raise ValueError(_named(name, f"{text!r} is not a finite number"))
    if number.adjusted() > _DIGITS_LIMIT:
        raise ValueError(_named(name, f"{text!r} is too large a number"))
    return number


def whole_number(value: Any, name: str = "") -> int:
    """A whole number of at most 18 digits; `name` is the field the error names."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**_DIGITS_LIMIT:
        return value
    number = _decimal(value, name)
    if number != number.to_integral_value():
        raise ValueError(_named(name, f"{value!r} is not a whole number"))
    return int(number)


def units(value: Any, name: str, *, empty: int | None = None, signed: bool = False) -> int:
    """A count of units within ±MAX_UNITS; `empty` is what a missing value means, if anything."""
    return _count(value, name, MAX_UNITS, empty=empty, signed=signed)


def stock_count(value: Any, name: str, *, signed: bool = False) -> int:
    """Units of one SKU a node counts as held, up to MAX_STOCK (`signed`: down to
    -MAX_STOCK, for a warehouse that counts below zero when oversold); missing is none."""
    return _count(value, name, MAX_STOCK, empty=0, signed=signed)


def _count(value: Any, name: str, limit: int, *, empty: int | None, signed: bool) -> int:
    if empty is not None and (value is None or str(value).strip() == ""):
        return empty
    count = whole_number(value, name)
    if not signed and count < 0:
        raise ValueError(_named(name, f"{count} is negative"))
    if abs(count) > limit:
        raise ValueError(_named(name, f"{count} is more than {limit:,} units"))
    return count


def amount(value: Any, name: str = "") -> Decimal:
    """A money amount of at most 18 integer digits."""
    return _decimal(value, name, "an amount")
