"""`DouyinEmulator`: one Douyin shop with its open-platform app, pushes, faults and helpers.

Tests drive it in-process (`seed_items`, `place_order`, `refund`, …); the same actions
are reachable over HTTP under `/_sandbox/` (see `control.py`), which is never faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from orderhub.sandbox.faults import Faults, emulator_app

from .api import Credentials, Gateway
from .control import control_routes
from .methods import SearchSettings, ShopMethods
from .orders import ShopOrder
from .push import DEFAULT_PUSH_TAGS, PushOutbox, PushWorker, message_data
from .state import DouyinState
from .wire import (
    SERVICE_UNAVAILABLE,
    TRAFFIC_LIMITED,
    DouyinFailure,
    dump,
    envelope,
    failure_envelope,
)

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_APP_KEY",
    "DEFAULT_APP_SECRET",
    "DEFAULT_SHOP_ID",
    "DouyinEmulator",
    "create_app",
]

DEFAULT_APP_KEY = "7152436985061234567"
DEFAULT_APP_SECRET = "5f1c8e0a-3b7d-4c2e-9a61-0d4b8f2e7c93"
DEFAULT_ACCESS_TOKEN = "a8d3c6e1-2f47-4b9a-8e05-7c1d9b3f6a24"
DEFAULT_SHOP_ID = 4463798
DEFAULT_PUSH_RETRY_DELAYS = (0.5, 2.0, 10.0, 60.0)
CONFIG_KEYS = frozenset(
    {
        "push_url",
        "push_retry_delays",
        "push_tags",
        "timestamp_window",
        "max_window_seconds",
        "page_cap",
        "end_inclusive",
        "decrypt_quota",
        "product_list_with_skus",
        "throttle_status",
        "retry_after_header",
    }
)


def _json(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dump(payload), status, headers, media_type="application/json")


def _optional(value: Any, kind: Callable[[Any], Any]) -> Any:
    return None if value is None else kind(value)


class DouyinEmulator:
    """A Douyin shop on loopback: the open API, message pushes, faults and control helpers."""

    def __init__(
        self,
        app_key: str = DEFAULT_APP_KEY,
        app_secret: str = DEFAULT_APP_SECRET,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        shop_id: int = DEFAULT_SHOP_ID,
        *,
        shop_name: str = "沙箱抖店",
        seed: int | None = None,
        timestamp_window: float = 600.0,
        max_window_seconds: float | None = 86400.0,
        page_cap: int | None = None,
        end_inclusive: bool = True,
        sign_raw_body: bool = False,
        uppercase_sign_ok: bool = False,
        decrypt_quota: int | None = None,
        product_list_with_skus: bool = True,
        throttle_status: int = 429,
        retry_after_header: bool = False,
        push_url: str | None = None,
        push_retry_delays: Sequence[float] = DEFAULT_PUSH_RETRY_DELAYS,
        push_tags: Mapping[str, str] | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.credentials = Credentials(app_key, app_secret, access_token)
        self.shop_id = int(shop_id)
        self.shop_name = shop_name
        self.throttle_status = throttle_status
        self.retry_after_header = retry_after_header
        self.push_tags = dict(DEFAULT_PUSH_TAGS if push_tags is None else push_tags)
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = DouyinState(emit=self._emit, seed=seed)
        self.settings = SearchSettings(
            max_window_seconds=max_window_seconds,
            page_cap=page_cap,
            end_inclusive=end_inclusive,
            decrypt_quota=decrypt_quota,
            product_list_with_skus=product_list_with_skus,
        )
        self.methods = ShopMethods(
            self.state, self.settings, shop_id=self.shop_id, shop_name=shop_name
        )
        self.gateway = Gateway(
            self.credentials,
            self.methods.handlers(),
            timestamp_window=timestamp_window,
            sign_raw_body=sign_raw_body,
            uppercase_sign_ok=uppercase_sign_ok,
        )
        self.outbox = PushOutbox()
        self.worker = PushWorker(
            self.outbox,
            self.faults,
            app_key=app_key,
            app_secret=app_secret,
            push_url=push_url,
            retry_delays=push_retry_delays,
        )
        self.app = self._build_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    @property
    def app_key(self) -> str:
        return self.credentials.app_key

    @property
    def app_secret(self) -> str:
        return self.credentials.app_secret

    @property
    def access_token(self) -> str:
        return self.credentials.access_token

    # -- the shop, driven from Python -------------------------------------------------

    def seed_items(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Put `{"sku", "title", "price": "19.90", "stock", "item_id"?}` items on sale;
        returns `{"sku", "product_id", "sku_id"}` per item."""
        return self.state.seed_items(items)

    def place_order(self, spec: Mapping[str, Any], *, at: datetime | None = None) -> str:
        """Place an order (`{"lines": [{"sku", "quantity", "price"?}], "receiver"?,
        "paid"?: True, "buyer_message"?, "post_amount"?}`); returns the shop order id."""
        return self.state.place_order(spec, at)

    def pay_order(self, order_id: str, *, at: datetime | None = None) -> None:
        """The buyer pays an order placed with `"paid": False`."""
        self.state.pay_order(order_id, at)

    def modify_order(self, order_id: str, *, at: datetime | None = None, **changes: Any) -> None:
        """Change seller_words, seller_remark_stars, buyer_words, receiver or order_status."""
        self.state.modify_order(order_id, at, changes)

    def cancel_order(
        self, order_id: str, *, reason: str = "买家取消订单", at: datetime | None = None
    ) -> None:
        """Cancel an order before anything of it ships (status 4)."""
        self.state.cancel_order(order_id, reason, at)

    def refund(
        self,
        order_id: str,
        *,
        line_index: int = 0,
        quantity: int | None = None,
        returned: bool = False,
        settle: bool = False,
        at: datetime | None = None,
    ) -> None:
        """Refund one line: before shipment it succeeds and closes the line (and the order
        once nothing is open); after shipment it is in progress until `settle_refund` (or
        `settle=True`)."""
        with self.state.lock:
            self.state.refund(order_id, line_index, quantity, returned, at)
            sale = self.state.order(order_id).lines[line_index].after_sale
            if settle and sale is not None and sale.open:
                self.state.settle_refund(order_id, line_index, at)

    def settle_refund(
        self, order_id: str, *, line_index: int = 0, at: datetime | None = None
    ) -> None:
        """The refund in progress on a line succeeds."""
        self.state.settle_refund(order_id, line_index, at)

    def complete_order(self, order_id: str, *, at: datetime | None = None) -> None:
        """The buyer confirms receipt (status 5)."""
        self.state.complete_order(order_id, at)

    def orders(self) -> dict[str, dict[str, Any]]:
        """Every order by id: status, times, lines, shipments, refund state, receiver."""
        with self.state.lock:
            return {oid: o.snapshot() for oid, o in self.state.orders.items()}

    def order(self, order_id: str) -> dict[str, Any]:
        """One order's snapshot; KeyError when unknown."""
        with self.state.lock:
            return self.state.order(order_id).snapshot()

    def stock(self) -> dict[str, int]:
        """Stock by merchant SKU code, as seeding and `sku.syncStock` left it."""
        with self.state.lock:
            return self.state.catalog.stock()

    def on_search(self, fn: Callable[[], None]) -> None:
        """Run `fn()` at the start of every `order.searchList`, before its page is computed."""
        self.methods.search_hooks.append(fn)

    def rotate_access_token(self, new: str | None = None) -> str:
        """Issue a new access token; the old one is answered as expired from now on."""
        creds = self.credentials
        creds.expired.add(creds.access_token)
        creds.access_token = new or f"{creds.access_token[:-6]}{random.randrange(16**6):06x}"
        return creds.access_token

    # -- settings, stats, pushes --------------------------------------------------------

    def configure(self, **changes: Any) -> None:
        """Change push_url, push_retry_delays, push_tags or the UNCONFIRMED rules at run time."""
        unknown = set(changes) - CONFIG_KEYS
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        s, c = self.settings, changes
        if "push_url" in c:
            self.worker.push_url = c["push_url"] or None
        if "push_retry_delays" in c:
            self.worker.retry_delays = [float(d) for d in c["push_retry_delays"]]
        if "push_tags" in c:
            self.push_tags = {str(k): str(v) for k, v in dict(c["push_tags"]).items()}
        if "timestamp_window" in c:
            self.gateway.timestamp_window = float(c["timestamp_window"])
        if "max_window_seconds" in c:
            s.max_window_seconds = _optional(c["max_window_seconds"], float)
        if "page_cap" in c:
            s.page_cap = _optional(c["page_cap"], int)
        if "decrypt_quota" in c:
            s.decrypt_quota = _optional(c["decrypt_quota"], int)
        if "end_inclusive" in c:
            s.end_inclusive = bool(c["end_inclusive"])
        if "product_list_with_skus" in c:
            s.product_list_with_skus = bool(c["product_list_with_skus"])
        if "throttle_status" in c:
            self.throttle_status = int(c["throttle_status"])
        if "retry_after_header" in c:
            self.retry_after_header = bool(c["retry_after_header"])
        if self.worker.push_url:
            self.worker.start()
        self.worker.wake()

    def config(self) -> dict[str, Any]:
        """The settings `configure` changes, as they are now."""
        s = self.settings
        return {
            "push_url": self.worker.push_url,
            "push_retry_delays": list(self.worker.retry_delays),
            "push_tags": dict(self.push_tags),
            "timestamp_window": self.gateway.timestamp_window,
            "max_window_seconds": s.max_window_seconds,
            "page_cap": s.page_cap,
            "end_inclusive": s.end_inclusive,
            "decrypt_quota": s.decrypt_quota,
            "product_list_with_skus": s.product_list_with_skus,
            "throttle_status": self.throttle_status,
            "retry_after_header": self.retry_after_header,
        }

    def stats(self) -> dict[str, Any]:
        """Calls and refusals per method, decryptions, orders, parcels and pushes."""
        with self.state.lock:
            orders = list(self.state.orders.values())
            counts = {
                "orders": len(orders),
                "parcels": sum(len(o.packs) for o in orders),
                "decrypt_calls": self.methods.decrypt_calls,
                "decrypted": self.methods.decrypted,
            }
        return {**self.gateway.stats(), **counts, **self.outbox.counts()}

    def pushes(self) -> list[dict[str, Any]]:
        """The push log: every message with its attempts."""
        return self.outbox.log()

    def start(self) -> None:
        """Start the push thread (the app's lifespan and `configure(push_url=…)` do too)."""
        self.worker.start()

    def stop(self) -> None:
        """Stop the push thread."""
        self.worker.stop()

    close = stop

    def _emit(self, event: str, order: ShopOrder, details: Mapping[str, Any]) -> None:
        tag = self.push_tags.get(event)
        if not tag or not self.worker.push_url:
            return
        data = message_data(event, order, details, self.shop_id)
        copies = 1 + max(int(self.faults.duplicate_webhooks), 0)
        self.outbox.add(tag, order.order_id, data, copies)
        self.worker.wake()

    # -- HTTP --------------------------------------------------------------------------

    def _limited(self, retry_after: float) -> Response:
        body = failure_envelope(TRAFFIC_LIMITED, "isv.traffic-limited", "请求太频繁，请稍后重试")
        headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}
        return _json(body, self.throttle_status, headers if self.retry_after_header else None)

    @staticmethod
    def _server_error(status: int) -> Response:
        body = failure_envelope(
            SERVICE_UNAVAILABLE, "dop.service-error", "内部错误，请反馈客服或答疑群"
        )
        return _json(body, status)

    def _build_app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            self.worker.start()
            try:
                yield
            finally:
                await asyncio.to_thread(self.worker.stop)

        routes = [*control_routes(self), Route("/{path:path}", self._api, methods=["POST"])]
        return emulator_app(
            self,
            routes,
            self.faults,
            malformed_body=b'{"code":10000,"msg":"success","data":{"shop_order_list":[{"or',
            malformed_type="application/json",
            rate_limited=self._limited,
            server_error=self._server_error,
            lifespan=lifespan,
        )

    async def _api(self, request: Request) -> Response:
        body = await request.body()
        params = dict(request.query_params)
        method = request.path_params["path"].strip("/").replace("/", ".")
        try:
            data = await asyncio.to_thread(self.gateway.handle, method, params, body)
        except DouyinFailure as exc:
            return _json(failure_envelope(exc.code, exc.sub_code, exc.sub_msg))
        return _json(envelope(data))


def create_app(**settings: Any) -> Starlette:
    """A Starlette app for `DouyinEmulator(**settings)`; the emulator is `app.state.emulator`."""
    return DouyinEmulator(**settings).app
