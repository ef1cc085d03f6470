"""The emulator's own control endpoints under `/_sandbox/`: faults, orders, refunds, stats.

These are not part of Shopify's API. The demo, the traffic generator and tests use them
to act as shoppers and merchants (place and cancel orders, seed products) and to read
what the hub did to the shop. They need no token and are never throttled or faulted.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from orderhub.sandbox.shopify.common import ApiError, Json

if TYPE_CHECKING:
    from orderhub.sandbox.shopify.emulator import ShopifyEmulator

__all__ = ["control_routes"]

Handler = Callable[[Request], Awaitable[Response]]


async def _json(request: Request) -> Json:
    try:
        data = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "body must be a JSON object")
    return data


def control_routes(emulator: ShopifyEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def get_faults(request: Request) -> Response:
        return JSONResponse(emulator.faults.snapshot())

    async def put_faults(request: Request) -> Response:
        try:
            emulator.faults.update(await _json(request))
        except KeyError as exc:
            return JSONResponse({"errors": f"unknown fault setting {exc.args[0]}"}, 422)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"errors": str(exc)}, 422)
        return JSONResponse(emulator.faults.snapshot())

    async def reset_faults(request: Request) -> Response:
        emulator.faults.reset()
        return JSONResponse(emulator.faults.snapshot())

    async def place_orders(request: Request) -> Response:
        spec = await _json(request)
        if "count" in spec:
            skus = spec.get("skus")
            orders = emulator.place_random_orders(int(spec["count"]), skus=skus)
            summary = [{"id": o["id"], "name": o["name"]} for o in orders]
            return JSONResponse({"count": len(orders), "orders": summary}, 201)
        return JSONResponse({"order": emulator.place_order(spec)}, 201)

    async def cancel(request: Request) -> Response:
        spec = await _json(request)
        order = emulator.cancel_order(
            int(request.path_params["id"]),
            reason=str(spec.get("reason", "customer")),
            restock=bool(spec.get("restock", True)),
        )
        return JSONResponse({"order": order})

    async def refund(request: Request) -> Response:
        spec = await _json(request)
        raw_lines = spec.get("lines")
        lines = (
            None
            if raw_lines is None
            else [
                (line.get("line_item_id") or str(line["sku"]), int(line.get("quantity", 1)))
                for line in raw_lines
            ]
        )
        amount = spec.get("amount")
        refund = emulator.refund_order(
            int(request.path_params["id"]),
            lines=lines,
            restock_type=str(spec.get("restock_type", "return")),
            note=spec.get("note"),
            amount=None if amount is None else str(amount),
        )
        return JSONResponse({"refund": refund}, 201)

    async def products(request: Request) -> Response:
        spec = await _json(request)
        return JSONResponse(emulator.seed_product(spec), 201)

    async def stats(request: Request) -> Response:
        return JSONResponse(emulator.stats())

    async def deliveries(request: Request) -> Response:
        return JSONResponse({"deliveries": emulator.deliveries()})

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except ApiError as exc:
                response = JSONResponse({"errors": exc.errors}, exc.status)
            except (KeyError, TypeError, ValueError) as exc:
                response = JSONResponse({"errors": f"bad request: {exc}"}, 400)
            return response

        return endpoint

    table: list[tuple[str, Handler, str]] = [
        ("/faults", get_faults, "GET"),
        ("/faults", put_faults, "PUT"),
        ("/faults", reset_faults, "DELETE"),
        ("/orders", place_orders, "POST"),
        ("/orders/{id:int}/cancel", cancel, "POST"),
        ("/orders/{id:int}/refunds", refund, "POST"),
        ("/products", products, "POST"),
        ("/stats", stats, "GET"),
        ("/deliveries", deliveries, "GET"),
    ]
    return [Route("/_sandbox" + path, guarded(fn), methods=[method]) for path, fn, method in table]
