"""SP-API's rate limits: one token bucket per operation, as Amazon documents them.

"Requests are rate limited using the token bucket algorithm": each operation has a rate
(tokens added per second) and a burst (the bucket's size); a call takes one token, and
a call that finds none is answered 429 `QuotaExceeded`. Every answer carries the rate
applied in `x-amzn-RateLimit-Limit`. The defaults are the usage plans of the models
(ordersV0.json, tokens_2021-03-01.json, listingsItems_2021-08-01.json,
financesV0.json); tests and the
demo set their own, since getOrders refills one token a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["DOCUMENTED", "Quotas"]

DOCUMENTED: Mapping[str, tuple[float, int]] = {
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "createRestrictedDataToken": (1.0, 10),
    "searchListingsItems": (5.0, 5),
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
    "listFinancialEvents": (0.5, 30),
}
"""Operation → (rate per second, burst), from the models' usage plans."""


@dataclass
class _Bucket:
    rate: float
    burst: int
    tokens: float
    stamp: float
    calls: int = 0
    throttled: int = 0


class Quotas:
    """The buckets of one seller and app; thread-safe."""

    def __init__(
        self,
        limits: Mapping[str, tuple[float, int]] | None = None,
        *,
        rate_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        merged = {**DOCUMENTED, **(limits or {})}
        self._buckets = {
            op: _Bucket(rate * rate_scale, int(burst), float(burst), now)
            for op, (rate, burst) in merged.items()
        }

    def admit(self, operation: str) -> bool:
        """Take a token for one call; False (throttled) when the bucket is empty."""
        with self._lock:
            bucket = self._buckets[operation]
            now = self._clock()
            bucket.tokens = min(
                float(bucket.burst), bucket.tokens + (now - bucket.stamp) * bucket.rate
            )
            bucket.stamp = now
            bucket.calls += 1
            if bucket.tokens < 1.0:
                bucket.throttled += 1
                return False
            bucket.tokens -= 1.0
            return True

    def rate(self, operation: str) -> float:
        with self._lock:
            return self._buckets[operation].rate

    def set(self, operation: str, *, rate: float | None = None, burst: int | None = None) -> None:
        """Change an operation's plan; the bucket starts full at its new burst."""
        with self._lock:
            bucket = self._buckets[operation]  # KeyError names an unknown operation
            if rate is not None:
                if rate <= 0:
                    raise ValueError("a rate must be above 0")
                bucket.rate = float(rate)
            if burst is not None:
                if burst < 1:
                    raise ValueError("a burst must be at least 1")
                bucket.burst = int(burst)
            bucket.tokens = float(bucket.burst)
            bucket.stamp = self._clock()

    def snapshot(self) -> dict[str, dict[str, float]]:
        """Each operation's plan and what it counted: calls and throttled calls."""
        with self._lock:
            return {
                op: {"rate": b.rate, "burst": b.burst, "calls": b.calls, "throttled": b.throttled}
                for op, b in self._buckets.items()
            }
