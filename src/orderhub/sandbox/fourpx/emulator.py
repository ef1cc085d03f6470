"""4PX 递四方 overseas warehouse (订单履约) over real HTTP; 菜鸟 GFN speaks the same.

Sources: peers-and-apis.md §5.5; EalenXie/sdk-all `fop-sdk` (gateway, signing, method
list, GFN sharing it); ipking/express-4px-php-sdk (`fu_wms_outbound_create|cancel|
getlist`, `fu_wms_inventory_get` parameters, responses and error codes; the envelope
`{result: "1"|"0", msg, errors[{error_code, error_msg, error_data}], data}`); a recorded
getlist answer (`data{page_no, page_size, total, data[…]}`, times in epoch ms,
`consignment_no` OC…, `4px_tracking_no`, `shipping_no`, `outboundlist_sku`).

Wire: `POST /router/api/service?app_key&v&timestamp(ms)&format=json&method&sign`, the
body JSON, `sign = md5("app_key"+key+"format"+"json"+"method"+method+"timestamp"+ts+"v"+v
+ body + secret)` in lowercase hex over the exact body bytes; every answer HTTP 200.

Behaviour: outbound.create answers `consignment_no` and `4px_tracking_no`; a ref_no used
before is refused naming the first consignment (`duplicate_ref="error"`) or answered with
it (`"existing"`). SKUs must exist with available stock, the logistics product code must
be one the account has, a consignee leaving the warehouse's country must declare an HS
code and a value per SKU. cancel is refused once a parcel left. getlist filters by ref_no
(several, comma-separated), consignment_no, tracking number, status, warehouse, create or
complete time (thirty days at most), paged. inventory.get pages stock per warehouse.

UNCONFIRMED, all settings or marked in `codes.py`: the gateway's error codes and its
timestamp window (`timestamp_window`), the duplicate ref_no answer, the customs fields
of an SKU row (`methods.CUSTOMS_FIELDS`), several ref_nos in one getlist, the parcel
rows `outboundlist_package[{shipping_no, complete_time, package_sku}]` and `shipping_no`
listing every parcel, the logistics products (`products`), throttling as HTTP 429.

Control (not 4PX, never faulted): `/_sandbox/skus` (GET, POST seeds), `/_sandbox/stock`
(GET, PUT), `/_sandbox/orders` (GET), `/_sandbox/orders/{no}` (GET, by number or ref_no),
`/_sandbox/orders/{no}/ship` (POST `{lines?, shipping_no?}`: one parcel),
`/_sandbox/orders/{no}/exception`, `/_sandbox/lose` (PUT `{method: n}`: the next n
answers of that method are lost after the work is done), `/_sandbox/faults`,
`/_sandbox/stats`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orderhub.sandbox.faults import Faults, emulator_app

from .codes import DEFAULT_ERROR_CODES, DEFAULT_PRODUCTS, STATUS
from .control import control_routes
from .methods import Methods
from .state import Consignment, FourpxFailure, FourpxState, now_ms

__all__ = ["FourpxEmulator", "create_app", "sign"]

PATH = "/router/api/service"


def sign(app_key: str, secret: str, method: str, timestamp: str, v: str, body: bytes) -> str:
    """4PX's signature over the system parameters and the exact body."""
    head = f"app_key{app_key}formatjsonmethod{method}timestamp{timestamp}v{v}".encode()
    return hashlib.md5(head + body + secret.encode()).hexdigest()


def _json(
    data: Mapping[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode()
    return Response(body, status, headers, media_type="application/json;charset=UTF-8")


class FourpxEmulator:
    """One 4PX customer account on loopback: gateway, SKUs, stock, consignments, faults."""

    def __init__(
        self,
        app_key: str = "sandbox-4px-app-key",
        app_secret: str = "sandbox-4px-app-secret",
        *,
        customer_code: str = "916312",
        warehouses: Mapping[str, str] | None = None,
        products: Mapping[str, str] = DEFAULT_PRODUCTS,
        duplicate_ref: str = "error",
        timestamp_window: float = 300.0,
        error_codes: Mapping[str, str] | None = None,
        throttle_status: int = 429,
        seed: int | None = None,
        faults: Faults | None = None,
        ship_after: float | None = None,
    ) -> None:
        self.app_key, self.app_secret = app_key, app_secret
        # With `ship_after`, the warehouse ships each consignment whole that many seconds
        # after it was created, as a demo's warehouse staff would.
        self.ship_after = ship_after
        self._stopping = threading.Event()
        self.codes = {**DEFAULT_ERROR_CODES, **(error_codes or {})}
        self.timestamp_window = timestamp_window
        self.throttle_status = throttle_status
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = FourpxState(
            customer_code=customer_code,
            warehouses=warehouses or {"USLAXA": "US"},
            products=products,
            seed=seed,
        )
        self.methods = Methods(self.state, duplicate_ref=duplicate_ref)
        self.calls: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()
        self.app = self._build_app()
        if ship_after is not None:
            threading.Thread(target=self._ship_when_due, name="4px-ship", daemon=True).start()

    def settings(self, base_url: str) -> dict[str, str]:
        """What a client needs to reach this account: the fourpx connector's settings."""
        return {
            "base_url": base_url,
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "warehouse_code": self.state.first_warehouse,
            "logistics_product_code": next(iter(self.state.products)),
        }

    # SKUs and stock

    def seed_skus(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
        return self.state.seed_skus(items)

    def set_stock(self, sku: str, on_hand: int, *, warehouse: str | None = None) -> None:
        self.state.set_stock(sku, on_hand, warehouse=warehouse)

    def stock(self, warehouse: str | None = None) -> dict[str, dict[str, int]]:
        """SKU → {"on_hand", "available", "pending"} in a warehouse (the first by default)."""
        return self.state.levels(warehouse)

    # consignments, played by the warehouse

    def ship(
        self, number: str, *, lines: Mapping[str, int] | None = None, shipping_no: str = ""
    ) -> str:
        """One parcel leaves (with everything left by default); its tracking number."""
        return self.state.ship(number, lines=lines, shipping_no=shipping_no).shipping_no

    def lose_answers(self, method: str, count: int = 1) -> None:
        """The next `count` calls of `method` are carried out and their answers lost."""
        with self.state.lock:
            self.lost[method] += count

    def orders(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            return {no: self._snapshot(c) for no, c in self.state.consignments.items()}

    def order(self, number: str) -> dict[str, Any]:
        """One consignment by number or ref_no; KeyError when unknown."""
        with self.state.lock:
            return self._snapshot(self.state.find(number))

    def stats(self) -> dict[str, Any]:
        with self.state.lock:
            return {
                "calls": dict(self.calls),
                "refusals": dict(self.refusals),
                "create_calls": self.state.create_calls,
                "distinct_orders": len(self.state.consignments),
            }

    def stop(self) -> None:
        """Stop shipping by itself (4PX calls nothing back; nothing else runs)."""
        self._stopping.set()

    def _ship_when_due(self) -> None:
        while not self._stopping.wait(0.2):
            due = now_ms() - int((self.ship_after or 0) * 1000)
            with self.state.lock:
                waiting = [
                    c.consignment_no
                    for c in self.state.consignments.values()
                    if c.status in (STATUS["submitted"], STATUS["picked"]) and c.create_time <= due
                ]
                for number in waiting:
                    self.state.ship(number)

    def _snapshot(self, c: Consignment) -> dict[str, Any]:
        return {
            **self.methods.row(c),
            "lines": [
                {"sku": x.sku, "quantity": x.quantity, "unit_price": x.unit_price, **x.declared}
                for x in c.lines
            ],
            "body": c.body,
        }

    # HTTP

    def _refusal(self, role: str, message: str, data: str = "") -> Response:
        with self.state.lock:
            self.refusals[role] += 1
        code = self.codes.get(role, role)
        error = {"error_code": code, "error_msg": message, "error_data": data}
        return _json({"result": "0", "msg": message, "errors": [error], "data": None})

    async def handle(self, request: Request) -> Response:
        q = request.query_params
        body = await request.body()
        method = q.get("method", "")
        with self.state.lock:
            self.calls[method] += 1
        if q.get("app_key") != self.app_key:
            return self._refusal("app_key", "app_key 不存在", q.get("app_key", ""))
        if q.get("format", "json") != "json":
            return self._refusal("param", "format 只支持 json", "format")
        stamp = q.get("timestamp", "")
        try:
            skew = abs(time.time() * 1000 - int(stamp)) / 1000
        except ValueError:
            return self._refusal("timestamp", "timestamp 必须是毫秒时间戳", stamp)
        if skew > self.timestamp_window:
            return self._refusal("timestamp", "请求已过期, timestamp 超出允许范围", stamp)
        expected = sign(self.app_key, self.app_secret, method, stamp, q.get("v", ""), body)
        if not hmac.compare_digest(q.get("sign", "").lower(), expected):
            return self._refusal("sign", "签名错误", "sign")
        handler = self.methods.table().get(method)
        if handler is None:
            return self._refusal("method", f"接口[{method}]不存在", method)
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return self._refusal("body", "请求报文不是合法的JSON", "body")
        if not isinstance(data, dict):
            return self._refusal("body", "请求报文必须是JSON对象", "body")
        try:
            result = await handler(data)
        except FourpxFailure as failure:
            return self._refusal(failure.role, failure.message, failure.data)
        with self.state.lock:
            if self.lost[method] > 0:
                self.lost[method] -= 1
                return _json(self._error_body("网关超时"), 504)
        return _json({"result": "1", "msg": "系统处理成功", "errors": [], "data": result})

    def _error_body(self, message: str) -> dict[str, Any]:
        error = {"error_code": self.codes["service"], "error_msg": message, "error_data": ""}
        return {"result": "0", "msg": message, "errors": [error], "data": None}

    def _limited(self, retry_after: float) -> Response:
        headers = {"Retry-After": str(max(1, round(retry_after)))}
        body = self._error_body("请求过于频繁")
        body["errors"][0]["error_code"] = self.codes["rate_limit"]
        return _json(body, self.throttle_status, headers)

    def _server_error(self, status: int) -> Response:
        return _json(self._error_body("系统繁忙"), status)

    def _build_app(self) -> Starlette:
        routes = [Route(PATH, self.handle, methods=["POST"]), *control_routes(self)]
        return emulator_app(
            self,
            routes,
            self.faults,
            malformed_body=b'{"result":"1","msg":"\xe7\xb3\xbb","data":{"consignment_',
            malformed_type="application/json;charset=UTF-8",
            rate_limited=self._limited,
            server_error=self._server_error,
        )


def create_app(**settings: Any) -> Starlette:
    """A Starlette app for `FourpxEmulator(**settings)`; the emulator is `app.state.emulator`."""
    return FourpxEmulator(**settings).app
