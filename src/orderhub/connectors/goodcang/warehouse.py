"""A 谷仓 (GoodCang) overseas warehouse as a node: outbound orders, cancels, stock, polls.

GoodCang calls nothing back, so this connector is a `PolledNode`: the hub asks it now and
then what became of the orders it holds, a hundred per get_order_list call. Our dispatch
code is the order's `reference_no`, which GoodCang keeps unique: a create repeated after
a lost answer is refused naming the first order, which is then read by reference and
taken as the same order, so a retried push never makes a second outbound. Returns are not
sent through the hub yet; settings are listed in `settings.py`.
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
from .client import GoodCangClient, Refused
from .consts import PAGE, PROBLEM_STATUSES
from .mapping import create_order_body, polled_events, read_polled
from .settings import GoodCangSettings

__all__ = ["GoodCangWarehouse"]

log = logging.getLogger(__name__)


class GoodCangWarehouse:
    """One GoodCang account and shipping warehouse."""

    platform = "goodcang"

    def __init__(
        self,
        settings: Mapping[str, Any] | GoodCangSettings,
        *,
        client: httpx.Client | None = None,
    ) -> None:
        self.settings = (
            settings if isinstance(settings, GoodCangSettings) else GoodCangSettings.parse(settings)
        )
        s = self.settings
        self._client = GoodCangClient(
            base_url=s.base_url,
            app_token=s.app_token,
            app_key=s.app_key,
            timeout=s.timeout,
            max_retries=s.max_retries,
            client=client,
        )

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        """create_order with our code as `reference_no`; refused because that reference
        is taken, the order already there (not discarded) is ours."""
        body = create_order_body(order, self.settings)
        if not body.get("shipping_method"):
            raise Rejected(
                f"no GoodCang shipping method for {order.code}: set the node's "
                "shipping_method or customs.shipping_methods",
                code="no_shipping_method",
            )
        try:
            return OutboundReceipt(external_id=self._client.create_order(body))
        except Refused:
            existing = self._existing(order.code)
            if existing is None:
                raise
            log.info("GoodCang already has %s as %s", order.code, existing)
            return OutboundReceipt(external_id=existing)

    def _existing(self, code: str) -> str | None:
        """GoodCang's number for our reference, unless it has none or discarded it."""
        try:
            found = self._client.order_by_ref(code)
        except Refused:
            return None
        status = str(found.get("order_status") or "")
        if status in self.settings.cancelled_statuses or not found.get("order_code"):
            return None
        return str(found["order_code"])

    def cancel_outbound(self, *, code: str, reason: str) -> CancelResult:
        """Cancel by our reference: GoodCang's number is looked up first."""
        number = self._existing(code)
        if number is None:
            return CancelResult(cancelled=True)
        return self.cancel_outbound_at(code=code, external_id=number, reason=reason)

    def cancel_outbound_at(self, *, code: str, external_id: str, reason: str) -> CancelResult:
        """cancel_order; refused, the order is read to tell "already discarded" (done)
        from "already left" (an answer, not an error)."""
        try:
            self._client.cancel_order(external_id, reason)
            return CancelResult(cancelled=True)
        except Refused as refused:
            status = str(self._client.order_by_code(external_id).get("order_status") or "")
            if status in self.settings.cancelled_statuses:
                return CancelResult(cancelled=True)
            return CancelResult(cancelled=False, reason=refused.message)

    def create_return(self, order: ReturnOrder) -> OutboundReceipt:
        """Not through the hub yet: GoodCang's return orders are announced in its OMS."""
        raise Rejected(
            "returns to 谷仓 are not sent through the hub yet; announce this one in GoodCang",
            code="returns_not_supported",
        )

    def query_inventory(self, skus: Sequence[str]) -> list[InventoryLevel]:
        """Stock per SKU in our warehouse, every page of it read: sellable as free,
        reserved (waiting to ship) as locked; SKUs GoodCang omits count 0."""
        s = self.settings
        found: dict[str, tuple[int, int]] = {}
        page, seen = 1, 0
        while True:
            rows, count = self._client.inventory(
                {"page": page, "pageSize": PAGE, "warehouse_code": s.warehouse_code}
            )
            for row in rows:
                if str(row.get("warehouse_code") or s.warehouse_code) != s.warehouse_code:
                    continue
                sku = str(row.get("product_sku") or "")
                free, locked = found.get(sku, (0, 0))
                found[sku] = (
                    free + fields.stock_count(row.get("sellable"), "sellable"),
                    locked + fields.stock_count(row.get("reserved"), "reserved"),
                )
            seen += len(rows)
            if not rows or seen >= count:
                break
            page += 1
        return [
            InventoryLevel(
                sku=sku, quantity=found.get(sku, (0, 0))[0], locked=found.get(sku, (0, 0))[1]
            )
            for sku in dict.fromkeys(skus)
        ]

    def poll_events(self, orders: Mapping[str, str]) -> list[NodeEvent]:
        """Shipments (each parcel) and cancellations among these orders (our code →
        order_code), a hundred order codes per call. A failure to reach GoodCang fails the
        poll, which the worker retries."""
        by_number = {number: code for code, number in orders.items()}
        numbers = list(by_number)
        events: list[NodeEvent] = []
        for start in range(0, len(numbers), PAGE):
            chunk = numbers[start : start + PAGE]
            rows, _ = self._client.order_list(
                {"page": 1, "pageSize": PAGE, "order_code_arr": chunk}
            )
            for row in rows:
                code = by_number.get(str(row.get("order_code") or ""))
                if code is None:
                    continue
                if str(row.get("order_status") or "") in PROBLEM_STATUSES:
                    log.warning(
                        "GoodCang holds %s: %s", code, row.get("abnormal_problem_reason") or "?"
                    )
                events += polled_events(code, row, self.settings)
        return events

    def verify_callback(self, query: Mapping[str, str], body: bytes) -> bool:
        """GoodCang calls nothing back, so nothing arriving as a callback is trusted."""
        return False

    def parse_callback(self, query: Mapping[str, str], body: bytes) -> NodeEvent:
        """A stored poll (see `poll_events`) as its event; ValueError when unreadable."""
        return read_polled(body, self.settings)

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        reply = {"ask": "Success" if ok else "Failure", "message": message or "Success"}
        return json.dumps(reply).encode(), "application/json"

    def close(self) -> None:
        """Release the HTTP client."""
        self._client.close()
