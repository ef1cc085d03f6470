"""A JD POP shop (京东 JOS) over real HTTP: orders pulled, waybills and stock pushed.

Sources (platform-apis.md §7 and §11): rise-worlds/jos (Go) `sdk/client.go`,
`sdk/const.go`, `api/interface.go`, `api/order/{popOrderEnSearch,popOrderEnGet,
order.interface}.go`, `sdk/request/order/popOrderEn{Search,Get}.go`,
`api/ware/{ware.interface,searchWare4Valid}.go`; JD's Java SDK `PopOrderEnSearchRequest`,
`PopOrderShipmentResponse` / `OperatorResult`, `OrderSearchInfo`,
`JosOrderOaidDecryptRequest` / `ResponseData` / `OrderReceiverInfoModel`; PHP wrappers
`Lostinfo\\JosOpenApi` (`SkuReadSearchSkuList`, `PopOrderEnSearch`) and
`StockWriteUpdateSkuStock`; integrators' code quoting JOS replies.

Wire: `GET|POST /routerjson` (form body or query) with `method, app_key, access_token,
timestamp` ("yyyy-MM-dd HH:mm:ss", GMT+8, ±`timestamp_window` s), `format=json`,
`v=2.0`, `360buy_param_json` (business parameters as JSON) and `sign` =
upper(hex(md5(app_secret + Σ sorted k+v of every other parameter + app_secret))).
Success is HTTP 200 `{"<method, dots→_>_responce": {"code": "0", …}}` (JD's spelling);
a refusal is HTTP 200 `{"error_response": {"code", "zh_desc", "en_desc"}}`, code a string.

Methods: `jingdong.pop.order.enSearch` (`searchorderinfo_result{orderInfoList,
orderTotal, apiResult}`; window ≤ `max_window`, bounds start ≤ t < end since JD documents
none; page from 1, `page_size` ≤ 100; `sortType` 1 newest first; `dateType` 1 by
creation, else by `modified`), `jingdong.pop.order.enGet` (`order_id` →
`orderDetailInfo{orderInfo, apiResult}`), `jingdong.pop.order.shipment` (`orderId,
logiCoprId, logiNo` → `sopjosshipment_result{success, errorCode, chineseErrCode,
englishErrCode}`; one waybill per order, JD has no split shipment here; a second one is
refused), `jingdong.stock.write.updateSkuStock` (`skuId, stockNum`, the whole figure; no
delta mode, no merchant-code form), the SKU listing (`sku_list_method`, default
`jingdong.sku.read.searchSkuList`: `page{data[{wareId, skuId, outerId, …}], pageNo,
pageSize, totalItem}`) and the decrypt call (`decrypt_method`, default
`jingdong.jos.order.oaid.decrypt`: `getReceiverInfoListReqVO.orderInfos[{orderId, oaid}]`
where `oaid` is any of the order's `encrypt_*` ciphertexts → `returnType{code, message,
requestId, data[{customerName, consMobilePhone, customerPhone, address, …}]}`, counted,
capped by `decrypt_cap`). Receivers come masked, with `encrypt_*` ciphertexts.

Error codes (`error_codes` overrides by role): 21 Invalid app_key, 15 Invalid Method,
19 Invalid access_token (seen in JOS replies); UNCONFIRMED: 14 Invalid signature,
5 timestamp, 3 missing system parameter, 8 v/format, 67 business parameter,
66 rate limited, 1 service unavailable (5xx), 10600001 decrypt quota, 10200004 unknown
skuId; inside method results 10100002 window, 10100003 paging, 10400001 order not
found, 10400014 state not suitable, 10400020 unknown carrier, 10400021 already shipped.

Other UNCONFIRMED facts, all settings: the carrier list (`carriers`: 467 顺丰, 463 圆通,
1499 中通, 2170 韵达, 465 EMS, 1274 厂家自送 which needs no logiNo), the two method
names, the refund field on OrderInfo (`refund_field`, values `refund_codes`: 0 none,
1 refunding, 2 refunded; a refund before shipment cancels the order), the month as
`max_window` = 30 days, the decrypt reply's `decrypt_ok_code` 200, throttling as
HTTP `throttle_status` 429 with code 66 and Retry-After. Push: none; orders are pulled.

Control (not JOS, never faulted): `/_sandbox/orders` (GET, POST places),
`/_sandbox/orders/{id}` (GET) and `/{id}/modify|cancel|refund` (POST), `/_sandbox/items`
(GET, POST seeds), `/_sandbox/stock`, `/_sandbox/faults`, `/_sandbox/config`,
`/_sandbox/stats`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from orderhub.sandbox.faults import Faults, emulator_app

from .control import control_routes
from .gateway import Credentials, Gateway
from .methods import Methods, Rules
from .state import JdState
from .views import OrderView
from .wire import (
    DEFAULT_CARRIERS,
    DEFAULT_ERROR_CODES,
    DEFAULT_REFUND_CODES,
    error_body,
    json_response,
    zone_from_offset,
)

__all__ = ["DECRYPT_METHOD", "SKU_LIST_METHOD", "JdEmulator", "create_app"]

DECRYPT_METHOD = "jingdong.jos.order.oaid.decrypt"
"""UNCONFIRMED: the receiver-decrypt call's name."""
SKU_LIST_METHOD = "jingdong.sku.read.searchSkuList"
"""UNCONFIRMED as the listing a hub should use; JD also has searchWare4Valid."""


class JdEmulator:
    """A JD POP shop on loopback: JOS gateway, catalogue, orders, faults and helpers."""

    def __init__(
        self,
        app_key: str = "sandbox-jd-app-key",
        app_secret: str = "sandbox-jd-app-secret",
        access_token: str = "sandbox-jd-access-token",
        *,
        vender_id: str = "10086001",
        seed: int | None = None,
        timestamp_window: float = 600.0,
        utc_offset: str = "+08:00",
        max_window: timedelta = timedelta(days=30),
        page_cap: int | None = None,
        decrypt_cap: int | None = None,
        carriers: Mapping[str, str] = DEFAULT_CARRIERS,
        error_codes: Mapping[str, str] | None = None,
        refund_field: str = "refundStatus",
        refund_codes: Mapping[str, str] = DEFAULT_REFUND_CODES,
        decrypt_method: str = DECRYPT_METHOD,
        sku_list_method: str = SKU_LIST_METHOD,
        decrypt_ok_code: int = 200,
        throttle_status: int = 429,
        faults: Faults | None = None,
    ) -> None:
        self.zone = zone_from_offset(utc_offset)
        self.codes = {**DEFAULT_ERROR_CODES, **(error_codes or {})}
        self.throttle_status = throttle_status
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = JdState(carriers=carriers, seed=seed)
        self.credentials = Credentials(app_key, app_secret, access_token)
        self.rules = Rules(
            zone=self.zone,
            max_window=max_window,
            page_cap=page_cap,
            decrypt_cap=decrypt_cap,
            codes=self.codes,
            decrypt_ok_code=decrypt_ok_code,
        )
        self._hooks: list[Callable[[], object]] = []
        view = OrderView(self.zone, vender_id, refund_field, dict(refund_codes))
        self.methods = Methods(self.state, view, self.rules, self._hooks)
        self.gateway = Gateway(
            self.credentials,
            self.methods.table(decrypt_method=decrypt_method, sku_list_method=sku_list_method),
            zone=self.zone,
            timestamp_window=timestamp_window,
            codes=self.codes,
        )
        self.app = self._build_app()

    @property
    def app_key(self) -> str:
        return self.credentials.app_key

    @property
    def app_secret(self) -> str:
        return self.credentials.app_secret

    @property
    def access_token(self) -> str:
        return self.credentials.access_token

    # catalogue and stock

    def seed_items(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add SKUs `{"sku", "title", "price", "stock", "item_id"?}`; returns their JD ids."""
        with self.state.lock:
            return self.state.catalog.seed(items)

    def items(self) -> list[dict[str, Any]]:
        """Every SKU with its JD ids, merchant code, price and stock."""
        with self.state.lock:
            return [
                {
                    "sku": sku.outer_id,
                    "sku_id": str(sku.sku_id),
                    "ware_id": str(sku.ware_id),
                    "title": sku.title,
                    "price": str(sku.price),
                    "stock": sku.stock,
                }
                for sku in self.state.catalog.listing()
            ]

    def stock(self) -> dict[str, int]:
        """Units on sale by merchant SKU code, as stock updates left them."""
        with self.state.lock:
            return self.state.catalog.stock()

    # orders

    def place_order(self, spec: Mapping[str, Any], *, at: datetime | None = None) -> str:
        """Place an order `{"lines": [{"sku", "quantity", "price"?}], "receiver"?, "paid"?,
        "buyer_message"?}`; `at` backdates it. Returns the JD order id."""
        return self.state.place(spec, at)

    def modify_order(self, order_id: str, *, at: datetime | None = None, **changes: Any) -> None:
        """Change `status`, `vender_remark` (or `memo`), `buyer_message` or `paid`; bumps
        `modified` to `at` or now."""
        self.state.modify(order_id, at, changes)

    def cancel_order(self, order_id: str, *, at: datetime | None = None) -> None:
        """Cancel an order that has not shipped (TRADE_CANCELED)."""
        self.state.cancel(order_id, at)

    def refund(
        self,
        order_id: str,
        *,
        line_index: int = 0,
        quantity: int | None = None,
        returned: bool = False,
        at: datetime | None = None,
    ) -> None:
        """Before shipment: refunded and TRADE_CANCELED. After: refunding, and on the next
        call refunded."""
        self.state.refund(order_id, line_index, quantity, returned, at)

    def orders(self) -> dict[str, dict[str, Any]]:
        """Every order by id: status, times, lines, shipments and refund state."""
        return self.state.snapshots()

    def order(self, order_id: str) -> dict[str, Any]:
        """One order; KeyError when unknown."""
        with self.state.lock:
            return self.state.get(order_id).snapshot()

    def on_search(self, fn: Callable[[], object]) -> None:
        """Run `fn` at the start of every enSearch call, before its page is computed."""
        self._hooks.append(fn)

    def expire_access_token(self) -> None:
        """The current access_token stops working (JOS answers 19)."""
        self.credentials.revoked.add(self.credentials.access_token)

    def configure(self, **changes: Any) -> None:
        """Change `page_cap` or `decrypt_cap` at run time."""
        unknown = set(changes) - {"page_cap", "decrypt_cap"}
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        for name, value in changes.items():
            setattr(self.rules, name, None if value is None else int(value))

    def config(self) -> dict[str, Any]:
        return {"page_cap": self.rules.page_cap, "decrypt_cap": self.rules.decrypt_cap}

    def stop(self) -> None:
        """Nothing runs in the background: JD pushes nothing over HTTP."""

    def stats(self) -> dict[str, Any]:
        """Calls per method, refusals per role, and receivers decrypted."""
        return {**self.gateway.stats(), "decrypted": self.methods.decrypted}

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
            malformed_body=b'{"jingdong_pop_order_enSearch_responce":{"code":"0","searchor',
            malformed_type="application/json;charset=utf-8",
            rate_limited=self._limited,
            server_error=self._server_error,
        )


def create_app(**settings: Any) -> Starlette:
    """A Starlette app for `JdEmulator(**settings)`; the emulator is `app.state.emulator`."""
    return JdEmulator(**settings).app
