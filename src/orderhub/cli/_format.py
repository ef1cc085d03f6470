"""Figures as people read them: money to the currency's minor unit, times in the
seller's time zone (ORDERHUB_TIMEZONE). Stored values stay exact and in UTC; JSON output
keeps them as they are."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orderhub.domain.errors import ConfigurationError

__all__ = ["MINOR_UNITS", "SYMBOLS", "money", "when"]

MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "OMR": 3}
"""Digits after the point where ISO 4217 says other than 2."""
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def money(amount: Decimal | int | str, currency: str) -> str:
    """`money(Decimal("19.9000"), "CNY")` → `¥19.90`; `money(1200, "JPY")` → `¥1,200`;
    a currency without a symbol keeps its code: `19.90 SGD`."""
    digits = MINOR_UNITS.get(currency.upper(), 2)
    value = Decimal(str(amount)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = f"{value:,.{digits}f}"
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(
            f"ORDERHUB_TIMEZONE {name!r} is not a time zone (e.g. Asia/Shanghai, Europe/Berlin)"
        ) from exc


def when(moment: datetime | None, zone: str, *, seconds: bool = False) -> str:
    """A UTC time shown in the seller's zone: `2026-11-01 16:00 CST`."""
    if moment is None:
        return ""
    local = moment.astimezone(_zone(zone))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")
