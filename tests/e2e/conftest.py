"""The whole stack on loopback: emulated shops and warehouse, the hub's API and a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orderhub.api.app import create_app
from orderhub.demo_stack import Stack, StackOptions
from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.services.hub import Hub
from support import make_settings


@pytest.fixture
def make_stack(database_url: str) -> Iterator[Callable[..., Stack]]:
    """Start a stack on the test database; stopped after the test."""
    stacks: list[Stack] = []

    def start(settings: dict[str, Any] | None = None, **options: Any) -> Stack:
        stack = Stack(
            make_settings(database_url, **(settings or {})),
            StackOptions(**{"ship_delay": 0.05, "stock": 100, "skus": 3, **options}),
        ).start()
        stacks.append(stack)
        return stack

    yield start
    for stack in stacks:
        stack.stop()


@pytest.fixture
def api(hub: Hub) -> Iterator[RunningServer]:
    """The hub's API on loopback, for tests that call it over HTTP."""
    server = serve_in_thread(create_app(hub))
    yield server
    server.stop()
