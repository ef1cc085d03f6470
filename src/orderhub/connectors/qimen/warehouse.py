"""A warehouse reached through the Qimen standard interface, as a NodeConnector.

The hub sends delivery orders, return orders, cancels and stock queries; the WMS calls
back with `deliveryorder.confirm` (shipped, with carrier and tracking number),
`returnorder.confirm` (goods back, good or defective) and `stockchange.report`.
Settings are plain keys so a seller can configure a warehouse without code; see
`QimenSettings.from_mapping` for the list.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    StockChange,
    Unavailable,
)
from ..kit import fields
from . import sign as qsign
from .client import QimenClient
from .consts import (
    CONTENT_TYPE,
    DEFAULT_PLATFORM_CODE,
    FLAG_FAILURE,
    HUB_FAILURE_CODE,
    SIGN_METHOD,
    SUCCESS_CODE,
    DeliveryStatus,
    InventoryType,
    Method,
    OrderType,
)
from .returns import return_received, return_request
from .settings import QimenSettings
from .xml import build_response, format_time, parse, parse_time, to_dict

__all__ = ["QimenWarehouse"]

# Outbound order types whose stock movement a deliveryorder.confirm already reports.
_SHIPMENT_ORDER_TYPES = frozenset({"JYCK", "HHCK", "BFCK"})


def _stock_change(item: Mapping[str, Any]) -> StockChange:
    """One `stockchange.report` item; unreadable quantities raise ValueError."""
    sku = str(item.get("itemCode") or "").strip()
    if not sku:
        raise ValueError("A stockchange.report item has no itemCode.")
    delta = fields.units(
        item.get("quantity"), f"stockchange.report quantity for {sku}", signed=True
    )
    kind = str(item.get("orderType") or "OTHER")
    return StockChange(
        sku=sku,
        delta=delta,
        kind=kind,
        reference=str(item.get("outBizCode") or item.get("orderCode") or ""),
        by_shipment=kind in _SHIPMENT_ORDER_TYPES,
    )


_GATEWAY_PREFIX = "taobao.qimen."
_QUERY_PAGE = 100


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def _int(value: Any, name: str) -> int:
    """A count of units the warehouse wrote, missing meaning none."""
    return fields.units(value, name, empty=0, signed=True)


def _dicts(value: Any) -> list[dict[str, Any]]:
    """A parsed list (or a lone item) as a list of dicts, skipping text noise."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


class QimenWarehouse:
    """A WMS that speaks Qimen: create/cancel outbound, query stock, read its callbacks."""

    platform = "qimen"

    def __init__(
        self,
        settings: Mapping[str, Any] | QimenSettings,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = (
            settings
            if isinstance(settings, QimenSettings)
            else QimenSettings.from_mapping(settings)
        )
        s = self.settings
        self._clock = clock
        self._client = QimenClient(
            base_url=s.base_url,
            app_key=s.app_key,
            app_secret=s.app_secret,
            customer_id=s.customer_id,
            zone=s.zone,
            method_prefix=s.method_prefix,
            content_type=s.content_type,
            timeout=s.timeout,
            max_retries=s.max_retries,
            retry_backoff=s.retry_backoff,
            retry_codes=s.retry_codes,
            client=client,
            sleep=sleep,
            clock=clock,
        )

    @property
    def outbound_batch(self) -> int:
        """Delivery orders per call: `batch_size` with `batch_create` set, else one."""
        return self.settings.batch_size if self.settings.batch_create else 1

    def create_outbounds(
        self, orders: Sequence[OutboundOrder]
    ) -> list[OutboundReceipt | ConnectorError]:
        """Send many JYCK delivery orders in one `deliveryorder.batchcreate`.

        Each order's outcome is read from its row in the reply's `orders`: a failure
        row maps its code as a whole call's would, any other row is taken (with its
        `deliveryOrderId`, or our code). An order the reply does not list was taken
        when the reply's flag is success; after a failure it is to be sent again
        (Unavailable), which the WMS de-duplicates on its code.
        """
        if not orders:
            return []
        request = {"orders": [self.delivery_order(order) for order in orders]}
        reply = self._client.deliveryorder_batchcreate(request)
        rows = {
            str(row.get("deliveryOrderCode") or ""): row
            for row in _dicts(reply.fields.get("orders") or [])
        }
        outcomes: list[OutboundReceipt | ConnectorError] = []
        for order in orders:
            row = rows.get(order.code)
            if row is None:
                outcomes.append(
                    OutboundReceipt(external_id=order.code)
                    if reply.ok
                    else Unavailable(
                        f"Qimen deliveryorder.batchcreate did not say whether it took "
                        f"{order.code}: {reply.message or reply.code}"
                    )
                )
                continue
            external = str(row.get("deliveryOrderId") or "")
            flag = str(row.get("flag") or "")
            if flag == FLAG_FAILURE or (not flag and not external and not reply.ok):
                code = str(row.get("code") or reply.code or HUB_FAILURE_CODE)
                message = str(row.get("message") or f"{order.code} was not taken")
                outcomes.append(self._client.failure(code, message))
            else:
                outcomes.append(OutboundReceipt(external_id=external or order.code))
        return outcomes

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        """Send a JYCK delivery order; the WMS de-duplicates on `deliveryOrderCode`.

        The receipt carries the WMS's `deliveryOrderId`, or our own code when a WMS
        accepts without giving one back.
        """
        reply = self._client.deliveryorder_create(self.delivery_order(order))
        external = str(reply.fields.get("deliveryOrderId") or "")
        if not external:
            for item in _dicts(reply.fields.get("deliveryOrders") or []):
                external = str(item.get("deliveryOrderId") or "")
                break
        return OutboundReceipt(external_id=external or order.code)

    def delivery_order(self, order: OutboundOrder) -> dict[str, Any]:
        """The `deliveryorder.create` request content for an order (before XML)."""
        s, zone, now = self.settings, self.settings.zone, self._clock()
        item_amount = sum(
            (line.unit_price * line.quantity for line in order.lines), start=Decimal("0")
        )
        return {
            "deliveryOrder": {
                "deliveryOrderCode": order.code,
                "orderType": OrderType.JYCK.value,
                "warehouseCode": s.warehouse_code,
                "sourcePlatformCode": s.platform_codes.get(
                    order.platform.lower(), DEFAULT_PLATFORM_CODE
                ),
                "createTime": format_time(now, zone),
                "placeOrderTime": format_time(order.placed_at, zone),
                "payTime": format_time(order.paid_at, zone) if order.paid_at else None,
                "operateTime": format_time(now, zone),
                "shopNick": order.shop_code,
                "buyerNick": order.buyer_nick,
                "totalAmount": _money(order.grand_total),
                "itemAmount": _money(item_amount),
                "discountAmount": _money(order.discount),
                "freight": _money(order.shipping_fee),
                "arAmount": _money(order.grand_total),
                "logisticsCode": s.logistics_code,
                "receiverInfo": {
                    "name": order.receiver_name,
                    "mobile": order.receiver_phone,
                    "countryCode": order.country,
                    "province": order.province,
                    "city": order.city,
                    "area": order.district,
                    "town": order.town,
                    "detailAddress": order.address,
                    "zipCode": order.postcode,
                    # Taobao's OAID (or a marketplace's ciphertext): the WMS prints the
                    # waybill through the platform's privacy service with it.
                    "oaid": order.sealed_receiver,
                },
                "buyerMessage": order.buyer_remark,
                "sellerMessage": order.seller_remark,
            },
            "orderLines": [
                {
                    "orderLineNo": line.line_no,
                    "sourceOrderCode": order.channel_order_id,
                    "ownerCode": s.owner_code,
                    "itemCode": line.sku,
                    "itemName": line.title,
                    "planQty": line.quantity,
                    "retailPrice": _money(line.unit_price),
                    "actualPrice": _money(line.unit_price),
                    "inventoryType": InventoryType.ZP.value,
                }
                for line in order.lines
            ],
        }

    def create_return(self, order: ReturnOrder) -> OutboundReceipt:
        """Announce a THRK return order; the WMS de-duplicates on `returnOrderCode`.

        The receipt carries the WMS's `returnOrderId`, or our own code when none comes back.
        A WMS that does not know the original shipment refuses with Rejected(code).
        """
        reply = self._client.returnorder_create(self.return_order(order))
        return OutboundReceipt(external_id=str(reply.fields.get("returnOrderId") or order.code))

    def return_order(self, order: ReturnOrder) -> dict[str, Any]:
        """The `returnorder.create` request content for a return (before XML)."""
        s = self.settings
        return return_request(
            order,
            warehouse_code=s.warehouse_code,
            owner_code=s.owner_code,
            default_logistics_code=s.logistics_code,
        )

    def cancel_outbound(self, *, code: str, reason: str) -> CancelResult:
        """Cancel at the WMS; a "too late, it shipped" refusal is an answer, not an error."""
        request = {
            "warehouseCode": self.settings.warehouse_code,
            "ownerCode": self.settings.owner_code,
            "orderCode": code,
            "orderType": OrderType.JYCK.value,
            "cancelReason": reason,
        }
        try:
            self._client.order_cancel(request)
        except Rejected as exc:
            if exc.code in self.settings.cancel_refused_codes:
                return CancelResult(cancelled=False, reason=exc.message)
            raise
        return CancelResult(cancelled=True)

    def query_inventory(self, skus: Sequence[str]) -> list[InventoryLevel]:
        """Sellable (ZP) stock per SKU, summed over batches; SKUs the WMS omits count 0."""
        wanted = list(dict.fromkeys(skus))
        totals: dict[str, list[int]] = {sku: [0, 0] for sku in wanted}
        for start in range(0, len(wanted), _QUERY_PAGE):
            criteria = [
                {
                    "warehouseCode": self.settings.warehouse_code,
                    "ownerCode": self.settings.owner_code,
                    "itemCode": sku,
                    "inventoryType": InventoryType.ZP.value,
                }
                for sku in wanted[start : start + _QUERY_PAGE]
            ]
            reply = self._client.inventory_query({"criteriaList": criteria})
            for item in _dicts(reply.fields.get("items") or []):
                sku = str(item.get("itemCode") or "")
                kind = str(item.get("inventoryType") or InventoryType.ZP.value)
                if sku not in totals or kind != InventoryType.ZP.value:
                    continue
                quantity, locked = item.get("quantity"), item.get("lockQuantity")
                totals[sku][0] += fields.stock_count(quantity, "quantity", signed=True)
                totals[sku][1] += fields.stock_count(locked, "lockQuantity", signed=True)
        return [
            InventoryLevel(sku=sku, quantity=q, locked=lock) for sku, (q, lock) in totals.items()
        ]

    def verify_callback(self, query: Mapping[str, str], body: bytes) -> bool:
        """True when the callback is for our app key and customer and signed with our secret."""
        s = self.settings
        if not hmac.compare_digest(str(query.get("app_key", "")), s.app_key):
            return False
        if not hmac.compare_digest(str(query.get("customerId", "")), s.customer_id):
            return False
        if query.get("sign_method", SIGN_METHOD).lower() != SIGN_METHOD:
            return False
        return qsign.verify({k: str(v) for k, v in query.items()}, body, s.app_secret)

    def parse_callback(self, query: Mapping[str, str], body: bytes) -> NodeEvent:
        """A verified callback as a NodeEvent; ValueError when it cannot be read."""
        method = self._short_method(str(query.get("method") or ""))
        if not method:
            raise ValueError("The Qimen callback has no method parameter.")
        root = parse(body)
        if root.tag != "request":
            raise ValueError(f"The Qimen callback root is <{root.tag}>, not <request>.")
        data = to_dict(root)
        if method == Method.DELIVERYORDER_CONFIRM:
            shipment = self._shipment(data, body)
            return NodeEvent(method=Method.DELIVERYORDER_CONFIRM.value, shipment=shipment, raw=data)
        if method == Method.RETURNORDER_CONFIRM:
            returned = return_received(data, body, self.settings.zone)
            return NodeEvent(method=Method.RETURNORDER_CONFIRM.value, returned=returned, raw=data)
        if method == Method.STOCKCHANGE_REPORT:
            items = _dicts(data.get("items") or [])
            return NodeEvent(
                method=Method.STOCKCHANGE_REPORT.value,
                stock_changes=[_stock_change(item) for item in items],
                raw={"items": items},
            )
        return NodeEvent(method=method, raw=data)

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        """The `<response>` a WMS waits for; failure makes it deliver the callback again."""
        code = SUCCESS_CODE if ok else HUB_FAILURE_CODE
        body = build_response(ok=ok, code=code, message=message or ("success" if ok else "error"))
        return body, CONTENT_TYPE

    def close(self) -> None:
        """Release the HTTP client."""
        self._client.close()

    def _short_method(self, method: str) -> str:
        for prefix in (self.settings.method_prefix, _GATEWAY_PREFIX):
            if prefix and method.startswith(prefix):
                return method[len(prefix) :]
        return method

    def _shipment(self, data: Mapping[str, Any], body: bytes) -> ShipmentConfirmed:
        order = data.get("deliveryOrder")
        if not isinstance(order, dict) or not order.get("deliveryOrderCode"):
            raise ValueError("The deliveryorder.confirm has no deliveryOrder.deliveryOrderCode.")
        code = str(order["deliveryOrderCode"])
        packages = _dicts(data.get("packages") or [])
        tracked = [p for p in packages if p.get("expressCode")]
        if not tracked:
            raise ValueError(f"The deliveryorder.confirm for {code} has no package expressCode.")
        lines = self._lines(_dicts(data.get("orderLines") or []), "actualQty")
        if not lines:
            items = (item for p in packages for item in _dicts(p.get("items") or []))
            lines = self._lines(items, "quantity")
        moment = order.get("orderConfirmTime") or order.get("operateTime")
        confirm_type = str(order.get("confirmType") or "0")
        status = str(order.get("status") or DeliveryStatus.DELIVERED.value)
        return ShipmentConfirmed(
            code=code,
            carrier=str(tracked[0].get("logisticsCode") or ""),
            tracking_no=str(tracked[0]["expressCode"]),
            lines=lines,
            confirm_id=str(order.get("outBizCode") or hashlib.sha256(body).hexdigest()),
            final=confirm_type == "0" and status != DeliveryStatus.PARTDELIVERED.value,
            shipped_at=parse_time(str(moment), self.settings.zone) if moment else None,
        )

    @staticmethod
    def _lines(rows: Iterable[Mapping[str, Any]], qty_key: str) -> list[ShipmentLine]:
        lines = []
        for row in rows:
            quantity = _int(row.get(qty_key), qty_key)
            sku = str(row.get("itemCode") or "")
            if quantity > 0 and sku:
                line_no = str(row.get("orderLineNo") or "") or None
                lines.append(ShipmentLine(sku=sku, quantity=quantity, line_no=line_no))
        return lines
