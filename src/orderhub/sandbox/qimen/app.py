"""A Qimen (奇门) standard WMS over real HTTP: delivery orders, returns, cancels, stock, callbacks.

Sources (platform-apis.md §8): bububa/opentaobao `metadata/assets/json/qimen/
taobao_qimen_{deliveryorder_create,deliveryorder_confirm,inventory_query,order_cancel,
returnorder_create,returnorder_confirm,stockchange_report,…}.json` and
`model/qimen/DeliveryOrderCreateRequest.go`; guangxb/LkApps
`Top.Api/Qimen/Request/DeliveryorderCreateRequest.cs`; the C#
`Wms.Request.QM.QMDeliveryOrderCreateRequest` XML model; doc.alidayu.com articleId=104651
(URL form); jaq-doc.alibaba.com articleId=118404 (sign example); open.alitrip.com
articleId=106850 (onboarding).

Wire: `POST /router/qimen/service?method=…&timestamp=…&format=xml&app_key=…&v=2.0&
sign_method=md5&customerId=…&sign=…` (also `POST /`), XML body, XML reply
`<response><flag/><code/><message/>…</response>`, HTTP 200 even for refusals. Each
WMS speaks a dialect (`method_prefix`: `taobao.qimen.` or "" for bare method names;
`content_type`: `text/xml` or `application/xml`); another dialect is refused
(`INVALID_METHOD`, `INVALID_CONTENT_TYPE`).

Failure codes (free-form per implementer in the standard; these are ours):
`sign-check-failure` "Illegal request" (missing or wrong sign; what Qimen receivers
commonly answer, where TOP itself says 25 Invalid Signature), `INVALID_APP_KEY`,
`INVALID_CUSTOMER_ID`, `INVALID_SIGN_METHOD`, `INVALID_TIMESTAMP` (outside the
window, TOP's ±10 min), `INVALID_METHOD`, `INVALID_XML`, `MISSING_FIELD` and
`INVALID_FIELD` (message names the field), `INVALID_WAREHOUSE`, `ORDER_NOT_FOUND`,
`ORDER_SHIPPED` for an `order.cancel` that comes after the parcel left, and
`ORDER_NOT_SHIPPED` for a `returnorder.create` whose original order has not left yet
(see `returns.py`).

Batch create: `deliveryorder.batchcreate` (bububa/opentaobao `model/qimen/
DeliveryOrderBatchCreateRequest.go`, `DeliveryOrderBatchCreateResponse.go`, `Order.go`)
takes `<orders><order><deliveryOrder/><orderLines/></order>…</orders>`, each order as
`deliveryorder.create` reads it. The reply lists every order in `<orders><order>` with
its own flag, code and message, and `deliveryOrderId` when it was taken; the reply's
own flag is success only when every order was taken (code `PARTIAL_FAILURE` otherwise).
How many orders one call may carry is not published: this WMS takes `batch_limit`
(100) and refuses a larger batch whole (`INVALID_FIELD`).

Sealed receivers: with `printers` set (one per `sourcePlatformCode`: the platform, its
address and the seller's credentials), an order whose receiver is an OAID or ciphertext
is labelled through the platform's decrypt call before it ships (`printing.py`); the
order shows what was printed, and a refusal keeps the parcel waiting.

Throttling: real Qimen throttles with TOP error 7 "App Call Limited" in a 200 reply;
this emulator answers HTTP 429 with Retry-After and the same code in the XML body, so
the client's Retry-After handling is exercised.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import math
import random
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from orderhub.sandbox.faults import Faults, emulator_app

from .callbacks import (
    CONTENT_TYPE,
    CallbackWorker,
    qimen_sign,
    read_xml,
    reply_xml,
    wire_time,
    zone_from_offset,
)
from .printing import Printer
from .returns import ReturnDesk
from .state import INVALID_FIELD, MISSING_FIELD, ORDER_NOT_FOUND, WmsFailure, WmsState

__all__ = ["QimenEmulator", "create_app"]

DEFAULT_CARRIERS = ("SF", "YTO", "ZTO", "STO", "YUNDA", "JD")
DEFAULT_RETRY_DELAYS = (0.1, 0.3, 1.0, 3.0, 10.0)
_CONFIG_KEYS = frozenset(
    {
        "callback_url",
        "ship_delay",
        "rate_limit",
        "callback_retry_delays",
        "return_delay",
        "defective_ratio",
        "printers",
    }
)


class RateLimiter:
    """A token bucket of `per_second` tokens that refills continuously."""

    def __init__(self, per_second: float) -> None:
        self._lock = threading.Lock()
        self.set_rate(per_second)

    def set_rate(self, per_second: float) -> None:
        """Change the rate and refill the bucket."""
        with self._lock:
            self.rate = float(per_second)
            self._tokens = max(self.rate, 1.0)
            self._updated = time.monotonic()

    def take(self) -> float:
        """0 when a call may go ahead, else seconds until the next token."""
        with self._lock:
            now = time.monotonic()
            capacity = max(self.rate, 1.0)
            self._tokens = min(capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate if self.rate > 0 else 60.0


def _fault_view(faults: Faults) -> dict[str, Any]:
    """The public fault knobs; `Faults.snapshot` deep-copies its lock and cannot be used."""
    names = (f.name for f in fields(faults) if not f.name.startswith("_"))
    return {name: getattr(faults, name) for name in names if name != "storm_until"}


def _xml(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, status_code=status, headers=headers, media_type=CONTENT_TYPE)


def _failure(code: str, message: str) -> Response:
    return _xml(reply_xml(False, code, message))


class QimenEmulator:
    """A Qimen-speaking WMS on loopback: takes delivery orders, ships them, calls the hub."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        customer_id: str,
        *,
        warehouse_code: str = "WH1",
        owner_code: str = "",
        ship_delay: float = 0.5,
        callback_url: str | None = None,
        carriers: Sequence[str] = DEFAULT_CARRIERS,
        seed: int | None = None,
        rate_limit: float = 200.0,
        utc_offset: str = "+08:00",
        timestamp_window: float = 600.0,
        method_prefix: str = "taobao.qimen.",
        content_type: str = "text/xml",
        callback_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        faults: Faults | None = None,
        return_delay: float = 0.5,
        defective_ratio: float = 0.0,
        printers: Mapping[str, Mapping[str, Any]] | None = None,
        batch_limit: int = 100,
    ) -> None:
        self.app_key = app_key
        self._secret = app_secret
        self.customer_id = customer_id
        self.zone = zone_from_offset(utc_offset)
        self.timestamp_window = timestamp_window
        self.method_prefix = method_prefix
        self.content_type = content_type
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = WmsState(
            warehouse_code=warehouse_code, carriers=carriers, ship_delay=ship_delay, seed=seed
        )
        self.returns = ReturnDesk(
            self.state, return_delay=return_delay, defective_ratio=defective_ratio, seed=seed
        )
        self.worker = CallbackWorker(
            self.state,
            self.faults,
            app_key=app_key,
            app_secret=app_secret,
            customer_id=customer_id,
            owner_code=owner_code or customer_id,
            zone=self.zone,
            method_prefix=method_prefix,
            callback_url=callback_url,
            retry_delays=callback_retry_delays,
            returns=self.returns,
        )
        self.limiter = RateLimiter(rate_limit)
        self.batch_limit = batch_limit
        self.batch_sizes: list[int] = []
        if printers:
            self.configure(printers=printers)
        self._handlers = {
            "deliveryorder.create": self._create,
            "deliveryorder.batchcreate": self._batch_create,
            "order.cancel": self._cancel,
            "inventory.query": self._inventory,
            "returnorder.create": self._create_return,
        }
        self.app = self._build_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def start(self) -> None:
        """Start the shipping and callback thread (the app's lifespan does this too)."""
        self.worker.start()

    def stop(self) -> None:
        """Stop the shipping and callback thread."""
        self.worker.stop()

    def configure(self, **changes: Any) -> None:
        """Change callback_url, ship_delay, rate_limit, callback_retry_delays, return_delay,
        defective_ratio or printers ({sourcePlatformCode: {platform, url, credentials}}:
        where sealed receivers are opened to print the label) at run time."""
        unknown = set(changes) - _CONFIG_KEYS
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        if "callback_url" in changes:
            self.worker.callback_url = changes["callback_url"] or None
        if "ship_delay" in changes:
            with self.state.lock:
                self.state.ship_delay = float(changes["ship_delay"])
        if "rate_limit" in changes:
            self.limiter.set_rate(float(changes["rate_limit"]))
        if "callback_retry_delays" in changes:
            self.worker.retry_delays = [float(d) for d in changes["callback_retry_delays"]]
        if "return_delay" in changes:
            with self.state.lock:
                self.returns.return_delay = float(changes["return_delay"])
        if "defective_ratio" in changes:
            ratio = float(changes["defective_ratio"])
            if not 0.0 <= ratio <= 1.0:
                raise ValueError("defective_ratio must be between 0 and 1")
            with self.state.lock:
                self.returns.defective_ratio = ratio
        if "printers" in changes:
            given = changes["printers"] or {}
            if not isinstance(given, Mapping):
                raise ValueError("printers must be an object keyed by sourcePlatformCode")
            self.worker.printers = {str(k): Printer.parse(v) for k, v in given.items()}
        self.worker.wake()

    def stats(self) -> dict[str, Any]:
        """Counters: creates, distinct orders, duplicates, shipments, cancels, callbacks,
        batch creates and their sizes, and the same for returns."""
        with self.state.lock:
            batches = {"batch_calls": len(self.batch_sizes), "batch_sizes": list(self.batch_sizes)}
        return {**self.state.stats(), **batches, **self.returns.stats()}

    def set_stock(self, items: Mapping[str, int]) -> None:
        """Set on-hand units per SKU."""
        self.state.set_stock(items)

    def ship_now(self, code: str) -> dict[str, Any]:
        """Ship an order at once (if it has not left or been cancelled) and return it."""
        self.worker.ship(code)
        return self.order(code)

    def stock_change(self, deltas: Mapping[str, int]) -> str:
        """Change stock and send the hub a `stockchange.report`; returns its order code."""
        return self.worker.report_stock_change(deltas)

    def mark_defective(self, sku: str, quantity: int) -> dict[str, int]:
        """The next `quantity` returned units of `sku` are found defective; the whole plan."""
        return self.returns.mark_defective(sku, quantity)

    def receive_now(self, code: str) -> dict[str, Any]:
        """Check a returned parcel in at once (unless already in) and return the return."""
        self.worker.receive_return(code)
        return self.return_order(code)

    def return_orders(self) -> dict[str, dict[str, Any]]:
        """Every return order by code, as the control endpoint shows it."""
        with self.state.lock:
            return {code: ret.snapshot() for code, ret in self.returns.returns.items()}

    def return_order(self, code: str) -> dict[str, Any]:
        """One return order; KeyError when unknown."""
        with self.state.lock:
            return self.returns.returns[code].snapshot()

    def orders(self) -> dict[str, dict[str, Any]]:
        """Every order by code, as the control endpoint shows it."""
        with self.state.lock:
            return {code: order.snapshot() for code, order in self.state.orders.items()}

    def order(self, code: str) -> dict[str, Any]:
        """One order; KeyError when unknown."""
        with self.state.lock:
            return self.state.orders[code].snapshot()

    def callbacks(self) -> list[dict[str, Any]]:
        """The callback log: every delivery with its attempts."""
        with self.state.lock:
            return [d.snapshot() for d in self.state.deliveries]

    def _build_app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            self.worker.start()
            try:
                yield
            finally:
                await asyncio.to_thread(self.worker.stop)

        routes = [
            Route("/router/qimen/service", self._service, methods=["POST"]),
            Route("/", self._service, methods=["POST"]),
            Route("/_sandbox/faults", self._faults, methods=["GET", "PUT", "DELETE"]),
            Route("/_sandbox/config", self._config, methods=["GET", "PUT"]),
            Route("/_sandbox/stock", self._stock, methods=["POST"]),
            Route("/_sandbox/stockchange", self._stockchange, methods=["POST"]),
            Route("/_sandbox/ship/{code:path}", self._ship, methods=["POST"]),
            Route("/_sandbox/stats", self._stats, methods=["GET"]),
            Route("/_sandbox/callbacks", self._callbacks, methods=["GET"]),
            Route("/_sandbox/orders", self._orders, methods=["GET"]),
            Route("/_sandbox/orders/{code:path}", self._order, methods=["GET"]),
            Route("/_sandbox/returns/defective", self._defective, methods=["POST"]),
            Route("/_sandbox/returns", self._returns, methods=["GET"]),
            Route("/_sandbox/returns/{code:path}", self._return, methods=["GET"]),
            Route("/_sandbox/receive/{code:path}", self._receive, methods=["POST"]),
        ]
        return emulator_app(
            self,
            routes,
            self.faults,
            malformed_body=b"<response><flag>succ",
            malformed_type="text/xml",
            lifespan=lifespan,
        )

    async def _service(self, request: Request) -> Response:
        self.worker.start()
        wait = self.limiter.take()
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            body = reply_xml(
                False, "7", f"App Call Limited: This ban will last for {seconds} more seconds"
            )
            return _xml(body, 429, {"Retry-After": str(seconds)})
        body = await request.body()
        params = {key: value for key, value in request.query_params.items()}
        refusal = self._check_auth(params, body)
        if refusal is not None:
            return refusal
        method = params.get("method", "")
        # This WMS's dialect: its method names (with `taobao.qimen.` or bare) and the
        # content type it reads (none given is read as its own); another dialect's
        # request is refused, as a real one is.
        name = (
            method.removeprefix(self.method_prefix) if method.startswith(self.method_prefix) else ""
        )
        handler = self._handlers.get(name)
        if handler is None:
            return _failure("INVALID_METHOD", f"method {method} is not supported here")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media and media != self.content_type:
            return _failure(
                "INVALID_CONTENT_TYPE", f"this WMS reads {self.content_type}, not {media}"
            )
        try:
            root, content = read_xml(body)
        except ValueError as exc:
            return _failure("INVALID_XML", str(exc))
        if root != "request":
            return _failure("INVALID_XML", f"the root element must be <request>, not <{root}>")
        try:
            return _xml(handler(content))
        except WmsFailure as exc:
            return _failure(exc.code, exc.message)

    def _check_auth(self, params: Mapping[str, str], body: bytes) -> Response | None:
        if not params.get("method"):
            return _failure("INVALID_METHOD", "the method parameter is required")
        if params.get("app_key") != self.app_key:
            return _failure("INVALID_APP_KEY", "app_key is not known to this warehouse")
        if params.get("sign_method", "md5").lower() != "md5":
            return _failure("INVALID_SIGN_METHOD", "only sign_method=md5 is supported")
        given = params.get("sign", "").upper().encode()
        expected = qimen_sign(params, body, self._secret).encode()
        if not given or not hmac.compare_digest(given, expected):
            return _failure("sign-check-failure", "Illegal request")
        if params.get("customerId") != self.customer_id:
            return _failure("INVALID_CUSTOMER_ID", "customerId is not known to this warehouse")
        if self.timestamp_window > 0:
            try:
                sent = datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                return _failure("INVALID_TIMESTAMP", "timestamp must be yyyy-MM-dd HH:mm:ss")
            skew = (sent.replace(tzinfo=self.zone) - datetime.now(UTC)).total_seconds()
            if abs(skew) > self.timestamp_window:
                return _failure("INVALID_TIMESTAMP", "timestamp is too far from the server time")
        return None

    def _create(self, content: Mapping[str, Any]) -> bytes:
        order, _ = self.state.create(content)
        self.worker.wake()
        extra = {
            "createTime": wire_time(order.created_at, self.zone),
            "deliveryOrderId": order.delivery_order_id,
            "warehouseCode": self.state.warehouse_code,
        }
        return reply_xml(True, "0", "success", extra)

    def _batch_create(self, content: Mapping[str, Any]) -> bytes:
        given = content.get("orders")
        orders = [o for o in given if isinstance(o, Mapping)] if isinstance(given, list) else []
        if not orders:
            raise WmsFailure(MISSING_FIELD, "orders.order is required")
        if len(orders) > self.batch_limit:
            raise WmsFailure(
                INVALID_FIELD,
                f"orders.order holds {len(orders)} orders; at most {self.batch_limit} per call",
            )
        with self.state.lock:
            self.batch_sizes.append(len(orders))
        results: list[dict[str, Any]] = []
        for request in orders:
            head = request.get("deliveryOrder")
            code = str(head.get("deliveryOrderCode") or "") if isinstance(head, Mapping) else ""
            try:
                order, _ = self.state.create(request)
            except WmsFailure as exc:
                failure = {"flag": "failure", "code": exc.code, "message": exc.message}
                results.append({"deliveryOrderCode": code, **failure})
                continue
            results.append(
                {
                    "deliveryOrderCode": order.code,
                    "flag": "success",
                    "code": "0",
                    "message": "success",
                    "deliveryOrderId": order.delivery_order_id,
                    "warehouseCode": self.state.warehouse_code,
                    "createTime": wire_time(order.created_at, self.zone),
                }
            )
        self.worker.wake()
        failed = sum(1 for result in results if result["flag"] == "failure")
        if failed:
            message = f"{failed} of {len(results)} orders were not taken"
            return reply_xml(False, "PARTIAL_FAILURE", message, {"orders": results})
        return reply_xml(True, "0", "success", {"orders": results})

    def _create_return(self, content: Mapping[str, Any]) -> bytes:
        ret, _ = self.returns.create(content)
        self.worker.wake()
        return reply_xml(True, "0", "success", {"returnOrderId": ret.return_order_id})

    def _cancel(self, content: Mapping[str, Any]) -> bytes:
        self.state.cancel(content)
        return reply_xml(True, "0", "success")

    def _inventory(self, content: Mapping[str, Any]) -> bytes:
        items = self.state.inventory(content)
        return reply_xml(True, "0", "success", {"items": items})

    async def _faults(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.faults.update(await request.json())
            except (KeyError, TypeError, ValueError) as exc:
                return JSONResponse({"error": f"bad fault setting: {exc}"}, status_code=400)
        elif request.method == "DELETE":
            self.faults.reset()
        return JSONResponse(_fault_view(self.faults))

    async def _config(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.configure(**(await request.json()))
            except (KeyError, TypeError, ValueError) as exc:
                return JSONResponse({"error": f"bad config setting: {exc}"}, status_code=400)
        return JSONResponse(
            {
                "callback_url": self.worker.callback_url,
                "ship_delay": self.state.ship_delay,
                "rate_limit": self.limiter.rate,
                "callback_retry_delays": self.worker.retry_delays,
                "return_delay": self.returns.return_delay,
                "defective_ratio": self.returns.defective_ratio,
                "printers": {k: p.view() for k, p in self.worker.printers.items()},
            }
        )

    async def _stock(self, request: Request) -> Response:
        items = await self._items(request)
        if items is None:
            return JSONResponse({"error": 'send {"items": {"SKU": quantity}}'}, status_code=400)
        self.state.set_stock(items)
        with self.state.lock:
            return JSONResponse({"on_hand": dict(self.state.on_hand)})

    async def _stockchange(self, request: Request) -> Response:
        items = await self._items(request)
        if items is None:
            return JSONResponse({"error": 'send {"items": {"SKU": delta}}'}, status_code=400)
        return JSONResponse({"order_code": self.stock_change(items)})

    async def _ship(self, request: Request) -> Response:
        code = request.path_params["code"]
        try:
            self.worker.ship(code)
        except WmsFailure as exc:
            status = 404 if exc.code == ORDER_NOT_FOUND else 409
            return JSONResponse({"error": exc.message}, status_code=status)
        order = self.order(code)
        if order["status"] != "DELIVERED":
            return JSONResponse({"error": f"order {code} is {order['status']}"}, status_code=409)
        return JSONResponse(order)

    async def _stats(self, _: Request) -> Response:
        return JSONResponse(self.stats())

    async def _callbacks(self, _: Request) -> Response:
        return JSONResponse(self.callbacks())

    async def _orders(self, _: Request) -> Response:
        return JSONResponse(self.orders())

    async def _order(self, request: Request) -> Response:
        code = request.path_params["code"]
        try:
            return JSONResponse(self.order(code))
        except KeyError:
            return JSONResponse({"error": f"order {code} is not known"}, status_code=404)

    async def _defective(self, request: Request) -> Response:
        usage = 'send {"sku": "SKU-1", "quantity": 1} and/or {"defective_ratio": 0.2}'
        try:
            data = await request.json()
            if "defective_ratio" in data:
                self.configure(defective_ratio=data["defective_ratio"])
            if "sku" in data:
                self.mark_defective(str(data["sku"]), int(data.get("quantity", 1)))
            elif "defective_ratio" not in data:
                raise KeyError("sku")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return JSONResponse({"error": f"{usage} ({exc})"}, status_code=400)
        with self.state.lock:
            plan = dict(self.returns.defective_plan)
            ratio = self.returns.defective_ratio
        return JSONResponse({"defective_plan": plan, "defective_ratio": ratio})

    async def _returns(self, _: Request) -> Response:
        return JSONResponse(self.return_orders())

    async def _return(self, request: Request) -> Response:
        code = request.path_params["code"]
        try:
            return JSONResponse(self.return_order(code))
        except KeyError:
            return JSONResponse({"error": f"return order {code} is not known"}, status_code=404)

    async def _receive(self, request: Request) -> Response:
        code = request.path_params["code"]
        try:
            return JSONResponse(self.receive_now(code))
        except WmsFailure as exc:
            return JSONResponse({"error": exc.message}, status_code=404)

    @staticmethod
    async def _items(request: Request) -> dict[str, int] | None:
        try:
            data = await request.json()
            return {str(sku): int(qty) for sku, qty in data["items"].items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def create_app(**settings: Any) -> Starlette:
    """A Starlette app for `QimenEmulator(**settings)`; the emulator is `app.state.emulator`."""
    return QimenEmulator(**settings).app
