"""A 4PX 递四方 (or 菜鸟 GFN) overseas warehouse as a node: outbound consignments,
cancels, stock and polls.

4PX calls nothing back, so this connector is a `PolledNode`. A poll lists the
consignments created within the last `poll_days` (getlist's longest range), a page of
500 at a time, and keeps ours; an order older than that is asked for by its ref_no.
Both create and cancel name the order by our code (`ref_no`), so a create sent again
finds the consignment the first one made. Returns are not sent through the hub yet.
"""

from __future__ import annotations

import json
import logging
import time
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
from .client import FourpxClient
from .consts import PAGE_SIZE, REPEAT_CANCEL_CODES, SHIPPED_CODES, SKU_BATCH, Method
from .mapping import create_body, polled_events, read_polled
from .settings import FourpxSettings

__all__ = ["FourpxWarehouse"]

log = logging.getLogger(__name__)

DAY_MS = 86400 * 1000


class FourpxWarehouse:
    """One 4PX account and warehouse."""

    platform = "fourpx"

    def __init__(
        self, settings: Mapping[str, Any] | FourpxSettings, *, client: httpx.Client | None = None
    ) -> None:
        self.settings = (
            settings if isinstance(settings, FourpxSettings) else FourpxSettings.parse(settings)
        )
        s = self.settings
        self._client = FourpxClient(
            gateway=s.gateway,
            app_key=s.app_key,
            app_secret=s.app_secret,
            version=s.version,
            timeout=s.timeout,
            max_retries=s.max_retries,
            client=client,
        )

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        """outbound.create with our code as ref_no; a ref_no 4PX already has (a retried
        push whose first answer was lost) is the same order, found by ref_no."""
        try:
            data = self._client.create(create_body(order, self.settings))
        except Rejected as exc:
            if exc.code not in self.settings.duplicate_ref_codes:
                raise
            row = self._by_ref(order.code)
            if row is None:
                raise
            return OutboundReceipt(external_id=str(row.get("consignment_no") or ""))
        return OutboundReceipt(external_id=str(data["consignment_no"]))

    def cancel_outbound(self, *, code: str, reason: str) -> CancelResult:
        """outbound.cancel by ref_no; "it already left" is an answer, not an error."""
        body = {"ref_no": code, "cancel_type": self.settings.cancel_type}
        if reason:
            body["cancel_remark"] = reason[:200]
        try:
            self._client.cancel(body)
        except Rejected as exc:
            if exc.code in REPEAT_CANCEL_CODES:
                return CancelResult(cancelled=True)
            if exc.code in SHIPPED_CODES:
                return CancelResult(cancelled=False, reason=exc.message)
            raise
        return CancelResult(cancelled=True)

    def create_return(self, order: ReturnOrder) -> OutboundReceipt:
        """Not through the hub yet: 4PX returns are announced in 4PX's own system."""
        raise Rejected(
            "returns to 4PX are not sent through the hub yet; announce this one at 4PX",
            code="returns_not_supported",
        )

    def query_inventory(self, skus: Sequence[str]) -> list[InventoryLevel]:
        """Good stock per SKU in our warehouse, 100 SKUs per call and 500 rows a page:
        available as free, pending (promised to consignments) as locked; SKUs 4PX omits
        count 0."""
        s = self.settings
        wanted = list(dict.fromkeys(skus))
        found: dict[str, tuple[int, int]] = {}
        for start in range(0, len(wanted), SKU_BATCH):
            query = {
                "warehouse_code": s.warehouse_code,
                "lstsku": wanted[start : start + SKU_BATCH],
            }
            for row in self._all(Method.INVENTORY, query):
                sku = str(row.get("sku_code") or "")
                if str(row.get("warehouse_code") or s.warehouse_code) != s.warehouse_code:
                    continue
                if str(row.get("stock_quality") or "G") != "G":
                    continue
                free, locked = found.get(sku, (0, 0))
                found[sku] = (
                    free + fields.stock_count(row.get("available_stock"), "available_stock"),
                    locked + fields.stock_count(row.get("pending_stock"), "pending_stock"),
                )
        return [
            InventoryLevel(
                sku=sku, quantity=found.get(sku, (0, 0))[0], locked=found.get(sku, (0, 0))[1]
            )
            for sku in wanted
        ]

    def poll_events(self, orders: Mapping[str, str]) -> list[NodeEvent]:
        """Shipped parcels and cancellations among these orders (our code → consignment
        no), from one paged listing; an order the listing misses is asked by ref_no."""
        now = int(time.time() * 1000)
        window = {
            "from_warehouse_code": self.settings.warehouse_code,
            "create_time_start": now - self.settings.poll_days * DAY_MS,
            "create_time_end": now,
        }
        rows = {
            str(row.get("ref_no") or ""): row
            for row in self._all(Method.LIST, window)
            if str(row.get("ref_no") or "") in orders
        }
        events = []
        for code in orders:
            row = rows.get(code)
            if row is None:
                try:
                    row = self._by_ref(code)
                except Rejected as exc:
                    log.warning("4PX would not show %s: %s", code, exc.message)
                    continue
            if row is not None:
                events += polled_events(code, row, self.settings)
        return events

    def _by_ref(self, code: str) -> dict[str, Any] | None:
        rows, _ = self._client.page(Method.LIST, {"ref_no": code, "page_size": PAGE_SIZE})
        return next((row for row in rows if str(row.get("ref_no") or "") == code), None)

    def _all(self, method: Method, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every row of a paged query, page by page until the total is reached."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            rows, total = self._client.page(
                method, {**query, "page_no": page, "page_size": PAGE_SIZE}
            )
            found += rows
            if not rows or len(found) >= total:
                return found
            page += 1

    def verify_callback(self, query: Mapping[str, str], body: bytes) -> bool:
        """4PX calls nothing back, so nothing arriving as a callback is trusted."""
        return False

    def parse_callback(self, query: Mapping[str, str], body: bytes) -> NodeEvent:
        """A stored poll (see `poll_events`) as its event; ValueError when unreadable."""
        return read_polled(body, self.settings)

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        reply = {"result": "1" if ok else "0", "msg": message or ("success" if ok else "error")}
        return json.dumps(reply).encode(), "application/json;charset=UTF-8"

    def close(self) -> None:
        """Release the HTTP client."""
        self._client.close()
