"""An Amazon seller account behind the Selling Partner API, over real HTTP on loopback.

Sources (platform-apis.md §3, peers-and-apis.md §3 and §5.9): amzn/selling-partner-api-
models `models/orders-api-model/ordersV0.json` (getOrders, getOrder, getOrderItems,
confirmShipment; Order, OrderItem, Address, BuyerInfo; usage plans), `models/tokens-api-
model/tokens_2021-03-01.json` (createRestrictedDataToken), `models/listings-items-api-
model/listingsItems_2021-08-01.json` (searchListingsItems, getListingsItem,
patchListingsItem and their usage plans, as in amzn/selling-partner-api-sdk's
ListingsApi docs); developer-docs.amazon.com "Usage Plans and Rate Limits" (token
buckets, 429, `x-amzn-RateLimit-Limit`) and Login with Amazon's access-token page;
amzn/selling-partner-api-docs issues #702, #1201 (RDT refusals and their headers),
models issues #1044 (no prices while Pending), #5037 and #5094 (confirmShipment refusals,
`packageReferenceId` as text).

Served: `POST /auth/o2/token` (LWA, in `tokens.py`), `POST /tokens/2021-03-01/
restrictedDataToken`, `GET /orders/v0/orders`, `GET /orders/v0/orders/{orderId}`,
`GET …/{orderId}/orderItems`, `POST …/{orderId}/shipmentConfirmation` (`orders_api.py`),
`GET /listings/2021-08-01/items/{sellerId}[/{sku}]`, `PATCH …/{sellerId}/{sku}`
(`listings_api.py`). Each operation has its own token bucket (`quota.py`; settable, so
tests run fast). Personal data follows the token (`views.py`).

UNCONFIRMED, each a setting or a documented choice: how NextToken pages (here a cursor
that cannot skip an order), the wording of a 404 and of an INVALID listing issue, the
largest `pageSize` of a listings search (20), and that a second confirmation of the same
`packageReferenceId` updates that package (204) instead of failing. Push: Amazon's
notifications go to SQS or EventBridge, not HTTP; orders are pulled.

Control (not SP-API): see `control.py`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.faults import Faults, emulator_app

from .control import control_routes
from .finances_api import FinancesApi
from .gate import Gate, read_json
from .listings_api import ListingsApi
from .orders_api import OrdersApi
from .quota import Quotas
from .state import AmazonState
from .tokens import Grant, TokenBook
from .wire import Json, errors_body, respond

__all__ = ["MARKETPLACE_US", "AmazonEmulator", "create_app"]

MARKETPLACE_US = "ATVPDKIKX0DER"
ORDERS = "/orders/v0/orders"
LISTINGS = "/listings/2021-08-01/items/{sellerId}"


class AmazonEmulator:
    """One seller, one app, one marketplace: orders, listings, tokens, quotas and faults."""

    def __init__(
        self,
        client_id: str = "amzn1.application-oa2-client.sandbox",
        client_secret: str = "sandbox-lwa-client-secret",
        refresh_token: str = "Atzr|sandbox-refresh-token",
        *,
        seller_id: str = "A1SANDBOXSELLER",
        marketplace_id: str = MARKETPLACE_US,
        seed: int | None = None,
        token_ttl: float = 3600.0,
        rdt_ttl: float = 3600.0,
        pii_role: bool = True,
        before_margin: float = 120.0,
        quotas: Mapping[str, tuple[float, int]] | None = None,
        rate_scale: float = 1.0,
        items_page: int = 100,
        faults: Faults | None = None,
    ) -> None:
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id
        self.before_margin = before_margin
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.state = AmazonState(marketplace_id=marketplace_id, seed=seed)
        self.tokens = TokenBook(
            client_id, client_secret, refresh_token, token_ttl, rdt_ttl, pii_role
        )
        self.quotas = Quotas(quotas, rate_scale=rate_scale)
        self.gate = Gate(self.tokens, self.quotas)
        self.orders_api = OrdersApi(self.state, lambda: self.before_margin, items_page)
        self.listings_api = ListingsApi(self.state, seller_id)
        self.finances_api = FinancesApi(self.state, lambda: self.before_margin)
        self.app = self._build_app()

    @property
    def credentials(self) -> dict[str, str]:
        """What a seller copies into the hub, by Amazon's names."""
        return {
            "client_id": self.tokens.client_id,
            "client_secret": self.tokens.client_secret,
            "refresh_token": self.tokens.refresh_token,
            "seller_id": self.seller_id,
            "marketplace_id": self.marketplace_id,
        }

    # listings and stock

    def seed_items(self, items: Iterable[Mapping[str, Any]]) -> list[Json]:
        """List SKUs `{"sku", "title"?, "price"?, "stock"?, "product_type"?}`."""
        return self.state.seed(items)

    def items(self) -> list[Json]:
        with self.state.lock:
            return [
                {"sku": x.sku, "asin": x.asin, "title": x.title, "quantity": x.quantity}
                for x in self.state.listings.values()
            ]

    def stock(self) -> dict[str, int]:
        """MFN quantity by SKU, as the listings show it."""
        with self.state.lock:
            return {sku: x.quantity for sku, x in self.state.listings.items()}

    def patches(self) -> list[Json]:
        """Every quantity the seller patched, oldest first."""
        with self.state.lock:
            return list(self.state.patches)

    # orders

    def place_order(self, spec: Mapping[str, Any], *, at: datetime | None = None) -> str:
        """A buyer orders `{"lines": [{"sku", "quantity", "price"?}], "status"?: "Pending",
        "buyer"?: {name, email}, "receiver"?: {name, line1, line2, city, state, postcode,
        country, phone}}`; `at` backdates it. Returns the AmazonOrderId."""
        return self.state.place(spec, at)

    def set_status(self, order_id: str, status: str, *, at: datetime | None = None) -> None:
        """Move an order as Amazon does (Pending → Unshipped, → Canceled)."""
        self.state.set_status(order_id, status, at)

    def cancel_order(self, order_id: str, *, at: datetime | None = None) -> None:
        self.state.set_status(order_id, "Canceled", at)

    def orders(self) -> dict[str, Json]:
        return self.state.snapshots()

    def order(self, order_id: str) -> Json:
        with self.state.lock:
            return self.state.get(order_id).snapshot()

    def shipments(self) -> list[Json]:
        """Every package confirmed with confirmShipment."""
        return self.state.shipments()

    def refund_order(
        self, order_id: str, items: Mapping[str, int] | None = None, *, at: datetime | None = None
    ) -> Json:
        """The seller refunds units by SKU (all that shipped without `items`); the
        RefundEvent listFinancialEvents then shows."""
        return self.state.refund(order_id, items, at)

    # behaviour

    def set_quota(
        self, operation: str, *, rate: float | None = None, burst: int | None = None
    ) -> None:
        self.quotas.set(operation, rate=rate, burst=None if burst is None else int(burst))

    def configure(self, **changes: Any) -> None:
        """Change `pii_role`, `token_ttl`, `rdt_ttl` or `before_margin` at run time."""
        unknown = set(changes) - {"pii_role", "token_ttl", "rdt_ttl", "before_margin"}
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        if "pii_role" in changes:
            self.tokens.pii_role = bool(changes["pii_role"])
        for name in ("token_ttl", "rdt_ttl"):
            if name in changes:
                setattr(self.tokens, name, float(changes[name]))
        if "before_margin" in changes:
            self.before_margin = float(changes["before_margin"])

    def config(self) -> dict[str, Any]:
        return {
            "pii_role": self.tokens.pii_role,
            "token_ttl": self.tokens.token_ttl,
            "rdt_ttl": self.tokens.rdt_ttl,
            "before_margin": self.before_margin,
        }

    def expire_tokens(self) -> int:
        """Every access token and RDT issued so far stops working."""
        return self.tokens.expire_all()

    def stats(self) -> dict[str, Any]:
        with self.tokens.lock:
            tokens = dict(self.tokens.counts)
        return {"operations": self.quotas.snapshot(), "tokens": tokens}

    def stop(self) -> None:
        """Nothing runs in the background: Amazon pushes nothing over HTTP."""

    # HTTP

    async def _lwa(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        status, body = self.tokens.lwa(form)
        return JSONResponse(body, status_code=status)

    async def _rdt(self, request: Request, grant: Grant) -> tuple[int, Json | None]:
        return 200, self.tokens.restricted(await read_json(request))

    def _limited(self, retry_after: float) -> Response:
        body = errors_body("QuotaExceeded", "You exceeded your quota for the requested resource.")
        return respond(body, 429)

    def _server_error(self, status: int) -> Response:
        code = "ServiceUnavailable" if status == 503 else "InternalFailure"
        return respond(
            errors_body(code, "We encountered an internal error. Please try again."), status
        )

    def _build_app(self) -> Starlette:
        g, o, li = self.gate.guard, self.orders_api, self.listings_api
        routes = [
            Route("/auth/o2/token", self._lwa, methods=["POST"]),
            Route(
                "/tokens/2021-03-01/restrictedDataToken",
                g("createRestrictedDataToken", self._rdt, rdt=False),
                methods=["POST"],
            ),
            Route(ORDERS, g("getOrders", o.get_orders), methods=["GET"]),
            Route(ORDERS + "/{orderId}", g("getOrder", o.get_order), methods=["GET"]),
            Route(
                ORDERS + "/{orderId}/orderItems",
                g("getOrderItems", o.get_order_items, rdt=False),
                methods=["GET"],
            ),
            Route(
                ORDERS + "/{orderId}/shipmentConfirmation",
                g("confirmShipment", o.confirm_shipment, rdt=False),
                methods=["POST"],
            ),
            Route(
                "/finances/v0/financialEvents",
                g("listFinancialEvents", self.finances_api.list_events, rdt=False),
                methods=["GET"],
            ),
            Route(LISTINGS, g("searchListingsItems", li.search, rdt=False), methods=["GET"]),
            Route(LISTINGS + "/{sku}", g("getListingsItem", li.get, rdt=False), methods=["GET"]),
            Route(
                LISTINGS + "/{sku}", g("patchListingsItem", li.patch, rdt=False), methods=["PATCH"]
            ),
            *control_routes(self),
        ]
        return emulator_app(
            self,
            routes,
            self.faults,
            malformed_body=b'{"payload":{"Orders":[{"AmazonOrderId":"11',
            rate_limited=self._limited,
            server_error=self._server_error,
        )


def create_app(**settings: Any) -> Starlette:
    """A Starlette app for `AmazonEmulator(**settings)`; the emulator is `app.state.emulator`."""
    return AmazonEmulator(**settings).app
