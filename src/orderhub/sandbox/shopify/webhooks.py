"""Webhook delivery the way Shopify does it: signed POSTs, retried with backoff, logged.

Each subscription of a topic gets its own delivery with a unique `X-Shopify-Webhook-Id`
that stays the same on every retry; all deliveries of one event share
`X-Shopify-Event-Id`. The body is the resource JSON at trigger time, signed with
base64(HMAC-SHA256(client secret, raw body)). A delivery succeeds on any 2xx; anything
else (or a connect/read timeout, 1 s / 5 s) is retried after each of `retry_delays`
(Shopify: 8 retries over 4 hours; the emulator's default is a short exponential
series). The fault knobs `duplicate_webhooks` and `reorder_webhooks` send extra copies
with the same webhook id, or hold a batch and deliver it newest first.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from orderhub.sandbox.faults import Faults
from orderhub.sandbox.shopify.common import Json

__all__ = ["DEFAULT_RETRY_DELAYS", "Delivery", "WebhookDispatcher", "sign"]

DEFAULT_RETRY_DELAYS: tuple[float, ...] = tuple(0.2 * 2**n for n in range(8))


def sign(secret: str, body: bytes) -> str:
    """The X-Shopify-Hmac-Sha256 value for a body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Delivery:
    """One delivery of one event to one subscription, with every attempt made so far."""

    seq: int
    webhook_id: str
    event_id: str
    topic: str
    address: str
    subscription_id: int
    resource_id: Any
    body: bytes
    triggered_at: str
    status: str = "pending"
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What the delivery log shows (the body is left out)."""
        return {
            "seq": self.seq,
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "topic": self.topic,
            "address": self.address,
            "subscription_id": self.subscription_id,
            "resource_id": self.resource_id,
            "triggered_at": self.triggered_at,
            "status": self.status,
            "attempts": list(self.attempts),
        }


class WebhookDispatcher:
    """Queues deliveries and sends them from background threads."""

    def __init__(
        self,
        *,
        secret: str,
        shop_domain: str,
        api_version: str,
        faults: Faults,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        reorder_window: float = 0.3,
        workers: int = 4,
        log_size: int = 10_000,
    ) -> None:
        self.secret = secret
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.faults = faults
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self.reorder_window = reorder_window
        self.workers = workers
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, list[Delivery]]] = []
        self._held: list[Delivery] = []
        self._held_since = 0.0
        self._seq = itertools.count(1)
        self._log: deque[Delivery] = deque(maxlen=log_size)
        self._counts = {"delivered": 0, "failed": 0, "attempts": 0}
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None
        self._stopping = False

    def enqueue(
        self, topic: str, payload: Mapping[str, Any], subscriptions: Sequence[Json]
    ) -> None:
        """Queue one delivery per subscription (plus injected duplicates) of this event."""
        if not subscriptions:
            return
        event_id = str(uuid.uuid4())
        triggered_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        copies = 1 + max(0, int(self.faults.duplicate_webhooks))
        with self._cond:
            self._start()
            for sub in subscriptions:
                fields = sub.get("fields") or []
                data = {k: v for k, v in payload.items() if k in fields} if fields else payload
                body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
                webhook_id = str(uuid.uuid4())
                for _ in range(copies):
                    delivery = Delivery(
                        seq=next(self._seq),
                        webhook_id=webhook_id,
                        event_id=event_id,
                        topic=topic,
                        address=str(sub["address"]),
                        subscription_id=int(sub["id"]),
                        resource_id=payload.get("id", payload.get("inventory_item_id")),
                        body=body,
                        triggered_at=triggered_at,
                    )
                    self._log.append(delivery)
                    if self.faults.reorder_webhooks:
                        if not self._held:
                            self._held_since = time.monotonic()
                        self._held.append(delivery)
                    else:
                        self._push(time.monotonic(), [delivery])
            self._cond.notify_all()

    def _push(self, due: float, batch: list[Delivery]) -> None:
        heapq.heappush(self._heap, (due, batch[0].seq, batch))

    def _start(self) -> None:
        if self._thread is not None or self._stopping:
            return
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0), trust_env=False)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="shopify-webhook")
        self._thread = threading.Thread(target=self._run, name="shopify-webhooks", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                now = time.monotonic()
                if self._held and now >= self._held_since + self.reorder_window:
                    batch, self._held = list(reversed(self._held)), []
                    self._push(now, batch)
                due: list[list[Delivery]] = []
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
                waits = [self._heap[0][0] - now] if self._heap else []
                if self._held:
                    waits.append(self._held_since + self.reorder_window - now)
                if not due:
                    self._cond.wait(timeout=min(waits) if waits else None)
                    continue
                self._in_flight += len(due)
            pool = self._pool
            assert pool is not None
            for batch in due:
                try:
                    pool.submit(self._send_batch, batch)
                except RuntimeError:
                    with self._cond:
                        self._in_flight -= 1

    def _send_batch(self, batch: list[Delivery]) -> None:
        try:
            for delivery in batch:
                self._attempt(delivery)
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Hmac-Sha256": sign(self.secret, delivery.body),
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
        }
        started = time.monotonic()
        status: int | None = None
        error = ""
        client = self._client
        assert client is not None
        try:
            response = client.post(delivery.address, content=delivery.body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except RuntimeError as exc:
            error = f"client closed: {exc}"
        ok = status is not None and 200 <= status < 300
        with self._cond:
            self._counts["attempts"] += 1
            delivery.attempts.append(
                {
                    "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "status_code": status,
                    "error": error,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                }
            )
            retries_done = len(delivery.attempts) - 1
            if ok:
                delivery.status = "delivered"
                self._counts["delivered"] += 1
            elif retries_done < len(self.retry_delays) and not self._stopping:
                self._push(time.monotonic() + self.retry_delays[retries_done], [delivery])
                self._cond.notify_all()
            else:
                delivery.status = "failed"
                self._counts["failed"] += 1

    def log(self) -> list[dict[str, Any]]:
        """Every delivery still in the log, oldest first."""
        with self._cond:
            return [d.summary() for d in self._log]

    def counts(self) -> dict[str, int]:
        """Delivered, failed and pending deliveries, and attempts made."""
        with self._cond:
            pending = sum(1 for d in self._log if d.status == "pending")
            return {**self._counts, "pending": pending}

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued, held or in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._held or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(timeout=min(remaining, 0.05))
            return True

    def close(self) -> None:
        """Stop the background threads; queued retries are abandoned."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, pool, client = self._thread, self._pool, self._client
        if thread is not None:
            thread.join(timeout=5)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if client is not None:
            client.close()
