"""A 京东云仓 (ECLP) department as a node: outbound orders, cancels, stock and polls.

ECLP calls nothing back over HTTP, so this connector is a `PolledNode`: the hub asks it
now and then what became of the orders it holds. It asks with queryOrder, one call per
order, because that answer carries the status history, the carrier and the waybills
together (queryOrderStatus has the history only, so a shipment would cost a second call).
Once it took an order ECLP knows it by its own number (`eclpSoNo`, the receipt's
external id), so a cancel goes through `cancel_outbound_at`. Returns are not sent
through the hub yet; settings are listed in `settings.py`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ..base import (
    CancelResult,
    InventoryLevel,
    NodeEvent,
    OutboundOrder,
    OutboundReceipt,
    Rejected,
    ReturnOrder,
)
from ..kit import fields
from .client import EclpClient
from .consts import STOCK_PAGE
from .mapping import add_order_params, polled_event, read_polled
from .settings import EclpSettings

__all__ = ["EclpWarehouse"]

log = logging.getLogger(__name__)


class EclpWarehouse:
    """One ECLP department and warehouse, reached through JOS."""

    platform = "eclp"

    def __init__(
        self, settings: Mapping[str, Any] | EclpSettings, *, client: httpx.Client | None = None
    ) -> None:
        self.settings = (
            settings if isinstance(settings, EclpSettings) else EclpSettings.parse(settings)
        )
        s = self.settings
        self._client = EclpClient(
            gateway=s.gateway,
            app_key=s.app_key,
            app_secret=s.app_secret,
            access_token=s.access_token,
            timeout=s.timeout,
            max_retries=s.max_retries,
            client=client,
        )

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        """addOrder with our code as `isvUUID`: sent again, ECLP gives the same number."""
        number = self._client.add_order(add_order_params(order, self.settings))
        return OutboundReceipt(external_id=number)

    def cancel_outbound(self, *, code: str, reason: str) -> CancelResult:
        """ECLP cancels by its own number only, which `cancel_outbound_at` is given."""
        raise Rejected(
            f"ECLP cancels an order by its own number (eclpSoNo), and none is known for {code}",
            code="no_eclp_number",
        )

    def cancel_outbound_at(self, *, code: str, external_id: str, reason: str) -> CancelResult:
        """cancelOrder; "it already left" is an answer (not cancelled), not an error."""
        status, message = self._client.cancel_order(external_id)
        if status in self.settings.cancel_ok_codes:
            return CancelResult(cancelled=True)
        return CancelResult(cancelled=False, reason=message or f"ECLP answered code {status}")

    def create_return(self, order: ReturnOrder) -> OutboundReceipt:
        """Not through the hub yet: ECLP's return orders are announced in ECLP itself."""
        raise Rejected(
            "returns to 京东云仓 are not sent through the hub yet; announce this one in ECLP",
            code="returns_not_supported",
        )

    def query_inventory(self, skus: Sequence[str]) -> list[InventoryLevel]:
        """Sellable stock per SKU in our warehouse, one queryStock per SKU by merchant
        code: usable as free, the rest of the total as locked; SKUs ECLP omits count 0."""
        s = self.settings
        levels = []
        for sku in dict.fromkeys(skus):
            rows = self._client.query_stock(
                {
                    "deptNo": s.department_no,
                    "warehouseNo": s.warehouse_no,
                    "stockStatus": s.stock_status,
                    "stockType": s.stock_type,
                    s.stock_sku_param: sku,
                    "currentPage": 1,
                    "pageSize": STOCK_PAGE,
                }
            )
            total = usable = 0
            for row in rows:
                if str(row.get("warehouseNo") or s.warehouse_no) != s.warehouse_no:
                    continue
                total += fields.stock_count(row.get("totalNum"), "totalNum")
                usable += fields.stock_count(row.get("usableNum"), "usableNum")
            levels.append(InventoryLevel(sku=sku, quantity=usable, locked=max(total - usable, 0)))
        return levels

    def poll_events(self, orders: Mapping[str, str]) -> list[NodeEvent]:
        """Shipments and cancellations among these orders (our code → eclpSoNo). An order
        ECLP refuses to show is logged and left for the next poll; a failure to reach
        ECLP fails the poll, which the worker retries."""
        events = []
        for code, number in orders.items():
            try:
                result = self._client.query_order(number)
            except Rejected as exc:
                log.warning("ECLP would not show %s (%s): %s", code, number, exc.message)
                continue
            event = polled_event(code, result, self.settings)
            if event is not None:
                events.append(event)
        return events

    def verify_callback(self, query: Mapping[str, str], body: bytes) -> bool:
        """ECLP calls nothing back, so nothing arriving as a callback is trusted."""
        return False

    def parse_callback(self, query: Mapping[str, str], body: bytes) -> NodeEvent:
        """A stored poll (see `poll_events`) as its event; ValueError when unreadable."""
        return read_polled(body, self.settings)

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        reply = {"code": "0" if ok else "1", "msg": message or ("success" if ok else "error")}
        return json.dumps(reply).encode(), "application/json;charset=utf-8"

    def close(self) -> None:
        """Release the HTTP client."""
        self._client.close()
