"""The batch lane claims its jobs in the transaction that runs them: a batch costs one
transaction, a batch that fails counts no attempt against its jobs, and a batch cut off
leaves its orders to be taken at once, not after a lease runs out."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from orderhub.jobs.worker import Worker
from orderhub.services import handlers
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, receive_payload
from orderhub.services.setup import apply_config
from orderhub.store.outbox import Job, JobRow
from orderhub.store.uow import UnitOfWork
from support import make_hub, one_warehouse_catalogue

SHOP, NODE = "S1", "WH1"


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    hub = make_hub(database_url)
    apply_config(hub, one_warehouse_catalogue(SHOP, NODE, {"SKU-A": 100}))
    yield hub
    hub.close()


def place(hub: Hub, template: dict[str, Any], count: int) -> None:
    for number in range(count):
        order = copy.deepcopy(template)
        order["id"], order["name"] = 950_000_000 + number, f"#C{number}"
        order["line_items"][0]["id"] = 850_000_000 + number
        receive_payload(hub, SHOP, order, source="import")


def inbox_jobs(hub: Hub) -> list[JobRow]:
    with hub.reader() as uow:
        return uow.outbox.search(kind=JOB_INBOX)


def reserved(hub: Hub) -> int:
    with hub.reader() as uow:
        return uow.orders.count_by_status().get("reserved", 0)


def test_a_batch_is_claimed_and_run_in_one_transaction(hub: Hub, template: dict[str, Any]) -> None:
    place(hub, template, 5)
    commits: list[int] = []

    def count(conn: Any) -> None:
        commits.append(1)

    event.listen(hub.db.engine, "commit", count)
    try:
        taken = Worker(hub).claim_and_run_batch([JOB_INBOX], 50)
    finally:
        event.remove(hub.db.engine, "commit", count)
    assert taken == 5 and reserved(hub) == 5
    assert len(commits) == 1
    assert [(job.status, job.attempts) for job in inbox_jobs(hub)] == [("done", 1)] * 5
    assert Worker(hub).claim_and_run_batch([JOB_INBOX], 50) == 0  # nothing left to take


def test_a_batch_that_fails_counts_no_attempt_and_its_jobs_run_one_by_one(
    hub: Hub, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    place(hub, template, 4)
    in_batch = handlers.BATCHED[JOB_INBOX]
    seen: list[int] = []

    def fails_on_the_third(hub: Hub, uow: UnitOfWork, job: Job) -> None:
        seen.append(job.id)
        if len(seen) == 3:
            raise RuntimeError("a fault in the middle of a batch")
        in_batch(hub, uow, job)

    monkeypatch.setitem(handlers.BATCHED, JOB_INBOX, fails_on_the_third)
    assert Worker(hub).claim_and_run_batch([JOB_INBOX], 50) == 4
    assert reserved(hub) == 4  # each order taken in alone, once
    # One attempt each: the batch's claim was rolled back with the batch.
    assert [(job.status, job.attempts) for job in inbox_jobs(hub)] == [("done", 1)] * 4


def test_a_batch_cut_off_leaves_its_orders_to_be_taken_at_once(
    hub: Hub, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    place(hub, template, 3)
    in_batch = handlers.BATCHED[JOB_INBOX]

    def cut_off(hub: Hub, uow: UnitOfWork, job: Job) -> None:
        raise KeyboardInterrupt  # as the process is stopped in the middle of a batch

    monkeypatch.setitem(handlers.BATCHED, JOB_INBOX, cut_off)
    with pytest.raises(KeyboardInterrupt):
        Worker(hub, name="stopped").claim_and_run_batch([JOB_INBOX], 50)
    assert [(job.status, job.attempts) for job in inbox_jobs(hub)] == [("pending", 0)] * 3
    monkeypatch.setitem(handlers.BATCHED, JOB_INBOX, in_batch)
    # Another worker takes them now: no lease of the stopped one stands in the way.
    assert Worker(hub, name="next").claim_and_run_batch([JOB_INBOX], 50) == 3
    assert reserved(hub) == 3
