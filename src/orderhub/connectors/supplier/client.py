"""The only module that talks HTTP to a supplier: signs, sends JSON, maps failures.

Outcomes map onto the connector error tree:

* HTTP 429 → `RateLimited` (Retry-After honoured, in seconds or as an HTTP date);
* HTTP 5xx, network errors, timeouts and unreadable 2xx replies → `Unavailable`;
* any other 4xx → `Rejected(code, message)` from the body `{"error": {"code", "message"}}`
  (`http-<status>` when the body says nothing); a PO refused inside a batch that was
  answered 200 maps the same way from its result's `error` (`refusal`).

A call is retried a few times with exponential backoff and jitter for `Unavailable`,
and for `RateLimited` when the supplier asks for at most two seconds. Every write is
idempotent (a PO on its number, also inside a batch, a cancel on its PO), so a retry
cannot duplicate.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from ..base import RateLimited, Rejected, Unavailable
from ..kit.http import new_client
from ..kit.retry_after import parse_retry_after
from .consts import (
    CANCEL_PATH,
    CONTENT_TYPE,
    PURCHASE_ORDERS_BATCH_PATH,
    PURCHASE_ORDERS_PATH,
    STOCK_PATH,
)
from .sign import signed_headers

__all__ = [
    "MAX_INLINE_WAIT",
    "Reply",
    "SupplierClient",
    "encode",
    "parse_retry_after",
    "refusal",
]

log = logging.getLogger(__name__)

MAX_INLINE_WAIT = 2.0
"""Longest Retry-After (seconds) the client waits out itself instead of raising."""

Reply = tuple[int, dict[str, Any]]
"""(HTTP status, JSON object) of an answered call."""


def encode(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, Chinese kept as is: the exact bytes that are signed and sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _error(payload: Any) -> tuple[str, str]:
    """(code, message) of a supplier's error body; empty strings when it has none."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    if isinstance(error, str):
        return "", error
    return "", ""


def refusal(payload: Any, what: str, status: int | None = None) -> Rejected:
    """The `Rejected` that a supplier's `{"error": {"code", "message"}}` means, for a
    4xx answer or for one refused PO of a batch (which has no status of its own)."""
    code, message = _error(payload)
    if status is None:
        return Rejected(message or f"{what} was refused", code=code or "refused")
    return Rejected(
        message or f"{what} answered HTTP {status}",
        code=code or f"http-{status}",
        status_code=status,
    )


class SupplierClient:
    """Signed JSON calls to one supplier's API for one supplier id."""

    def __init__(
        self,
        *,
        base_url: str,
        supplier_id: str,
        secret: str,
        timeout: float = 10.0,
        max_retries: int = 2,
        retry_backoff: float = 0.25,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._supplier_id = supplier_id
        self._secret = secret
        self._timeout = timeout
        self._max_retries = max(max_retries, 0)
        self._backoff = retry_backoff
        self._owns_http = client is None
        self._http = client if client is not None else new_client(timeout)
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random()

    def create_purchase_order(self, po: Mapping[str, Any]) -> dict[str, Any]:
        """POST the PO; 201 for a new one, 200 with the stored one for a repeat."""
        _, payload = self.call("POST", PURCHASE_ORDERS_PATH, body=encode(po))
        return payload

    def create_purchase_orders(self, pos: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """POST many POs in one call; the reply's `results` answer each. A failure of
        the whole call (a refused batch, 429, 5xx) raises as for a single PO."""
        body = encode({"purchase_orders": list(pos)})
        _, payload = self.call("POST", PURCHASE_ORDERS_BATCH_PATH, body=body)
        return payload

    def cancel_purchase_order(self, po_number: str, *, reason: str) -> dict[str, Any]:
        """POST a cancel; a 409 `{"cancelled": false, "reason"}` is returned, not raised."""
        path = CANCEL_PATH.format(po_number=quote(po_number, safe=""))
        _, payload = self.call("POST", path, body=encode({"reason": reason}), answers={409})
        return payload

    def stock(self, skus: Sequence[str]) -> dict[str, Any]:
        """GET `/stock?sku=A&sku=B`; the reply carries `items`."""
        _, payload = self.call("GET", STOCK_PATH, params=[("sku", sku) for sku in skus])
        return payload

    def call(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        params: Sequence[tuple[str, str]] = (),
        answers: Collection[int] = (),
    ) -> Reply:
        """One signed call, retried as the module docstring says.

        Statuses in `answers` are returned like a 2xx when their body is a JSON object,
        for replies the API defines as a refusal rather than an error (a late cancel).
        """
        attempt = 0
        while True:
            try:
                return self._exchange(method, path, body, params, answers)
            except RateLimited as exc:
                wait = exc.retry_after
                if attempt >= self._max_retries or wait is None or wait > MAX_INLINE_WAIT:
                    raise
            except Unavailable as exc:
                if attempt >= self._max_retries:
                    raise
                wait = self._delay(attempt)
                log.warning(
                    "supplier %s %s failed (%s); retry %d in %.2fs",
                    method,
                    path,
                    exc.message,
                    attempt + 1,
                    wait,
                )
            self._sleep(wait)
            attempt += 1

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            self._http.close()

    def _delay(self, attempt: int) -> float:
        step: float = self._backoff * 2**attempt
        return step / 2 + self._rng.uniform(0, step / 2)

    def _exchange(
        self,
        method: str,
        path: str,
        body: bytes,
        params: Sequence[tuple[str, str]],
        answers: Collection[int],
    ) -> Reply:
        what = f"supplier {method} {path}"
        headers = signed_headers(
            supplier_id=self._supplier_id, secret=self._secret, body=body, now=self._clock()
        )
        headers["Accept"] = CONTENT_TYPE
        if body:
            headers["Content-Type"] = CONTENT_TYPE
        try:
            response = self._http.request(
                method,
                self._base + path,
                params=list(params),
                content=body,
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            raise Unavailable(f"{what} timed out") from exc
        except httpx.TransportError as exc:
            raise Unavailable(f"{what} could not be reached ({exc!r})") from exc
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimited(f"{what} was rate limited", retry_after=retry_after)
        if status >= 500:
            raise Unavailable(f"{what} failed with HTTP {status}", status_code=status)
        try:
            payload = response.json()
        except ValueError as exc:
            if status >= 400:
                raise Rejected(
                    f"{what} answered HTTP {status}", code=f"http-{status}", status_code=status
                ) from exc
            raise Unavailable(f"{what} sent an unreadable reply", status_code=status) from exc
        if status < 300:
            if not isinstance(payload, dict):
                raise Unavailable(f"{what} sent an unreadable reply", status_code=status)
            return status, payload
        if status in answers and isinstance(payload, dict) and "error" not in payload:
            return status, payload
        raise refusal(payload, what, status)
