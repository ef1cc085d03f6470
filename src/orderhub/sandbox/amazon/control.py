"""The emulator's own endpoints under `/_sandbox/`: not SP-API, never faulted or throttled.

Tests and the demo act as buyers and as Amazon itself here: place orders with items,
move their status (payment authorised, buyer cancelled), read the packages confirmed
and the quantities patched, set each operation's rate and burst, take the app's
personal-data role away, and make every token expire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..control import BadRequest, Endpoint, guarded, json_body, optional_at

if TYPE_CHECKING:
    from .emulator import AmazonEmulator

__all__ = ["control_routes"]


def control_routes(emulator: AmazonEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def orders(request: Request) -> Response:
        if request.method == "POST":
            data = await json_body(request)
            at = optional_at(data)
            order_id = emulator.place_order(data, at=at)
            return JSONResponse(emulator.order(order_id), status_code=201)
        return JSONResponse(emulator.orders())

    async def show(request: Request) -> Response:
        return JSONResponse(emulator.order(request.path_params["id"]))

    async def status(request: Request) -> Response:
        order_id = request.path_params["id"]
        data = await json_body(request)
        at = optional_at(data)
        emulator.set_status(order_id, str(data.get("status", "")), at=at)
        return JSONResponse(emulator.order(order_id))

    async def refund(request: Request) -> Response:
        data = await json_body(request)
        items = data.get("items")
        event = emulator.refund_order(
            request.path_params["id"],
            items if isinstance(items, dict) else None,
            at=optional_at(data),
        )
        return JSONResponse(event, status_code=201)

    async def shipments(_: Request) -> Response:
        return JSONResponse({"shipments": emulator.shipments()})

    async def listings(request: Request) -> Response:
        if request.method == "POST":
            data = await json_body(request)
            return JSONResponse({"items": emulator.seed_items(data.get("items") or [])}, 201)
        return JSONResponse({"items": emulator.items()})

    async def stock(_: Request) -> Response:
        return JSONResponse(emulator.stock())

    async def patches(_: Request) -> Response:
        return JSONResponse({"patches": emulator.patches()})

    async def quotas(request: Request) -> Response:
        if request.method == "PUT":
            for operation, plan in (await json_body(request)).items():
                if not isinstance(plan, dict):
                    raise BadRequest(f"{operation}: give {{rate, burst}}")
                emulator.set_quota(operation, rate=plan.get("rate"), burst=plan.get("burst"))
        return JSONResponse(emulator.quotas.snapshot())

    async def config(request: Request) -> Response:
        if request.method == "PUT":
            try:
                emulator.configure(**(await json_body(request)))
            except KeyError as exc:
                raise BadRequest(f"unknown setting {exc.args[0]}") from exc
        return JSONResponse(emulator.config())

    async def expire(_: Request) -> Response:
        return JSONResponse({"expired": emulator.expire_tokens()})

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
        ("/_sandbox/orders", orders, ["GET", "POST"]),
        ("/_sandbox/orders/{id}", show, ["GET"]),
        ("/_sandbox/orders/{id}/status", status, ["POST"]),
        ("/_sandbox/orders/{id}/refund", refund, ["POST"]),
        ("/_sandbox/shipments", shipments, ["GET"]),
        ("/_sandbox/listings", listings, ["GET", "POST"]),
        ("/_sandbox/stock", stock, ["GET"]),
        ("/_sandbox/patches", patches, ["GET"]),
        ("/_sandbox/quotas", quotas, ["GET", "PUT"]),
        ("/_sandbox/config", config, ["GET", "PUT"]),
        ("/_sandbox/tokens/expire", expire, ["POST"]),
        ("/_sandbox/faults", faults, ["GET", "PUT", "DELETE"]),
        ("/_sandbox/stats", stats, ["GET"]),
    ]
    return [Route(path, guarded(endpoint), methods=methods) for path, endpoint, methods in table]
