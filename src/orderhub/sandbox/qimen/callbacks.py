"""How the emulated WMS speaks Qimen on the wire, and the thread that ships and calls back.

The codec (MD5 sign, XML in and out) is the emulator's own so that it checks the hub's
connector instead of agreeing with it by construction. The worker thread plays the
warehouse floor: it ships orders and checks in returned parcels whose delay has passed,
then delivers the callbacks the WMS owes (`deliveryorder.confirm`, `returnorder.confirm`,
`stockchange.report`) to the hub, signed like any Qimen request, retrying with growing
delays until the hub answers `<flag>success</flag>` or the delays run out.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from orderhub.sandbox.faults import Faults
from orderhub.sandbox.loop import EmulatorLoop

from .printing import Label, Printer, PrintFailed, WaybillReceiver, print_label
from .state import CARRIER_NAMES, Delivery, WmsOrder, WmsState

if TYPE_CHECKING:
    from .returns import ReturnDesk, WmsReturn

__all__ = [
    "CallbackWorker",
    "confirm_body",
    "qimen_sign",
    "read_xml",
    "reply_xml",
    "to_xml",
    "wire_time",
    "zone_from_offset",
]


ITEM_TAGS: Mapping[str, str] = {
    "orderLines": "orderLine",
    "packages": "package",
    "items": "item",
    "criteriaList": "criteria",
    "deliveryOrders": "deliveryOrder",
    "subSourceOrders": "subSourceOrder",
    "batchs": "batch",
    "orders": "order",
}
_UNSAFE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
CONTENT_TYPE = "text/xml;charset=utf-8"


def zone_from_offset(text: str) -> timezone:
    """'+08:00' → a fixed zone; Qimen times are written in Beijing time by default."""
    match = _OFFSET.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a UTC offset like +08:00")
    delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return timezone(-delta if match.group(1) == "-" else delta)


def wire_time(moment: datetime, zone: timezone) -> str:
    """'YYYY-MM-DD HH:MM:SS' in the warehouse's zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def qimen_sign(params: Mapping[str, str], body: bytes, secret: str) -> str:
    """upper(md5(secret + sorted k+v (no sign, no empties) + body + secret))."""
    digest = hashlib.md5(secret.encode("utf-8"))
    for key in sorted(params):
        if key != "sign" and params[key] != "":
            digest.update(f"{key}{params[key]}".encode())
    digest.update(body)
    digest.update(secret.encode("utf-8"))
    return digest.hexdigest().upper()


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    if value is None or value == "":
        return
    node = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, child in value.items():
            _append(node, key, child)
    elif isinstance(value, list):
        for child in value:
            _append(node, ITEM_TAGS[tag], child)
    else:
        node.text = str(value)


def to_xml(content: Mapping[str, Any], *, root: str = "request") -> bytes:
    """UTF-8 XML with a declaration; lists nest as <orderLines><orderLine>."""
    element = ET.Element(root)
    for key, value in content.items():
        _append(element, key, value)
    data: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return data


def reply_xml(ok: bool, code: str, message: str, extra: Mapping[str, Any] | None = None) -> bytes:
    """A Qimen `<response>`: flag, code, message, then method-specific fields."""
    content: dict[str, Any] = {"flag": "success" if ok else "failure", "code": code}
    content["message"] = message
    content.update(extra or {})
    return to_xml(content, root="response")


def _read(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        return [] if node.tag in ITEM_TAGS else (node.text or "").strip()
    if node.tag in ITEM_TAGS:
        return [_read(child) for child in children if child.tag == ITEM_TAGS[node.tag]]
    result: dict[str, Any] = {}
    for child in children:
        value = _read(child)
        if child.tag not in result:
            result[child.tag] = value
        elif isinstance(result[child.tag], list) and child.tag not in ITEM_TAGS:
            result[child.tag].append(value)
        else:
            result[child.tag] = [result[child.tag], value]
    return result


def read_xml(body: bytes) -> tuple[str, dict[str, Any]]:
    """(root tag, content) of a body from outside; ValueError for anything unsafe or broken."""
    if not body.strip():
        raise ValueError("the request body is empty")
    if b"\x00" in body or _UNSAFE.search(body):
        raise ValueError("DOCTYPE and entity declarations are not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"the request body is not well-formed XML ({exc})") from exc
    content = _read(root)
    return root.tag, content if isinstance(content, dict) else {}


def confirm_body(
    order: WmsOrder, *, warehouse_code: str, out_biz_code: str, zone: timezone
) -> bytes:
    """The `deliveryorder.confirm` request for a shipped order: one package, all lines."""
    shipped = wire_time(order.shipped_at or datetime.now(UTC), zone)
    return to_xml(
        {
            "deliveryOrder": {
                "deliveryOrderCode": order.code,
                "deliveryOrderId": order.delivery_order_id,
                "warehouseCode": warehouse_code,
                "orderType": order.order_type,
                "status": order.status,
                "outBizCode": out_biz_code,
                "confirmType": 0,
                "orderConfirmTime": shipped,
                "operateTime": shipped,
            },
            "packages": [
                {
                    "logisticsCode": order.carrier,
                    "logisticsName": CARRIER_NAMES.get(order.carrier, order.carrier),
                    "expressCode": order.tracking_no,
                    "items": [
                        {"itemCode": line.item_code, "quantity": line.actual_qty}
                        for line in order.lines
                    ],
                }
            ],
            "orderLines": [
                {
                    "orderLineNo": line.line_no,
                    "itemCode": line.item_code,
                    "planQty": line.plan_qty,
                    "actualQty": line.actual_qty,
                }
                for line in order.lines
            ],
        }
    )


class CallbackWorker(EmulatorLoop):
    """The warehouse floor and its outbox: ships due orders and calls the hub back."""

    name = "qimen-wms"

    def __init__(
        self,
        state: WmsState,
        faults: Faults,
        *,
        app_key: str,
        app_secret: str,
        customer_id: str,
        owner_code: str,
        zone: timezone,
        method_prefix: str,
        callback_url: str | None,
        retry_delays: Sequence[float],
        tick: float = 0.02,
        timeout: float = 5.0,
        returns: ReturnDesk | None = None,
    ) -> None:
        super().__init__(tick=tick, timeout=timeout)
        self.state = state
        self.returns = returns
        self.faults = faults
        self.callback_url = callback_url
        self.retry_delays = list(retry_delays)
        self._app_key = app_key
        self._secret = app_secret
        self._customer_id = customer_id
        self._owner_code = owner_code
        self._zone = zone
        self._prefix = method_prefix
        self._report_seq = itertools.count(1)
        self.printers: dict[str, Printer] = {}
        self.print_retry = 1.0

    def _print(self, order: WmsOrder, given: Mapping[str, str]) -> Label:
        where = ("province", "city", "area", "town", "detailAddress")
        receiver = WaybillReceiver(
            platform_order_id=order.platform_order_id,
            name=given.get("name", ""),
            phone=given.get("mobile", ""),
            address=given.get("detailAddress", ""),
            oaid=order.oaid,
        )
        printer = self.printers.get(order.source_platform)
        if self._http is not None:
            label = print_label(self._http, printer, receiver)
        else:
            with httpx.Client(timeout=self._timeout) as http:
                label = print_label(http, printer, receiver)
        if label.via:
            return label
        return Label(label.name, label.phone, "".join(given.get(k, "") for k in where))

    def ship(self, code: str) -> WmsOrder | None:
        """Label and ship one order now and owe the hub its confirm; None if it had already
        left, or its label could not be printed (printing is then tried again)."""
        waiting = self.state.to_print(code)
        if waiting is None:
            return None
        waiting_order, given = waiting
        try:
            label = self._print(waiting_order, given)
        except PrintFailed as exc:
            self.state.print_failed(code, str(exc), self.print_retry)
            return None
        order = self.state.ship(code, label=label.view())
        if order is not None:
            key = "OB" + order.delivery_order_id
            body = confirm_body(
                order, warehouse_code=self.state.warehouse_code, out_biz_code=key, zone=self._zone
            )
            self._owe("deliveryorder.confirm", key, order.code, body)
        return order

    def receive_return(self, code: str) -> WmsReturn | None:
        """Check a returned parcel in now and owe the hub its confirm; None if already in."""
        if self.returns is None:
            return None
        received = self.returns.receive(code, zone=self._zone)
        if received is None:
            return None
        ret, body = received
        self._owe("returnorder.confirm", self.returns.out_biz_code(ret), ret.code, body)
        return ret

    def report_stock_change(self, deltas: Mapping[str, int], *, order_code: str = "") -> str:
        """Apply stock deltas and owe the hub a `stockchange.report`; returns its order code."""
        self.state.adjust_stock(deltas)
        number = next(self._report_seq)
        code = order_code or f"ADJ{number:08d}"
        now = wire_time(datetime.now(UTC), self._zone)
        items = [
            {
                "ownerCode": self._owner_code,
                "warehouseCode": self.state.warehouse_code,
                "orderCode": code,
                "orderType": "QTRK" if int(delta) >= 0 else "QTCK",
                "outBizCode": f"SC{number:08d}-{index}",
                "itemCode": sku,
                "inventoryType": "ZP",
                "quantity": int(delta),
                "changeTime": now,
            }
            for index, (sku, delta) in enumerate(deltas.items(), start=1)
        ]
        self._owe("stockchange.report", f"SC{number:08d}", code, to_xml({"items": items}))
        return code

    def step(self) -> None:
        """One round: ship what is due, then send what is owed."""
        for code in self.state.due_for_shipping():
            self.ship(code)
        for code in self.returns.due() if self.returns is not None else []:
            self.receive_return(code)
        url = self.callback_url
        if not url or self._http is None:
            return
        batch = self.state.due_deliveries()
        if self.faults.reorder_webhooks:
            batch.reverse()
        for delivery in batch:
            if self._stop.is_set():
                return
            ok, error = self._send(self._http, url, delivery)
            self.state.record_attempt(delivery, ok=ok, error=error, retry_delays=self.retry_delays)

    def _owe(self, method: str, key: str, ref: str, body: bytes) -> None:
        for _ in range(1 + max(int(self.faults.duplicate_webhooks), 0)):
            self.state.add_delivery(method=method, key=key, ref=ref, body=body)
        self.wake()

    def _send(self, http: httpx.Client, url: str, delivery: Delivery) -> tuple[bool, str]:
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        params.update(
            {
                "method": self._prefix + delivery.method,
                "app_key": self._app_key,
                "customerId": self._customer_id,
                "timestamp": wire_time(datetime.now(UTC), self._zone),
                "format": "xml",
                "v": "2.0",
                "sign_method": "md5",
            }
        )
        params["sign"] = qimen_sign(params, delivery.body, self._secret)
        target = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        try:
            response = http.post(
                target,
                params=params,
                content=delivery.body,
                headers={"Content-Type": CONTENT_TYPE},
            )
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        if response.status_code != 200:
            return False, f"HTTP {response.status_code}"
        try:
            _, reply = read_xml(response.content)
        except ValueError as exc:
            return False, f"unreadable reply: {exc}"
        if reply.get("flag") == "success":
            return True, ""
        return False, f"failure {reply.get('code', '')}: {reply.get('message', '')}"
