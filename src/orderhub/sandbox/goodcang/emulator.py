"""谷仓 (GoodCang) overseas warehouse over real HTTP: REST V1 under `/public_open/`.

Sources: peers-and-apis.md §5.4; GoodCang's open-platform pages for `get_order_by_code`
and `get_order_list` (`OrderItemComposite`, `OrderLineItem{product_sku, quantity,
product_declared_value, hs_code}`, `OrderCartonItem{box_no, tracking_number,
product_barcode, ob_qty}`, `VatChangeInfo{ioss_number, shipper_vat, …}`, statuses C 待发货审核,
W 待发货, D 已发货, H 暂存, N 异常订单, P 问题件, X 废弃, pageSize at most 100); SDKs'
`create_order` parameters and limits; integrators quoting replies (`{"ask":"Failure",
"message", "Error":{"errCode", "errMessage"}}`, a cancel's `cancel_status`).

Wire: POST JSON, headers `app-token` and `app-key`; every answer is HTTP 200 with `ask`
Success or Failure. create_order answers `order_code`; a `reference_no` in use by an
order not discarded is refused, naming that order. A missing required field, an unknown
warehouse, shipping method or SKU, stock short, and a cross-border order whose items lack
an HS code or declared value are refused and counted (`create_refused`).

UNCONFIRMED, all settings: the error codes (`error_codes`), that a wrong key is refused
with HTTP 200, that cross-border items are refused without HS code and value (GoodCang
may take them from its product records), the meaning of `cancel_status` (2 is answered),
throttling as HTTP 429.

Control (not GoodCang, never faulted): `/_sandbox/products` (GET, POST seeds),
`/_sandbox/stock` (GET, PUT), `/_sandbox/orders` (GET), `/_sandbox/orders/{no}` (GET, by
order code or reference), `/_sandbox/orders/{no}/ship` (POST `{"parcels": [{"tracking_number",
"lines": {sku: qty}}]}`, all that is left by default), `/_sandbox/orders/{no}/cancel`,
`/_sandbox/orders/{no}/status` (POST `{"status": "N"}`), `/_sandbox/faults`, `/_sandbox/stats`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.faults import Faults, emulator_app

from .api import Api, Handler
from .control import control_routes
from .state import GcFailure, GcState, Outbound

__all__ = ["DEFAULT_ERROR_CODES", "GoodCangEmulator", "create_app"]

DEFAULT_ERROR_CODES = {
    "auth": "10001",
    "param": "10102001",
    "duplicate_reference": "10103010",
    "unknown_warehouse": "10103020",
    "unknown_shipping_method": "10103021",
    "unknown_sku": "10103030",
    "stock_short": "10103040",
    "customs": "10103050",
    "not_found": "10103086",
    "already_discarded": "10103099",
    "already_shipped": "10103100",
    "rate_limit": "10009",
    "service": "10500",
}
"""Role → `errCode` (UNCONFIRMED apart from 10103086 no data and 10103099 discarded)."""
SHIPPING_METHODS = {
    "DPD-CLASSIC": "DPD Classic (UK → EU)",
    "RM-TRACKED48": "Royal Mail Tracked 48",
    "UPS-STANDARD": "UPS Standard",
}


class GoodCangEmulator:
    """One GoodCang customer account on loopback: keys, warehouses, stock and orders."""

    def __init__(
        self,
        app_token: str = "sandbox-goodcang-app-token",
        app_key: str = "sandbox-goodcang-app-key",
        *,
        customer_code: str = "G1234",
        warehouses: Mapping[str, str] | None = None,
        shipping_methods: Mapping[str, str] = SHIPPING_METHODS,
        error_codes: Mapping[str, str] | None = None,
        seed: int | None = None,
        throttle_status: int = 429,
        faults: Faults | None = None,
    ) -> None:
        self.app_token, self.app_key = app_token, app_key
        self.codes = {**DEFAULT_ERROR_CODES, **(error_codes or {})}
        self.throttle_status = throttle_status
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = GcState(
            customer_code=customer_code,
            warehouses=warehouses or {"UKLH": "GB"},
            shipping_methods=shipping_methods,
            seed=seed,
        )
        self.api = Api(self.state)
        self.calls: dict[str, int] = {}
        self.refused: dict[str, int] = {}
        self.app = self._build_app()

    def settings(self, base_url: str) -> dict[str, str]:
        """What a client needs to reach this account: the GoodCang connector's settings."""
        return {
            "base_url": base_url,
            "app_token": self.app_token,
            "app_key": self.app_key,
            "warehouse_code": self.state.first_warehouse,
            "shipping_method": next(iter(self.state.shipping_methods)),
        }

    def seed_products(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add products `{"sku", "name"?, "stock"?, "warehouse"?}`."""
        return self.state.seed_products(items)

    def set_stock(self, sku: str, sellable: int, *, warehouse: str | None = None) -> None:
        self.state.set_stock(sku, sellable, warehouse=warehouse)

    def stock(self, warehouse: str | None = None) -> dict[str, dict[str, int]]:
        """SKU → {"sellable", "reserved", "shipped"} in a warehouse (the first by default)."""
        return self.state.levels(warehouse)

    def ship(self, number: str, parcels: Iterable[tuple[str, Mapping[str, int]]] = ()) -> list[str]:
        """Parcels leave (tracking number, SKU → units), all that is left by default;
        their tracking numbers."""
        return [box.tracking_number for box in self.state.ship(number, parcels)]

    def cancel(self, number: str) -> bool:
        """The warehouse discards an order of its own accord; False once it left."""
        try:
            self.state.cancel(number)
        except GcFailure:
            return False
        return True

    def set_status(self, number: str, status: str) -> None:
        self.state.set_status(number, status)

    def orders(self) -> dict[str, dict[str, Any]]:
        """Every order by order code, as get_order_by_code shows it."""
        with self.state.lock:
            return {no: self.api.view(o) for no, o in self.state.orders.items()}

    def order(self, number: str) -> dict[str, Any]:
        """One order by order code or reference number; KeyError when unknown."""
        with self.state.lock:
            found: Outbound = self.state.find(number)
            return self.api.view(found)

    def stats(self) -> dict[str, Any]:
        """Calls and refusals per path, creates made, refused, and distinct orders."""
        with self.state.lock:
            return {
                "calls": dict(self.calls),
                "refused": dict(self.refused),
                "create_calls": self.state.create_calls,
                "create_refused": self.state.create_refused,
                "distinct_orders": len(self.state.orders),
            }

    def stop(self) -> None:
        """Nothing runs in the background: GoodCang calls nothing back."""

    # HTTP

    def failure(self, role: str, message: str, **extra: Any) -> Response:
        code = self.codes.get(role, self.codes["param"])
        body = {
            "ask": "Failure",
            "message": message,
            **extra,
            "Error": {"errCode": code, "errMessage": message},
        }
        return JSONResponse(body)

    def _endpoint(self, path: str, handler: Handler) -> Any:
        async def endpoint(request: Request) -> Response:
            with self.state.lock:
                self.calls[path] = self.calls.get(path, 0) + 1
            token = request.headers.get("app-token", "")
            key = request.headers.get("app-key", "")
            if (token, key) != (self.app_token, self.app_key):
                self._refuse(path)
                return self.failure("auth", "app-token或app-key错误 (authorization failed)")
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                self._refuse(path)
                return self.failure("param", "body: 不是合法的JSON (not valid JSON)")
            if not isinstance(body, dict):
                self._refuse(path)
                return self.failure("param", "body: must be a JSON object")
            try:
                return JSONResponse(await handler(body))
            except GcFailure as exc:
                self._refuse(path)
                extra = {"order_code": exc.order_code} if exc.order_code else {}
                return self.failure(exc.role, exc.message, **extra)

        return endpoint

    def _refuse(self, path: str) -> None:
        with self.state.lock:
            self.refused[path] = self.refused.get(path, 0) + 1

    def _limited(self, retry_after: float) -> Response:
        response = self.failure("rate_limit", "请求过于频繁 (too many requests)")
        response.status_code = self.throttle_status
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
        return response

    def _server_error(self, status: int) -> Response:
        response = self.failure("service", "系统繁忙 (service unavailable)")
        response.status_code = status
        return response

    def _build_app(self) -> Starlette:
        routes = [
            Route(f"/public_open/{path}", self._endpoint(path, handler), methods=["POST"])
            for path, handler in self.api.table().items()
        ]
        return emulator_app(
            self,
            [*routes, *control_routes(self)],
            self.faults,
            malformed_body=b'{"ask":"Success","message":"Success","order_co',
            rate_limited=self._limited,
            server_error=self._server_error,
        )


def create_app(**settings: Any) -> Starlette:
    """A Starlette app for `GoodCangEmulator(**settings)`; the emulator is `app.state.emulator`."""
    return GoodCangEmulator(**settings).app
