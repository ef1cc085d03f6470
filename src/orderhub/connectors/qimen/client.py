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

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from ..base import ConnectorError, Rejected, Unavailable
from ..kit.envelopes import ErrorCodes
from ..kit.http import Transport
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

__all__ = ["QimenClient"]


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
        content_type: str = CONTENT_TYPE,
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
        self._content_type = content_type
        self._errors = ErrorCodes(
            "Qimen",
            rate_limited=RATE_LIMIT_CODES,
            rate_limited_prefixes=("accesscontrol.", "isv.accesscontrol."),
            retryable=retry_codes,
            retryable_prefixes=("isp.",),
        )
        self._transport = Transport(
            "Qimen",
            timeout=timeout,
            max_retries=max_retries,
            backoff=retry_backoff,
            client=client,
            sleep=sleep,
        )
        self._clock = clock

    def deliveryorder_create(self, request: Mapping[str, Any]) -> Reply:
        """Send a `deliveryorder.create`; the reply carries `deliveryOrderId`."""
        return self.call(Method.DELIVERYORDER_CREATE, request)

    def deliveryorder_batchcreate(self, request: Mapping[str, Any]) -> Reply:
        """Send a `deliveryorder.batchcreate`. A failure reply that lists its orders is
        returned, not raised: each listed order answers for itself."""
        return self.call(Method.DELIVERYORDER_BATCHCREATE, request, listed="orders")

    def order_cancel(self, request: Mapping[str, Any]) -> Reply:
        """Send an `order.cancel`; a refusal raises Rejected with the WMS's code."""
        return self.call(Method.ORDER_CANCEL, request)

    def returnorder_create(self, request: Mapping[str, Any]) -> Reply:
        """Send a `returnorder.create`; the reply carries `returnOrderId`."""
        return self.call(Method.RETURNORDER_CREATE, request)

    def inventory_query(self, request: Mapping[str, Any]) -> Reply:
        """Send an `inventory.query`; the reply carries `items`."""
        return self.call(Method.INVENTORY_QUERY, request)

    def call(self, method: str, request: Mapping[str, Any], *, listed: str = "") -> Reply:
        """One remote call by short method name, retried as the module docstring says.

        With `listed`, a failure reply that carries that field (the outcome of each item
        of a batch) is returned instead of raised, unless its code says to try again."""
        body = build(request)
        return self._transport.call(lambda: self._exchange(method, body, listed), what=method)

    def failure(self, code: str, message: str) -> ConnectorError:
        """The error a failure code maps to, as for a whole call (for one item of a batch)."""
        return self._errors.error(code, message, status=200)

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        self._transport.close()

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

    def _exchange(self, method: str, body: bytes, listed: str = "") -> Reply:
        response = self._transport.send(
            "POST",
            self._url,
            what=method,
            params=self._params(method, body),
            content=body,
            headers={"Content-Type": self._content_type},
        )
        status = response.status_code
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
        error = self._failure(method, reply, status)
        if listed and status < 400 and reply.fields.get(listed) and isinstance(error, Rejected):
            return reply
        raise error

    def _failure(self, method: str, reply: Reply, status: int) -> ConnectorError:
        message = reply.message or f"Qimen {method} failed"
        return self._errors.error(reply.code, message, status=status)
