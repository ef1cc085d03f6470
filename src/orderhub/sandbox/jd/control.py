"""The emulator's own endpoints under `/_sandbox/`: orders, items, stock, faults, stats.

Not part of JOS. Demos and tests use them to act as buyers (place, cancel, refund) and
to read what the hub did to the shop. They need no signature and are never faulted.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from .emulator import JdEmulator

__all__ = ["control_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    """A control call that cannot be carried out; answered with 400 or 404."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise BadRequest("body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def _at(data: dict[str, Any]) -> datetime | None:
    """An optional ISO-8601 `at` with a zone."""
    raw = data.pop("at", None)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError as exc:
        raise BadRequest("at must be an ISO-8601 time with a zone") from exc
    if moment.tzinfo is None:
        raise BadRequest("at must carry a zone")
    return moment


def _guard(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except KeyError as exc:
            return JSONResponse({"error": f"unknown: {exc.args[0]}"}, status_code=404)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return guarded


def control_routes(emulator: JdEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def list_orders(_: Request) -> Response:
        return JSONResponse(emulator.orders())

    async def place(request: Request) -> Response:
        data = await _body(request)
        at = _at(data)
        order_id = emulator.place_order(data, at=at)
        return JSONResponse(emulator.order(order_id), status_code=201)

    async def show(request: Request) -> Response:
        return JSONResponse(emulator.order(request.path_params["id"]))

    async def modify(request: Request) -> Response:
        order_id = request.path_params["id"]
        data = await _body(request)
        at = _at(data)
        emulator.modify_order(order_id, at=at, **data)
        return JSONResponse(emulator.order(order_id))

    async def cancel(request: Request) -> Response:
        order_id = request.path_params["id"]
        emulator.cancel_order(order_id, at=_at(await _body(request)))
        return JSONResponse(emulator.order(order_id))

    async def refund(request: Request) -> Response:
        order_id = request.path_params["id"]
        data = await _body(request)
        quantity = data.get("quantity")
        emulator.refund(
            order_id,
            line_index=int(data.get("line_index", 0)),
            quantity=None if quantity is None else int(quantity),
            returned=bool(data.get("returned", False)),
            at=_at(data),
        )
        return JSONResponse(emulator.order(order_id))

    async def items(request: Request) -> Response:
        if request.method == "POST":
            data = await _body(request)
            seeded = emulator.seed_items(data.get("items") or [])
            return JSONResponse({"items": seeded}, status_code=201)
        return JSONResponse({"items": emulator.items()})

    async def stock(_: Request) -> Response:
        return JSONResponse(emulator.stock())

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            try:
                emulator.faults.update(await _body(request))
            except KeyError as exc:
                raise BadRequest(f"unknown fault setting {exc.args[0]}") from exc
        elif request.method == "DELETE":
            emulator.faults.reset()
        return JSONResponse(emulator.faults.snapshot())

    async def config(request: Request) -> Response:
        if request.method == "PUT":
            try:
                emulator.configure(**(await _body(request)))
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
    return [Route(path, _guard(endpoint), methods=methods) for path, endpoint, methods in table]
