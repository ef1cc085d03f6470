"""The emulator's own endpoints under `/_sandbox/`: products, stock, orders, faults, stats.

Not part of GoodCang. Demos and tests use them to play the warehouse (ship in one or
several parcels, discard, flag an order) and to read what the hub sent. They need no
keys and are never faulted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from orderhub.sandbox.faults import faults_route

from ..control import BadRequest, Endpoint, guarded, json_body
from .state import GcFailure

if TYPE_CHECKING:
    from .emulator import GoodCangEmulator

__all__ = ["control_routes"]


def _guard(endpoint: Endpoint) -> Endpoint:
    """As every emulator's, and a refusal of GoodCang's own is 409."""
    inner = guarded(endpoint)

    async def guard(request: Request) -> Response:
        try:
            return await inner(request)
        except GcFailure as exc:
            return JSONResponse({"error": exc.message}, status_code=409)

    return guard


def control_routes(emulator: GoodCangEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def products(request: Request) -> Response:
        if request.method == "POST":
            added = emulator.seed_products((await json_body(request)).get("products") or [])
            return JSONResponse({"products": added}, status_code=201)
        with emulator.state.lock:
            return JSONResponse({"products": dict(emulator.state.products)})

    async def stock(request: Request) -> Response:
        warehouse = request.query_params.get("warehouse")
        if request.method == "PUT":
            data = await json_body(request)
            warehouse = data.get("warehouse") or warehouse
            for sku, quantity in dict(data.get("stock") or {}).items():
                emulator.set_stock(str(sku), int(quantity), warehouse=warehouse)
        return JSONResponse(emulator.stock(warehouse))

    async def orders(_: Request) -> Response:
        return JSONResponse(emulator.orders())

    async def order(request: Request) -> Response:
        return JSONResponse(emulator.order(request.path_params["no"]))

    async def advance(request: Request) -> Response:
        number, step = request.path_params["no"], request.path_params["step"]
        data = await json_body(request)
        if step == "ship":
            parcels = [
                (
                    str(p.get("tracking_number") or ""),
                    {str(k): int(v) for k, v in p["lines"].items()},
                )
                for p in data.get("parcels") or []
            ]
            emulator.ship(number, parcels)
        elif step == "cancel":
            emulator.cancel(number)
        elif step == "status":
            emulator.set_status(number, str(data["status"]))
        else:
            raise BadRequest(f"no step {step!r}: ship, cancel or status")
        return JSONResponse(emulator.order(number))

    async def stats(_: Request) -> Response:
        return JSONResponse(emulator.stats())

    table: list[tuple[str, Endpoint, list[str]]] = [
        ("/_sandbox/products", products, ["GET", "POST"]),
        ("/_sandbox/stock", stock, ["GET", "PUT"]),
        ("/_sandbox/orders", orders, ["GET"]),
        ("/_sandbox/orders/{no}", order, ["GET"]),
        ("/_sandbox/orders/{no}/{step}", advance, ["POST"]),
        ("/_sandbox/stats", stats, ["GET"]),
    ]
    routes: list[BaseRoute] = [
        Route(path, _guard(endpoint), methods=methods) for path, endpoint, methods in table
    ]
    return [*routes, faults_route(emulator.faults)]
