"""京东云仓 (JD cloud warehouse, ECLP) over real HTTP, behind the JOS gateway.

Sources: peers-and-apis.md §5.3 and platform-apis.md §7; JD's SDK request classes for
`jingdong.eclp.order.addOrder` (seven_jd `EclpOrderAddOrderRequest`; the PHP wrapper
`Lostinfo\\JosOpenApi\\EclpOrderAddOrder` with its parameter notes), `cancelOrder`,
`queryOrderStatus` and `queryOrder` (`eclpSoNo`), `jingdong.eclp.stock.queryStock`
(`deptNo, warehouseNo, stockStatus, stockType, goodsNo, currentPage, pageSize,
returnZeroStock, isvSku, …`); the SDK response classes `EclpOrderQueryOrderStatusResponse`
(`queryorderstatus_result`), `EclpStockQueryStockResponse` (`querystock_result`, a list of
`WarehouseStockResponse{deptNo, deptName, warehouseNo, warehouseName, goodsNo, goodsName,
sellerGoodsSign, stockStatus, stockType, totalNum, usableNum}`), `OrderStatus{soStatusCode,
soStatusName, operateTime, operateUser}`, `OrderDefaultResult{eclpSoNo, isvUUID, wayBill,
shipperNo, shipperName, packCount, orderPackageList}`; and integrators' code reading the
replies (`…addOrder_responce.eclpSoNo`, `cancelorder_result{code, msg}`,
`queryorder_result{isvUUID, shipperNo, wayBill, currentStatus, orderStatusList,
orderDetailList[{goodsNo, quantity}], orderPackageList[{packageNo, packWeight}]}`).

Wire: JOS's gateway, shared with the JD shop emulator (`orderhub.sandbox.jd.gateway`):
`/routerjson`, system parameters signed upper(hex(md5(secret + Σ sorted k+v + secret))),
success `{"<method, dots as _>_responce": {"code": "0", …}}`, refusal
`{"error_response": {"code", "zh_desc", "en_desc"}}`, both HTTP 200.

Behaviour: addOrder answers `eclpSoNo`; an `isvUUID` already used gets its first order's
number back, whatever else the call says. Unknown `isvSource`, `departmentNo`, `shopNo`,
`warehouseNo`, `shipperNo` or goods, a missing required field, a parallel list of the
wrong length and an order for more than is usable are refused, the field named.
cancelOrder: code 1 once cancelled (again 1 when repeated), 2 once the order left (and
`10029` is added to its history). ECLP calls nothing back: a client polls queryOrder.

UNCONFIRMED, all settings: the status codes and names (`statuses`; see `codes.py`), the
business error codes (`error_codes`), carriers other than CYS0000010 (`shippers`), that
queryOrder's goods rows carry `isvGoodsNo` and `orderLine`, that queryStock filters by
merchant code through `isvSku`, the page size cap of 100, throttling as HTTP
`throttle_status` 429 with JOS code 66.

Control (not ECLP, never faulted): `/_sandbox/goods` (GET, POST seeds), `/_sandbox/stock`
(GET, PUT), `/_sandbox/orders` (GET), `/_sandbox/orders/{no}` (GET, by ECLP number or
isvUUID), `/_sandbox/orders/{no}/pack|ship|deliver|cancel` (POST; ship takes `waybill`
and `shipper_no`), `/_sandbox/faults`, `/_sandbox/stats`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from orderhub.sandbox.faults import Faults, emulator_app
from orderhub.sandbox.jd.gateway import Credentials, Gateway
from orderhub.sandbox.jd.wire import DEFAULT_ERROR_CODES as JOS_CODES
from orderhub.sandbox.jd.wire import error_body, json_response, zone_from_offset

from .codes import DEFAULT_ERROR_CODES, DEFAULT_SHIPPERS, DEFAULT_STATUSES
from .control import control_routes
from .methods import Methods
from .state import EclpState, Outbound

__all__ = ["EclpEmulator", "create_app"]


class EclpEmulator:
    """One ECLP department on loopback: JOS gateway, goods, stock, orders and faults."""

    def __init__(
        self,
        app_key: str = "sandbox-eclp-app-key",
        app_secret: str = "sandbox-eclp-app-secret",
        access_token: str = "sandbox-eclp-access-token",
        *,
        department_no: str = "EBU4418046500001",
        warehouse_nos: Iterable[str] = ("110007001",),
        shop_no: str = "ESP0020000000001",
        isv_source: str = "ISV0020000000001",
        seed: int | None = None,
        timestamp_window: float = 600.0,
        utc_offset: str = "+08:00",
        statuses: Mapping[str, tuple[str, str]] | None = None,
        shippers: Mapping[str, str] = DEFAULT_SHIPPERS,
        error_codes: Mapping[str, str] | None = None,
        throttle_status: int = 429,
        faults: Faults | None = None,
    ) -> None:
        self.zone = zone_from_offset(utc_offset)
        self.codes = {**JOS_CODES, **DEFAULT_ERROR_CODES, **(error_codes or {})}
        self.throttle_status = throttle_status
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = EclpState(
            department_no=department_no,
            warehouse_nos=warehouse_nos,
            shop_no=shop_no,
            isv_source=isv_source,
            shippers=shippers,
            statuses={**DEFAULT_STATUSES, **(statuses or {})},
            seed=seed,
        )
        self.credentials = Credentials(app_key, app_secret, access_token)
        self.methods = Methods(self.state, self.zone)
        self.gateway = Gateway(
            self.credentials,
            self.methods.table(),
            zone=self.zone,
            timestamp_window=timestamp_window,
            codes=self.codes,
        )
        self.app = self._build_app()

    def settings(self, base_url: str) -> dict[str, str]:
        """What a client needs to reach this department: the ECLP connector's settings."""
        return {
            "base_url": base_url,
            "app_key": self.credentials.app_key,
            "app_secret": self.credentials.app_secret,
            "access_token": self.credentials.access_token,
            "department_no": self.state.department_no,
            "warehouse_no": self.state.warehouse_nos[0],
            "shop_no": self.state.shop_no,
            "isv_source": self.state.isv_source,
            "shipper_no": next(iter(self.state.shippers)),
        }

    # goods and stock

    def seed_goods(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add articles `{"sku", "name"?, "stock"?, "warehouse"?}`; their ECLP numbers."""
        return self.state.seed_goods(items)

    def goods(self) -> list[dict[str, str]]:
        with self.state.lock:
            return [
                {"sku": g.isv_goods_no, "goods_no": g.goods_no, "name": g.name}
                for g in self.state.goods.values()
            ]

    def set_stock(self, sku: str, total: int, *, warehouse: str | None = None) -> None:
        """Units on hand of an article (usable: what open orders have not promised)."""
        self.state.set_stock(sku, total, warehouse=warehouse)

    def stock(self, warehouse: str | None = None) -> dict[str, dict[str, int]]:
        """Merchant code → {"total", "usable"} in a warehouse (the first by default)."""
        return self.state.levels(warehouse)

    # orders, played by the warehouse

    def pack(self, number: str) -> None:
        self.state.pack(number)

    def ship(self, number: str, *, waybill: str = "", shipper_no: str = "") -> str:
        """The order leaves with a waybill (made up unless given); the waybill."""
        return self.state.ship(number, waybill=waybill, shipper_no=shipper_no).waybills[0]

    def deliver(self, number: str) -> None:
        self.state.deliver(number)

    def cancel(self, number: str) -> bool:
        """The warehouse cancels an order of its own accord; False once it left."""
        code, _ = self.state.cancel(number, by_warehouse=True)
        return code == 1

    def orders(self) -> dict[str, dict[str, Any]]:
        """Every order by ECLP number."""
        with self.state.lock:
            return {no: self._snapshot(o) for no, o in self.state.orders.items()}

    def order(self, number: str) -> dict[str, Any]:
        """One order by ECLP number or `isvUUID`; KeyError when unknown."""
        with self.state.lock:
            return self._snapshot(self.state.find(number))

    def stats(self) -> dict[str, Any]:
        """Calls per method, refusals per role, addOrder calls and distinct orders."""
        with self.state.lock:
            counts = {
                "add_order_calls": self.state.add_calls,
                "distinct_orders": len(self.state.orders),
            }
        return {**self.gateway.stats(), **counts}

    def stop(self) -> None:
        """Nothing runs in the background: ECLP calls nothing back."""

    def _snapshot(self, order: Outbound) -> dict[str, Any]:
        return {
            "eclp_so_no": order.eclp_so_no,
            "isv_uuid": order.isv_uuid,
            "warehouse_no": order.warehouse_no,
            "shop_no": order.shop_no,
            "status": order.statuses[-1].code,
            "statuses": [s.code for s in order.statuses],
            "shipper_no": order.shipper_no,
            "waybill": ",".join(order.waybills),
            "platform_order_no": order.platform_order_no,
            "platform_source": order.platform_source,
            "consignee": dict(order.consignee),
            "remark": order.remark,
            "lines": [
                {
                    "sku": line.goods.isv_goods_no,
                    "goods_no": line.goods.goods_no,
                    "quantity": line.quantity,
                    "price": None if line.price is None else str(line.price),
                    "order_line": line.order_line,
                }
                for line in order.lines
            ],
        }

    # HTTP

    def _limited(self, retry_after: float) -> Response:
        body = error_body(self.codes["rate_limit"], "调用频率超过限制", "Call frequency exceeded")
        headers = {"Retry-After": str(max(1, round(retry_after)))}
        return json_response(body, self.throttle_status, headers)

    def _server_error(self, status: int) -> Response:
        return json_response(
            error_body(self.codes["service"], "服务不可用", "Service unavailable"), status
        )

    def _build_app(self) -> Starlette:
        routes = [
            Route("/routerjson", self.gateway.handle, methods=["GET", "POST"]),
            *control_routes(self),
        ]
        return emulator_app(
            self,
            routes,
            self.faults,
            malformed_body=b'{"jingdong_eclp_order_addOrder_responce":{"code":"0","ecl',
            malformed_type="application/json;charset=utf-8",
            rate_limited=self._limited,
            server_error=self._server_error,
        )


def create_app(**settings: Any) -> Starlette:
    """A Starlette app for `EclpEmulator(**settings)`; the emulator is `app.state.emulator`."""
    return EclpEmulator(**settings).app
