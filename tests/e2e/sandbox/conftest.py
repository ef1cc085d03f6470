"""Fixtures for the emulator tests: a running Shopify emulator and a webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.connectors.shopify import ShopifyChannel
from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.shopify import ShopifyEmulator

FAST_WEBHOOK_RETRIES = (0.05, 0.1, 0.2)


@dataclass
class ShopifySandbox:
    """An emulator served on loopback, with helpers to reach it as the hub would."""

    emulator: ShopifyEmulator
    server: RunningServer

    @property
    def url(self) -> str:
        return self.server.url

    def settings(self, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "base_url": self.url,
            "shop_domain": self.emulator.shop_domain,
            "access_token": self.emulator.access_token,
            "webhook_secret": self.emulator.client_secret,
            "max_retry_sleep": 0.5,
        }
        values.update(overrides)
        return values

    def channel(self, **overrides: Any) -> ShopifyChannel:
        return ShopifyChannel(self.settings(**overrides))

    def admin(self) -> httpx.Client:
        """A raw client for the Admin API with the shop's token."""
        return httpx.Client(
            base_url=f"{self.url}/admin/api/{self.emulator.api_version}",
            headers={"X-Shopify-Access-Token": self.emulator.access_token},
        )


@pytest.fixture
def shopify_sandbox() -> Iterator[Callable[..., ShopifySandbox]]:
    """Start emulators with the given settings; all are stopped after the test."""
    started: list[ShopifySandbox] = []

    def start(**settings: Any) -> ShopifySandbox:
        values: dict[str, Any] = {
            "seed": 7,
            "leak_rate": 1000.0,
            "webhook_retry_delays": FAST_WEBHOOK_RETRIES,
        }
        values.update(settings)
        emulator = ShopifyEmulator(**values)
        sandbox = ShopifySandbox(emulator, serve_in_thread(emulator.app))
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.server.stop()
        sandbox.emulator.close()


@dataclass
class Received:
    """One webhook as the receiver saw it."""

    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class WebhookReceiver:
    """A stand-in for the hub's webhook endpoint; can fail the first N deliveries of a topic."""

    url: str = ""
    fail_first: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        topic = request.headers.get("x-shopify-topic", "")
        with self.lock:
            failing = self.fail_first.get(topic, 0) > 0
            if failing:
                self.fail_first[topic] -= 1
            status = 500 if failing else 200
            self.received.append(Received(dict(request.headers), body, status))
        return JSONResponse({"ok": not failing}, status_code=status)

    def of(self, topic: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.headers.get("x-shopify-topic") == topic]


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A receiver listening on loopback at `receiver.url`."""
    receiver = WebhookReceiver()
    app = Starlette(routes=[Route("/webhooks/shopify", receiver.receive, methods=["POST"])])
    server = serve_in_thread(app)
    receiver.url = f"{server.url}/webhooks/shopify"
    yield receiver
    server.stop()
