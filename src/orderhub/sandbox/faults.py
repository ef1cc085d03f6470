"""Fault injection shared by the emulators: errors, latency, 429 storms, timeouts, bad bodies.

An emulator owns one `Faults` object; tests and the demo change it at run time through
the emulator's `/_sandbox/faults` endpoint. `FaultMiddleware` applies it to every API
call except the emulator's own `/_sandbox/` control paths.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, fields
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["FaultMiddleware", "Faults", "emulator_app", "faults_route"]


@dataclass
class Faults:
    """What should go wrong, and how often. Rates are fractions of API calls (0..1)."""

    error_rate: float = 0.0
    error_status: int = 503
    latency_ms: int = 0
    rate_limit_rate: float = 0.0
    retry_after: float = 1.0
    storm_seconds: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    malformed_rate: float = 0.0
    duplicate_webhooks: int = 0
    reorder_webhooks: bool = False
    seed: int | None = None
    storm_until: float = field(default=0.0, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial change from the control endpoint; unknown keys raise KeyError."""
        allowed = {f.name for f in fields(self) if not f.name.startswith("_")} - {"storm_until"}
        kinds = {f.name: f.default for f in fields(self)}
        with self._lock:
            for key, value in changes.items():
                if key not in allowed:
                    raise KeyError(key)
                setattr(self, key, _coerce(kinds[key], value))
            if "seed" in changes and self.seed is not None:
                self._rng.seed(self.seed)
            if changes.get("storm_seconds"):
                self.storm_until = time.monotonic() + float(changes["storm_seconds"])

    def reset(self) -> None:
        with self._lock:
            for f in fields(self):
                if not f.name.startswith("_"):
                    setattr(self, f.name, f.default)

    def snapshot(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if not f.name.startswith("_") and f.name != "storm_until"
        }

    def roll(self, rate: float) -> bool:
        """True with probability `rate`."""
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def in_storm(self) -> bool:
        return time.monotonic() < self.storm_until


def _coerce(default: Any, value: Any) -> Any:
    """Convert a control-endpoint value to the type of the field's default."""
    if value is None:
        return None
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    if isinstance(default, int | float):
        return type(default)(value)
    if default is None:
        return int(value)
    return value


def _shopify_limited(retry_after: float) -> Response:
    return Response(
        '{"errors":"Exceeded 2 calls per second for api client. Reduce request rates '
        'to resume uninterrupted service."}',
        status_code=429,
        headers={"Retry-After": f"{retry_after:.1f}"},
        media_type="application/json",
    )


def _shopify_error(status: int) -> Response:
    return Response(
        '{"errors":"Internal Server Error"}', status_code=status, media_type="application/json"
    )


class FaultMiddleware:
    """Starlette middleware that makes API calls fail as `faults` says."""

    def __init__(
        self,
        app: ASGIApp,
        faults: Faults,
        *,
        control_prefix: str = "/_sandbox",
        malformed_body: bytes = b'{"orders": [{"id": 1, "trunc',
        malformed_type: str = "application/json",
        rate_limited: Callable[[float], Response] | None = None,
        server_error: Callable[[int], Response] | None = None,
    ) -> None:
        """`rate_limited(retry_after)` and `server_error(status)` answer in the platform's
        own words (TOP's code 7 with its ban seconds, say); Shopify's are the default."""
        self.app = app
        self.faults = faults
        self.control_prefix = control_prefix
        self.malformed_body = malformed_body
        self.malformed_type = malformed_type
        self.rate_limited = rate_limited or _shopify_limited
        self.server_error = server_error or _shopify_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.control_prefix):
            await self.app(scope, receive, send)
            return
        f = self.faults
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if f.in_storm() or f.roll(f.rate_limit_rate):
            await self.rate_limited(f.retry_after)(scope, receive, send)
            return
        if f.roll(f.timeout_rate):
            await asyncio.sleep(f.timeout_seconds)
        if f.roll(f.error_rate):
            await self.server_error(f.error_status)(scope, receive, send)
            return
        if f.roll(f.malformed_rate):
            request = Request(scope, receive)
            await request.body()
            response = Response(
                self.malformed_body, status_code=200, media_type=self.malformed_type
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def faults_route(faults: Faults, path: str = "/_sandbox/faults") -> Route:
    """The control route every emulator has: GET the faults, PUT some, DELETE them all."""

    async def control(request: Request) -> Response:
        if request.method == "PUT":
            try:
                faults.update(await request.json())
            except (KeyError, ValueError, TypeError) as exc:
                return JSONResponse({"error": f"unknown or bad fault: {exc}"}, status_code=400)
        elif request.method == "DELETE":
            faults.reset()
        return JSONResponse(faults.snapshot())

    return Route(path, control, methods=["GET", "PUT", "DELETE"])


def emulator_app(
    emulator: object,
    routes: Sequence[BaseRoute],
    faults: Faults,
    *,
    malformed_body: bytes,
    malformed_type: str = "application/json",
    rate_limited: Callable[[float], Response] | None = None,
    server_error: Callable[[int], Response] | None = None,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    """An emulator's app: its routes behind its faults, answered in its platform's words,
    with the emulator at `app.state.emulator`."""
    middleware = [
        Middleware(
            FaultMiddleware,
            faults=faults,
            malformed_body=malformed_body,
            malformed_type=malformed_type,
            rate_limited=rate_limited,
            server_error=server_error,
        )
    ]
    app = Starlette(routes=list(routes), middleware=middleware, lifespan=lifespan)
    app.state.emulator = emulator
    return app
