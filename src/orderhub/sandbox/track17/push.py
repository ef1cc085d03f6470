"""The emulated account's pushes: signed, sent from a background thread, retried.

Each push is a POST of `{"event": "TRACKING_UPDATED", "data": <the parcel as
gettrackinfo answers it>}` to the account's webhook address, with the header `sign` =
lower-hex SHA-256 of (raw body + "/" + API key) (UNCONFIRMED, as client code has it).
Anything but a 2xx answer is tried again after each of `retry_delays` (17TRACK is said
to wait 10, 30 and 60 minutes), with the very same body; after the last the push is
dropped. With no webhook address set, nothing is pushed (17TRACK: -18010204).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from orderhub.sandbox.faults import Faults
from orderhub.sandbox.loop import EmulatorLoop

__all__ = ["Delivery", "Pusher", "sign"]


def sign(body: bytes, api_key: str) -> str:
    """The `sign` header of a push."""
    return hashlib.sha256(body + b"/" + api_key.encode()).hexdigest()


@dataclass
class Delivery:
    """One push and what became of each try."""

    number: str
    event: str
    body: bytes
    due: float
    attempts: list[dict[str, Any]] = field(default_factory=list)
    state: str = "pending"  # pending, delivered, dropped

    def snapshot(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "event": self.event,
            "state": self.state,
            "attempts": [dict(a) for a in self.attempts],
        }


class Pusher(EmulatorLoop):
    """The account's outbox: sends what is due, retries what failed."""

    name = "17track-push"

    def __init__(
        self,
        faults: Faults,
        *,
        api_key: str,
        url: str | None,
        retry_delays: Sequence[float],
        tick: float = 0.02,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(tick=tick, timeout=timeout)
        self.faults = faults
        self.url = url
        self.retry_delays = [float(d) for d in retry_delays]
        self._api_key = api_key
        self._books = threading.Lock()
        self._deliveries: list[Delivery] = []

    def owe(self, event: str, item: dict[str, Any]) -> None:
        """Push this parcel's news now (and again as the faults ask)."""
        if not self.url:
            return
        body = json.dumps({"event": event, "data": item}, ensure_ascii=False).encode()
        copies = 1 + max(int(self.faults.duplicate_webhooks), 0)
        with self._books:
            for _ in range(copies):
                self._deliveries.append(Delivery(item["number"], event, body, time.monotonic()))
        self.start()
        self.wake()

    def deliveries(self) -> list[dict[str, Any]]:
        with self._books:
            return [d.snapshot() for d in self._deliveries]

    def step(self) -> None:
        url, http = self.url, self._http
        if not url or http is None:
            return
        now = time.monotonic()
        with self._books:
            due = [d for d in self._deliveries if d.state == "pending" and d.due <= now]
        if self.faults.reorder_webhooks:
            due.reverse()
        for delivery in due:
            if self._stop.is_set():
                return
            headers = {
                "Content-Type": "application/json",
                "sign": sign(delivery.body, self._api_key),
            }
            try:
                reply = http.post(url, content=delivery.body, headers=headers)
                status, error = reply.status_code, ""
            except (httpx.HTTPError, RuntimeError) as exc:  # refused, timed out, or closed
                status, error = 0, f"{type(exc).__name__}: {exc}"
            self._record(delivery, status, error)

    def _record(self, delivery: Delivery, status: int, error: str) -> None:
        with self._books:
            delivery.attempts.append({"status": status, "error": error, "at": time.time()})
            tried = len(delivery.attempts)
            if 200 <= status < 300:
                delivery.state = "delivered"
            elif tried <= len(self.retry_delays):
                delivery.due = time.monotonic() + self.retry_delays[tried - 1]
            else:
                delivery.state = "dropped"
