"""The connections a burst opened are kept for the next burst: opening one costs
PostgreSQL a server process. On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import event, text

from orderhub.services.hub import Hub


def burst(hub: Hub, threads: int) -> None:
    """`threads` units of work at once, each holding its connection until all have one
    (or the pool has none left to give)."""
    together = threading.Barrier(threads, timeout=0.5)

    def work() -> None:
        with hub.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            # With the pool spent, the rest wait for a connection given back.
            with contextlib.suppress(threading.BrokenBarrierError):
                together.wait()

    running = [threading.Thread(target=work) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()


def test_a_second_burst_opens_no_connection(hub: Hub) -> None:
    opened: list[Any] = []
    event.listen(hub.db.engine, "connect", lambda conn, record: opened.append(conn))
    burst(hub, 20)
    first = len(opened)
    burst(hub, 20)
    burst(hub, 24)
    assert first == 20
    assert len(opened) == first
