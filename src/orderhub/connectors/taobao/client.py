"""The only module that talks HTTP to TOP: system parameters, signature, envelopes.

Every call is a form POST to the gateway with `method`, `app_key`, `session`,
`timestamp` (Beijing time), `format=json`, `v=2.0`, `sign_method` and `sign` beside the
call's own parameters. A refusal is `{"error_response": {code, msg, sub_code, sub_msg}}`,
usually with HTTP 200: code 7 is a rate limit whose message says how long the ban lasts,
code 10 and `isp.*` sub codes are TOP failing, anything else is refused for good.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ..kit.envelopes import ErrorCodes
from ..kit.gateway import PlatformError, post_form
from ..kit.http import Transport
from ..kit.signing import sorted_sign
from .consts import API_VERSION, RATE_LIMITED_CODES, RETRYABLE_CODES, Method

__all__ = ["BEIJING", "TopClient", "response_key", "top_time"]

BEIJING = timezone(timedelta(hours=8))

ERRORS = ErrorCodes(
    "Taobao",
    rate_limited=RATE_LIMITED_CODES,
    rate_limited_prefixes=("accesscontrol.", "isv.accesscontrol."),
    retryable=RETRYABLE_CODES,
    retryable_prefixes=("isp.",),
)


def top_time(moment: datetime) -> str:
    """`yyyy-MM-dd HH:mm:ss` in Beijing time, as every TOP time is written."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def response_key(method: str) -> str:
    """`taobao.trade.fullinfo.get` → `trade_fullinfo_get_response`."""
    short = method.removeprefix("taobao.")
    return short.replace(".", "_") + "_response"


def _read_error(body: Mapping[str, Any]) -> PlatformError | None:
    error = body.get("error_response")
    if not isinstance(error, dict):
        return None
    message = str(error.get("sub_msg") or error.get("msg") or "TOP refused the call")
    return str(error.get("code", "")), message, str(error.get("sub_code") or "")


class TopClient:
    """Signed calls for one app key and one seller's session."""

    def __init__(
        self,
        *,
        gateway: str,
        app_key: str,
        app_secret: str,
        session: str,
        sign_method: str = "md5",
        transport: Transport,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._gateway = gateway
        self._app_key = app_key
        self._secret = app_secret
        self._session = session
        self._sign_method = sign_method
        self._transport = transport
        self._clock = clock

    def call(self, method: Method, params: Mapping[str, Any]) -> dict[str, Any]:
        """The body under `<method>_response`, after the short retries of the transport."""
        return self._transport.call(lambda: self._once(method, params), what=method.value)

    def _once(self, method: Method, params: Mapping[str, Any]) -> dict[str, Any]:
        signed = {
            "method": method.value,
            "app_key": self._app_key,
            "session": self._session,
            "timestamp": top_time(self._clock()),
            "format": "json",
            "v": API_VERSION,
            "sign_method": self._sign_method,
            **{key: str(value) for key, value in params.items() if value is not None},
        }
        signed["sign"] = sorted_sign(signed, self._secret, method=self._sign_method)
        body = post_form(
            self._transport,
            self._gateway,
            signed,
            what=method.value,
            errors=ERRORS,
            read_error=_read_error,
        )
        found = body.get(response_key(method.value))
        return found if isinstance(found, dict) else {}

    def close(self) -> None:
        self._transport.close()
