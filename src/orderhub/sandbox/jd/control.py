"""The emulator's own endpoints under `/_sandbox/`: orders, items, stock, faults, stats.

Not part of JOS. Demos and tests use them to act as buyers (place, cancel, refund) and
to read what the hub did to the shop. They need no signature and are never faulted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..control import BadRequest, Endpoint, guarded, json_body, optional_at

if TYPE_CHECKING:
    from .emulator import JdEmulator

__all__ = ["control_routes"]


def control_routes(emulator: JdEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def list_orders(_: Request) -> Response:
        return JSONResponse(emulator.orders())

    async def place(request: Request) -> Response:
        data = await json_body(request)
        at = optional_at(data)
        order_id = emulator.place_order(data, at=at)
        return JSONResponse(emulator.order(order_id), status_code=201)

    async def show(request: Request) -> Response:
        return JSONResponse(emulator.order(request.path_params["id"]))

    async def modify(request: Request) -> Response:
        order_id = request.path_params["id"]
        data = await json_body(request)
        at = optional_at(data)
        emulator.modify_order(order_id, at=at, **data)
        return JSONResponse(emulator.order(order_id))

    async def cancel(request: Request) -> Response:
        order_id = request.path_params["id"]
        emulator.cancel_order(order_id, at=optional_at(await json_body(request)))
        return JSONResponse(emulator.order(order_id))

    async def refund(request: Request) -> Response:
        order_id = request.path_params["id"]
        data = await json_body(request)
        quantity = data.get("quantity")
        emulator.refund(
            order_id,
            line_index=int(data.get("line_index", 0)),
            quantity=None if quantity is None else int(quantity),
            returned=bool(data.get("returned", False)),
            at=optional_at(data),
        )
        return JSONResponse(emulator.order(order_id))

    async def items(request: Request) -> Response:
        if request.method == "POST":
            data = await json_body(request)
            seeded = emulator.seed_items(data.get("items") or [])
            return JSONResponse({"items": seeded}, status_code=201)
        return JSONResponse({"items": emulator.items()})

    async def stock(_: Request) -> Response:
        return JSONResponse(emulator.stock())

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            try:
                emulator.faults.update(await json_body(request))
            except KeyError as exc:
                raise BadRequest(f"unknown fault setting {exc.args[0]}") from exc
        elif request.method == "DELETE":
            emulator.faults.reset()
        return JSONResponse(emulator.faults.snapshot())

    async def config(request: Request) -> Response:
        if request.method == "PUT":
            try:
                emulator.configure(**(await json_body(request)))
            except KeyError as exc:
                raise BadRequest(f"unknown setting {exc.args[0]}") from exc
        return JSONResponse(emulator.config())

    async def stats(_: Request) -> Response:
        return JSONResponse(emulator.stats())

    table: list[tuple[str, Endpoint, list[str]]] = [
        ("/_sandbox/orders", list_orders, ["GET"]),
        ("/_sandbox/orders", place, ["POST"]),
        ("/_sandbox/orders/{id}", show, ["GET"]),
        ("/_sandbox/orders/{id}/modify", modify, ["POST"]),
        ("/_sandbox/orders/{id}/cancel", cancel, ["POST"]),
        ("/_sandbox/orders/{id}/refund", refund, ["POST"]),
        ("/_sandbox/items", items, ["GET", "POST"]),
        ("/_sandbox/stock", stock, ["GET"]),
        ("/_sandbox/faults", faults, ["GET", "PUT", "DELETE"]),
        ("/_sandbox/config", config, ["GET", "PUT"]),
        ("/_sandbox/stats", stats, ["GET"]),
    ]
    return [Route(path, guarded(endpoint), methods=methods) for path, endpoint, methods in table]
