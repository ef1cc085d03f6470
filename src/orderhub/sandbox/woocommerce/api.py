"""The REST API routes of the emulated store, under `/wp-json/wc/v3/`.

A request goes as WordPress takes it: authentication errors first (a wrong secret, a bad
OAuth signature), then the route (404 `rest_no_route`), then the parameters against their
schema (400 `rest_invalid_param`, e.g. `per_page` above 100), then the permission check
(401 `woocommerce_rest_cannot_view` for an anonymous caller), then the handler.
Collections answer `X-WP-Total`, `X-WP-TotalPages` and a `Link` header with `prev` and
`next` (credentials and OAuth parameters left out of the links, so a client signs again).
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .auth import Authenticator
from .orders import STATUSES
from .query import bool_param, int_param, order_filter, order_sort
from .state import StoreState
from .wire import Json, WooError, error_response, invalid_param

__all__ = ["RestApi", "no_route"]

ROOT = "/wp-json/wc/v3"
Handler = Callable[[Request], Awaitable[Response]]
CANNOT = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": (
        "woocommerce_rest_cannot_delete",
        "Sorry, you are not allowed to delete this resource.",
    ),
}
SECRET_PARAMS = ("consumer_key", "consumer_secret")


def no_route() -> WooError:
    return WooError(404, "rest_no_route", "No route was found matching the URL and request method.")


async def _body(request: Request) -> Json:
    raw = await request.body()
    if not raw:
        return dict(request.query_params)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.") from exc
    if not isinstance(data, dict):
        raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.")
    return data


def _id(request: Request, name: str = "id") -> int:
    return int(request.path_params[name])


class RestApi:
    """Route handlers over one store's state, behind its REST API key."""

    def __init__(
        self,
        state: StoreState,
        auth: Authenticator,
        *,
        https: bool = False,
        on_webhook_created: Callable[[Json], None] = lambda hook: None,
    ) -> None:
        self.state = state
        self.auth = auth
        self.https = https
        self.on_webhook_created = on_webhook_created
        self.calls: dict[str, int] = {}

    def _gate(self, verb: str, path: str, action: str, handler: Handler) -> Handler:
        key = f"{verb} {path}"

        async def endpoint(request: Request) -> Response:
            self.calls[key] = self.calls.get(key, 0) + 1
            query = {
                k: v for k, v in request.query_params.multi_items()
            }  # the last one wins, as in PHP
            url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
            try:
                known = self.auth.check(
                    request.method,
                    url,
                    query,
                    request.headers.get("authorization"),
                    https=self.https,
                )
                request.state.query = query
                request.state.known = known
                request.state.action = action
                return await handler(request)
            except WooError as exc:
                return error_response(exc)
            except (KeyError, TypeError, ValueError):
                return error_response(WooError(400, "rest_invalid_param", "Invalid parameter(s)."))

        return endpoint

    @staticmethod
    def _allowed(request: Request) -> None:
        """The permission check, after the parameters passed theirs."""
        if not request.state.known:
            code, message = CANNOT[request.state.action]
            raise WooError(401, code, message)

    def routes(self) -> list[BaseRoute]:
        table: list[tuple[str, str, str, Handler]] = [
            ("/orders", "GET", "list", self._orders),
            ("/orders", "POST", "create", self._create_order),
            ("/orders/{id:int}", "GET", "view", self._order),
            ("/orders/{id:int}", "PUT", "edit", self._update_order),
            ("/orders/{id:int}", "POST", "edit", self._update_order),
            ("/orders/{id:int}", "PATCH", "edit", self._update_order),
            ("/orders/{id:int}/notes", "GET", "list", self._notes),
            ("/orders/{id:int}/notes", "POST", "create", self._add_note),
            ("/orders/{id:int}/refunds", "GET", "list", self._refunds),
            ("/orders/{id:int}/refunds", "POST", "create", self._add_refund),
            ("/orders/{id:int}/refunds/{rid:int}", "GET", "view", self._refund),
            ("/products", "GET", "list", self._products),
            ("/products", "POST", "create", self._create_product),
            ("/products/{id:int}", "GET", "view", self._product),
            ("/products/{id:int}", "PUT", "edit", self._update_product),
            ("/products/{id:int}", "POST", "edit", self._update_product),
            ("/products/{id:int}/variations", "GET", "list", self._variations),
            ("/products/{id:int}/variations/{vid:int}", "GET", "view", self._variation),
            ("/products/{id:int}/variations/{vid:int}", "PUT", "edit", self._update_variation),
            ("/products/{id:int}/variations/{vid:int}", "POST", "edit", self._update_variation),
            ("/webhooks", "GET", "list", self._webhooks),
            ("/webhooks", "POST", "create", self._create_webhook),
            ("/webhooks/{id:int}", "GET", "view", self._webhook),
            ("/webhooks/{id:int}", "PUT", "edit", self._update_webhook),
            ("/webhooks/{id:int}", "DELETE", "delete", self._delete_webhook),
        ]
        return [
            Route(ROOT + path, self._gate(verb, path, action, handler), methods=[verb])
            for path, verb, action, handler in table
        ]

    # paging

    def _paging(self, request: Request) -> None:
        """Check `per_page`, `page` and `offset`, then the caller's permission."""
        query = request.state.query
        per_page = int_param(query, "per_page", 10, 1, 100)
        page = int_param(query, "page", 1, 1, None)
        offset = int_param(query, "offset", (page - 1) * per_page, 0, None)
        request.state.paging = (per_page, page, offset)
        self._allowed(request)

    def _page(self, request: Request, items: list[Json]) -> Response:
        """One page of `items` with WordPress's paging headers (after `_paging`)."""
        query = request.state.query
        per_page, page, offset = request.state.paging
        total = len(items)
        pages = math.ceil(total / per_page) if total else 0
        chosen = items[offset : offset + per_page]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        kept = {
            k: v for k, v in query.items() if k not in SECRET_PARAMS and not k.startswith("oauth_")
        }
        links = []
        if page > 1:
            links.append(
                f'<{base}?{urlencode({**kept, "page": min(page - 1, max(pages, 1))})}>; rel="prev"'
            )
        if pages > page:
            links.append(f'<{base}?{urlencode({**kept, "page": page + 1})}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return JSONResponse(chosen, headers=headers)

    # orders

    async def _orders(self, request: Request) -> Response:
        query = request.state.query
        keep = order_filter(query, self.state.offset)
        sort_key, reverse = order_sort(query)
        self._paging(request)
        with self.state.lock:
            found = sorted(
                (o for o in self.state.book.orders.values() if keep(o)),
                key=sort_key,
                reverse=reverse,
            )
            return self._page(request, [self.state.order_json(o) for o in found])

    async def _order(self, request: Request) -> Response:
        self._allowed(request)
        with self.state.lock:
            return JSONResponse(self.state.order_json(self.state.book.get(_id(request))))

    async def _create_order(self, request: Request) -> Response:
        body = await _body(request)
        self._allowed(request)
        return JSONResponse(self.state.create_order(body), status_code=201)

    async def _update_order(self, request: Request) -> Response:
        body = await _body(request)
        if "status" in body and body["status"] not in STATUSES:
            raise invalid_param("status", f"status is not one of {', '.join(STATUSES)}.")
        self._allowed(request)
        return JSONResponse(self.state.update_order(_id(request), body))

    async def _notes(self, request: Request) -> Response:
        kind = request.state.query.get("type") or "any"
        if kind not in ("any", "customer", "internal"):
            raise invalid_param("type", "type is not one of any, customer, and internal.")
        self._allowed(request)
        with self.state.lock:
            stored = self.state.book.get(_id(request))
            notes = [
                self.state.note_json(stored, n)
                for n in stored.notes
                if kind == "any" or n["customer_note"] == (kind == "customer")
            ]
            return JSONResponse(notes)

    async def _add_note(self, request: Request) -> Response:
        body = await _body(request)
        self._allowed(request)
        return JSONResponse(self.state.add_note(_id(request), body), status_code=201)

    async def _refunds(self, request: Request) -> Response:
        self._paging(request)
        with self.state.lock:
            stored = self.state.book.get(_id(request))
            return self._page(request, [self.state.refund_json(stored, r) for r in stored.refunds])

    async def _refund(self, request: Request) -> Response:
        self._allowed(request)
        with self.state.lock:
            stored = self.state.book.get(_id(request))
            for refund in stored.refunds:
                if refund["id"] == _id(request, "rid"):
                    return JSONResponse(self.state.refund_json(stored, refund))
        raise WooError(404, "woocommerce_rest_invalid_id", "Invalid ID.")

    async def _add_refund(self, request: Request) -> Response:
        body = await _body(request)
        self._allowed(request)
        return JSONResponse(self.state.add_refund(_id(request), body), status_code=201)

    # products

    async def _products(self, request: Request) -> Response:
        self._paging(request)
        query = request.state.query
        skus = {s for s in (query.get("sku") or "").split(",") if s}
        kind = query.get("type")
        with self.state.lock:
            found = [
                p
                for p in self.state.catalog.products()
                if (not skus or p["sku"] in skus) and (not kind or p["type"] == kind)
            ]
            return self._page(request, found)

    async def _product(self, request: Request) -> Response:
        self._allowed(request)
        with self.state.lock:
            return JSONResponse(self.state.catalog.product(_id(request)))

    async def _create_product(self, request: Request) -> Response:
        body = await _body(request)
        self._allowed(request)
        with self.state.lock:
            stock = body.get("stock_quantity") if body.get("manage_stock") else None
            return JSONResponse(
                self.state.catalog.add_product({**body, "stock": stock}), status_code=201
            )

    async def _update_product(self, request: Request) -> Response:
        body = await _body(request)
        self._allowed(request)
        with self.state.lock:
            self.state.catalog.product(_id(request))
            self.state.catalog.update(self.state.catalog.items[_id(request)], body)
            return JSONResponse(self.state.catalog.product(_id(request)))

    async def _variations(self, request: Request) -> Response:
        self._paging(request)
        with self.state.lock:
            return self._page(request, self.state.catalog.variations(_id(request)))

    async def _variation(self, request: Request) -> Response:
        self._allowed(request)
        with self.state.lock:
            return JSONResponse(self.state.catalog.variation(_id(request), _id(request, "vid")))

    async def _update_variation(self, request: Request) -> Response:
        body = await _body(request)
        self._allowed(request)
        pid, vid = _id(request), _id(request, "vid")
        with self.state.lock:
            self.state.catalog.variation(pid, vid)
            self.state.catalog.update(self.state.catalog.items[vid], body)
            return JSONResponse(self.state.catalog.variation(pid, vid))

    # webhooks

    @staticmethod
    def _shown(hook: Json) -> Json:
        return {k: v for k, v in hook.items() if k not in ("secret", "failure_count")}

    async def _webhooks(self, request: Request) -> Response:
        self._paging(request)
        with self.state.lock:
            hooks = sorted(self.state.webhooks.values(), key=lambda h: -int(h["id"]))
            return self._page(request, [self._shown(h) for h in hooks])

    async def _webhook(self, request: Request) -> Response:
        self._allowed(request)
        with self.state.lock:
            return JSONResponse(self._shown(self.state.webhook(_id(request))))

    async def _create_webhook(self, request: Request) -> Response:
        body = await _body(request)
        self._allowed(request)
        hook = self.state.create_webhook(body)
        self.on_webhook_created(hook)
        return JSONResponse(self._shown(hook), status_code=201)

    async def _update_webhook(self, request: Request) -> Response:
        body = await _body(request)
        self._allowed(request)
        return JSONResponse(self._shown(self.state.update_webhook(_id(request), body)))

    async def _delete_webhook(self, request: Request) -> Response:
        self._allowed(request)
        if not bool_param(request.state.query, "force"):
            raise WooError(
                501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing."
            )
        with self.state.lock:
            hook = self._shown(self.state.webhook(_id(request)))
            del self.state.webhooks[_id(request)]
            return JSONResponse(hook)
