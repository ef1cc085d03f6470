"""The only module that talks HTTP to GoodCang: one typed function per remote call.

REST V1: POST JSON to `/public_open/<path>` with `app-token` and `app-key` headers. Every
answer carries `ask`; anything but Success is `Rejected` with GoodCang's `errCode` and
message. An answer that is not JSON, or lacks what it must carry, is `Unavailable`: the
calls are safe to repeat (create_order is unique on `reference_no`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from ..base import Rejected, Unavailable
from ..kit.http import Transport
from .consts import SUCCESS, Path

__all__ = ["GoodCangClient", "Refused"]

P = "GoodCang"


class Refused(Rejected):
    """GoodCang said Failure; `order_code` is the order it names, if any."""

    def __init__(self, message: str, *, code: str, order_code: str = "") -> None:
        super().__init__(message, code=code)
        self.order_code = order_code


class GoodCangClient:
    """Calls for one GoodCang account."""

    def __init__(
        self,
        *,
        base_url: str,
        app_token: str,
        app_key: str,
        timeout: float = 10.0,
        max_retries: int = 2,
        client: httpx.Client | None = None,
    ) -> None:
        self._base = base_url.rstrip("/") + "/public_open/"
        self._headers = {"app-token": app_token, "app-key": app_key}
        self._transport = Transport(P, timeout=timeout, max_retries=max_retries, client=client)

    def call(self, path: Path, body: Mapping[str, Any]) -> dict[str, Any]:
        """One call with the kit's short retries; the whole answer when `ask` is Success."""
        return self._transport.call(lambda: self._once(path, body), what=str(path))

    def _once(self, path: Path, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self._transport.send(
            "POST", self._base + path, what=str(path), json=dict(body), headers=self._headers
        )
        try:
            answer = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Unavailable(f"{P} {path} answered with a body that is not JSON") from exc
        if not isinstance(answer, dict):
            raise Unavailable(f"{P} {path} answered with JSON that is not an object")
        if answer.get("ask") == SUCCESS:
            return answer
        found = answer.get("Error")
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        message = str(answer.get("message") or error.get("errMessage") or "refused")
        code = str(error.get("errCode") or answer.get("errCode") or "")
        raise Refused(
            f"{P} {path}: {message}", code=code, order_code=str(answer.get("order_code") or "")
        )

    def create_order(self, body: Mapping[str, Any]) -> str:
        """Create an outbound order; GoodCang's `order_code` for it."""
        number = str(self.call(Path.CREATE_ORDER, body).get("order_code") or "")
        if not number:
            raise Unavailable(f"{P} create_order answered without an order_code")
        return number

    def cancel_order(self, order_code: str, reason: str) -> dict[str, Any]:
        """Ask GoodCang to discard an order; Refused when it cannot (already left)."""
        return self.call(Path.CANCEL_ORDER, {"order_code": order_code, "reason": reason})

    def order_by_ref(self, reference_no: str) -> dict[str, Any]:
        """One order by our reference number; Refused when GoodCang has none."""
        return self._data(Path.ORDER_BY_REF, {"reference_no": reference_no})

    def order_by_code(self, order_code: str) -> dict[str, Any]:
        return self._data(Path.ORDER_BY_CODE, {"order_code": order_code})

    def order_list(self, body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """One page of orders and the total count."""
        answer = self.call(Path.ORDER_LIST, body)
        return _rows(answer.get("data")), int(answer.get("count") or 0)

    def inventory(self, body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """One page of stock rows and the total count."""
        answer = self.call(Path.INVENTORY, body)
        return _rows(answer.get("data")), int(answer.get("count") or 0)

    def close(self) -> None:
        self._transport.close()

    def _data(self, path: Path, body: Mapping[str, Any]) -> dict[str, Any]:
        data = self.call(path, body).get("data")
        if not isinstance(data, dict):
            raise Unavailable(f"{P} {path} answered without its data object")
        return data


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []
