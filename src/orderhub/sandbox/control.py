"""What every emulator's `/_sandbox/` control endpoints share: reading a JSON body, an
optional `at` time, and one way of answering a call that cannot be carried out.

Control endpoints are not part of any platform; demos and tests use them to play the
other side. A bad call is answered 400 `{"error": ...}`, a name the emulator does not
know 404.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["BadRequest", "Endpoint", "guarded", "json_body", "optional_at"]

Endpoint = Callable[[Request], Awaitable[Response]]


class BadRequest(ValueError):
    """A control call that cannot be carried out; answered with `status` (400)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object (`{}` when empty)."""
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise BadRequest("body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def optional_at(data: dict[str, Any]) -> datetime | None:
    """`at`, taken out of the body: an ISO-8601 time with a zone, or None."""
    raw = data.pop("at", None)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest("at must be an ISO-8601 time with a zone") from exc
    if moment.tzinfo is None:
        raise BadRequest("at must carry a zone")
    return moment


def guarded(endpoint: Endpoint) -> Endpoint:
    """The endpoint, answering 404 for an unknown name and 400 for a bad call."""

    async def guard(request: Request) -> Response:
        try:
            return await endpoint(request)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except KeyError as exc:
            return JSONResponse({"error": f"unknown: {exc.args[0]}"}, status_code=404)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return guard
