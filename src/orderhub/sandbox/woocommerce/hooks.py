"""Webhook delivery as WooCommerce does it (`includes/class-wc-webhook.php`).

Each active webhook whose topic fires gets one POST, sent in the background (Action
Scheduler; here a thread, after `delay` seconds), never retried. The body is the REST
resource, `wp_json_encode`d; the headers are `X-WC-Webhook-Source`, `-Topic`,
`-Resource`, `-Event`, `-Signature` (base64 HMAC-SHA256 of the body with the webhook's
secret), `-ID` and `-Delivery-ID`, which is `wp_hash(webhook id . unix second)`: two
deliveries of one webhook in the same second share it. A non-2xx answer counts a failure,
a 2xx clears the count, and a failure once the count is past `max_failures` (5) disables
the webhook. Creating a webhook sends a ping: a form body `webhook_id=N`, no signature.

Faults: `duplicate_webhooks` sends each delivery again as it was (same id and body);
`reorder_webhooks` holds deliveries for `reorder_window` seconds and sends them newest
first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from orderhub.sandbox.faults import Faults

from .wire import Json, wp_json

__all__ = ["Delivery", "Dispatcher", "signature"]

USER_AGENT = "WooCommerce/9.4.0 Hookshot (WordPress/6.7.1)"


def signature(secret: str, body: bytes) -> str:
    """X-WC-Webhook-Signature for a body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    """One POST to one webhook's delivery URL, and how it went."""

    seq: int
    webhook_id: int
    topic: str
    url: str
    body: bytes
    headers: dict[str, str]
    resource_id: Any = None
    status_code: int | None = None
    error: str = ""
    sent_at: str = ""
    done: bool = False
    copies: int = 0

    def summary(self) -> Json:
        return {
            "seq": self.seq,
            "webhook_id": self.webhook_id,
            "topic": self.topic,
            "delivery_url": self.url,
            "delivery_id": self.headers.get("X-WC-Webhook-Delivery-ID", ""),
            "resource_id": self.resource_id,
            "status_code": self.status_code,
            "error": self.error,
            "sent_at": self.sent_at,
        }


@dataclass
class Dispatcher:
    """Queues deliveries and sends them in order from one background thread."""

    source: Callable[[], str]
    faults: Faults
    on_result: Callable[[int, bool], None]
    delay: float = 0.05
    reorder_window: float = 0.3
    salt: bytes = b"sandbox-wp-hash-salt"
    _queue: deque[tuple[float, Delivery]] = field(default_factory=deque)
    _held: list[Delivery] = field(default_factory=list)
    _held_since: float = 0.0
    _log: deque[Delivery] = field(default_factory=lambda: deque(maxlen=10_000))
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _busy: bool = False
    _thread: threading.Thread | None = None
    _client: httpx.Client | None = None
    _stopping: bool = False

    def delivery_id(self, webhook_id: int) -> str:
        """wp_hash(id . second): an HMAC-MD5, so it repeats within a second."""
        text = f"{webhook_id}{int(time.time())}".encode()
        return hmac.new(self.salt, text, hashlib.md5).hexdigest()

    def deliver(self, webhook: Json, payload: Any, resource_id: Any) -> None:
        """Queue the event for one webhook (`topic`, `delivery_url`, `secret`, `id`)."""
        body = wp_json(payload)
        resource, _, event = str(webhook["topic"]).partition(".")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-WC-Webhook-Source": self.source(),
            "X-WC-Webhook-Topic": str(webhook["topic"]),
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature(str(webhook.get("secret") or ""), body),
            "X-WC-Webhook-ID": str(webhook["id"]),
            "X-WC-Webhook-Delivery-ID": self.delivery_id(int(webhook["id"])),
        }
        self._add(Delivery(next(self._seq), int(webhook["id"]), str(webhook["topic"]),
                           str(webhook["delivery_url"]), body, headers, resource_id))  # fmt: skip

    def ping(self, webhook: Json) -> None:
        """The unsigned form POST sent when a webhook is created; its answer is ignored."""
        body = f"webhook_id={webhook['id']}".encode()
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"}
        self._add(Delivery(next(self._seq), int(webhook["id"]), "ping",
                           str(webhook["delivery_url"]), body, headers, webhook["id"]))  # fmt: skip

    def _add(self, delivery: Delivery) -> None:
        with self._cond:
            self._start()
            self._log.append(delivery)
            delivery.copies = max(0, int(self.faults.duplicate_webhooks))
            if self.faults.reorder_webhooks and delivery.topic != "ping":
                if not self._held:
                    self._held_since = time.monotonic()
                self._held.append(delivery)
            else:
                self._queue.append((time.monotonic() + self.delay, delivery))
            self._cond.notify_all()

    def _start(self) -> None:
        if self._thread is None and not self._stopping:
            self._client = httpx.Client(timeout=httpx.Timeout(10.0, connect=2.0), trust_env=False)
            self._thread = threading.Thread(target=self._run, name="wc-webhooks", daemon=True)
            self._thread.start()

    def _next(self) -> Delivery | None:
        """The next delivery due, waiting for it; None once stopping."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._held and now >= self._held_since + self.reorder_window:
                    self._queue.extend((now, d) for d in reversed(self._held))
                    self._held = []
                if self._queue and self._queue[0][0] <= now:
                    self._busy = True
                    return self._queue.popleft()[1]
                waits = [self._queue[0][0] - now] if self._queue else []
                if self._held:
                    waits.append(self._held_since + self.reorder_window - now)
                self._cond.wait(timeout=min(waits) if waits else None)
            return None

    def _run(self) -> None:
        while (delivery := self._next()) is not None:
            for _ in range(1 + delivery.copies):
                self._send(delivery)
            with self._cond:
                delivery.done = True
                self._busy = False
                self._cond.notify_all()

    def _send(self, delivery: Delivery) -> None:
        client = self._client
        assert client is not None
        try:
            answer = client.post(delivery.url, content=delivery.body, headers=delivery.headers)
            delivery.status_code, delivery.error = answer.status_code, ""
        except (httpx.HTTPError, RuntimeError) as exc:
            delivery.status_code, delivery.error = None, f"{type(exc).__name__}: {exc}"
        delivery.sent_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        if delivery.topic != "ping":
            code = delivery.status_code
            self.on_result(delivery.webhook_id, code is not None and 200 <= code < 300)

    def log(self) -> list[Json]:
        with self._cond:
            return [d.summary() for d in self._log]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued, held or being sent; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._held or self._busy:
                if time.monotonic() >= deadline:
                    return False
                self._cond.wait(timeout=0.05)
            return True

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, client = self._thread, self._client
        if thread is not None:
            thread.join(timeout=5)
        if client is not None:
            client.close()
