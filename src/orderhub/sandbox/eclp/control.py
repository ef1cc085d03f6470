"""The emulator's own endpoints under `/_sandbox/`: goods, stock, orders, faults, stats.

Not part of ECLP. Demos and tests use them to play the warehouse (pack, ship with a
waybill and carrier, deliver, cancel on its own) and to read what the hub sent. They need
no signature and are never faulted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..control import BadRequest, Endpoint, guarded, json_body

if TYPE_CHECKING:
    from .emulator import EclpEmulator

__all__ = ["control_routes"]


def control_routes(emulator: EclpEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def goods(request: Request) -> Response:
        if request.method == "POST":
            added = emulator.seed_goods((await json_body(request)).get("goods") or [])
            return JSONResponse({"goods": added}, status_code=201)
        return JSONResponse({"goods": emulator.goods()})

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
        if step == "pack":
            emulator.pack(number)
        elif step == "ship":
            emulator.ship(
                number,
                waybill=str(data.get("waybill") or ""),
                shipper_no=str(data.get("shipper_no") or ""),
            )
        elif step == "deliver":
            emulator.deliver(number)
        elif step == "cancel":
            emulator.cancel(number)
        else:
            raise BadRequest(f"no step {step!r}: pack, ship, deliver or cancel")
        return JSONResponse(emulator.order(number))

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            try:
                emulator.faults.update(await json_body(request))
            except KeyError as exc:
                raise BadRequest(f"unknown fault setting {exc.args[0]}") from exc
        elif request.method == "DELETE":
            emulator.faults.reset()
        return JSONResponse(emulator.faults.snapshot())

    async def stats(_: Request) -> Response:
        return JSONResponse(emulator.stats())

    table: list[tuple[str, Endpoint, list[str]]] = [
        ("/_sandbox/goods", goods, ["GET", "POST"]),
        ("/_sandbox/stock", stock, ["GET", "PUT"]),
        ("/_sandbox/orders", orders, ["GET"]),
        ("/_sandbox/orders/{no}", order, ["GET"]),
        ("/_sandbox/orders/{no}/{step}", advance, ["POST"]),
        ("/_sandbox/faults", faults, ["GET", "PUT", "DELETE"]),
        ("/_sandbox/stats", stats, ["GET"]),
    ]
    return [Route(path, guarded(endpoint), methods=methods) for path, endpoint, methods in table]
