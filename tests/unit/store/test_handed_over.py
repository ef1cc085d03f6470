"""Values handed from one thread to another: each taken once, a bounded number kept for
a bounded time, and when full a new value is not kept (the oldest, next to be taken, are)."""

from __future__ import annotations

import time

from orderhub.store.cache import HandedOver


def test_a_value_is_taken_once() -> None:
    handed: HandedOver[str, dict[str, int]] = HandedOver(most=4, ttl=60.0)
    handed.put("a", {"n": 1})
    assert handed.take("a") == {"n": 1}
    assert handed.take("a") is None
    assert handed.take("never") is None


def test_when_full_the_oldest_are_kept_and_the_new_one_is_not() -> None:
    handed: HandedOver[int, int] = HandedOver(most=3, ttl=60.0)
    for key in range(5):
        handed.put(key, key * 10)
    assert len(handed) == 3
    assert [handed.take(key) for key in range(5)] == [0, 10, 20, None, None]
    handed.put(7, 70)  # room again
    assert handed.take(7) == 70


def test_a_value_nobody_took_is_dropped_after_its_time() -> None:
    handed: HandedOver[str, int] = HandedOver(most=2, ttl=0.05)
    handed.put("a", 1)
    handed.put("b", 2)
    time.sleep(0.06)
    assert handed.take("a") is None  # too old to trust
    handed.put("c", 3)  # the stale one makes room
    assert len(handed) == 1 and handed.take("c") == 3
