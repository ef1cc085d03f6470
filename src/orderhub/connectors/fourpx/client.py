"""The only module that talks HTTP to 4PX: signing, the envelope, one typed function per
remote call.

Every call is a POST of a JSON body to the one gateway path, its system parameters in
the query and signed over the exact body bytes. The answer is `{result, msg, errors,
data}`: result "1" carries `data`; "0" names the refusal in `errors[0].error_code`,
mapped onto the error tree (throttling and 4PX's own failures retried, the rest
refused). An answer without the part it must carry is `Unavailable`: retrying is safe,
since create is keyed by ref_no.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from ..base import Unavailable
from ..kit import bounded_json
from ..kit.envelopes import ErrorCodes
from ..kit.http import Transport
from .consts import RATE_LIMITED_CODES, RETRYABLE_CODES, Method

__all__ = ["FourpxClient", "signature"]

P = "4PX"


def signature(app_key: str, secret: str, method: str, timestamp: str, v: str, body: bytes) -> str:
    """md5("app_key"+key+"format"+"json"+"method"+method+"timestamp"+ts+"v"+v+body+secret)."""
    head = f"app_key{app_key}formatjsonmethod{method}timestamp{timestamp}v{v}".encode()
    return hashlib.md5(head + body + secret.encode()).hexdigest()


class FourpxClient:
    """Signed calls for one 4PX app."""

    def __init__(
        self,
        *,
        gateway: str,
        app_key: str,
        app_secret: str,
        version: str,
        timeout: float = 10.0,
        max_retries: int = 2,
        client: httpx.Client | None = None,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        self._gateway, self._key, self._secret, self._v = gateway, app_key, app_secret, version
        self._errors = ErrorCodes(P, rate_limited=RATE_LIMITED_CODES, retryable=RETRYABLE_CODES)
        self._transport = Transport(P, timeout=timeout, max_retries=max_retries, client=client)
        self._clock_ms = clock_ms

    def call(self, method: Method, data: Mapping[str, Any]) -> Any:
        """The envelope's `data` of one call, retried briefly on 5xx and throttling."""
        name = str(method)
        return self._transport.call(lambda: self._once(name, data), what=name)

    def _once(self, method: str, data: Mapping[str, Any]) -> Any:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = str(self._clock_ms() if self._clock_ms else _now_ms())
        query = {
            "app_key": self._key,
            "v": self._v,
            "timestamp": stamp,
            "format": "json",
            "method": method,
            "sign": signature(self._key, self._secret, method, stamp, self._v, body),
        }
        response = self._transport.send(
            "POST",
            self._gateway,
            what=method,
            params=query,
            content=body,
            headers={"Content-Type": "application/json;charset=UTF-8"},
        )
        try:
            envelope = bounded_json.loads(response.content)
        except ValueError as exc:
            raise Unavailable(f"{P} {method} answered with unreadable JSON") from exc
        if not isinstance(envelope, dict) or "result" not in envelope:
            raise Unavailable(f"{P} {method} answered without a result")
        if str(envelope["result"]) == "1":
            return envelope.get("data")
        errors = envelope.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else {}
        first = first if isinstance(first, dict) else {}
        code = str(first.get("error_code") or "")
        message = str(first.get("error_msg") or envelope.get("msg") or "refused")
        detail = str(first.get("error_data") or "")
        text = f"{P} {method}: {message}" + (f" ({detail})" if detail else "")
        raise self._errors.error(code or "unknown", text, status=response.status_code)

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A new outbound consignment: `consignment_no` and `4px_tracking_no`."""
        data = self.call(Method.CREATE, body)
        if not isinstance(data, dict) or not data.get("consignment_no"):
            raise Unavailable(f"{P} outbound.create answered without a consignment_no")
        return data

    def cancel(self, body: Mapping[str, Any]) -> dict[str, Any]:
        data = self.call(Method.CANCEL, body)
        return data if isinstance(data, dict) else {}

    def page(self, method: Method, query: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """One page of a paged method: its rows and the total count."""
        data = self.call(method, query)
        if not isinstance(data, dict):
            raise Unavailable(f"{P} {method} answered without a page")
        rows = data.get("data") or []
        if not isinstance(rows, list):
            raise Unavailable(f"{P} {method} answered with rows that are not a list")
        try:
            total = int(str(data.get("total") or len(rows)))
        except ValueError as exc:
            raise Unavailable(f"{P} {method} answered with a total that is not a number") from exc
        return [row for row in rows if isinstance(row, dict)], total

    def close(self) -> None:
        self._transport.close()


def _now_ms() -> int:
    return int(time.time() * 1000)
