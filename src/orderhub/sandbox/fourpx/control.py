"""The emulator's own endpoints under `/_sandbox/`: SKUs, stock, consignments, parcels,
lost answers, faults and stats.

Not part of 4PX. Demos and tests use them to play the warehouse (ship a consignment in
one or several parcels, mark it an exception) and to read what the hub sent. They need
no signature and are never faulted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from orderhub.sandbox.control import BadRequest, Endpoint, guarded, json_body
from orderhub.sandbox.faults import faults_route

if TYPE_CHECKING:
    from .emulator import FourpxEmulator

__all__ = ["control_routes"]


def control_routes(emulator: FourpxEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def skus(request: Request) -> Response:
        if request.method == "POST":
            added = emulator.seed_skus((await json_body(request)).get("skus") or [])
            return JSONResponse({"skus": added}, status_code=201)
        return JSONResponse({"skus": emulator.state.skus})

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
            lines = {str(k): int(v) for k, v in dict(data.get("lines") or {}).items()}
            emulator.ship(
                number, lines=lines or None, shipping_no=str(data.get("shipping_no") or "")
            )
        elif step == "exception":
            emulator.state.mark(number, "exception")
        else:
            raise BadRequest(f"no step {step!r}: ship or exception")
        return JSONResponse(emulator.order(number))

    async def lose(request: Request) -> Response:
        for method, count in (await json_body(request)).items():
            emulator.lose_answers(str(method), int(count))
        return JSONResponse(dict(emulator.lost))

    async def stats(_: Request) -> Response:
        return JSONResponse(emulator.stats())

    table: list[tuple[str, Endpoint, list[str]]] = [
        ("/_sandbox/skus", skus, ["GET", "POST"]),
        ("/_sandbox/stock", stock, ["GET", "PUT"]),
        ("/_sandbox/orders", orders, ["GET"]),
        ("/_sandbox/orders/{no}", order, ["GET"]),
        ("/_sandbox/orders/{no}/{step}", advance, ["POST"]),
        ("/_sandbox/lose", lose, ["PUT"]),
        ("/_sandbox/stats", stats, ["GET"]),
    ]
    routes: list[BaseRoute] = [
        Route(path, guarded(endpoint), methods=methods) for path, endpoint, methods in table
    ]
    return [*routes, faults_route(emulator.faults)]
