"""The only module that talks HTTP to ECLP: one typed function per remote call.

ECLP sits behind JOS, so signing, system parameters, envelopes and error bodies are the
JD shop's (`..jd.client.JosClient`, reused as is); what is ECLP's own is here: the method
names and where each answer sits. An answer without the part it must carry is
`Unavailable`: retrying is safe, since addOrder is idempotent on `isvUUID`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from ..base import Unavailable
from ..jd.client import JosClient
from ..jd.consts import RATE_LIMITED_CODES, RETRYABLE_CODES
from ..kit.envelopes import ErrorCodes
from ..kit.http import Transport
from .consts import Method

__all__ = ["EclpClient"]

P = "ECLP"


class EclpClient:
    """Signed ECLP calls for one app, one merchant's token and one department."""

    def __init__(
        self,
        *,
        gateway: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        timeout: float = 10.0,
        max_retries: int = 2,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._jos = JosClient(
            gateway=gateway,
            app_key=app_key,
            app_secret=app_secret,
            access_token=access_token,
            errors=ErrorCodes(P, rate_limited=RATE_LIMITED_CODES, retryable=RETRYABLE_CODES),
            transport=Transport(P, timeout=timeout, max_retries=max_retries, client=client),
            clock=clock,
        )

    def add_order(self, params: Mapping[str, Any]) -> str:
        """Create a 销售出库单; ECLP's number for it (`eclpSoNo`)."""
        number = str(self._jos.call(Method.ADD_ORDER, params).get("eclpSoNo") or "")
        if not number:
            raise Unavailable(f"{P} addOrder answered without an eclpSoNo")
        return number

    def cancel_order(self, eclp_so_no: str) -> tuple[str, str]:
        """(`cancelorder_result.code`, its `msg`): whether the order was stopped."""
        reply = self._jos.call(Method.CANCEL_ORDER, {"eclpSoNo": eclp_so_no})
        result = reply.get("cancelorder_result")
        if not isinstance(result, dict):
            raise Unavailable(f"{P} cancelOrder answered without a cancelorder_result")
        return str(result.get("code", "")), str(result.get("msg") or "")

    def query_order(self, eclp_so_no: str) -> dict[str, Any]:
        """`queryorder_result`: the order, its goods, waybills and status history."""
        reply = self._jos.call(Method.QUERY_ORDER, {"eclpSoNo": eclp_so_no})
        result = reply.get("queryorder_result")
        if not isinstance(result, dict):
            raise Unavailable(f"{P} queryOrder answered without a queryorder_result")
        return result

    def query_stock(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One page of `querystock_result` rows; none when ECLP has nothing to show."""
        rows = self._jos.call(Method.QUERY_STOCK, params).get("querystock_result") or []
        if not isinstance(rows, list):
            raise Unavailable(f"{P} queryStock answered with a querystock_result not a list")
        return [row for row in rows if isinstance(row, dict)]

    def close(self) -> None:
        self._jos.close()
