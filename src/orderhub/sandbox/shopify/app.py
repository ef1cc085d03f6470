"""The Admin API routes of the emulator, under `/admin/api/{version}/`.

Every call is authenticated by `X-Shopify-Access-Token` (401 otherwise). REST calls are
counted by the leaky bucket (429 + `Retry-After` when full) and answered with
`X-Shopify-Shop-Api-Call-Limit`; `graphql.json` pays its own cost bucket instead (see
`graphql.py`). REST errors use Shopify's bodies: `{"errors": "Not Found"}`,
`{"errors": {"field": ["message"]}}` for 422, and a missing root key such as `order`
gives 400 `{"errors": {"order": "Required parameter missing or invalid"}}`.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from orderhub.sandbox.shopify.bucket import CostBucket, LeakyBucket
from orderhub.sandbox.shopify.common import ApiError, Json, not_found
from orderhub.sandbox.shopify.graphql import GraphqlApi
from orderhub.sandbox.shopify.paging import (
    id_filter,
    order_filter,
    paginate,
    parse_page_request,
    project,
)
from orderhub.sandbox.shopify.state import ShopState

__all__ = ["INVALID_TOKEN", "AdminApi", "error_response"]

log = logging.getLogger(__name__)
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
PREFIX = "/admin/api/{version}"
Handler = Callable[[Request], Awaitable[Response]]


def error_response(status: int, errors: Any) -> JSONResponse:
    """A Shopify error body."""
    return JSONResponse({"errors": errors}, status_code=status)


async def _root(request: Request, key: str) -> Json:
    """The object under the root key of a JSON body; 400 when it is missing."""
    try:
        data = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, {key: "Required parameter missing or invalid"}) from exc
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise ApiError(400, {key: "Required parameter missing or invalid"})
    return value


async def _body(request: Request) -> Json:
    try:
        data = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Bad Request") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "Bad Request")
    return data


def _url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{request.url.path}"


def _id(request: Request, name: str = "id") -> int:
    return int(request.path_params[name])


class AdminApi:
    """Route handlers over one shop's state, gated by token and by the leaky bucket (REST)
    or the cost bucket (GraphQL)."""

    def __init__(
        self,
        state: ShopState,
        bucket: LeakyBucket,
        access_token: str,
        *,
        points: CostBucket | None = None,
    ) -> None:
        self.state = state
        self.bucket = bucket
        self.access_token = access_token
        self.graphql = GraphqlApi(state, points or CostBucket())

    def _gate(self, handler: Handler, *, counted: bool = True) -> Handler:
        """The token check (401), then for REST (`counted`) the leaky bucket and Shopify's
        error bodies; GraphQL pays in cost points and words its own errors."""

        async def endpoint(request: Request) -> Response:
            token = request.headers.get("x-shopify-access-token", "")
            if not hmac.compare_digest(token.encode(), self.access_token.encode()):
                return error_response(401, INVALID_TOKEN)
            version = request.path_params.get("version", "")
            if not counted:
                answer = await handler(request)
                answer.headers["X-Shopify-API-Version"] = version
                return answer
            admission = self.bucket.admit()
            if not admission.allowed:
                response: Response = error_response(
                    429,
                    "Exceeded 2 calls per second for api client. "
                    "Reduce request rates to resume uninterrupted service.",
                )
                response.headers["Retry-After"] = f"{admission.retry_after:.1f}"
            else:
                try:
                    response = await handler(request)
                except ApiError as exc:
                    response = error_response(exc.status, exc.errors)
                except (AttributeError, KeyError, TypeError, ValueError):
                    log.info("malformed request to %s", request.url.path, exc_info=True)
                    response = error_response(400, "Bad Request")
            response.headers["X-Shopify-Shop-Api-Call-Limit"] = admission.call_limit
            response.headers["X-Shopify-API-Version"] = version
            return response

        return endpoint

    def routes(self) -> list[BaseRoute]:
        """Every emulated Admin API path."""
        table: list[tuple[str, Handler, str]] = [
            ("/shop.json", self._shop, "GET"),
            ("/orders.json", self._list_orders, "GET"),
            ("/orders.json", self._create_order, "POST"),
            ("/orders/count.json", self._count_orders, "GET"),
            ("/orders/{id:int}.json", self._get_order, "GET"),
            ("/orders/{id:int}/cancel.json", self._cancel_order, "POST"),
            ("/orders/{id:int}/close.json", self._close_order, "POST"),
            ("/orders/{id:int}/open.json", self._open_order, "POST"),
            ("/orders/{id:int}/refunds.json", self._list_refunds, "GET"),
            ("/orders/{id:int}/refunds.json", self._create_refund, "POST"),
            ("/orders/{id:int}/refunds/{rid:int}.json", self._get_refund, "GET"),
            ("/orders/{id:int}/fulfillment_orders.json", self._fulfillment_orders, "GET"),
            ("/orders/{id:int}/fulfillments.json", self._order_fulfillments, "GET"),
            ("/orders/{id:int}/fulfillments/{fid:int}.json", self._get_fulfillment, "GET"),
            ("/orders/{id:int}/fulfillments/{fid:int}/events.json", self._events, "GET"),
            ("/orders/{id:int}/fulfillments/{fid:int}/events.json", self._add_event, "POST"),
            ("/fulfillment_orders/{id:int}.json", self._get_fulfillment_order, "GET"),
            ("/fulfillments.json", self._create_fulfillment, "POST"),
            ("/fulfillments/{id:int}/update_tracking.json", self._update_tracking, "POST"),
            ("/fulfillments/{id:int}/cancel.json", self._cancel_fulfillment, "POST"),
            ("/products.json", self._list_products, "GET"),
            ("/products.json", self._create_product, "POST"),
            ("/products/count.json", self._count_products, "GET"),
            ("/products/{id:int}.json", self._get_product, "GET"),
            ("/variants/{id:int}.json", self._get_variant, "GET"),
            ("/locations.json", self._list_locations, "GET"),
            ("/shopify_payments/balance/transactions.json", self._balance, "GET"),
            ("/shopify_payments/payouts.json", self._payouts, "GET"),
            ("/locations/{id:int}.json", self._get_location, "GET"),
            ("/locations/{id:int}/inventory_levels.json", self._location_levels, "GET"),
            ("/inventory_levels.json", self._list_levels, "GET"),
            ("/inventory_levels/set.json", self._set_level, "POST"),
            ("/inventory_levels/adjust.json", self._adjust_level, "POST"),
            ("/webhooks.json", self._list_webhooks, "GET"),
            ("/webhooks.json", self._create_webhook, "POST"),
            ("/webhooks/count.json", self._count_webhooks, "GET"),
            ("/webhooks/{id:int}.json", self._get_webhook, "GET"),
            ("/webhooks/{id:int}.json", self._delete_webhook, "DELETE"),
        ]
        graphql = self._gate(self.graphql.answer, counted=False)
        return [
            *(Route(PREFIX + p, self._gate(handler), methods=[m]) for p, handler, m in table),
            Route(PREFIX + "/graphql.json", graphql, methods=["POST"]),
        ]

    # shop and orders

    async def _shop(self, request: Request) -> Response:
        s = self.state
        return JSONResponse(
            {
                "shop": {
                    "id": s.shop_id,
                    "name": s.shop_domain.split(".")[0],
                    "myshopify_domain": s.shop_domain,
                    "domain": s.shop_domain,
                    "currency": s.currency,
                    "iana_timezone": "America/New_York",
                    "plan_name": "basic",
                }
            }
        )

    async def _list_orders(self, request: Request) -> Response:
        query = dict(request.query_params)
        page_request = parse_page_request(query, "orders")
        predicate = order_filter(page_request.filters, self.state.tz)
        with self.state.lock:
            matches = [o for o in self.state.orders.values() if predicate(o)]
            page = paginate(matches, page_request, _url(request), "orders")
            body = {"orders": [project(o, page_request.fields) for o in page.items]}
            headers = {"Link": page.link} if page.link else None
            return JSONResponse(body, headers=headers)

    async def _count_orders(self, request: Request) -> Response:
        predicate = order_filter(dict(request.query_params), self.state.tz)
        with self.state.lock:
            return JSONResponse(
                {"count": sum(1 for o in self.state.orders.values() if predicate(o))}
            )

    async def _get_order(self, request: Request) -> Response:
        fields = [f for f in request.query_params.get("fields", "").split(",") if f]
        with self.state.lock:
            return JSONResponse({"order": project(self.state.order(_id(request)), fields)})

    async def _create_order(self, request: Request) -> Response:
        order = self.state.create_order(await _root(request, "order"))
        return JSONResponse({"order": order}, status_code=201)

    async def _cancel_order(self, request: Request) -> Response:
        return JSONResponse({"order": self.state.cancel_order(_id(request), await _body(request))})

    async def _close_order(self, request: Request) -> Response:
        return JSONResponse({"order": self.state.set_closed(_id(request), True)})

    async def _open_order(self, request: Request) -> Response:
        return JSONResponse({"order": self.state.set_closed(_id(request), False)})

    # refunds

    async def _list_refunds(self, request: Request) -> Response:
        return JSONResponse({"refunds": self.state.refunds_of(_id(request))})

    async def _get_refund(self, request: Request) -> Response:
        for refund in self.state.refunds_of(_id(request)):
            if refund["id"] == _id(request, "rid"):
                return JSONResponse({"refund": refund})
        raise not_found()

    async def _create_refund(self, request: Request) -> Response:
        refund = self.state.create_refund(_id(request), await _root(request, "refund"))
        return JSONResponse({"refund": refund}, status_code=201)

    # fulfillment

    async def _fulfillment_orders(self, request: Request) -> Response:
        fos = self.state.fulfillment_orders_of(_id(request))
        return JSONResponse({"fulfillment_orders": fos})

    async def _get_fulfillment_order(self, request: Request) -> Response:
        with self.state.lock:
            fo = self.state.fulfillment_orders.get(_id(request))
            if fo is None:
                raise not_found()
            return JSONResponse({"fulfillment_order": fo})

    async def _order_fulfillments(self, request: Request) -> Response:
        with self.state.lock:
            order = self.state.order(_id(request))
            return JSONResponse({"fulfillments": order["fulfillments"]})

    async def _get_fulfillment(self, request: Request) -> Response:
        with self.state.lock:
            order = self.state.order(_id(request))
            for fulfillment in order["fulfillments"]:
                if fulfillment["id"] == _id(request, "fid"):
                    return JSONResponse({"fulfillment": fulfillment})
            raise not_found()

    async def _events(self, request: Request) -> Response:
        events = self.state.events_of(_id(request), _id(request, "fid"))
        return JSONResponse({"fulfillment_events": events})

    async def _add_event(self, request: Request) -> Response:
        body = await _root(request, "event")
        event = self.state.add_fulfillment_event(_id(request), _id(request, "fid"), body)
        return JSONResponse({"fulfillment_event": event}, status_code=201)

    async def _create_fulfillment(self, request: Request) -> Response:
        fulfillment = self.state.create_fulfillment(await _root(request, "fulfillment"))
        return JSONResponse({"fulfillment": fulfillment}, status_code=201)

    async def _update_tracking(self, request: Request) -> Response:
        body = await _root(request, "fulfillment")
        return JSONResponse({"fulfillment": self.state.update_tracking(_id(request), body)})

    async def _cancel_fulfillment(self, request: Request) -> Response:
        return JSONResponse({"fulfillment": self.state.cancel_fulfillment(_id(request))})

    # catalog and inventory

    async def _list_products(self, request: Request) -> Response:
        page_request = parse_page_request(dict(request.query_params), "products")
        predicate = id_filter(page_request.filters)
        with self.state.lock:
            matches = [p for p in self.state.catalog.products.values() if predicate(p)]
            page = paginate(matches, page_request, _url(request), "products")
            body = {"products": [project(p, page_request.fields) for p in page.items]}
            return JSONResponse(body, headers={"Link": page.link} if page.link else None)

    async def _balance(self, request: Request) -> Response:
        page_request = parse_page_request(dict(request.query_params), "balance_transactions")
        for key in ("since_id", "last_id", "payout_id"):
            value = page_request.filters.get(key)
            if value is not None and not value.isdigit():
                raise ApiError(400, {key: "Invalid value."})
        with self.state.lock:
            matches = self.state.payments.matching(page_request.filters)
            page = paginate(matches, page_request, _url(request), "balance_transactions")
            body = {"transactions": [project(t, page_request.fields) for t in page.items]}
            return JSONResponse(body, headers={"Link": page.link} if page.link else None)

    async def _payouts(self, request: Request) -> Response:
        page_request = parse_page_request(dict(request.query_params), "payouts")
        with self.state.lock:
            payouts = sorted(self.state.payments.payouts.values(), key=lambda p: p["id"])
            page = paginate(payouts, page_request, _url(request), "payouts")
            return JSONResponse(
                {"payouts": [project(p, page_request.fields) for p in page.items]},
                headers={"Link": page.link} if page.link else None,
            )

    async def _count_products(self, request: Request) -> Response:
        with self.state.lock:
            return JSONResponse({"count": len(self.state.catalog.products)})

    async def _create_product(self, request: Request) -> Response:
        product = self.state.create_product(await _root(request, "product"))
        return JSONResponse({"product": product}, status_code=201)

    async def _get_product(self, request: Request) -> Response:
        with self.state.lock:
            product = self.state.catalog.products.get(_id(request))
            if product is None:
                raise not_found()
            return JSONResponse({"product": product})

    async def _get_variant(self, request: Request) -> Response:
        with self.state.lock:
            found = self.state.catalog.variant(_id(request))
            if found is None:
                raise not_found()
            return JSONResponse({"variant": found[0]})

    async def _list_locations(self, request: Request) -> Response:
        with self.state.lock:
            return JSONResponse({"locations": list(self.state.catalog.locations.values())})

    async def _get_location(self, request: Request) -> Response:
        with self.state.lock:
            location = self.state.catalog.locations.get(_id(request))
            if location is None:
                raise not_found()
            return JSONResponse({"location": location})

    async def _location_levels(self, request: Request) -> Response:
        with self.state.lock:
            if _id(request) not in self.state.catalog.locations:
                raise not_found()
            levels = self.state.catalog.levels_for(None, {_id(request)})
            return JSONResponse({"inventory_levels": levels})

    async def _list_levels(self, request: Request) -> Response:
        def ids(name: str) -> set[int] | None:
            raw = request.query_params.get(name)
            if raw is None:
                return None
            try:
                return {int(x) for x in raw.split(",") if x.strip()}
            except ValueError as exc:
                raise ApiError(400, {name: "Invalid value."}) from exc

        items, locations = ids("inventory_item_ids"), ids("location_ids")
        if items is None and locations is None:
            raise ApiError(
                422, {"base": ["Must specify at least one of inventory_item_ids or location_ids"]}
            )
        with self.state.lock:
            levels = self.state.catalog.levels_for(items, locations)
            return JSONResponse({"inventory_levels": levels})

    async def _set_level(self, request: Request) -> Response:
        level = self.state.set_inventory(await _body(request))
        return JSONResponse({"inventory_level": level})

    async def _adjust_level(self, request: Request) -> Response:
        level = self.state.adjust_inventory(await _body(request))
        return JSONResponse({"inventory_level": level})

    # webhook subscriptions

    async def _list_webhooks(self, request: Request) -> Response:
        topic = request.query_params.get("topic")
        address = request.query_params.get("address")
        with self.state.lock:
            hooks = [
                w
                for w in self.state.webhooks.values()
                if (topic is None or w["topic"] == topic)
                and (address is None or w["address"] == address)
            ]
            return JSONResponse({"webhooks": hooks})

    async def _count_webhooks(self, request: Request) -> Response:
        with self.state.lock:
            return JSONResponse({"count": len(self.state.webhooks)})

    async def _get_webhook(self, request: Request) -> Response:
        with self.state.lock:
            hook = self.state.webhooks.get(_id(request))
            if hook is None:
                raise not_found()
            return JSONResponse({"webhook": hook})

    async def _create_webhook(self, request: Request) -> Response:
        webhook = self.state.create_webhook(await _root(request, "webhook"))
        return JSONResponse({"webhook": webhook}, status_code=201)

    async def _delete_webhook(self, request: Request) -> Response:
        self.state.delete_webhook(_id(request))
        return JSONResponse({})
