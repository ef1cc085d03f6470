"""Small helpers shared by the Shopify emulator's modules: money, clock, errors, merging."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = [
    "ApiError",
    "Json",
    "deep_merge",
    "gid",
    "iso",
    "money",
    "money_set",
    "not_found",
    "parse_gid",
    "parse_time",
    "shop_tz",
    "to_decimal",
    "to_int",
    "unprocessable",
]

Json = dict[str, Any]
CENT = Decimal("0.01")


class ApiError(Exception):
    """A request the emulated shop refuses; the app turns it into `{"errors": ...}`."""

    def __init__(self, status: int, errors: str | Mapping[str, Any]) -> None:
        super().__init__(f"{status}: {errors}")
        self.status = status
        self.errors = errors


def not_found() -> ApiError:
    """Shopify's plain 404 body."""
    return ApiError(404, "Not Found")


def unprocessable(field: str, message: str) -> ApiError:
    """Shopify's 422 body shape: field name to a list of messages."""
    return ApiError(422, {field: [message]})


def to_decimal(value: Any, field: str) -> Decimal:
    """A money amount from JSON (string or number); 422 when it is not a number."""
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise unprocessable(field, "is not a number") from exc
    if not result.is_finite():
        raise unprocessable(field, "is not a number")
    return result


def to_int(value: Any, field: str) -> int:
    """An integer from JSON (number or numeric string); 422 otherwise."""
    if isinstance(value, bool):
        raise unprocessable(field, "is not a number")
    try:
        return int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise unprocessable(field, "is not a number") from exc


def money(value: Decimal) -> str:
    """Shopify sends amounts as strings with two decimals: "199.00"."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def money_set(value: Decimal, currency: str) -> Json:
    """The `*_set` money bag that accompanies every amount."""
    amount = {"amount": money(value), "currency_code": currency}
    return {"shop_money": dict(amount), "presentment_money": dict(amount)}


def shop_tz(offset_minutes: int) -> timezone:
    """The shop's fixed UTC offset; timestamps are rendered in it like the real API."""
    return timezone(timedelta(minutes=offset_minutes))


def iso(moment: datetime) -> str:
    """ISO-8601 with seconds and offset, e.g. 2025-07-02T11:38:15-05:00."""
    return moment.isoformat(timespec="seconds")


def parse_time(text: str, tz: timezone) -> datetime:
    """A query-string time; a naive one is read in the shop's zone, like Shopify does.

    A '+' that arrived unencoded has become a space, so it is restored first.
    """
    cleaned = text.strip().replace(" ", "+")
    if len(cleaned) > 10 and cleaned[10] == "+":
        cleaned = cleaned[:10] + "T" + cleaned[11:]
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def gid(kind: str, ident: int) -> str:
    """The GraphQL id every REST resource carries: gid://shopify/Order/123."""
    return f"gid://shopify/{kind}/{ident}"


def parse_gid(value: Any, kind: str) -> int | None:
    """The number in a GraphQL id of this kind (gid://shopify/Location/456 -> 456), or None."""
    prefix = f"gid://shopify/{kind}/"
    text = str(value)
    if not text.startswith(prefix) or not text[len(prefix) :].isdigit():
        return None
    return int(text[len(prefix) :])


def deep_merge(target: Json, override: Mapping[str, Any]) -> None:
    """Overlay `override` onto `target` in place; nested objects merge, the rest replaces."""
    for key, value in override.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            deep_merge(current, value)
        else:
            target[key] = copy.deepcopy(value)
