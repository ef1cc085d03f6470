"""A 17TRACK account behind its API v2.2, over real HTTP.

Sources: platform-apis.md §10.3; 17TRACK's help centre "Error Codes and
Troubleshooting" (messages of the codes down to -18019903, word for word; the later
codes' words are paraphrased, UNCONFIRMED); client code for the push and its retries.

Wire: `POST /track/v2.2/{register, gettrackinfo, stoptrack, retrack}` take a JSON array
of at most 40 `{number, carrier?, tag?, param?}` and answer `{"code": 0, "data":
{"accepted": [...], "rejected": [{"number", "error": {"code", "message"}}]}}`;
`POST /track/v2.2/getquota` answers the quota. The API key goes in the header
`17token`: a wrong one is HTTP 401 `{"code": -18010002, "data": {"errors": [{"code":
-18010002, "message": "Invalid security key."}]}}`. Per item: -18010010 no number,
-18010012 a malformed one, -18010011 a bad carrier, -18019903 a carrier not detected,
-18019901 registered already, -18019902 not registered, -18019904/5/6 wrong
stop or retrack, -18019908 quota used up. A number done with (delivered, returned,
expired) is no longer followed from that scan on (17TRACK waits some days first).
Pushes: see `push.py`.

Control (never faulted): `GET /_sandbox/parcels`, `POST /_sandbox/parcels/{number}/scan`
(`{status, sub_status?, description?, location?, time?}`), `GET|PUT /_sandbox/webhook`
(`{url, retry_delays?}`), `GET /_sandbox/pushes`, `GET|PUT|DELETE /_sandbox/faults`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.faults import FaultMiddleware, Faults

from .push import Pusher
from .state import Account, Refused, make_scan

__all__ = ["Track17Emulator"]

API = "/track/v2.2"
RETRY_DELAYS = (600.0, 1800.0, 3600.0)
"""17TRACK's waits before trying a push again (UNCONFIRMED: 10, 30, 60 minutes)."""


def _refused(code: int, message: str, *, status: int = 200) -> Response:
    body = {"code": code, "data": {"errors": [{"code": code, "message": message}]}}
    return JSONResponse(body, status_code=status)


class Track17Emulator:
    """One 17TRACK account: its API key, the numbers it follows, its webhook address."""

    def __init__(
        self,
        api_key: str = "sandbox-17track-api-key",
        *,
        webhook_url: str | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        quota: int = 100,
        seed: int | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.api_key = api_key
        self.account = Account(quota=quota)
        self.faults = faults if faults is not None else Faults(seed=seed, _rng=random.Random(seed))
        self.pusher = Pusher(
            self.faults, api_key=api_key, url=webhook_url, retry_delays=retry_delays
        )
        self.app = FaultMiddleware(
            self._starlette(),
            self.faults,
            malformed_body=b'{"code":0,"data":{"accepted":[{"number":"',
            rate_limited=lambda _: _refused(429, "Too many requests.", status=429),
            server_error=lambda status: _refused(
                -18010003, "Internal service error. Please try again later.", status=status
            ),
        )

    @property
    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key}

    @property
    def webhook_url(self) -> str | None:
        return self.pusher.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self.pusher.url = url or None

    def scan(self, number: str, **spec: Any) -> None:
        """The carrier scanned a registered parcel (`status`, `sub_status`, `description`,
        `location`, `time`); a followed parcel's news is pushed at once.
        KeyError for a number not registered, ValueError for a field that is wrong."""
        item = self.account.scan(number, make_scan(spec))
        if item is not None:
            self.pusher.owe("TRACKING_UPDATED", item)

    def parcels(self) -> dict[str, dict[str, Any]]:
        return self.account.summaries()

    def pushes(self) -> list[dict[str, Any]]:
        """Every push and each try of it."""
        return self.pusher.deliveries()

    def close(self) -> None:
        """Stop the push thread; pushes not sent yet are dropped."""
        self.pusher.stop()

    # the API

    def _starlette(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            self.pusher.start()
            try:
                yield
            finally:
                await asyncio.to_thread(self.pusher.stop)

        per_item = {
            "register": self.account.register,
            "gettrackinfo": self.account.info,
            "stoptrack": self.account.stop,
            "retrack": self.account.retrack,
        }
        routes = [
            Route(f"{API}/{name}", self._batch(action), methods=["POST"])
            for name, action in per_item.items()
        ]
        routes += [
            Route(f"{API}/getquota", self._quota, methods=["POST"]),
            Route("/_sandbox/parcels", self._control_parcels, methods=["GET"]),
            Route("/_sandbox/parcels/{number}/scan", self._control_scan, methods=["POST"]),
            Route("/_sandbox/webhook", self._control_webhook, methods=["GET", "PUT"]),
            Route("/_sandbox/pushes", self._control_pushes, methods=["GET"]),
            Route("/_sandbox/faults", self._control_faults, methods=["GET", "PUT", "DELETE"]),
        ]
        return Starlette(routes=routes, lifespan=lifespan)

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("17token", "")
        return hmac.compare_digest(given.encode(), self.api_key.encode())

    def _batch(self, action: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Any:
        async def endpoint(request: Request) -> Response:
            if not self._authorised(request):
                return _refused(-18010002, "Invalid security key.", status=401)
            try:
                items = json.loads(await request.body())
            except ValueError:
                return _refused(-18010013, "Invalid submitted data.")
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                return _refused(-18010013, "Invalid submitted data.")
            if len(items) > 40:
                return _refused(-18010014, "Tracking numbers exceed the 40 limit.")
            accepted, rejected = [], []
            for item in items:
                try:
                    accepted.append(action(item))
                except Refused as exc:
                    error = {"code": exc.code, "message": exc.message}
                    rejected.append({"number": item.get("number"), "error": error})
            return JSONResponse({"code": 0, "data": {"accepted": accepted, "rejected": rejected}})

        return endpoint

    async def _quota(self, request: Request) -> Response:
        if not self._authorised(request):
            return _refused(-18010002, "Invalid security key.", status=401)
        return JSONResponse({"code": 0, "data": self.account.quota()})

    # control

    async def _control_parcels(self, _: Request) -> Response:
        return JSONResponse(self.parcels())

    async def _control_scan(self, request: Request) -> Response:
        try:
            spec = json.loads(await request.body() or b"{}")
            self.scan(request.path_params["number"], **dict(spec))
        except KeyError:
            return JSONResponse({"error": "not registered"}, status_code=404)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True}, status_code=201)

    async def _control_webhook(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                change = json.loads(await request.body() or b"{}")
                if "url" in change:
                    self.webhook_url = change["url"]
                if "retry_delays" in change:
                    self.pusher.retry_delays = [float(d) for d in change["retry_delays"]]
            except (ValueError, TypeError, AttributeError) as exc:
                return JSONResponse({"error": f"bad webhook setting: {exc}"}, status_code=400)
        return JSONResponse({"url": self.webhook_url, "retry_delays": self.pusher.retry_delays})

    async def _control_pushes(self, _: Request) -> Response:
        return JSONResponse(self.pushes())

    async def _control_faults(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.faults.update(json.loads(await request.body() or b"{}"))
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                return JSONResponse({"error": f"unknown or bad fault: {exc}"}, status_code=400)
        elif request.method == "DELETE":
            self.faults.reset()
        return JSONResponse(self.faults.snapshot())
