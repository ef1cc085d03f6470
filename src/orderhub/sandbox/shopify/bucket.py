"""Shopify's leaky-bucket rate limit for the REST Admin API.

Every request adds one to the bucket, which drains at `leak_rate` requests per second;
a request that would overflow `size` gets 429 with `Retry-After`. Each response carries
`X-Shopify-Shop-Api-Call-Limit: used/size` (e.g. 32/40).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

__all__ = ["Admission", "LeakyBucket"]


@dataclass(frozen=True)
class Admission:
    """Whether a request may proceed, the header value, and when to retry if not."""

    allowed: bool
    call_limit: str
    retry_after: float = 0.0


class LeakyBucket:
    """A thread-safe leaky bucket counting calls and throttled calls."""

    def __init__(self, size: int = 40, leak_rate: float = 2.0) -> None:
        if size < 1 or leak_rate <= 0:
            raise ValueError("bucket size must be at least 1 and leak rate above 0")
        self.size = size
        self.leak_rate = leak_rate
        self.calls = 0
        self.throttled = 0
        self._level = 0.0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def admit(self) -> Admission:
        """Take one slot, or refuse with the seconds until one drains (at least 0.1)."""
        with self._lock:
            now = time.monotonic()
            self._level = max(0.0, self._level - (now - self._last) * self.leak_rate)
            self._last = now
            self.calls += 1
            if self._level + 1 > self.size:
                self.throttled += 1
                wait = (self._level + 1 - self.size) / self.leak_rate
                return Admission(
                    False, f"{self.size}/{self.size}", max(0.1, math.ceil(wait * 10) / 10)
                )
            self._level += 1
            return Admission(True, f"{math.ceil(self._level)}/{self.size}")
