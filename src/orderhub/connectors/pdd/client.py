"""The only module that talks HTTP to POP: common parameters, signature, envelopes.

Every call is a form POST to the gateway: `type` (the API), `client_id`,
`access_token`, `timestamp` (UNIX seconds), `data_type=JSON`, `version=V1` and `sign`,
upper(hex(md5(secret + sorted k+v + secret))), beside the API's own parameters. A
refusal is `{"error_response": {error_code, error_msg, sub_code, sub_msg}}`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..kit.envelopes import ErrorCodes
from ..kit.gateway import PlatformError, post_form
from ..kit.http import Transport
from ..kit.signing import sorted_sign
from .consts import Api

__all__ = ["PddClient"]


def _read_error(body: Mapping[str, Any]) -> PlatformError | None:
    error = body.get("error_response")
    if not isinstance(error, dict):
        return None
    message = str(error.get("error_msg") or error.get("sub_msg") or "POP refused the call")
    return str(error.get("error_code", "")), message, str(error.get("sub_code") or "")


class PddClient:
    """Signed calls for one app (client id) and one merchant's access token."""

    def __init__(
        self,
        *,
        gateway: str,
        client_id: str,
        client_secret: str,
        access_token: str,
        errors: ErrorCodes,
        transport: Transport,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._gateway = gateway
        self._client_id, self._secret, self._token = client_id, client_secret, access_token
        self._errors = errors
        self._transport = transport
        self._clock = clock

    def call(self, api: Api, params: Mapping[str, Any]) -> dict[str, Any]:
        """The object under the API's `…_response` key."""
        return self._transport.call(lambda: self._once(api, params), what=api.value)

    def _once(self, api: Api, params: Mapping[str, Any]) -> dict[str, Any]:
        signed = {
            "type": api.value,
            "client_id": self._client_id,
            "access_token": self._token,
            "timestamp": str(int(self._clock())),
            "data_type": "JSON",
            "version": "V1",
            **{
                k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                for k, v in params.items()
                if v is not None
            },
        }
        signed["sign"] = sorted_sign(signed, self._secret)
        body = post_form(
            self._transport,
            self._gateway,
            signed,
            what=api.value,
            errors=self._errors,
            read_error=_read_error,
        )
        inner = next((v for k, v in body.items() if k.endswith("_response")), None)
        return inner if isinstance(inner, dict) else {}

    def close(self) -> None:
        self._transport.close()
