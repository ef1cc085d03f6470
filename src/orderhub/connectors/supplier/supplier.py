"""A drop-ship supplier (一件代发) that implements our published JSON API, as a NodeConnector.

The hub sends purchase orders, cancels and stock queries; the supplier calls back with
`acknowledged` and `shipped` events, signed like our requests. A supplier whose settings
say `batch_create` takes many purchase orders per call (`POST /purchase-orders/batch`).
Returns are not part of the API: goods going back to a supplier are arranged by hand,
so `create_return` is refused with `returns_not_supported`.

Callbacks are authenticated by headers. `verify_callback` reads them from the `query`
mapping it is given, by name and case-insensitively, so the hub's callback route must
merge the request headers `X-Orderhub-Supplier`, `X-Orderhub-Timestamp` and
`X-Orderhub-Signature` into that mapping.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from ..base import (
    CancelResult,
    ConnectorError,
    InventoryLevel,
    NodeEvent,
    OutboundOrder,
    OutboundReceipt,
    Rejected,
    ReturnOrder,
    ShipmentConfirmed,
    ShipmentLine,
    Unavailable,
)
from ..kit import bounded_json, fields
from ..kit.settings import setting, whole_number, yes_no
from . import sign as ssign
from .client import SupplierClient, encode, refusal
from .consts import (
    CONTENT_TYPE,
    DEFAULT_BATCH_SIZE,
    HEADER_SIGNATURE,
    HEADER_SUPPLIER,
    HEADER_TIMESTAMP,
    MAX_BATCH_SIZE,
    MAX_SKEW_SECONDS,
    PURCHASE_ORDERS_BATCH_PATH,
    RETURNS_NOT_SUPPORTED,
    BatchStatus,
    ErrorCode,
    Event,
)

__all__ = ["ApiSupplier", "SupplierSettings", "format_time", "parse_time"]

_REQUIRED = ("base_url", "supplier_id", "secret")
_STOCK_PAGE = 100
_TAKEN = frozenset({BatchStatus.CREATED, BatchStatus.EXISTS})


def format_time(moment: datetime) -> str:
    """UTC ISO-8601 with a Z, to the second: `2024-06-01T08:30:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An ISO-8601 time from a supplier as aware UTC; a time without offset is read as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO-8601 time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_BATCH_SIZE = whole_number(1, MAX_BATCH_SIZE)


@dataclass(frozen=True)
class SupplierSettings:
    """One supplier's API settings; the secret never shows in a repr or a log."""

    base_url: str
    supplier_id: str
    secret: str = field(repr=False)
    timeout: float = 10.0
    max_retries: int = 2
    retry_backoff: float = 0.25
    max_skew: float = MAX_SKEW_SECONDS
    batch_create: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> SupplierSettings:
        """Read and check settings: base_url, supplier_id and secret are required.

        Optional: timeout, max_retries, retry_backoff, max_skew (seconds a callback's
        timestamp may differ from our clock), batch_create (send purchase orders many
        at a time through `POST /purchase-orders/batch`, for a supplier that takes it)
        and batch_size (POs per such call, 50; at most 100, or the supplier's own
        lower limit).
        """
        for key in _REQUIRED:
            if not str(settings.get(key) or "").strip():
                raise ValueError(f"The supplier API setting {key!r} is required but missing.")
        return cls(
            base_url=str(settings["base_url"]),
            supplier_id=str(settings["supplier_id"]),
            secret=str(settings["secret"]),
            timeout=float(settings.get("timeout", 10.0)),
            max_retries=int(settings.get("max_retries", 2)),
            retry_backoff=float(settings.get("retry_backoff", 0.25)),
            max_skew=float(settings.get("max_skew", MAX_SKEW_SECONDS)),
            batch_create=setting(
                settings, "batch_create", yes_no, False, platform="The supplier API"
            ),
            batch_size=setting(
                settings, "batch_size", _BATCH_SIZE, DEFAULT_BATCH_SIZE, platform="The supplier API"
            ),
        )


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _header(mapping: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in mapping.items():
        if key.lower() == wanted:
            return str(value)
    return ""


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return str(value).strip() if value is not None else ""


def _required(data: Mapping[str, Any], key: str, what: str) -> str:
    value = _text(data, key)
    if not value:
        raise ValueError(f"The {what} callback has no {key}.")
    return value


def _quantity(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{where}.quantity is not a whole number: {value!r}")
    quantity = fields.units(value, f"{where}.quantity")
    if quantity <= 0:
        raise ValueError(f"{where}.quantity must be positive, not {quantity}")
    return quantity


def _shipment_lines(value: Any) -> list[ShipmentLine]:
    if not isinstance(value, list) or not value:
        raise ValueError("The shipped callback has no lines.")
    lines = []
    for index, row in enumerate(value):
        where = f"lines[{index}]"
        if not isinstance(row, dict):
            raise ValueError(f"{where} is not an object")
        sku = _text(row, "sku")
        if not sku:
            raise ValueError(f"{where} has no sku")
        line_no = _text(row, "line_no") or None
        lines.append(
            ShipmentLine(sku=sku, quantity=_quantity(row.get("quantity"), where), line_no=line_no)
        )
    return lines


def _outcome(po_number: str, row: Mapping[str, Any] | None) -> OutboundReceipt | ConnectorError:
    """One PO's outcome from its result in a batch answer; None when it is not listed."""
    status = _text(row, "status") if row is not None else ""
    if row is not None and status in _TAKEN:
        return OutboundReceipt(external_id=_text(row, "supplier_ref") or po_number)
    if row is not None and status == BatchStatus.REFUSED:
        return refusal(row, f"purchase order {po_number}")
    said = f"answered {status!r}" if row is not None else "did not answer"
    return Unavailable(f"supplier POST {PURCHASE_ORDERS_BATCH_PATH} {said} for {po_number}")


class ApiSupplier:
    """A supplier that speaks the orderhub supplier API: POs, cancels, stock, callbacks."""

    platform = "supplier_api"

    def __init__(
        self,
        settings: Mapping[str, Any] | SupplierSettings,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = (
            settings
            if isinstance(settings, SupplierSettings)
            else SupplierSettings.from_mapping(settings)
        )
        s = self.settings
        self._clock = clock
        self._client = SupplierClient(
            base_url=s.base_url,
            supplier_id=s.supplier_id,
            secret=s.secret,
            timeout=s.timeout,
            max_retries=s.max_retries,
            retry_backoff=s.retry_backoff,
            client=client,
            sleep=sleep,
            clock=clock,
        )

    @property
    def outbound_batch(self) -> int:
        """POs per call: `batch_size` with `batch_create` set, else one."""
        return self.settings.batch_size if self.settings.batch_create else 1

    def create_outbounds(
        self, orders: Sequence[OutboundOrder]
    ) -> list[OutboundReceipt | ConnectorError]:
        """Send many POs in one `POST /purchase-orders/batch`.

        Each order's outcome is its result, found by `po_number`: `created` or `exists`
        is taken (with the supplier's `supplier_ref`, or the PO number), `refused` is the
        `Rejected` a single create would have raised with that error. A PO the answer
        does not list, or lists with a status we do not know, is to be sent again
        (Unavailable), which the supplier de-duplicates on its number.
        """
        if not orders:
            return []
        reply = self._client.create_purchase_orders([self.purchase_order(o) for o in orders])
        results = reply.get("results")
        listed = results if isinstance(results, list) else []
        rows = {_text(row, "po_number"): row for row in listed if isinstance(row, dict)}
        return [_outcome(order.code, rows.get(order.code)) for order in orders]

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        """Send the PO; the supplier de-duplicates on `po_number` (= `order.code`).

        The receipt carries the supplier's `supplier_ref`, or the PO number when the
        supplier gives none back.
        """
        reply = self._client.create_purchase_order(self.purchase_order(order))
        return OutboundReceipt(external_id=_text(reply, "supplier_ref") or order.code)

    def purchase_order(self, order: OutboundOrder) -> dict[str, Any]:
        """The JSON purchase order for a routed sales order, as documented for suppliers."""
        return {
            "po_number": order.code,
            "sales_order": {
                "shop": order.shop_code,
                "platform": order.platform,
                "channel_order_id": order.channel_order_id,
                "placed_at": format_time(order.placed_at),
                "paid_at": format_time(order.paid_at) if order.paid_at else None,
            },
            "ship_to": {
                "name": order.receiver_name,
                "phone": order.receiver_phone,
                "country": order.country,
                "province": order.province,
                "city": order.city,
                "district": order.district,
                "address": order.address,
                "postcode": order.postcode,
            },
            "lines": [
                {
                    "line_no": line.line_no,
                    "sku": line.sku,
                    "title": line.title,
                    "quantity": line.quantity,
                    "unit_price": _money(line.unit_price),
                }
                for line in order.lines
            ],
            "currency": order.currency,
            "remark": order.seller_remark,
            "buyer_remark": order.buyer_remark,
            "created_at": format_time(datetime.fromtimestamp(self._clock(), UTC)),
        }

    def cancel_outbound(self, *, code: str, reason: str) -> CancelResult:
        """Cancel at the supplier; "too late, it shipped" (409) is an answer, not an error."""
        try:
            reply = self._client.cancel_purchase_order(code, reason=reason)
        except Rejected as exc:
            if exc.code == ErrorCode.ALREADY_SHIPPED:
                return CancelResult(cancelled=False, reason=exc.message)
            raise
        if reply.get("cancelled") is True:
            return CancelResult(cancelled=True)
        return CancelResult(cancelled=False, reason=_text(reply, "reason") or "refused")

    def create_return(self, order: ReturnOrder) -> OutboundReceipt:
        """Always refused: the API has no returns; a person arranges them with the supplier."""
        raise Rejected(
            f"return {order.code}: suppliers on the API take returns by hand, not through it",
            code=RETURNS_NOT_SUPPORTED,
        )

    def query_inventory(self, skus: Sequence[str]) -> list[InventoryLevel]:
        """Available units per SKU as the supplier counts them; SKUs it omits count 0."""
        wanted = list(dict.fromkeys(skus))
        totals = dict.fromkeys(wanted, 0)
        for start in range(0, len(wanted), _STOCK_PAGE):
            reply = self._client.stock(wanted[start : start + _STOCK_PAGE])
            items = reply.get("items")
            for item in items if isinstance(items, list) else []:
                sku = _text(item, "sku") if isinstance(item, dict) else ""
                if sku not in totals:
                    continue
                totals[sku] = fields.stock_count(item.get("available"), f"{sku}: available")
        return [InventoryLevel(sku=sku, quantity=qty) for sku, qty in totals.items()]

    def verify_callback(self, query: Mapping[str, str], body: bytes) -> bool:
        """True when the callback names our supplier id and is signed with our secret in time.

        The three `X-Orderhub-*` headers are looked up in `query` case-insensitively.
        """
        s = self.settings
        supplier = _header(query, HEADER_SUPPLIER)
        if not hmac.compare_digest(supplier.encode(), s.supplier_id.encode()):
            return False
        return ssign.verify(
            s.secret,
            timestamp=_header(query, HEADER_TIMESTAMP),
            signature=_header(query, HEADER_SIGNATURE),
            body=body,
            now=self._clock(),
            max_skew=s.max_skew,
        )

    def parse_callback(self, query: Mapping[str, str], body: bytes) -> NodeEvent:
        """A verified callback as a NodeEvent; ValueError when it cannot be read.

        `acknowledged` → `NodeEvent(acknowledged=po_number)`; `shipped` → a
        ShipmentConfirmed whose `confirm_id` is the supplier's `shipment_id`; any other
        event is passed on with only `method` and `raw`.
        """
        try:
            data = bounded_json.loads(body)
        except ValueError as exc:
            raise ValueError(f"The supplier callback is not JSON the hub can read: {exc}.") from exc
        if not isinstance(data, dict):
            raise ValueError("The supplier callback is not a JSON object.")
        event = _text(data, "event")
        if not event:
            raise ValueError("The supplier callback has no event.")
        if event == Event.ACKNOWLEDGED:
            po_number = _required(data, "po_number", event)
            return NodeEvent(method=event, acknowledged=po_number, raw=data)
        if event == Event.SHIPPED:
            return NodeEvent(method=event, shipment=self._shipment(data), raw=data)
        return NodeEvent(method=event, raw=data)

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        """`{"ok": true}`; a false `ok` (sent with a non-2xx status) makes the supplier retry."""
        reply: dict[str, Any] = {"ok": ok}
        if message:
            reply["message"] = message
        return encode(reply), CONTENT_TYPE

    def close(self) -> None:
        """Release the HTTP client."""
        self._client.close()

    @staticmethod
    def _shipment(data: Mapping[str, Any]) -> ShipmentConfirmed:
        what = Event.SHIPPED.value
        po_number = _required(data, "po_number", what)
        tracking_no = _required(data, "tracking_no", what)
        shipped_at = _text(data, "shipped_at")
        final = data.get("final", True)
        if not isinstance(final, bool):
            raise ValueError(f"The shipped callback's final is not true or false: {final!r}")
        return ShipmentConfirmed(
            code=po_number,
            carrier=_required(data, "carrier", what),
            tracking_no=tracking_no,
            lines=_shipment_lines(data.get("lines")),
            confirm_id=_text(data, "shipment_id") or f"{po_number}:{tracking_no}",
            final=final,
            shipped_at=parse_time(shipped_at) if shipped_at else None,
        )
