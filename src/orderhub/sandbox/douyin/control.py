"""The emulator's own routes under `/_sandbox/`: not Douyin's API, never faulted, no auth.

GET/POST `/orders` (list; place: the `place_order` spec plus optional ISO `"at"`),
GET `/orders/{id}`, POST `/orders/{id}/{pay|modify|cancel|refund|settle-refund|complete}`,
POST `/items` (seed), GET `/stock`, GET/PUT/DELETE `/faults`, GET/PUT `/config`,
GET `/stats`, GET `/pushes`, POST `/token` (rotate the access token).
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
    from .emulator import DouyinEmulator

__all__ = ["control_routes"]

Handler = Callable[[Request], Awaitable[Response]]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _at(data: dict[str, Any]) -> datetime | None:
    raw = data.pop("at", None)
    return datetime.fromisoformat(str(raw)) if raw else None


def control_routes(emulator: DouyinEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def list_orders(_: Request) -> Response:
        return JSONResponse(emulator.orders())

    async def place(request: Request) -> Response:
        data = await _body(request)
        order_id = emulator.place_order(data, at=_at(data))
        return JSONResponse({"order_id": order_id, "order": emulator.order(order_id)}, 201)

    async def show(request: Request) -> Response:
        return JSONResponse(emulator.order(request.path_params["id"]))

    async def act(request: Request) -> Response:
        order_id, action = request.path_params["id"], request.path_params["action"]
        data = await _body(request)
        at = _at(data)
        if action == "pay":
            emulator.pay_order(order_id, at=at)
        elif action == "modify":
            emulator.modify_order(order_id, at=at, **data)
        elif action == "cancel":
            emulator.cancel_order(order_id, reason=str(data.get("reason") or "买家取消订单"), at=at)
        elif action == "refund":
            quantity = data.get("quantity")
            emulator.refund(
                order_id,
                line_index=int(data.get("line_index", 0)),
                quantity=None if quantity is None else int(quantity),
                returned=bool(data.get("returned", False)),
                settle=bool(data.get("settle", False)),
                at=at,
            )
        elif action == "settle-refund":
            emulator.settle_refund(order_id, line_index=int(data.get("line_index", 0)), at=at)
        elif action == "complete":
            emulator.complete_order(order_id, at=at)
        else:
            return JSONResponse({"error": f"unknown action {action}"}, 404)
        return JSONResponse(emulator.order(order_id))

    async def items(request: Request) -> Response:
        data = await _body(request)
        return JSONResponse({"items": emulator.seed_items(data["items"])}, 201)

    async def stock(_: Request) -> Response:
        return JSONResponse(emulator.stock())

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            try:
                emulator.faults.update(await _body(request))
            except KeyError as exc:
                raise ValueError(f"unknown fault setting {exc.args[0]}") from exc
        elif request.method == "DELETE":
            emulator.faults.reset()
        return JSONResponse(emulator.faults.snapshot())

    async def config(request: Request) -> Response:
        if request.method == "PUT":
            try:
                emulator.configure(**(await _body(request)))
            except KeyError as exc:
                raise ValueError(f"unknown setting {exc.args[0]}") from exc
        return JSONResponse(emulator.config())

    async def stats(_: Request) -> Response:
        return JSONResponse(emulator.stats())

    async def pushes(_: Request) -> Response:
        return JSONResponse(emulator.pushes())

    async def token(request: Request) -> Response:
        data = await _body(request)
        return JSONResponse({"access_token": emulator.rotate_access_token(data.get("new"))})

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except KeyError as exc:
                return JSONResponse({"error": f"unknown: {exc.args[0] if exc.args else exc}"}, 404)
            except (TypeError, ValueError, IndexError) as exc:
                return JSONResponse({"error": str(exc)}, 400)

        return endpoint

    table: list[tuple[str, Handler, list[str]]] = [
        ("/orders", list_orders, ["GET"]),
        ("/orders", place, ["POST"]),
        ("/orders/{id}", show, ["GET"]),
        ("/orders/{id}/{action}", act, ["POST"]),
        ("/items", items, ["POST"]),
        ("/stock", stock, ["GET"]),
        ("/faults", faults, ["GET", "PUT", "DELETE"]),
        ("/config", config, ["GET", "PUT"]),
        ("/stats", stats, ["GET"]),
        ("/pushes", pushes, ["GET"]),
        ("/token", token, ["POST"]),
    ]
    return [Route("/_sandbox" + path, guarded(fn), methods=m) for path, fn, m in table]
