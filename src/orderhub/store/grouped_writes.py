"""Small writes that queue for SQLite's one write transaction, written in one.

SQLite lets one transaction write at a time. In a burst every stored webhook waits behind
the batch of orders being taken in, and then pays on its own for the lock's hand-off, a
BEGIN, a COMMIT (a write to the log) and a wake-up of the worker. Here the first of them
to wait writes, in one transaction, every write that queued behind it while it waited,
and hands each its own result. A group that fails is written again one write to a
transaction, so that a write that fails fails alone.

On PostgreSQL writers do not queue for each other: each write is its own statement,
without a transaction of its own, side by side with the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from orderhub.store.db import Database
from orderhub.store.uow import UnitOfWork

__all__ = ["GroupedWrites"]

Result = TypeVar("Result")
Write = Callable[[UnitOfWork], Any]

MOST_IN_A_GROUP = 64
"""Writes in one transaction at most; the rest wait for the next."""


class _Waiting:
    """One write and what became of it; `ready` is held until then."""

    __slots__ = ("error", "leads", "ready", "result", "write", "written")

    def __init__(self, write: Write) -> None:
        self.write = write
        self.ready = threading.Lock()
        self.ready.acquire()
        self.leads = False
        self.written = False
        self.result: Any = None
        self.error: BaseException | None = None

    def done(self, result: Any = None, error: BaseException | None = None) -> None:
        self.written, self.result, self.error = True, result, error

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        if not self.written:
            raise RuntimeError("the write was cut short before it was committed")
        return self.result


class GroupedWrites:
    """`writes.run(lambda uow: ...)` from many threads: on SQLite, the writes that wait
    together are committed together. A write must not commit; its result is handed
    back once its transaction has committed."""

    def __init__(self, db: Database, *, most: int = MOST_IN_A_GROUP) -> None:
        self.db = db
        self.most = most
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._leading = False

    def run(self, write: Callable[[UnitOfWork], Result]) -> Result:
        if self.db.write_lock is None:
            return self._alone(write, autocommit=True)
        waiting = _Waiting(write)
        with self._lock:
            self._queue.append(waiting)
            waiting.leads = not self._leading
            self._leading = True
        if not waiting.leads:
            waiting.ready.acquire()  # released when written, or when it is to lead
        if waiting.leads:
            self._lead()
        return cast(Result, waiting.outcome())

    def waiting(self) -> int:
        """Writes queued and not yet taken into a transaction."""
        with self._lock:
            return len(self._queue)

    def _lead(self) -> None:
        """Write the queue's head (the leader's own write first) in one transaction, then
        hand the lead to the first write still queued."""
        group: list[_Waiting] = []
        try:
            self._write(group)
        finally:
            with self._lock:
                following = self._queue[0] if self._queue else None
                if following is not None:
                    following.leads = True
                else:
                    self._leading = False
            for done in group:
                if not done.leads:
                    done.ready.release()
            if following is not None:
                following.ready.release()

    def _write(self, group: list[_Waiting]) -> None:
        try:
            with UnitOfWork(self.db) as uow:
                # Taken once the lock is held: what queued while it was awaited goes too.
                group.extend(self._take())
                results = [waiting.write(uow) for waiting in group]
                uow.commit()
        except Exception as exc:
            if not group:  # no lock or no connection: the rest would not get one either
                group.extend(self._take())
            elif len(group) > 1:
                for waiting in group:
                    self._write_alone(waiting)
                return
            for waiting in group:
                waiting.done(error=exc)
            return
        for waiting, result in zip(group, results, strict=True):
            waiting.done(result)

    def _take(self) -> list[_Waiting]:
        with self._lock:
            group, self._queue = self._queue[: self.most], self._queue[self.most :]
        return group

    def _write_alone(self, waiting: _Waiting) -> None:
        try:
            result = self._alone(waiting.write)
        except Exception as exc:
            waiting.done(error=exc)
        else:
            waiting.done(result)

    def _alone(self, write: Callable[[UnitOfWork], Result], *, autocommit: bool = False) -> Result:
        """One write in a transaction of its own (`autocommit`: one statement, on
        PostgreSQL without a transaction)."""
        with UnitOfWork(self.db, autocommit=autocommit) as uow:
            result = write(uow)
            uow.commit()
        return result
