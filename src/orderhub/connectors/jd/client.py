"""The only module that talks HTTP to JOS: system parameters, signature, envelopes.

Every call is a form POST to `/routerjson` with `method`, `app_key`, `access_token`,
`timestamp` (Beijing time), `format=json`, `v=2.0`, `360buy_param_json` (the business
parameters as JSON) and `sign`, upper(hex(md5(secret + sorted k+v + secret))). A
refusal is `{"error_response": {code, zh_desc, en_desc}}`; an answer is under
`<method, dots as _>_responce` (JD's spelling).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ..kit.envelopes import ErrorCodes
from ..kit.gateway import PlatformError, post_form
from ..kit.http import Transport
from ..kit.signing import sorted_sign
from .consts import Method

__all__ = ["BEIJING", "JosClient", "jd_time"]

BEIJING = timezone(timedelta(hours=8))


def jd_time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _read_error(body: Mapping[str, Any]) -> PlatformError | None:
    error = body.get("error_response")
    if not isinstance(error, dict):
        return None
    message = str(error.get("zh_desc") or error.get("en_desc") or "JOS refused the call")
    return str(error.get("code", "")), message, ""


class JosClient:
    """Signed calls for one app and one merchant's access token."""

    def __init__(
        self,
        *,
        gateway: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        errors: ErrorCodes,
        transport: Transport,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._gateway = gateway
        self._app_key, self._secret, self._token = app_key, app_secret, access_token
        self._errors = errors
        self._transport = transport
        self._clock = clock

    def call(self, method: Method | str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The object under the method's `…_responce` key."""
        name = str(method)
        return self._transport.call(lambda: self._once(name, params), what=name)

    def _once(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        signed = {
            "method": method,
            "app_key": self._app_key,
            "access_token": self._token,
            "timestamp": jd_time(self._clock()),
            "format": "json",
            "v": "2.0",
            "360buy_param_json": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
        }
        signed["sign"] = sorted_sign(signed, self._secret)
        body = post_form(
            self._transport,
            self._gateway,
            signed,
            what=method,
            errors=self._errors,
            read_error=_read_error,
        )
        found = body.get(method.replace(".", "_") + "_responce")
        return found if isinstance(found, dict) else {}

    def close(self) -> None:
        self._transport.close()
