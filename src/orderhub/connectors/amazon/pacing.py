"""Spending SP-API quota well: a mirror of Amazon's token bucket for each operation.

Amazon throttles each operation on its own bucket (getOrderItems refills one call every
two seconds, getOrders one a minute), so a client that loops as fast as it can spends
the burst and then collects 429s, and peers' users see QuotaExceeded all day
(peers-and-apis.md §3, item 6). Here every call first takes a token from the same
bucket kept on our side: it waits when the wait is short, and otherwise raises
`RateLimited` with the wait, before the call, so the worker comes back then. The rate
Amazon reports in `x-amzn-RateLimit-Limit` replaces the documented one; a 429 empties
the bucket. One caller may also bound its total wait (`Patience`), so a pull that needs
a hundred item calls gives its thread back and resumes later instead of sleeping for
minutes.

A token counts as spent when its call comes back, not when it leaves: Amazon takes it
somewhere in between, and a bucket that is full meanwhile gains nothing, so ours is never
fuller than Amazon's.

    pacer = Pacer({"getOrderItems": (0.5, 30)}, max_wait=2.0)
    with pacer.slot("getOrderItems"):   # the first 30 at once, then one every 2 s
        ...                             # the call
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from ..base import RateLimited

__all__ = ["Pacer", "Patience"]


class Patience:
    """How many seconds one caller will wait for quota, over all its calls."""

    def __init__(self, seconds: float) -> None:
        self.left = max(seconds, 0.0)

    def spend(self, seconds: float) -> None:
        self.left = max(self.left - seconds, 0.0)


@dataclass
class _Bucket:
    rate: float
    burst: int
    tokens: float
    stamp: float
    taken: int = 0  # calls allowed out whose token is not yet counted spent


class Pacer:
    """Thread-safe buckets by operation; a token not yet there is reserved and waited for,
    `margin` seconds longer, for the time the call takes to reach Amazon."""

    def __init__(
        self,
        plans: Mapping[str, tuple[float, int]],
        *,
        max_wait: float,
        margin: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_wait = max_wait
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        now = clock()
        self._buckets = {
            op: _Bucket(rate, burst, float(burst), now) for op, (rate, burst) in plans.items()
        }

    def _refilled(self, operation: str) -> _Bucket:
        bucket = self._buckets[operation]
        now = self._clock()
        bucket.tokens = min(float(bucket.burst), bucket.tokens + (now - bucket.stamp) * bucket.rate)
        bucket.stamp = now
        return bucket

    @contextmanager
    def slot(self, operation: str, patience: Patience | None = None) -> Iterator[float]:
        """Make one call inside: its token is reserved (waited for when that is short),
        and counted spent when the call is over; yields the seconds waited.

        Raises RateLimited (no call made) when the token is further off than this call
        or its caller will wait."""
        waited = self._reserve(operation, patience)
        try:
            yield waited
        finally:
            with self._lock:
                bucket = self._refilled(operation)
                bucket.tokens -= 1.0
                bucket.taken -= 1

    def _reserve(self, operation: str, patience: Patience | None) -> float:
        with self._lock:
            bucket = self._refilled(operation)
            short = bucket.taken + 1.0 - bucket.tokens
            wait = short / bucket.rate + self.margin if short > 0 else 0.0
            limit = min(self.max_wait, patience.left if patience is not None else math.inf)
            if wait > limit:
                raise RateLimited(
                    f"Amazon {operation} quota is spent for now; the next call is due in "
                    f"{wait:.1f}s",
                    retry_after=wait,
                    status_code=None,
                )
            bucket.taken += 1
        if patience is not None:
            patience.spend(wait)
        if wait > 0:
            self._sleep(wait)
        return wait

    def observe(self, operation: str, header: str | None) -> None:
        """Take the rate Amazon says it applied (`x-amzn-RateLimit-Limit`)."""
        try:
            rate = float(header or "")
        except ValueError:
            return
        if rate > 0 and math.isfinite(rate):
            with self._lock:
                self._refilled(operation).rate = rate

    def throttled(self, operation: str) -> float:
        """Amazon answered 429 to a call in its slot: the bucket is empty, and the refused
        call spent nothing; seconds until the next token."""
        with self._lock:
            bucket = self._refilled(operation)
            empty = min(bucket.tokens, 0.0)
            bucket.tokens = empty + 1.0  # the refused call's own slot takes this back
            return (bucket.taken - empty) / bucket.rate

    def rate(self, operation: str) -> float:
        with self._lock:
            return self._buckets[operation].rate
