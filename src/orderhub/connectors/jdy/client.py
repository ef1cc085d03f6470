"""The only module that talks HTTP to 金蝶云星辰: signs each call, fetches the app-token.

Every call carries the gateway's `X-Api-*` signature (see `signing.py`); business calls
also carry `app-token` (from `kingdee_auth_token`, fetched once and again when the tenant
says it lapsed) and `X-GW-Router-Addr`, the tenant's domain. Answers are HTTP 200 with
`errcode` (0 = success) and `description`, mapped onto the connector error tree:
a token error → fetch a new token and send once more; any other errcode → `Rejected`
with the tenant's words; 5xx, network errors, unreadable bodies → `Unavailable`.

UNCONFIRMED (each a setting): the base URL, the auth-token path, the token error codes.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from ..base import Rejected, Unavailable
from ..kit.http import Transport
from .signing import hex64, sign_message

__all__ = ["JdyClient"]

AUTH_PATH = "/jdyconnector/app_management/kingdee_auth_token"
TOKEN_ERRORS = frozenset({1002})
"""Errcodes taken as "the app-token lapsed" (UNCONFIRMED)."""


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} cannot be sent to 金蝶云星辰")


class JdyClient:
    """Calls to one tenant as one authorised app."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        app_key: str,
        app_secret: str,
        domain: str,
        auth_path: str = AUTH_PATH,
        token_errors: frozenset[int] = TOKEN_ERRORS,
        transport: Transport,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.app_key, self.app_secret, self.domain = app_key, app_secret, domain
        self.auth_path, self.token_errors = auth_path, token_errors
        self.transport = transport
        self.token = ""
        self.token_fetches = 0

    def _headers(self, method: str, path: str, query: Mapping[str, str]) -> dict[str, str]:
        stamp = str(int(time.time() * 1000))
        nonce = str(secrets.randbelow(10**12) + 1)
        message = sign_message(method, path, query, nonce=nonce, stamp=stamp)
        return {
            "Content-Type": "application/json",
            "X-Api-ClientID": self.client_id,
            "X-Api-Auth-Version": "2.0",
            "X-Api-TimeStamp": stamp,
            "X-Api-Nonce": nonce,
            "X-Api-SignHeaders": "X-Api-TimeStamp,X-Api-Nonce",
            "X-Api-Signature": hex64(self.client_secret, message),
        }

    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: Mapping[str, Any] | None,
        extra: Mapping[str, str],
    ) -> dict[str, Any]:
        url = self.base_url + path + ("?" + urlencode(query) if query else "")
        headers = {**self._headers(method, path, query), **extra}
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, default=_plain).encode()

        def attempt() -> dict[str, Any]:
            response = self.transport.send(method, url, what=path, content=content, headers=headers)
            try:
                answer = response.json()
            except ValueError as exc:
                raise Unavailable(f"jdy {path} answered what is not JSON") from exc
            if not isinstance(answer, dict) or "errcode" not in answer:
                raise Unavailable(f"jdy {path} answered an unknown shape")
            return answer

        return self.transport.call(attempt, what=path)

    def fetch_token(self) -> None:
        """A new app-token for the tenant (账套级别)."""
        query = {"app_key": self.app_key, "app_signature": hex64(self.app_secret, self.app_key)}
        answer = self._send("GET", self.auth_path, query, None, {})
        data = answer.get("data")
        if answer["errcode"] != 0 or not isinstance(data, dict) or not data.get("app-token"):
            raise Rejected(f"jdy refused the app-token: {answer.get('description')}")
        self.token = str(data["app-token"])
        self.token_fetches += 1

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """One business call; its `data` when errcode is 0, else `Rejected`."""
        for tries in (1, 2):
            if not self.token:
                self.fetch_token()
            extra = {"app-token": self.token, "X-GW-Router-Addr": self.domain}
            answer = self._send(method, path, dict(query or {}), body, extra)
            if answer["errcode"] in self.token_errors and tries == 1:
                self.token = ""
                continue
            if answer["errcode"] != 0:
                raise Rejected(
                    f"jdy refused {method} {path}: {answer.get('description') or 'no reason'}",
                    code=str(answer["errcode"]),
                )
            return answer.get("data")
        raise Unavailable(f"jdy {path}: no app-token accepted")  # pragma: no cover

    def close(self) -> None:
        self.transport.close()
