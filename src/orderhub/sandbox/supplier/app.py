"""A drop-ship supplier implementing the orderhub supplier API, over real HTTP.

Source: the API as we publish it to suppliers, `docs/supplier-api.md` (also the
docstring of `orderhub.connectors.supplier`); this emulator is what a conforming
supplier looks like, written from that text rather than from the connector.

Wire: `POST /purchase-orders` (201 new, 200 repeat), `POST /purchase-orders/batch`
(`{"purchase_orders": [...]}`, at most `batch_limit`; 200 with one result per PO, see
`batch.py`), `POST /purchase-orders/{po}/cancel` (200 `{"cancelled": true}`, 409
`{"cancelled": false, "reason": "already shipped"}`), `GET /stock?sku=…`; every call
signed with `X-Orderhub-Supplier`, `X-Orderhub-Timestamp` and `X-Orderhub-Signature`
(401 `bad_signature` or `stale_timestamp` otherwise, nothing stored). Errors are
`{"error": {"code", "message"}}`: `invalid_request` (400, the message names the field),
`po_not_found` (404). 429 and 5xx come from fault injection, for a batch as for the rest.

Control (not part of the API, never faulted): `/_sandbox/faults`, `/_sandbox/config`
(callback_url, ack_delay, ship_delay, paused, split_lines, callback_retry_delays),
`/_sandbox/slow`, `/_sandbox/stock`, `/_sandbox/ack/{po}`, `/_sandbox/ship/{po}`,
`/_sandbox/purchase-orders[/{po}]`, `/_sandbox/callbacks`, `/_sandbox/stats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from orderhub.sandbox.faults import Faults, emulator_app

from .batch import BatchDesk
from .callbacks import CallbackWorker, check_signature
from .state import SupplierFailure, SupplierState

__all__ = ["SLOW_SECONDS", "SupplierEmulator", "create_app"]

DEFAULT_CARRIERS = ("SF", "YTO", "ZTO", "STO", "YUNDA", "JD")
DEFAULT_RETRY_DELAYS = (0.1, 0.3, 1.0, 3.0, 10.0)
SLOW_SECONDS = 3600.0
"""Ack and ship delay of a supplier made slow without saying how slow."""

_CONFIG_KEYS = frozenset(
    {"callback_url", "ack_delay", "ship_delay", "paused", "split_lines", "callback_retry_delays"}
)


def _fault_view(faults: Faults) -> dict[str, Any]:
    names = (f.name for f in fields(faults) if not f.name.startswith("_"))
    return {name: getattr(faults, name) for name in names if name != "storm_until"}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class SupplierEmulator:
    """A supplier on loopback: takes POs, acknowledges, ships, and calls the hub back."""

    def __init__(
        self,
        supplier_id: str,
        secret: str,
        *,
        ack_delay: float = 0.2,
        ship_delay: float = 0.5,
        callback_url: str | None = None,
        split_lines: bool = False,
        paused: bool = False,
        carriers: Sequence[str] = DEFAULT_CARRIERS,
        seed: int | None = None,
        max_skew: float = 300.0,
        callback_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        faults: Faults | None = None,
        batch_limit: int = 100,
    ) -> None:
        self.supplier_id = supplier_id
        self._secret = secret
        self.max_skew = max_skew
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = SupplierState(
            carriers=carriers,
            ack_delay=ack_delay,
            ship_delay=ship_delay,
            split_lines=split_lines,
            paused=paused,
            seed=seed,
        )
        self.batches = BatchDesk(self.state, limit=batch_limit)
        self.worker = CallbackWorker(
            self.state,
            self.faults,
            supplier_id=supplier_id,
            secret=secret,
            callback_url=callback_url,
            retry_delays=callback_retry_delays,
        )
        self.app = self._build_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def start(self) -> None:
        """Start the worker thread (the app's lifespan does this too)."""
        self.worker.start()

    def stop(self) -> None:
        """Stop the worker thread."""
        self.worker.stop()

    def configure(self, **changes: Any) -> None:
        """Change callback_url, delays, paused, split_lines or retry delays at run time."""
        unknown = set(changes) - _CONFIG_KEYS
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        with self.state.lock:
            if "callback_url" in changes:
                self.worker.callback_url = changes["callback_url"] or None
            if "ack_delay" in changes:
                self.state.ack_delay = float(changes["ack_delay"])
            if "ship_delay" in changes:
                self.state.ship_delay = float(changes["ship_delay"])
            if "paused" in changes:
                self.state.paused = bool(changes["paused"])
            if "split_lines" in changes:
                self.state.split_lines = bool(changes["split_lines"])
            if "callback_retry_delays" in changes:
                self.worker.retry_delays = [float(d) for d in changes["callback_retry_delays"]]
        self.worker.wake()

    def config(self) -> dict[str, Any]:
        """The settings `configure` changes, as they are now."""
        with self.state.lock:
            return {
                "callback_url": self.worker.callback_url,
                "ack_delay": self.state.ack_delay,
                "ship_delay": self.state.ship_delay,
                "paused": self.state.paused,
                "split_lines": self.state.split_lines,
                "callback_retry_delays": list(self.worker.retry_delays),
            }

    def make_slow(self, seconds: float = SLOW_SECONDS) -> None:
        """Acknowledge and ship only after `seconds` each: a supplier that lets POs sit."""
        self.configure(ack_delay=seconds, ship_delay=seconds)

    def set_stock(self, items: Mapping[str, int]) -> None:
        """Set on-hand units per SKU."""
        self.state.set_stock(items)

    def purchase_orders(self) -> dict[str, dict[str, Any]]:
        """Every PO by number, as the control endpoint shows it."""
        with self.state.lock:
            return {n: o.snapshot() for n, o in self.state.orders.items()}

    def purchase_order(self, po_number: str) -> dict[str, Any]:
        """One PO; KeyError when unknown."""
        with self.state.lock:
            return self.state.orders[po_number].snapshot()

    def callbacks(self) -> list[dict[str, Any]]:
        """The callback log: every delivery with its attempts."""
        with self.state.lock:
            return [d.snapshot() for d in self.state.deliveries]

    def stats(self) -> dict[str, Any]:
        """Counters: calls, POs, acknowledgements, parcels, cancels, callbacks, and batch
        creates (`batch_calls`) with their sizes (`batch_sizes`)."""
        return {**self.state.stats(), **self.batches.stats()}

    def _build_app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            self.worker.start()
            try:
                yield
            finally:
                await asyncio.to_thread(self.worker.stop)

        routes = [
            Route("/purchase-orders", self._create, methods=["POST"]),
            Route("/purchase-orders/batch", self._create_batch, methods=["POST"]),
            Route("/purchase-orders/{po:path}/cancel", self._cancel, methods=["POST"]),
            Route("/stock", self._stock, methods=["GET"]),
            Route("/_sandbox/faults", self._faults, methods=["GET", "PUT", "DELETE"]),
            Route("/_sandbox/config", self._config, methods=["GET", "PUT"]),
            Route("/_sandbox/slow", self._slow, methods=["POST"]),
            Route("/_sandbox/stock", self._set_stock, methods=["POST"]),
            Route("/_sandbox/ack/{po:path}", self._ack_now, methods=["POST"]),
            Route("/_sandbox/ship/{po:path}", self._ship_now, methods=["POST"]),
            Route("/_sandbox/stats", self._stats, methods=["GET"]),
            Route("/_sandbox/callbacks", self._callbacks, methods=["GET"]),
            Route("/_sandbox/purchase-orders", self._list, methods=["GET"]),
            Route("/_sandbox/purchase-orders/{po:path}", self._show, methods=["GET"]),
        ]
        return emulator_app(
            self,
            routes,
            self.faults,
            malformed_body=b'{"po_number": "PO-1", "supplier_re',
            malformed_type="application/json",
            lifespan=lifespan,
        )

    async def _signed_body(self, request: Request) -> bytes | Response:
        """The raw body when the request is signed by the hub, else the 401 to send."""
        self.worker.start()
        body = await request.body()
        why = check_signature(
            request.headers,
            body,
            supplier_id=self.supplier_id,
            secret=self._secret,
            max_skew=self.max_skew,
        )
        if not why:
            return body
        with self.state.lock:
            self.state.refused_calls += 1
        if why == "stale":
            return _error(401, "stale_timestamp", "X-Orderhub-Timestamp is missing or too old")
        return _error(401, "bad_signature", f"the request is not signed for this supplier ({why})")

    async def _signed_object(self, request: Request) -> dict[str, Any] | Response:
        """The body as a JSON object when the request is signed, else the error to send."""
        body = await self._signed_body(request)
        if isinstance(body, Response):
            return body
        try:
            data = json.loads(body)
        except ValueError:
            return _error(400, "invalid_request", "the body is not JSON")
        if not isinstance(data, dict):
            return _error(400, "invalid_request", "the body must be a JSON object")
        return data

    async def _create(self, request: Request) -> Response:
        data = await self._signed_object(request)
        if isinstance(data, Response):
            return data
        try:
            order, new = self.state.create(data)
        except SupplierFailure as exc:
            return _error(exc.status, exc.code, exc.message)
        self.worker.wake()
        reply = {"po_number": order.po_number, "supplier_ref": order.supplier_ref}
        reply["status"] = order.status
        return JSONResponse(reply, status_code=201 if new else 200)

    async def _create_batch(self, request: Request) -> Response:
        data = await self._signed_object(request)
        if isinstance(data, Response):
            return data
        try:
            results = self.batches.take(data)
        except SupplierFailure as exc:
            return _error(exc.status, exc.code, exc.message)
        self.worker.wake()
        return JSONResponse({"results": results})

    async def _cancel(self, request: Request) -> Response:
        body = await self._signed_body(request)
        if isinstance(body, Response):
            return body
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return _error(400, "invalid_request", "the body is not JSON")
        reason = str(data.get("reason") or "") if isinstance(data, dict) else ""
        try:
            cancelled = self.state.cancel(request.path_params["po"], reason)
        except SupplierFailure as exc:
            return _error(exc.status, exc.code, exc.message)
        if cancelled:
            return JSONResponse({"cancelled": True})
        return JSONResponse({"cancelled": False, "reason": "already shipped"}, status_code=409)

    async def _stock(self, request: Request) -> Response:
        body = await self._signed_body(request)
        if isinstance(body, Response):
            return body
        skus = [sku for sku in request.query_params.getlist("sku") if sku]
        if not skus:
            return _error(400, "invalid_request", "give at least one sku parameter")
        return JSONResponse({"items": self.state.available(skus)})

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
        return JSONResponse(self.config())

    async def _slow(self, request: Request) -> Response:
        raw = await request.body()
        try:
            seconds = float(json.loads(raw).get("seconds", SLOW_SECONDS)) if raw else SLOW_SECONDS
        except (AttributeError, TypeError, ValueError):
            return JSONResponse({"error": 'send {"seconds": 3600} or nothing'}, status_code=400)
        self.make_slow(seconds)
        return JSONResponse(self.config())

    async def _set_stock(self, request: Request) -> Response:
        try:
            data = await request.json()
            items = {str(sku): int(qty) for sku, qty in data["items"].items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return JSONResponse({"error": 'send {"items": {"SKU": units}}'}, status_code=400)
        self.set_stock(items)
        with self.state.lock:
            return JSONResponse({"on_hand": dict(self.state.on_hand)})

    async def _ack_now(self, request: Request) -> Response:
        return self._act(request.path_params["po"], self.worker.acknowledge)

    async def _ship_now(self, request: Request) -> Response:
        return self._act(request.path_params["po"], self.worker.ship)

    def _act(self, po_number: str, action: Callable[[str], bool]) -> Response:
        try:
            done = action(po_number)
        except SupplierFailure as exc:
            return _error(exc.status, exc.code, exc.message)
        order = self.purchase_order(po_number)
        if not done:
            return _error(409, "nothing_to_do", f"purchase order {po_number} is {order['status']}")
        return JSONResponse(order)

    async def _stats(self, _: Request) -> Response:
        return JSONResponse(self.stats())

    async def _callbacks(self, _: Request) -> Response:
        return JSONResponse(self.callbacks())

    async def _list(self, _: Request) -> Response:
        return JSONResponse(self.purchase_orders())

    async def _show(self, request: Request) -> Response:
        po_number = request.path_params["po"]
        try:
            return JSONResponse(self.purchase_order(po_number))
        except KeyError:
            return _error(404, "po_not_found", f"purchase order {po_number} is unknown")


def create_app(**settings: Any) -> Starlette:
    """A Starlette app for `SupplierEmulator(**settings)`; the emulator is `app.state.emulator`."""
    return SupplierEmulator(**settings).app
