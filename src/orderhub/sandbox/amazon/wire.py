"""SP-API's wire details shared by the emulator's modules: times, money, error bodies and
the headers every answer carries.

Every SP-API answer carries `x-amzn-RequestId`, and the operation's applied rate in
`x-amzn-RateLimit-Limit` ("0.0167", "2.0"); a refusal is
`{"errors": [{"code", "message", "details"}]}`. Times are ISO-8601 in UTC with a `Z`,
amounts `{"CurrencyCode": "USD", "Amount": "12.34"}` (platform-apis.md §3).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.responses import JSONResponse, Response

__all__ = [
    "ApiError",
    "Json",
    "errors_body",
    "invalid",
    "iso",
    "money",
    "next_token",
    "parse_time",
    "rate_text",
    "read_next_token",
    "respond",
]

Json = dict[str, Any]
CENT = Decimal("0.01")


class ApiError(Exception):
    """A request SP-API refuses; answered as `{"errors": [...]}` with `status`."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def invalid(message: str, details: str = "") -> ApiError:
    """400 InvalidInput, SP-API's answer to a bad parameter or body."""
    return ApiError(400, "InvalidInput", message, details)


def errors_body(code: str, message: str, details: str = "") -> Json:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def iso(moment: datetime) -> str:
    """`2026-11-23T10:00:00Z`: UTC, seconds, a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, name: str) -> datetime:
    """An ISO-8601 query value (`…Z`, an offset, or a bare date, read as UTC midnight)."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise invalid(f"Invalid {name}: {text!r} is not an ISO 8601 date-time.") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def money(amount: Decimal, currency: str) -> Json:
    return {
        "CurrencyCode": currency,
        "Amount": str(amount.quantize(CENT, rounding=ROUND_HALF_UP)),
    }


def rate_text(rate: float) -> str:
    """A rate as Amazon writes it in `x-amzn-RateLimit-Limit`: 0.0167, 1.0, 2.0."""
    return repr(round(float(rate), 4))


def respond(
    body: Json | None,
    status: int = 200,
    *,
    limit: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An answer with the headers every SP-API answer has; `None` is 204 without a body."""
    extra = {"x-amzn-RequestId": str(uuid.uuid4()), **(headers or {})}
    if limit is not None:
        extra["x-amzn-RateLimit-Limit"] = rate_text(limit)
    if body is None:
        return Response(status_code=status, headers=extra)
    return JSONResponse(body, status_code=status, headers=extra)


def next_token(data: Mapping[str, Any]) -> str:
    """A `NextToken`: the search and where its last page ended, opaque to the caller."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def read_next_token(token: str, *, needs: str) -> dict[str, Any]:
    """The search a `NextToken` carries; 400 InvalidInput when it is not one of ours."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error) as exc:
        raise invalid("Invalid NextToken.") from exc
    if not isinstance(data, dict) or needs not in data:
        raise invalid("Invalid NextToken.")
    return data
