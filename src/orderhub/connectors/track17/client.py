"""The only module that talks HTTP to 17TRACK: the `17token` header, JSON arrays, answers.

Every call is a POST of a JSON array (at most 40 items) with the account's API key in
the header `17token`. The answer is `{"code": 0, "data": {"accepted": [...],
"rejected": [{"number", "error": {"code", "message"}}]}}`: one rejection per refused
item. A call refused whole (a wrong key, too many items, too many calls) has a
non-zero `code` and `data.errors[{code, message}]`, with HTTP 401 when the key or the
caller's address is not taken.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ..base import ConnectorError, Rejected, Unavailable
from ..kit import bounded_json
from ..kit.http import Transport
from .consts import BATCH_LIMIT, ERRORS, REGISTER_PATH, TOKEN_HEADER, TRACKINFO_PATH

__all__ = ["Batch", "Refusal", "Track17Client"]

P = "17TRACK"


@dataclass(frozen=True)
class Refusal:
    """One item 17TRACK did not take, in its words."""

    number: str
    code: int
    message: str

    def error(self, what: str) -> ConnectorError:
        """The connector error for this refusal (a daily limit is "later", not "no")."""
        return ERRORS.error(str(self.code), f"{P} refused {what} of {self.number}: {self.message}")


@dataclass(frozen=True)
class Batch:
    """The items taken and the items refused by one call."""

    accepted: list[dict[str, Any]]
    rejected: list[Refusal]


class Track17Client:
    """Calls for one 17TRACK account."""

    def __init__(self, *, base_url: str, api_key: str, transport: Transport) -> None:
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._transport = transport

    def register(self, items: Sequence[Mapping[str, Any]]) -> Batch:
        """Follow these numbers; 17TRACK pushes their news from now on."""
        return self._batch(REGISTER_PATH, items, "register")

    def track_info(self, items: Sequence[Mapping[str, Any]]) -> Batch:
        """What 17TRACK knows of these numbers now (free: no quota is used)."""
        return self._batch(TRACKINFO_PATH, items, "gettrackinfo")

    def close(self) -> None:
        self._transport.close()

    def _batch(self, path: str, items: Sequence[Mapping[str, Any]], what: str) -> Batch:
        if not 1 <= len(items) <= BATCH_LIMIT:
            raise ValueError(f"{P} takes 1 to {BATCH_LIMIT} numbers a call, not {len(items)}")
        data = self._call(path, [dict(item) for item in items], what)
        accepted = [a for a in _list(data.get("accepted")) if isinstance(a, dict)]
        rejected = [_refusal(r) for r in _list(data.get("rejected")) if isinstance(r, dict)]
        return Batch(accepted, rejected)

    def _call(self, path: str, payload: list[dict[str, Any]], what: str) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            reply = self._transport.send(
                "POST",
                self._base + path,
                what=what,
                json=payload,
                headers={TOKEN_HEADER: self._key},
            )
            return _data(reply, what)

        return self._transport.call(once, what=what)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _refusal(item: dict[str, Any]) -> Refusal:
    error = item.get("error")
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    return Refusal(
        number=str(item.get("number") or ""),
        code=code if isinstance(code, int) else 0,
        message=str(error.get("message") or "no reason given"),
    )


def _data(reply: httpx.Response, what: str) -> dict[str, Any]:
    """The answer's `data` when the call was taken; the connector error otherwise."""
    status = reply.status_code
    try:
        body = bounded_json.loads(reply.content)
    except ValueError as exc:
        if status == 200:
            raise Unavailable(f"{P} answered {what} with no JSON", status_code=status) from exc
        raise Rejected(f"{P} refused {what} with HTTP {status}", status_code=status) from exc
    if not isinstance(body, dict):
        raise Unavailable(f"{P} answered {what} with {type(body).__name__}", status_code=status)
    data = body.get("data")
    if body.get("code") == 0 and status == 200:
        if not isinstance(data, dict):
            raise Unavailable(f"{P} answered {what} with no data", status_code=status)
        return data
    errors = _list(data.get("errors")) if isinstance(data, dict) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = first.get("code", body.get("code"))
    message = str(first.get("message") or body.get("message") or f"HTTP {status}")
    raise ERRORS.error(str(code), f"{P} refused {what}: {message}", status=status)
