"""Stock pushes due at one tick go out in one run (one call to each shop that takes many
figures at once), also when, at the moment the lane claims them, a transaction changing
one of their SKUs holds that SKU's pending push."""

from __future__ import annotations

import threading
import time

import pytest

from orderhub.jobs.worker import Worker
from orderhub.services.handlers import GROUPED
from orderhub.services.hub import Hub
from orderhub.services.pipeline import JOB_STOCK_PUSH, schedule_stock_push
from orderhub.store.outbox import Job

WINDOW = 0.05
SKUS = ["G-A", "G-B", "G-C"]


def test_a_push_held_by_a_sale_being_written_at_the_tick_goes_out_with_the_others(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[list[str]] = []

    def record(hub: Hub, jobs: list[Job]) -> dict[int, BaseException]:
        runs.append(sorted(str(job.payload["sku"]) for job in jobs))
        return {}

    monkeypatch.setitem(GROUPED, JOB_STOCK_PUSH, record)
    with hub.uow() as uow:
        schedule_stock_push(uow, SKUS, window=WINDOW)
        uow.commit()
    time.sleep(3 * WINDOW)  # every push is due now
    holding, release = threading.Event(), threading.Event()

    def sale_of_b() -> None:
        with hub.uow() as uow:
            schedule_stock_push(uow, ["G-B"], window=WINDOW)  # touches B's pending push
            holding.set()
            release.wait(5)
            uow.commit()

    writer = threading.Thread(target=sale_of_b)
    writer.start()
    assert holding.wait(5)
    worker = Worker(hub, kinds=[JOB_STOCK_PUSH])
    worker.start()
    try:
        time.sleep(0.03)  # the lane has claimed by now, passing over B's push
        release.set()
        writer.join(5)
        deadline = time.monotonic() + 5
        while sum(len(run) for run in runs) < len(SKUS) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
    assert runs == [SKUS]
