"""A lane that claims many jobs at once takes a job at once when it is idle, and after
a claim that was not full it lets the next one gather: a stream of orders is taken in
few batches."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import pytest

from orderhub.jobs.worker import Worker
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, receive_payload
from orderhub.services.setup import apply_config
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork
from support import make_hub, one_warehouse_catalogue

SHOP, NODE = "S1", "WH1"
GATHER = 1.0


@pytest.fixture
def gathering_hub(database_url: str) -> Iterator[Hub]:
    hub = make_hub(database_url, worker_gather=GATHER)
    apply_config(hub, one_warehouse_catalogue(SHOP, NODE, {"SKU-A": 100}))
    yield hub
    hub.close()


def place(hub: Hub, template: dict[str, Any], number: int) -> None:
    order = copy.deepcopy(template)
    order["id"], order["name"] = 930_000_000 + number, f"#G{number}"
    order["line_items"][0]["id"] = 830_000_000 + number
    receive_payload(hub, SHOP, order, source="import")


def reserved(hub: Hub) -> int:
    with hub.reader() as uow:
        return uow.orders.count_by_status().get("reserved", 0)


def wait_for(hub: Hub, count: int, timeout: float) -> float:
    """Seconds until `count` orders are reserved."""
    started = time.monotonic()
    while reserved(hub) < count:
        assert time.monotonic() - started < timeout, f"{reserved(hub)} of {count} reserved"
        time.sleep(0.01)
    return time.monotonic() - started


def test_an_idle_lane_takes_an_order_at_once_and_a_stream_in_few_batches(
    gathering_hub: Hub, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = gathering_hub
    # One order first, run to the end: what a first batch loads once (modules, caches)
    # is not taken for the lane keeping an order back.
    place(hub, template, 100)
    Worker(hub, kinds=[JOB_INBOX]).run_until_idle()
    batches: list[int] = []
    batch_within = Worker._batch_within

    def counted(worker: Worker, uow: UnitOfWork, jobs: list[Job], started: float) -> None:
        batches.append(len(jobs))
        batch_within(worker, uow, jobs, started)

    monkeypatch.setattr(Worker, "_batch_within", counted)
    worker = Worker(hub, kinds=[JOB_INBOX])
    worker.start()
    try:
        place(hub, template, 0)
        assert wait_for(hub, 2, timeout=GATHER * 5) < GATHER  # not kept for the gathering
        for number in range(1, 6):  # while the lane lets the next batch gather
            place(hub, template, number)
        wait_for(hub, 7, timeout=GATHER * 10)
    finally:
        worker.stop()
    assert batches == [1, 5]
