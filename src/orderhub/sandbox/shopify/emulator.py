"""`ShopifyEmulator`: one emulated shop with its API app, webhooks, faults and helpers.

Tests and the demo use the Python helpers (`place_order`, `seed_product`, `stats`, ...)
in-process; the same actions are reachable over HTTP under `/_sandbox/`.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from orderhub.sandbox.faults import FaultMiddleware, Faults
from orderhub.sandbox.shopify.app import AdminApi
from orderhub.sandbox.shopify.bucket import CostBucket, LeakyBucket
from orderhub.sandbox.shopify.common import Json
from orderhub.sandbox.shopify.control import control_routes
from orderhub.sandbox.shopify.people import random_person
from orderhub.sandbox.shopify.refunds import refund_items, refund_value
from orderhub.sandbox.shopify.state import ShopState
from orderhub.sandbox.shopify.webhooks import DEFAULT_RETRY_DELAYS, WebhookDispatcher

__all__ = ["DEFAULT_ACCESS_TOKEN", "DEFAULT_CLIENT_SECRET", "ShopifyEmulator", "create_app"]

DEFAULT_ACCESS_TOKEN = "shpat_sandbox0000000000000000000000"
DEFAULT_CLIENT_SECRET = "shpss_sandbox0000000000000000000000"
SHIPPING_FEES = ("0.00", "4.99", "9.90")
NOTES = (None, None, None, "请周末送货，谢谢", "Please leave at the front door", "礼物包装 🎁")


def _split_name(name: str) -> tuple[str, str]:
    if any("\u4e00" <= ch <= "\u9fff" for ch in name) and " " not in name:
        return name[1:], name[:1]
    first, _, last = name.partition(" ")
    return first, last


class ShopifyEmulator:
    """A Shopify shop on loopback: Admin REST API, webhooks, faults and control helpers."""

    def __init__(
        self,
        *,
        shop_domain: str = "demo-shop.myshopify.com",
        api_version: str = "2025-07",
        access_token: str = DEFAULT_ACCESS_TOKEN,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        bucket_size: int = 40,
        leak_rate: float = 2.0,
        graphql_bucket_size: int = 2000,
        graphql_restore_rate: float = 100.0,
        webhook_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        seed: int | None = None,
        currency: str = "USD",
        utc_offset_minutes: int = -240,
        reorder_window: float = 0.3,
        faults: Faults | None = None,
    ) -> None:
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.access_token = access_token
        self.client_secret = client_secret
        self.faults = faults or Faults(seed=seed)
        if seed is not None and faults is None:
            self.faults.update({"seed": seed})
        self.dispatcher = WebhookDispatcher(
            secret=client_secret,
            shop_domain=shop_domain,
            api_version=api_version,
            faults=self.faults,
            retry_delays=webhook_retry_delays,
            reorder_window=reorder_window,
        )
        self.state = ShopState(
            shop_domain=shop_domain,
            api_version=api_version,
            currency=currency,
            utc_offset_minutes=utc_offset_minutes,
            seed=seed,
            emit=self._emit,
        )
        self.bucket = LeakyBucket(bucket_size, leak_rate)
        self.points = CostBucket(graphql_bucket_size, graphql_restore_rate)
        admin = AdminApi(self.state, self.bucket, access_token, points=self.points)
        starlette = Starlette(
            routes=[*admin.routes(), *control_routes(self)],
            exception_handlers={HTTPException: self._http_error},
            lifespan=self._lifespan,
        )
        self.app = FaultMiddleware(starlette, self.faults, control_prefix="/_sandbox")

    def _emit(self, topic: str, payload: Json) -> None:
        self.dispatcher.enqueue(topic, payload, self.state.subscriptions(topic))

    @staticmethod
    async def _http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return JSONResponse({"errors": "Not Found" if status in (404, 405) else "Error"}, status)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        self.close()

    def add_location(self, name: str) -> Json:
        """Open another location; no item is stocked there until its stock is set."""
        with self.state.lock:
            return copy.deepcopy(self.state.catalog.add_location(name))

    @property
    def locations(self) -> list[Json]:
        """The shop's locations (the first is where new stock and orders go)."""
        with self.state.lock:
            return copy.deepcopy(list(self.state.catalog.locations.values()))

    def seed_product(self, spec: Mapping[str, Any]) -> Json:
        """Create a product for SKUs not in the catalog yet; ids for every requested SKU.

        `{"title": "Mug", "variants": [{"sku": "MUG-1", "price": "9.90", "stock": 5}]}` or
        the shorthand `{"skus": ["MUG-1", "MUG-2"], "price": "9.90", "stock": 5}`.
        """
        raw = list(spec.get("variants") or [{"sku": sku} for sku in spec.get("skus", [])])
        if not raw:
            raise ValueError("a product needs at least one SKU")
        wanted = [str(v["sku"]) for v in raw]
        with self.state.lock:
            known = self.state.catalog.variant_by_sku
            fresh = [
                {
                    "sku": str(v["sku"]),
                    "title": v.get("title") or (str(v["sku"]) if len(raw) > 1 else None),
                    "price": str(v.get("price", spec.get("price", "19.90"))),
                    "inventory_quantity": int(v.get("stock", spec.get("stock", 0))),
                    "grams": int(v.get("grams", 300)),
                }
                for v in raw
                if str(v["sku"]) not in known
            ]
            product = None
            if fresh:
                title = spec.get("title") or f"Sandbox item {fresh[0]['sku']}"
                product = self.state.create_product({"title": title, "variants": fresh})
            variants = [self.state.catalog.variants[known[sku]][0] for sku in wanted]
            return {
                "product": product,
                "variant_ids": {v["sku"]: v["id"] for v in variants},
                "inventory_item_ids": {v["sku"]: v["inventory_item_id"] for v in variants},
            }

    def delete_product(self, product_id: int) -> None:
        """Delete a product as the merchant would in the admin; its inventory items go with
        it, so a product made again for the same SKU has a new inventory item."""
        with self.state.lock:
            self.state.catalog.delete_product(product_id)

    def _order_body(self, spec: Mapping[str, Any]) -> Json:
        lines: list[Json] = []
        for line in spec.get("lines") or []:
            sku = line.get("sku")
            variant_id = line.get("variant_id") or self.state.catalog.variant_by_sku.get(sku or "")
            item: Json = {"quantity": int(line.get("quantity", 1))}
            if variant_id:
                item["variant_id"] = int(variant_id)
            else:
                item.update(title=line.get("title") or sku or "Custom item", sku=sku, price="10.00")
            if line.get("price") is not None:
                item["price"] = str(line["price"])
            lines.append(item)
        customer, address = random_person(self.state.rng)
        if spec.get("customer"):
            given = dict(spec["customer"])
            if given.get("name") and not given.get("first_name"):
                given["first_name"], given["last_name"] = _split_name(str(given.pop("name")))
            customer = given
            address.update({k: v for k, v in given.items() if k in ("first_name", "last_name")})
        shipping = spec.get("shipping_address", address)
        return {
            "line_items": lines,
            "email": customer.get("email"),
            "phone": customer.get("phone"),
            "customer": customer,
            "shipping_address": shipping,
            "billing_address": spec.get("billing_address") or shipping,
            "financial_status": spec.get("financial_status", "paid"),
            "note": spec.get("note"),
            "tags": spec.get("tags", ""),
            "shipping_lines": [
                {
                    "title": "Standard Shipping",
                    "code": "STANDARD",
                    "price": spec.get("shipping", "0.00"),
                }
            ],
            "discount_codes": spec.get("discount_codes") or [],
            "tax_lines": spec.get("tax_lines") or [],
            "taxes_included": bool(spec.get("taxes_included", False)),
            "inventory_behaviour": "decrement_ignoring_policy",
            "source_name": "web",
        }

    def place_order(self, spec: Mapping[str, Any]) -> Json:
        """Place an order as a shopper would; webhooks fire as for POST orders.json.

        `{"lines": [{"sku": "MUG-1", "quantity": 2}], "customer": {"name": "王伟"},
        "shipping_address": {...} | None, "raw_override": {...}}`; a missing customer or
        address is invented, SKUs in the catalog become variant lines.
        """
        body = self._order_body(spec)
        return self.state.create_order(body, override=spec.get("raw_override"))

    def place_random_orders(self, count: int, *, skus: Sequence[str] | None = None) -> list[Json]:
        """`count` realistic orders over `skus` (default: the whole catalog)."""
        rng = self.state.rng
        with self.state.lock:
            pool = list(skus or self.state.catalog.variant_by_sku) or ["SANDBOX-SKU-1"]
        orders = []
        for _ in range(count):
            picked = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 1, 2, 2, 3))))
            spec = {
                "lines": [{"sku": s, "quantity": rng.choice((1, 1, 1, 2, 3))} for s in picked],
                "shipping": rng.choice(SHIPPING_FEES),
                "note": rng.choice(NOTES),
            }
            orders.append(self.place_order(spec))
        return orders

    def cancel_order(
        self, order_id: int, *, reason: str = "customer", restock: bool = True
    ) -> Json:
        """Cancel an order as the merchant would in the admin."""
        return self.state.cancel_order(order_id, {"reason": reason, "restock": restock})

    def refund_order(
        self,
        order_id: int,
        *,
        lines: Sequence[tuple[int | str, int]] | None = None,
        restock_type: str = "return",
        note: str | None = None,
        amount: str | None = None,
    ) -> Json:
        """Refund as if the buyer's return or refund request were accepted in the admin.

        `lines` are (line item id or SKU, quantity); None refunds every unit not refunded
        yet. The money back defaults to the lines' discounted price plus tax, capped at what
        is still refundable; `refunds/create` fires like for POST refunds.json.
        """
        with self.state.lock:
            order = self.state.order(order_id)
            items = refund_items(order, lines, restock_type)
            refund_amount = Decimal(amount) if amount is not None else refund_value(order, items)
            body: Json = {"note": note, "refund_line_items": items, "transactions": []}
            if refund_amount > 0:
                gateways = order.get("payment_gateway_names") or ["manual"]
                body["transactions"] = [
                    {"kind": "refund", "gateway": gateways[0], "amount": str(refund_amount)}
                ]
            return self.state.create_refund(order_id, body)

    def refunds_of(self, order_id: int) -> list[Json]:
        """The refunds recorded on an order, oldest first."""
        return self.state.refunds_of(order_id)

    def order(self, order_id: int) -> Json:
        """A copy of the order as the shop holds it now."""
        with self.state.lock:
            return copy.deepcopy(self.state.order(order_id))

    def fulfillments_for(self, order_id: int) -> list[Json]:
        """The fulfillments recorded on an order."""
        return list(self.order(order_id)["fulfillments"])

    def fulfillment_events(self, order_id: int, fulfillment_id: int) -> list[Json]:
        """Where the shop was told a parcel is, oldest first."""
        return self.state.events_of(order_id, fulfillment_id)

    def inventory_by_sku(self) -> dict[str, int]:
        """Available units per SKU as the shop shows them."""
        with self.state.lock:
            return self.state.catalog.stock_by_sku()

    def deliveries(self) -> list[dict[str, Any]]:
        """The webhook delivery log, oldest first."""
        return self.dispatcher.log()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery has succeeded or run out of retries."""
        return self.dispatcher.wait_idle(timeout)

    # Shopify Payments: what tests do to the shop's statement

    def statement(self) -> list[Json]:
        """Every balance transaction, oldest first."""
        with self.state.lock:
            return self.state.payments.matching({})

    def change_statement_line(self, line_id: int, **values: Any) -> Json:
        with self.state.lock:
            return self.state.payments.change(line_id, **values)

    def drop_statement_line(self, line_id: int) -> None:
        with self.state.lock:
            self.state.payments.drop(line_id)

    def add_statement_line(
        self, kind: str, amount: str, *, order_id: int | None = None, fee: str = "0"
    ) -> Json:
        with self.state.lock:
            return self.state.payments.add(kind, amount, order_id=order_id, fee=fee)

    def pay_out(self) -> Json:
        with self.state.lock:
            return self.state.payments.pay_out()

    def stats(self) -> Json:
        """Counts a demo or test reads to see what the hub did to the shop."""
        with self.state.lock:
            orders = list(self.state.orders.values())
            tracking = {
                str(o["id"]): [
                    f["tracking_number"] for f in o["fulfillments"] if f["status"] == "success"
                ]
                for o in orders
                if o["fulfillments"]
            }
            result: Json = {
                "shop_domain": self.shop_domain,
                "orders_placed": len(orders),
                "orders_cancelled": sum(1 for o in orders if o["cancelled_at"]),
                "orders_fulfilled": sum(
                    1 for o in orders if o["fulfillment_status"] == "fulfilled"
                ),
                "fulfillments": sum(len(v) for v in tracking.values()),
                "tracking_numbers": tracking,
                "inventory": self.state.catalog.stock_by_sku(),
                "webhook_subscriptions": len(self.state.webhooks),
            }
        result["webhooks"] = self.dispatcher.counts()
        result["api_calls"] = self.bucket.calls
        result["throttled"] = self.bucket.throttled
        result["graphql_calls"] = self.points.calls
        result["graphql_throttled"] = self.points.throttled
        return result

    def close(self) -> None:
        """Stop webhook delivery threads."""
        self.dispatcher.close()


def create_app(**settings: Any) -> Any:
    """An ASGI app for a fresh emulator built from keyword settings."""
    return ShopifyEmulator(**settings).app
