"""A small time-bounded cache for configuration rows read on every order.

Shops and nodes change rarely but are read for every order; the cache is cleared in
this process when they change here, and other processes see changes within `ttl`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["TtlCache"]

T = TypeVar("T")


class TtlCache:
    """Values by key for `ttl` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        value = load()
        with self._lock:
            self._values[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
