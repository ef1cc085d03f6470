"""Shopify's leaky-bucket rate limits: requests for REST, cost points for GraphQL.

REST: every request adds one to the bucket, which drains at `leak_rate` requests per
second; a request that would overflow `size` gets 429 with `Retry-After`. Each response
carries `X-Shopify-Shop-Api-Call-Limit: used/size` (e.g. 32/40).

GraphQL: the bucket holds `size` points and refills at `restore_rate` points per second;
a call is run only when the bucket holds its requested cost, which is then taken out.
Its answer reports `throttleStatus` (maximumAvailable, currentlyAvailable, restoreRate).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

__all__ = ["Admission", "Charge", "CostBucket", "LeakyBucket"]


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


@dataclass(frozen=True)
class Charge:
    """Whether a GraphQL call was paid for, and the bucket as it stands after it."""

    paid: bool
    requested: int
    currently_available: float
    maximum_available: int
    restore_rate: float

    def throttle_status(self) -> dict[str, float | int]:
        """The `throttleStatus` object of the cost extension."""
        return {
            "maximumAvailable": float(self.maximum_available),
            "currentlyAvailable": math.floor(self.currently_available),
            "restoreRate": self.restore_rate,
        }


class CostBucket:
    """A thread-safe bucket of GraphQL cost points, counting calls and throttled calls.

    Shopify's Standard plan restores 100 points a second (shopify.dev, "GraphQL Admin API
    rate limits"); the bucket's size is not stated there (UNCONFIRMED: 2,000, as answers'
    `throttleStatus.maximumAvailable` are reported to read; older pages gave 1,000 points
    restoring 50 a second). Both are the emulator's settings."""

    def __init__(self, size: int = 2000, restore_rate: float = 100.0) -> None:
        if size < 1 or restore_rate <= 0:
            raise ValueError("bucket size must be at least 1 and restore rate above 0")
        self.size = size
        self.restore_rate = restore_rate
        self.calls = 0
        self.throttled = 0
        self._available = float(size)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def charge(self, cost: int) -> Charge:
        """Take `cost` points, or refuse and take nothing when the bucket holds fewer."""
        with self._lock:
            now = time.monotonic()
            restored = (now - self._last) * self.restore_rate
            self._available = min(float(self.size), self._available + restored)
            self._last = now
            self.calls += 1
            paid = cost <= self._available
            if paid:
                self._available -= cost
            else:
                self.throttled += 1
            return Charge(paid, cost, self._available, self.size, self.restore_rate)
