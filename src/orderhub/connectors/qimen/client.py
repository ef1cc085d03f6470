"""The only module that talks HTTP to a Qimen endpoint: signs, posts XML, maps failures.

Every call is a POST of one XML body with the system parameters in the URL query. The
outcome is mapped onto the connector error tree:

* HTTP 429, TOP code 7 or an `accesscontrol.*` code → `RateLimited` (Retry-After honoured);
* HTTP 5xx, network errors, timeouts, unreadable replies, and failure codes listed as
  retryable (`SYSTEM_BUSY`, `SYSTEM_ERROR`, TOP 10, any `isp.*`) → `Unavailable`;
* any other `<flag>failure</flag>` → `Rejected(code, message)`.

Before raising, a call is retried a few times with exponential backoff and jitter for
`Unavailable`, and for `RateLimited` when the server asks for at most two seconds. All
Qimen writes we send are idempotent on their order code, so a retry cannot duplicate.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from ..base import ConnectorError, RateLimited, Rejected, Unavailable
from ..retry_after import parse_retry_after
from .consts import (
    CONTENT_TYPE,
    DEFAULT_METHOD_PREFIX,
    FORMAT,
    RATE_LIMIT_CODES,
    RETRY_CODES,
    SIGN_METHOD,
    VERSION,
    Method,
)
from .sign import sign
from .xml import Reply, XmlError, build, format_time, parse_response

__all__ = ["MAX_INLINE_WAIT", "QimenClient", "parse_retry_after"]

log = logging.getLogger(__name__)

MAX_INLINE_WAIT = 2.0
"""Longest Retry-After (seconds) the client waits out itself instead of raising."""

_BAN = re.compile(r"(\d+(?:\.\d+)?)\s*more seconds")


class QimenClient:
    """Signed XML calls to one Qimen endpoint for one app key and customer id."""

    def __init__(
        self,
        *,
        base_url: str,
        app_key: str,
        app_secret: str,
        customer_id: str,
        zone: tzinfo,
        method_prefix: str = DEFAULT_METHOD_PREFIX,
        timeout: float = 10.0,
        max_retries: int = 2,
        retry_backoff: float = 0.25,
        retry_codes: frozenset[str] = RETRY_CODES,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        parts = urlsplit(base_url)
        self._url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self._url_params = dict(parse_qsl(parts.query, keep_blank_values=True))
        self._app_key = app_key
        self._secret = app_secret
        self._customer_id = customer_id
        self._zone = zone
        self._prefix = method_prefix
        self._max_retries = max(max_retries, 0)
        self._backoff = retry_backoff
        self._retry_codes = retry_codes
        self._owns_http = client is None
        self._http = client if client is not None else httpx.Client(timeout=timeout)
        self._timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random()

    def deliveryorder_create(self, request: Mapping[str, Any]) -> Reply:
        """Send a `deliveryorder.create`; the reply carries `deliveryOrderId`."""
        return self.call(Method.DELIVERYORDER_CREATE, request)

    def order_cancel(self, request: Mapping[str, Any]) -> Reply:
        """Send an `order.cancel`; a refusal raises Rejected with the WMS's code."""
        return self.call(Method.ORDER_CANCEL, request)

    def returnorder_create(self, request: Mapping[str, Any]) -> Reply:
        """Send a `returnorder.create`; the reply carries `returnOrderId`."""
        return self.call(Method.RETURNORDER_CREATE, request)

    def inventory_query(self, request: Mapping[str, Any]) -> Reply:
        """Send an `inventory.query`; the reply carries `items`."""
        return self.call(Method.INVENTORY_QUERY, request)

    def call(self, method: str, request: Mapping[str, Any]) -> Reply:
        """One remote call by short method name, retried as the module docstring says."""
        body = build(request)
        attempt = 0
        while True:
            try:
                return self._exchange(method, body)
            except RateLimited as exc:
                wait = exc.retry_after
                if attempt >= self._max_retries or wait is None or wait > MAX_INLINE_WAIT:
                    raise
            except Unavailable as exc:
                if attempt >= self._max_retries:
                    raise
                wait = self._delay(attempt)
                log.warning(
                    "qimen %s failed (%s); retry %d in %.2fs",
                    method,
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

    def _params(self, method: str, body: bytes) -> dict[str, str]:
        params = dict(self._url_params)
        params.update(
            {
                "method": self._prefix + method,
                "timestamp": format_time(self._clock(), self._zone),
                "format": FORMAT,
                "app_key": self._app_key,
                "v": VERSION,
                "sign_method": SIGN_METHOD,
                "customerId": self._customer_id,
            }
        )
        params["sign"] = sign(params, body, self._secret)
        return params

    def _exchange(self, method: str, body: bytes) -> Reply:
        params = self._params(method, body)
        try:
            response = self._http.post(
                self._url,
                params=params,
                content=body,
                headers={"Content-Type": CONTENT_TYPE},
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            raise Unavailable(f"Qimen {method} timed out") from exc
        except httpx.TransportError as exc:
            raise Unavailable(f"Qimen {method} could not be reached ({exc!r})") from exc
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimited(
                f"Qimen {method} was rate limited", retry_after=retry_after, status_code=status
            )
        if status >= 500:
            raise Unavailable(f"Qimen {method} failed with HTTP {status}", status_code=status)
        try:
            reply = parse_response(response.content)
        except XmlError as exc:
            if status >= 400:
                raise Rejected(
                    f"Qimen {method} answered HTTP {status}",
                    code=f"http-{status}",
                    status_code=status,
                ) from exc
            raise Unavailable(
                f"Qimen {method} sent an unreadable reply: {exc}", status_code=status
            ) from exc
        if reply.ok and status < 400:
            return reply
        raise self._failure(method, reply, status)

    def _failure(self, method: str, reply: Reply, status: int) -> ConnectorError:
        code, message = reply.code, reply.message or f"Qimen {method} failed"
        if code in RATE_LIMIT_CODES or code.startswith(("accesscontrol.", "isv.accesscontrol.")):
            ban = _BAN.search(message)
            return RateLimited(
                message, retry_after=float(ban.group(1)) if ban else None, status_code=status
            )
        if code in self._retry_codes or code.startswith("isp."):
            return Unavailable(f"{message} ({code})", status_code=status)
        return Rejected(message, code=code, status_code=status)
