"""The emulator's own control routes under `/_sandbox/`: act as buyers and the merchant,
read what the hub did to the store, and set faults.

Not part of WooCommerce. They need no key and are never faulted:

* `GET|PUT|DELETE /_sandbox/faults` the fault settings;
* `POST /_sandbox/products` `{"items": [{"sku", "stock", "price", "product"?}]}`;
* `POST /_sandbox/orders` a buyer's order (`{"lines": [{"sku", "quantity"}], "status"}`);
* `POST /_sandbox/orders/{id}/pay`, `/cancel`, and `/refunds` (`{"lines": [{"sku" or
  "line_id", "quantity"}], "amount"?, "reason"?}`) as the merchant in wp-admin;
* `GET /_sandbox/orders/{id}` the order with its notes, tracking and refunds;
* `GET /_sandbox/stock`, `/_sandbox/deliveries`, `/_sandbox/stats`;
* `POST /_sandbox/webhooks/send` `{"order_id", "topic"}` sends one order's webhook now.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .wire import Json, WooError

if TYPE_CHECKING:
    from .emulator import WooCommerceEmulator

__all__ = ["control_routes"]

Handler = Callable[[Request], Awaitable[Response]]


async def _json(request: Request) -> Json:
    try:
        data = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise WooError(400, "sandbox_bad_json", "the body is not JSON") from exc
    if not isinstance(data, dict):
        raise WooError(400, "sandbox_bad_json", "the body must be a JSON object")
    return data


def control_routes(shop: WooCommerceEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    def oid(request: Request) -> int:
        return int(request.path_params["id"])

    async def get_faults(request: Request) -> Response:
        return JSONResponse(shop.faults.snapshot())

    async def put_faults(request: Request) -> Response:
        try:
            shop.faults.update(await _json(request))
        except KeyError as exc:
            return JSONResponse({"error": f"unknown fault setting {exc.args[0]}"}, 422)
        return JSONResponse(shop.faults.snapshot())

    async def reset_faults(request: Request) -> Response:
        shop.faults.reset()
        return JSONResponse(shop.faults.snapshot())

    async def products(request: Request) -> Response:
        return JSONResponse({"products": shop.seed_items((await _json(request))["items"])}, 201)

    async def place(request: Request) -> Response:
        return JSONResponse({"id": shop.place_order(await _json(request))}, 201)

    async def order(request: Request) -> Response:
        return JSONResponse(shop.order(oid(request)))

    async def pay(request: Request) -> Response:
        shop.pay_order(oid(request))
        return JSONResponse(shop.order(oid(request)))

    async def cancel(request: Request) -> Response:
        shop.cancel_order(oid(request))
        return JSONResponse(shop.order(oid(request)))

    async def refund(request: Request) -> Response:
        spec = await _json(request)
        lines = [
            (line.get("line_id") or str(line["sku"]), int(line.get("quantity", 1)))
            for line in spec.get("lines") or []
        ]
        made = shop.refund(
            oid(request),
            lines=lines,
            amount=spec.get("amount"),
            reason=str(spec.get("reason") or ""),
        )
        return JSONResponse(made, 201)

    async def stock(request: Request) -> Response:
        return JSONResponse(shop.stock())

    async def deliveries(request: Request) -> Response:
        return JSONResponse({"deliveries": shop.deliveries()})

    async def stats(request: Request) -> Response:
        return JSONResponse(shop.stats())

    async def send(request: Request) -> Response:
        spec = await _json(request)
        sent = shop.send_webhook(int(spec["order_id"]), str(spec.get("topic") or "order.updated"))
        return JSONResponse({"sent": sent})

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except WooError as exc:
                return JSONResponse(exc.body(), exc.status)
            except (KeyError, TypeError, ValueError) as exc:
                return JSONResponse({"error": f"bad request: {exc}"}, 400)

        return endpoint

    table: list[tuple[str, Handler, str]] = [
        ("/faults", get_faults, "GET"),
        ("/faults", put_faults, "PUT"),
        ("/faults", reset_faults, "DELETE"),
        ("/products", products, "POST"),
        ("/orders", place, "POST"),
        ("/orders/{id:int}", order, "GET"),
        ("/orders/{id:int}/pay", pay, "POST"),
        ("/orders/{id:int}/cancel", cancel, "POST"),
        ("/orders/{id:int}/refunds", refund, "POST"),
        ("/stock", stock, "GET"),
        ("/deliveries", deliveries, "GET"),
        ("/stats", stats, "GET"),
        ("/webhooks/send", send, "POST"),
    ]
    return [Route("/_sandbox" + path, guarded(fn), methods=[verb]) for path, fn, verb in table]
