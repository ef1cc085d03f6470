"""A small time-bounded cache for configuration rows read on every order, and values
one thread hands to another.

Values are kept `ttl` seconds; configuration is kept under its version (see
`config_version`), so no cached value outlives a change.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["HandedOver", "TtlCache"]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


class TtlCache:
    """Values by key for `ttl` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._next_prune = time.monotonic() + ttl

    def get(self, key: Any, load: Callable[[], T], *, ttl: float | None = None) -> T:
        """The value kept for `key`, or `load()`'s, kept for `ttl` seconds (the cache's
        own unless given; a shorter one)."""
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        value = load()
        with self._lock:
            self._values[key] = (now + min(self.ttl if ttl is None else ttl, self.ttl), value)
            self._prune(now)
        return value

    def get_many(
        self, kind: str, keys: Iterable[K], load: Callable[[list[K]], Mapping[K, V]]
    ) -> dict[K, V | None]:
        """Values for many keys; those not cached are loaded in one call, and a key the
        loader does not return is remembered as None (known to be absent)."""
        now = time.monotonic()
        found: dict[K, V | None] = {}
        missing: list[K] = []
        with self._lock:
            for key in keys:
                hit = self._values.get((kind, key))
                if hit is not None and hit[0] > now:
                    found[key] = hit[1]
                else:
                    missing.append(key)
        if missing:
            loaded = load(missing)
            with self._lock:
                for key in missing:
                    value = loaded.get(key)
                    self._values[(kind, key)] = (now + self.ttl, value)
                    found[key] = value
                self._prune(now)
        return found

    def _prune(self, now: float) -> None:
        """Drop expired values now and then (under the lock), so keys no longer asked
        for do not pile up."""
        if now < self._next_prune:
            return
        self._next_prune = now + max(self.ttl, 1.0)
        for key in [key for key, (until, _) in self._values.items() if until <= now]:
            del self._values[key]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class HandedOver(Generic[K, V]):
    """Values one thread hands to another in this process, each taken at most once.

    At most `most` are kept, each for `ttl` seconds: a value handed over while `most`
    others wait is not kept (those first in line are), and one nobody took (its job ran
    in another process) is dropped. A taker that finds nothing does the work the long
    way."""

    def __init__(self, *, most: int, ttl: float) -> None:
        self.most = most
        self.ttl = ttl
        self._values: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: K, value: V) -> None:
        now = time.monotonic()
        with self._lock:
            while self._values and next(iter(self._values.values()))[0] <= now:
                self._values.popitem(last=False)
            if len(self._values) < self.most:
                self._values[key] = (now + self.ttl, value)

    def take(self, key: K) -> V | None:
        with self._lock:
            kept = self._values.pop(key, None)
        if kept is None or kept[0] <= time.monotonic():
            return None
        return kept[1]

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)
