"""The emulator's own endpoints under `/_sandbox/`: documents, base data, sessions, holds.

Not part of the WebAPI. Tests and the demo use them to read what the hub booked, to key
in base data as an accountant would, to make every session lapse, and to hold one
operation (calls to it wait) so that a client can be stopped between two calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..control import guarded, json_body

if TYPE_CHECKING:
    from .app import K3CloudEmulator

__all__ = ["control_routes"]


def control_routes(emulator: K3CloudEmulator) -> list[BaseRoute]:
    """Routes bound to one emulator."""

    async def bills(request: Request) -> Response:
        return JSONResponse(emulator.bills(request.path_params["form"]))

    async def base(request: Request) -> Response:
        data = await json_body(request)
        emulator.seed_base(str(data["form"]), str(data["code"]), str(data.get("name") or ""))
        return JSONResponse({"ok": True})

    async def expire(_: Request) -> Response:
        return JSONResponse({"expired": emulator.sessions.expire_all()})

    async def hold(request: Request) -> Response:
        data = await json_body(request)
        operation = str(data["operation"])
        if data.get("hold", True):
            emulator.held.add(operation)
        else:
            emulator.held.discard(operation)
        return JSONResponse({"held": sorted(emulator.held)})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                emulator.faults.update(await json_body(request))
            except KeyError as exc:
                return JSONResponse({"error": f"unknown fault {exc.args[0]}"}, status_code=400)
        return JSONResponse(emulator.faults.snapshot())

    async def stats(_: Request) -> Response:
        return JSONResponse(emulator.stats())

    return [
        Route("/_sandbox/bills/{form}", guarded(bills), methods=["GET"]),
        Route("/_sandbox/base", guarded(base), methods=["POST"]),
        Route("/_sandbox/sessions/expire", guarded(expire), methods=["POST"]),
        Route("/_sandbox/hold", guarded(hold), methods=["POST"]),
        Route("/_sandbox/faults", guarded(faults), methods=["GET", "POST"]),
        Route("/_sandbox/stats", guarded(stats), methods=["GET"]),
    ]
