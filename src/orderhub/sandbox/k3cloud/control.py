"""The emulator's own endpoints under `/_sandbox/`: documents, base data, sessions, holds.

Not part of the WebAPI. Tests and the demo use them to read what the hub booked, to key
in base data as an accountant would, to make every session lapse, and to hold one
operation (calls to it wait) so that a client can be stopped between two calls.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from .app import K3CloudEmulator

__all__ = ["control_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise ValueError("body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _guard(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except KeyError as exc:
            return JSONResponse({"error": f"unknown: {exc.args[0]}"}, status_code=404)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return guarded


def control_routes(emulator: K3CloudEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def bills(request: Request) -> Response:
        return JSONResponse(emulator.bills(request.path_params["form"]))

    async def base(request: Request) -> Response:
        data = await _body(request)
        emulator.seed_base(str(data["form"]), str(data["code"]), str(data.get("name") or ""))
        return JSONResponse({"ok": True})

    async def expire(_: Request) -> Response:
        return JSONResponse({"expired": emulator.sessions.expire_all()})

    async def hold(request: Request) -> Response:
        data = await _body(request)
        operation = str(data["operation"])
        if data.get("hold", True):
            emulator.held.add(operation)
        else:
            emulator.held.discard(operation)
        return JSONResponse({"held": sorted(emulator.held)})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                emulator.faults.update(await _body(request))
            except KeyError as exc:
                return JSONResponse({"error": f"unknown fault {exc.args[0]}"}, status_code=400)
        return JSONResponse(emulator.faults.snapshot())

    async def stats(_: Request) -> Response:
        return JSONResponse(emulator.stats())

    return [
        Route("/_sandbox/bills/{form}", _guard(bills), methods=["GET"]),
        Route("/_sandbox/base", _guard(base), methods=["POST"]),
        Route("/_sandbox/sessions/expire", _guard(expire), methods=["POST"]),
        Route("/_sandbox/hold", _guard(hold), methods=["POST"]),
        Route("/_sandbox/faults", _guard(faults), methods=["GET", "POST"]),
        Route("/_sandbox/stats", _guard(stats), methods=["GET"]),
    ]
