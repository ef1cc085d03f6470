"""How the emulated store writes things: errors, dates, amounts and JSON, as WordPress does.

* Errors are `{"code", "message", "data": {"status": N, ...}}` (`_introduction.md`).
* Dates come twice, in the site's time zone and as GMT, both `YYYY-MM-DDTHH:MM:SS` with
  no offset (`date_created`, `date_created_gmt`).
* Amounts are strings with two decimals ("29.35"); counts are integers.
* Webhook bodies are `wp_json_encode`d: non-ASCII as `\\uXXXX` and `/` as `\\/`, so a
  signature must be checked on the bytes as sent, never on re-encoded JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from starlette.responses import JSONResponse

__all__ = [
    "CENT",
    "Json",
    "WooError",
    "error_response",
    "invalid_param",
    "money",
    "parse_amount",
    "parse_date",
    "site_dates",
    "wp_json",
]

Json = dict[str, Any]
CENT = Decimal("0.01")


class WooError(Exception):
    """A refusal the store answers with its error body."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> Json:
        return {
            "code": self.code,
            "message": self.message,
            "data": {"status": self.status, **self.data},
        }


def error_response(error: WooError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def invalid_param(name: str, reason: str) -> WooError:
    """WordPress's 400 for a parameter that fails its schema."""
    return WooError(
        400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: reason}
    )


def money(value: Decimal) -> str:
    """ "29.35": two decimals, rounded half up as WooCommerce's `wc_format_decimal` does."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def parse_amount(value: Any, name: str) -> Decimal:
    """An amount a client sent (string or number); 400 when it is not one."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise invalid_param(name, f"{name} is not of type number.") from exc
    if not amount.is_finite():
        raise invalid_param(name, f"{name} is not of type number.")
    return amount


def site_dates(moment: datetime, offset: timezone) -> tuple[str, str]:
    """(site time, GMT) of an aware moment, both without an offset."""
    local = moment.astimezone(offset).replace(tzinfo=None)
    gmt = moment.astimezone(UTC).replace(tzinfo=None)
    return local.isoformat(timespec="seconds"), gmt.isoformat(timespec="seconds")


def parse_date(value: str, name: str, *, gmt: bool, offset: timezone) -> datetime:
    """A `date-time` parameter as WordPress reads it: an offset is honoured; without one
    the time is GMT when `dates_are_gmt` is set, else the site's time. 400 otherwise."""
    text = value.strip().replace(" ", "+") if "T" in value else value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid_param(name, "Invalid date.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC if gmt else offset)
    return moment.astimezone(UTC)


def wp_json(value: Any) -> bytes:
    """JSON as `wp_json_encode` writes it (PHP's default flags)."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def utc_offset(minutes: int) -> timezone:
    """The site's time zone as a fixed offset (Settings → General → Timezone)."""
    return timezone(timedelta(minutes=minutes))
