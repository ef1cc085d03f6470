"""`WooCommerceEmulator`: one store with its REST API, webhooks, faults and helpers.

Tests and the demo drive it in-process (`seed_items`, `place_order`, `refund`, …); the same
actions are reachable over HTTP under `/_sandbox/` (see `control.py`).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from orderhub.sandbox.faults import FaultMiddleware, Faults
from orderhub.sandbox.shopify.people import random_person

from .api import RestApi, no_route
from .auth import Authenticator
from .control import control_routes
from .hooks import Dispatcher
from .state import StoreState
from .wire import Json, utc_offset

__all__ = [
    "DEFAULT_CONSUMER_KEY",
    "DEFAULT_CONSUMER_SECRET",
    "DEFAULT_WEBHOOK_SECRET",
    "WooCommerceEmulator",
    "create_app",
]

DEFAULT_CONSUMER_KEY = "ck_3f0e1d2c4b5a69788796a5b4c3d2e1f0a9b8c7d6"
DEFAULT_CONSUMER_SECRET = "cs_9a8b7c6d5e4f30211203f4e5d6c7b8a9f0e1d2c3"
DEFAULT_WEBHOOK_SECRET = "wc-sandbox-webhook-secret"
TRACKING = "_wc_shipment_tracking_items"


def _limited(retry_after: float) -> Response:
    # Core WooCommerce does not throttle; hosts in front of it answer 429 (UNCONFIRMED body).
    body = {
        "code": "rest_too_many_requests",
        "message": "Too many requests.",
        "data": {"status": 429},
    }
    return JSONResponse(body, 429, headers={"Retry-After": f"{retry_after:.0f}"})


def _server_error(status: int) -> Response:
    # WordPress's fatal-error handler answers REST requests in JSON.
    message = "There has been a critical error on this website."
    return JSONResponse(
        {"code": "internal_server_error", "message": message, "data": {"status": status}}, status
    )


def _billing(customer: Mapping[str, Any], address: Mapping[str, Any]) -> Json:
    return {
        "first_name": customer.get("first_name") or "",
        "last_name": customer.get("last_name") or "",
        "company": "",
        "address_1": address.get("address1") or "",
        "address_2": address.get("address2") or "",
        "city": address.get("city") or "",
        "state": address.get("province_code") or address.get("province") or "",
        "postcode": address.get("zip") or "",
        "country": address.get("country_code") or "",
        "email": customer.get("email") or "",
        "phone": customer.get("phone") or "",
    }


class _Addressed:
    """ASGI wrapper that tells the emulator the address it is reached at (for links and
    `X-WC-Webhook-Source`), which is known only once a server runs it."""

    def __init__(self, inner: ASGIApp, emulator: WooCommerceEmulator) -> None:
        self.inner = inner
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers") or []).get(b"host")
            if host:
                self.emulator.url = f"{scope.get('scheme', 'http')}://{host.decode('latin-1')}"
        await self.inner(scope, receive, send)


class WooCommerceEmulator:
    """A WooCommerce store on loopback: REST API v3, webhooks, faults and control helpers."""

    def __init__(
        self,
        *,
        consumer_key: str = DEFAULT_CONSUMER_KEY,
        consumer_secret: str = DEFAULT_CONSUMER_SECRET,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        currency: str = "USD",
        utc_offset_minutes: int = 0,
        webhook_delay: float = 0.05,
        max_failures: int = 5,
        basic_over_http: bool = True,
        seed: int | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.webhook_secret = webhook_secret
        self.max_failures = max_failures
        self.faults = faults or Faults(seed=seed)
        self.rng = random.Random(seed)
        self.url = "http://127.0.0.1"
        self.dispatcher = Dispatcher(
            source=lambda: f"{self.url}/", faults=self.faults, on_result=self._delivered,
            delay=webhook_delay,
        )  # fmt: skip
        self.state = StoreState(
            offset=utc_offset(utc_offset_minutes),
            currency=currency,
            base_url=lambda: self.url,
            emit=self.dispatcher.deliver,
        )
        self.api = RestApi(
            self.state,
            Authenticator(consumer_key, consumer_secret, basic_over_http=basic_over_http),
            on_webhook_created=self.dispatcher.ping,
        )
        starlette = Starlette(
            routes=[*self.api.routes(), *control_routes(self)],
            exception_handlers={HTTPException: self._http_error},
        )
        inner = FaultMiddleware(
            starlette,
            self.faults,
            control_prefix="/_sandbox",
            malformed_body=b'[{"id":1,"status":"proc',
            rate_limited=_limited,
            server_error=_server_error,
        )
        self._app = _Addressed(inner, self)

    @property
    def app(self) -> _Addressed:
        """The ASGI app; it learns the store's own address from the requests it serves."""
        return self._app

    @staticmethod
    async def _http_error(request: Request, exc: Exception) -> Response:
        return JSONResponse(no_route().body(), 404)

    def _delivered(self, webhook_id: int, ok: bool) -> None:
        self.state.delivered(webhook_id, ok, max_failures=self.max_failures)

    @property
    def credentials(self) -> dict[str, str]:
        """What a client needs, by WooCommerce's own names."""
        return {
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "webhook_secret": self.webhook_secret,
        }

    # the merchant's catalogue

    def seed_items(self, items: Iterable[Mapping[str, Any]]) -> list[Json]:
        """Products for SKUs not sold yet: `{"sku", "stock", "price", "title"}`; items
        sharing a `product` name become variations of one variable product."""
        with self.state.lock:
            fresh = [dict(i) for i in items if self.state.catalog.by_sku(str(i["sku"])) is None]
            made: list[Json] = []
            groups: dict[str, list[dict[str, Any]]] = {}
            for item in fresh:
                if item.get("product"):
                    groups.setdefault(str(item["product"]), []).append(item)
                else:
                    spec = {**item, "name": item.get("title") or f"Sandbox item {item['sku']}"}
                    made.append(self.state.catalog.add_product(spec))
            for name, variants in groups.items():
                spec = {"name": name, "price": variants[0].get("price", "19.90")}
                variations = [{**v, "option": v.get("option") or v["sku"]} for v in variants]
                made.append(self.state.catalog.add_product({**spec, "variations": variations}))
            return made

    # buyers and the merchant

    def place_order(self, spec: Mapping[str, Any], *, at: datetime | None = None) -> int:
        """A buyer's order, paid (`processing`) unless `status` says otherwise:
        `{"lines": [{"sku": "SKU-001", "quantity": 2}], "shipping_total": "4.99",
        "customer": {...}, "shipping": {...}, "note": "...", "tax_rate": "0.1"}`."""
        customer, address = random_person(self.rng)
        billing = _billing(customer, address)
        billing.update(spec.get("billing") or {})
        body: Json = {
            "status": spec.get("status", "processing"),
            "created_via": "checkout",
            "billing": billing,
            "shipping": {**billing, **(spec.get("shipping") or {})},
            "customer_note": spec.get("note") or "",
            "customer_id": int(spec.get("customer_id") or 0),
            "tax_rate": spec.get("tax_rate") or "0",
            "line_items": [dict(line) for line in spec.get("lines") or []],
            "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate",
                                "total": str(spec.get("shipping_total") or "0.00")}],
            "fee_lines": list(spec.get("fees") or []),
            "payment_method": spec.get("payment_method") or "stripe",
            "payment_method_title": "Credit card (Stripe)",
        }  # fmt: skip
        return int(self.state.create_order(body, at=at)["id"])

    def modify_order(self, order_id: int, *, at: datetime | None = None, **changes: Any) -> None:
        """Change an order as the merchant would (status, customer_note, meta_data)."""
        self.state.update_order(order_id, changes, at=at)

    def pay_order(self, order_id: int, *, at: datetime | None = None) -> None:
        self.state.update_order(order_id, {"status": "processing"}, at=at)

    def cancel_order(self, order_id: int, *, at: datetime | None = None) -> None:
        self.state.update_order(order_id, {"status": "cancelled"}, at=at)

    def refund(
        self,
        order_id: int,
        *,
        lines: Sequence[tuple[str, int]] = (),
        amount: str | None = None,
        reason: str = "",
        restock: bool = True,
    ) -> Json:
        """Refund in wp-admin: `lines` are (line item id or SKU, units); the money defaults
        to what those units cost, or with no lines the whole order."""
        with self.state.lock:
            order = self.state.book.get(order_id).data
            by_sku = {str(x["sku"]): x["id"] for x in order["line_items"]}
            items = [
                {"id": int(by_sku.get(str(ref), ref)), "quantity": quantity}
                for ref, quantity in lines
            ]
            if not lines and amount is None:
                items = [{"id": x["id"], "quantity": x["quantity"]} for x in order["line_items"]]
                amount = order["total"]
            body = {"line_items": items, "reason": reason, "api_restock": restock}
            if amount is not None:
                body["amount"] = str(amount)
            return self.state.add_refund(order_id, body)

    # reading what the hub did

    def order(self, order_id: int) -> Json:
        """The order as the API shows it, with its notes, tracking items and full refunds."""
        with self.state.lock:
            stored = self.state.book.get(order_id)
            found = self.state.order_json(stored)
            found["notes"] = copy.deepcopy(stored.notes)
            found["tracking"] = copy.deepcopy(self._tracking(found))
            found["refunds_full"] = copy.deepcopy(stored.refunds)
            return found

    @staticmethod
    def _tracking(order: Json) -> list[Json]:
        for meta in order["meta_data"]:
            if meta["key"] == TRACKING and isinstance(meta["value"], list):
                return list(meta["value"])
        return []

    def orders(self) -> dict[str, Json]:
        """Every order by id, as the API shows it."""
        with self.state.lock:
            return {str(k): self.state.order_json(o) for k, o in self.state.book.orders.items()}

    def stock(self) -> dict[str, int]:
        """Units per SKU the store shows (products and variations that manage stock)."""
        with self.state.lock:
            return self.state.catalog.stock()

    def consigned(self) -> int:
        """Orders with a tracking number on them."""
        return sum(1 for o in self.orders().values() if self._tracking(o))

    def deliveries(self) -> list[Json]:
        return self.dispatcher.log()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self.dispatcher.wait_idle(timeout)

    def send_webhook(self, order_id: int, topic: str = "order.updated") -> int:
        """Deliver one order's `topic` to every active webhook of it now; how many."""
        with self.state.lock:
            payload = self.state.order_json(self.state.book.get(order_id))
            hooks = [
                h
                for h in self.state.webhooks.values()
                if h["topic"] == topic and h["status"] == "active"
            ]
        for hook in hooks:
            self.dispatcher.deliver(hook, payload, order_id)
        return len(hooks)

    def webhooks(self) -> list[Json]:
        with self.state.lock:
            return copy.deepcopy(list(self.state.webhooks.values()))

    def stats(self) -> Json:
        """Counts a demo or a test reads to see what the hub did to the store."""
        orders = list(self.orders().values())
        log = self.deliveries()
        return {
            "orders_placed": len(orders),
            "by_status": {
                s: sum(1 for o in orders if o["status"] == s) for s in {o["status"] for o in orders}
            },
            "tracked": sum(1 for o in orders if self._tracking(o)),
            "calls": dict(self.api.calls),
            "webhooks": {
                "delivered": sum(
                    1 for d in log if d["status_code"] and 200 <= d["status_code"] < 300
                ),
                "failed": sum(
                    1
                    for d in log
                    if d["sent_at"] and not (d["status_code"] and 200 <= d["status_code"] < 300)
                ),
            },
            "inventory": self.stock(),
        }

    def start(self) -> None:
        """Nothing to start: deliveries begin with the first event."""

    def stop(self) -> None:
        self.dispatcher.close()

    close = stop


def create_app(**settings: Any) -> Any:
    """An ASGI app for a fresh emulator built from keyword settings."""
    return WooCommerceEmulator(**settings).app
