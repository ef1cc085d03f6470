"""The only module that talks HTTP to Douyin's open API: signature, body, envelope.

A call is `POST {base}/{method with / for .}` with `app_key`, `method`,
`access_token`, `timestamp`, `v=2`, `sign_method` and `sign` in the query, and the
business parameters as `param_json`, the body: JSON with keys sorted at every depth,
no spaces, UTF-8 unescaped. The signature is lower hex over
`secret + "app_key"… "method"… "param_json"… "timestamp"… "v2" + secret`, MD5 or
HMAC-SHA256 keyed with the secret. Every answer is `{"code", "msg", "sub_code",
"sub_msg", "data"}`, code 10000 meaning success.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..base import Unavailable
from ..kit import bounded_json
from ..kit.envelopes import ErrorCodes
from ..kit.http import Transport
from .consts import RATE_LIMITED_CODES, RETRYABLE_CODES, SUCCESS, Method

__all__ = ["DouyinClient", "param_json", "sign"]

ERRORS = ErrorCodes("Douyin", rate_limited=RATE_LIMITED_CODES, retryable=RETRYABLE_CODES)


def param_json(params: Mapping[str, Any]) -> str:
    """The business parameters as Douyin signs them: sorted, compact, UTF-8 unescaped."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(
    *, app_key: str, secret: str, method: str, body: str, timestamp: str, sign_method: str
) -> str:
    text = (
        f"{secret}app_key{app_key}method{method}param_json{body}timestamp{timestamp}v2{secret}"
    ).encode()
    if sign_method == "hmac-sha256":
        return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()
    return hashlib.md5(text).hexdigest()


class DouyinClient:
    """Signed calls for one app and one shop's access token."""

    def __init__(
        self,
        *,
        base_url: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        sign_method: str,
        transport: Transport,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._app_key, self._secret, self._token = app_key, app_secret, access_token
        self._sign_method = sign_method
        self._transport = transport
        self._clock = clock

    def call(self, method: Method, params: Mapping[str, Any]) -> Any:
        """The `data` of a successful answer."""
        return self._transport.call(lambda: self._once(method, params), what=method.value)

    def _once(self, method: Method, params: Mapping[str, Any]) -> Any:
        body = param_json(params)
        timestamp = str(int(self._clock()))
        query = {
            "app_key": self._app_key,
            "method": method.value,
            "access_token": self._token,
            "timestamp": timestamp,
            "v": "2",
            "sign_method": self._sign_method,
            "sign": sign(
                app_key=self._app_key,
                secret=self._secret,
                method=method.value,
                body=body,
                timestamp=timestamp,
                sign_method=self._sign_method,
            ),
        }
        response = self._transport.send(
            "POST",
            f"{self._base}/{method.value.replace('.', '/')}",
            what=method.value,
            params=query,
            content=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            answer = bounded_json.loads(response.content)
        except ValueError as exc:
            raise Unavailable(f"Douyin {method} sent an unreadable reply: {exc}") from exc
        if not isinstance(answer, dict):
            raise Unavailable(f"Douyin {method} sent a reply that is not an object")
        if answer.get("code") != SUCCESS:
            message = str(answer.get("sub_msg") or answer.get("msg") or "Douyin refused the call")
            raise ERRORS.error(
                str(answer.get("code", "")),
                message,
                sub_code=str(answer.get("sub_code") or ""),
                status=response.status_code,
            )
        return answer.get("data")

    def close(self) -> None:
        self._transport.close()
