"""How the emulated supplier signs, and the thread that acknowledges, ships and calls back.

The HMAC codec is the emulator's own, written from `docs/supplier-api.md`, so that it
checks the hub's connector instead of agreeing with it by construction. The worker
thread plays the supplier's staff: it acknowledges POs and hands parcels to carriers
when their delays have passed, then delivers the owed callbacks to the hub, signed,
retrying with growing delays until the hub answers 2xx with `{"ok": true}` or the
delays run out. A retry sends the same body (with a fresh timestamp), so the hub can
de-duplicate on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from orderhub.sandbox.faults import Faults
from orderhub.sandbox.loop import EmulatorLoop

from .state import Parcel, PurchaseOrder, SupplierState

__all__ = [
    "CallbackWorker",
    "ack_body",
    "check_signature",
    "dump",
    "hmac_signature",
    "shipped_body",
    "wire_time",
]


HEADER_SUPPLIER = "X-Orderhub-Supplier"
HEADER_TIMESTAMP = "X-Orderhub-Timestamp"
HEADER_SIGNATURE = "X-Orderhub-Signature"


def wire_time(moment: datetime) -> str:
    """UTC ISO-8601 with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dump(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def hmac_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + "." + body))."""
    message = f"{timestamp}.".encode("ascii") + body
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def check_signature(
    headers: Mapping[str, str], body: bytes, *, supplier_id: str, secret: str, max_skew: float
) -> str:
    """ "" when the request is signed by the hub for this supplier in time, else the reason.

    `headers` must look names up case-insensitively, as Starlette's `Headers` does.
    """
    if headers.get(HEADER_SUPPLIER) != supplier_id:
        return "unknown supplier id"
    timestamp = headers.get(HEADER_TIMESTAMP) or ""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_skew:
        return "stale"
    given = headers.get(HEADER_SIGNATURE) or ""
    expected = hmac_signature(secret, timestamp, body)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        return "signature"
    return ""


def ack_body(order: PurchaseOrder, moment: datetime) -> bytes:
    """The `acknowledged` callback."""
    return dump({"event": "acknowledged", "po_number": order.po_number, "at": wire_time(moment)})


def shipped_body(order: PurchaseOrder, parcel: Parcel) -> bytes:
    """The `shipped` callback for one parcel; `final` once nothing is left to ship."""
    return dump(
        {
            "event": "shipped",
            "po_number": order.po_number,
            "supplier_ref": order.supplier_ref,
            "shipment_id": parcel.shipment_id,
            "carrier": parcel.carrier,
            "tracking_no": parcel.tracking_no,
            "lines": [
                {"line_no": ln.line_no, "sku": ln.sku, "quantity": ln.quantity}
                for ln in parcel.lines
            ],
            "shipped_at": wire_time(parcel.shipped_at),
            "final": not order.open_lines(),
        }
    )


class CallbackWorker(EmulatorLoop):
    """The supplier's staff and outbox: acknowledges, ships, and calls the hub back."""

    name = "supplier"

    def __init__(
        self,
        state: SupplierState,
        faults: Faults,
        *,
        supplier_id: str,
        secret: str,
        callback_url: str | None,
        retry_delays: Sequence[float],
        tick: float = 0.02,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(tick=tick, timeout=timeout)
        self.state = state
        self.faults = faults
        self.callback_url = callback_url
        self.retry_delays = list(retry_delays)
        self._supplier_id = supplier_id
        self._secret = secret

    def acknowledge(self, po_number: str) -> bool:
        """Acknowledge a received PO now and owe the hub the callback; False if past that."""
        order = self.state.acknowledge(po_number)
        if order is None:
            return False
        self._owe("acknowledged", po_number, ack_body(order, datetime.now(UTC)))
        return True

    def ship(self, po_number: str) -> bool:
        """Ship the next parcel now (acknowledging first if needed); False if nothing left."""
        self.acknowledge(po_number)
        shipped = self.state.ship_next(po_number)
        if shipped is None:
            return False
        order, parcel = shipped
        self._owe("shipped", po_number, shipped_body(order, parcel))
        return True

    def step(self) -> None:
        """One round: acknowledge and ship what is due, then send what is owed."""
        for po_number in self.state.due_acks():
            self.acknowledge(po_number)
        for po_number in self.state.due_parcels():
            self.ship(po_number)
        url = self.callback_url
        if not url or self._http is None:
            return
        batch = self.state.due_deliveries()
        if self.faults.reorder_webhooks:
            batch.reverse()
        for delivery in batch:
            if self._stop.is_set():
                return
            ok, error = self._send(self._http, url, delivery.body)
            self.state.record_attempt(delivery, ok=ok, error=error, retry_delays=self.retry_delays)

    def _owe(self, event: str, ref: str, body: bytes) -> None:
        for _ in range(1 + max(int(self.faults.duplicate_webhooks), 0)):
            self.state.add_delivery(event=event, ref=ref, body=body)
        self.wake()

    def _send(self, http: httpx.Client, url: str, body: bytes) -> tuple[bool, str]:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            HEADER_SUPPLIER: self._supplier_id,
            HEADER_TIMESTAMP: timestamp,
            HEADER_SIGNATURE: hmac_signature(self._secret, timestamp, body),
        }
        try:
            response = http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        if not 200 <= response.status_code < 300:
            return False, f"HTTP {response.status_code}"
        try:
            reply = response.json()
        except ValueError:
            return False, "unreadable reply"
        if isinstance(reply, dict) and reply.get("ok") is True:
            return True, ""
        return False, f"not ok: {response.text[:200]}"
