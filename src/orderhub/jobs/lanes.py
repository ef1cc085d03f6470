"""A worker lane: one thread, the kinds of job it runs, and when it next has work.

A lane that knows it wakes by itself at a certain time is not woken for a job that falls
due later: a stock push coalesced over a second wakes its lane once, not once per sale.
A lane woken for a job already due goes straight to claiming it.
"""

from __future__ import annotations

import math
import threading
import time

from orderhub.store.db import Queued

__all__ = ["Lane"]


class Lane:
    """One thread's kinds of job, how many it claims at once, and its wake-up call."""

    def __init__(self, name: str, kinds: list[str], limit: int) -> None:
        self.name = name
        self.kinds = kinds
        self.limit = limit
        self._named = frozenset(kinds)
        self._event = threading.Event()
        # When the sleeping lane wakes by itself; never while it is awake, so that a job
        # queued while it looks is never missed.
        self._wakes_at = math.inf
        self._due_now = False

    def wake(self, queued: Queued) -> None:
        """Jobs were queued (see `Queued`): wake the lane unless it runs none of them or
        wakes by the time the first of its own falls due anyway."""
        if queued is None:
            self._event.set()
            return
        dues = [queued[kind] for kind in self._named if kind in queued]
        if not dues:
            return
        if None not in dues:
            due = min(due for due in dues if due is not None)
            if due >= self._wakes_at:
                return
            if due <= time.time():
                self._due_now = True
        self._event.set()

    def begin(self) -> bool:
        """The lane is awake and looking; True when it was woken for a job already due."""
        self._wakes_at = math.inf
        self._event.clear()
        due_now, self._due_now = self._due_now, False
        return due_now

    def sleep(self, until: float) -> None:
        """Sleep until then, or until woken (at once if woken since `begin`)."""
        self._wakes_at = until
        self._event.wait(max(0.0, until - time.time()))
