"""A Pinduoduo shop behind the POP gateway, over real HTTP.

Sources: platform-apis.md §5 and §11 (lywzx/pdd-node-sdk request classes, pdd's Java
pop-sdk `PddOrderNumberListIncrementGetRequest`, niltor/open-pdd-net-sdk response
models, the common-parameter page of pdd.fds.order.get).

Wire: `POST /api/router` (form or JSON body) with `type` (the API name), `client_id`,
`access_token`, `timestamp` (UNIX seconds, within `timestamp_window`, 10 min), optional
`data_type=JSON` and `version=V1`, and `sign` = upper(hex(md5(client_secret + k1v1… +
client_secret))) over every other parameter, keys ASCII-sorted. Answers
`{"<api>_response": {…}}`; refusals `{"error_response": {error_code, error_msg,
sub_code, sub_msg, request_id}}` (sub_code, sub_msg and the numbers UNCONFIRMED; see
`methods.py`). Throttling answers HTTP 429 with error 70031; server faults 50000.

`pdd.order.number.list.increment.get` searches `start_updated_at <= updated_at <=
end_updated_at` (UNIX seconds, both inclusive, at most 30 minutes apart), newest first,
pages from 1; each item is a whole OrderInfo. The receiver's name, phone and address
are ciphertext while the order waits to ship; `pdd.open.decrypt.batch` opens them.
POP has one tracking number per order (no split shipment). Push is UNCONFIRMED: none.

Control (never faulted): `/_sandbox/orders`, `/_sandbox/orders/{order_sn}`,
`/_sandbox/faults`, `/_sandbox/stats`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.faults import FaultMiddleware, Faults, faults_route

from .methods import METHODS, PddError
from .state import REFUNDED, Item, Order, PddState

__all__ = ["PddEmulator"]

SIGN_FAILED, TOKEN_INVALID, TIMESTAMP_INVALID, THROTTLED, PLATFORM_FAILED = (
    20004,
    10019,
    10031,
    70031,
    50000,
)


def _error(error: PddError, status: int = 200) -> JSONResponse:
    body = {
        "error_code": error.code,
        "error_msg": error.msg,
        "sub_code": error.sub_code,
        "sub_msg": error.sub_msg,
        "request_id": uuid.uuid4().hex[:16],
    }
    return JSONResponse({"error_response": body}, status_code=status)


def pdd_sign(params: Mapping[str, str], secret: str) -> str:
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()


class PddEmulator:
    """One merchant's shop: the gateway, its orders and goods, and the control routes."""

    def __init__(
        self,
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",
        access_token: str = "sandbox-access-token",
        *,
        seed: int | None = None,
        timestamp_window: float = 600.0,
        page_cap: int | None = None,
        faults: Faults | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client_id, self.access_token = client_id, access_token
        self._secret = client_secret
        self.timestamp_window = timestamp_window
        self.page_cap = page_cap
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = PddState(seed=seed, clock=clock)
        self._hooks: list[Callable[[], None]] = []
        self.app = FaultMiddleware(
            Starlette(routes=self._routes()),
            self.faults,
            rate_limited=lambda _: _error(
                PddError(THROTTLED, "调用过于频繁", "isv.api-limited"), 429
            ),
            server_error=lambda status: _error(
                PddError(PLATFORM_FAILED, "系统繁忙", "isp.service-error"), status
            ),
            malformed_body=b'{"order_sn_increment_get_response": {"total_co',
        )

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "client_secret": self._secret,
            "access_token": self.access_token,
        }

    def seed_items(self, items: list[Mapping[str, Any]]) -> None:
        self.state.seed_items(items)

    def place_order(self, spec: Mapping[str, Any], *, at: datetime | None = None) -> str:
        """A new paid order from `{"lines": [{"sku", "quantity", "price"?}], "receiver"?}`."""
        s = self.state
        moment = at or s.clock()
        with s.lock:
            items = []
            for line in spec.get("lines") or []:
                found = s.sku(str(line["sku"]))
                goods_id, sku_id, price = (0, 0, Decimal("19.90"))
                if found:
                    goods_id, sku_id, price = found[0].goods_id, found[1], found[2]
                items.append(
                    Item(
                        goods_id=goods_id,
                        sku_id=sku_id,
                        outer_id=str(line["sku"]),
                        goods_name=found[0].goods_name if found else str(line["sku"]),
                        goods_price=Decimal(str(line.get("price") or price)),
                        goods_count=int(line.get("quantity", 1)),
                    )
                )
            order_sn = s.order_sn(moment)
            s.orders[order_sn] = Order(
                order_sn=order_sn,
                created=moment,
                pay_time=moment,
                updated_at=moment,
                receiver={**s.random_receiver(), **dict(spec.get("receiver") or {})},
                items=items,
                buyer_memo=str(spec.get("buyer_message") or ""),
            )
        return order_sn

    def modify_order(self, order_sn: str, *, at: datetime | None = None, **changes: Any) -> None:
        with self.state.lock:
            order = self.state.orders[order_sn]
            for key, value in changes.items():
                setattr(order, key, value)
            order.updated_at = at or self.state.clock()

    def refund(self, order_sn: str) -> None:
        """The buyer's refund succeeds: before shipment the order will not ship; after it,
        the goods come back."""
        with self.state.lock:
            order = self.state.orders[order_sn]
            order.refund_status = REFUNDED
            order.updated_at = self.state.clock()

    def on_search(self, hook: Callable[[], None]) -> None:
        self._hooks.append(hook)

    def stop(self) -> None:
        """Nothing runs in the background: POP's push is not modelled."""

    def orders(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            return {sn: o.view() for sn, o in self.state.orders.items()}

    def stock(self) -> dict[str, int]:
        with self.state.lock:
            return {
                code: int(row[1]) for g in self.state.goods.values() for code, row in g.skus.items()
            }

    def stats(self) -> dict[str, Any]:
        with self.state.lock:
            return {"calls": dict(self.state.calls), "decrypted": self.state.decrypted}

    def _routes(self) -> list[Route]:
        return [
            Route("/api/router", self._gateway, methods=["POST"]),
            Route("/_sandbox/orders", self._control_orders, methods=["GET", "POST"]),
            Route("/_sandbox/orders/{order_sn}", self._control_order, methods=["GET"]),
            faults_route(self.faults),
            Route("/_sandbox/stats", self._control_stats, methods=["GET"]),
        ]

    async def _gateway(self, request: Request) -> Response:
        params: dict[str, str] = {}
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                raw = json.loads(await request.body())
            except ValueError:
                return _error(PddError(10000, "请求体不是 JSON", "isv.invalid-body"))
            if isinstance(raw, dict):
                params = {
                    k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                    for k, v in raw.items()
                }
        else:
            form = await request.form()
            params = {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            name = self._check(params)
            key, handler = METHODS[name]
            if name == "pdd.order.number.list.increment.get":
                for hook in list(self._hooks):
                    hook()
            with self.state.lock:
                self.state.calls[name] = self.state.calls.get(name, 0) + 1
                answer = handler(self.state, params, self.page_cap)
        except PddError as error:
            return _error(error)
        answer["request_id"] = uuid.uuid4().hex[:16]
        return JSONResponse({key: answer})

    def _check(self, params: Mapping[str, str]) -> str:
        name = params.get("type", "")
        if name not in METHODS:
            raise PddError(10000, "type 不存在", "isv.invalid-type", name or "type is required")
        if not hmac.compare_digest(params.get("client_id", ""), self.client_id):
            raise PddError(10016, "client_id 不存在", "isv.invalid-client-id")
        given = params.get("sign", "")
        if not given or not hmac.compare_digest(pdd_sign(params, self._secret), given.upper()):
            raise PddError(SIGN_FAILED, "签名错误", "isv.sign-invalid", "sign check failure")
        stamp = params.get("timestamp", "")
        now = self.state.clock().timestamp()
        if not stamp.isdigit() or abs(int(stamp) - now) > self.timestamp_window:
            raise PddError(TIMESTAMP_INVALID, "timestamp 已过期", "isv.timestamp-invalid")
        if not hmac.compare_digest(params.get("access_token", ""), self.access_token):
            raise PddError(TOKEN_INVALID, "access_token 已过期", "isv.access-token-invalid")
        return name

    async def _control_orders(self, request: Request) -> Response:
        if request.method == "POST":
            return JSONResponse({"order_sn": self.place_order(await request.json())}, 201)
        return JSONResponse(self.orders())

    async def _control_order(self, request: Request) -> Response:
        found = self.orders().get(request.path_params["order_sn"])
        return JSONResponse(found or {"error": "no such order"}, 200 if found else 404)

    async def _control_stats(self, _: Request) -> Response:
        return JSONResponse(self.stats())
