"""A webhook or a node's callback is stored with the job that takes it in, and a repeat of
it is not; on PostgreSQL both, and the word to every worker process, go in one statement
that opens no transaction of its own. On SQLite, webhooks that wait together for the one
write transaction are stored in one, each once and each answered with its own payload; a
write that fails there fails alone, and one that cannot get the database does not leave
the others waiting."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from orderhub.services.callback_inbox import keep_callback
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, Received, receive_webhook
from orderhub.services.setup import apply_config
from orderhub.store import db as store_db
from orderhub.store import tables as t
from orderhub.store import uow as store_uow
from orderhub.store.db import Queued
from orderhub.store.grouped_writes import GroupedWrites
from orderhub.store.uow import UnitOfWork
from support import one_warehouse_catalogue, signed_order


def stored(hub: Hub) -> tuple[int, list[str]]:
    """Payloads stored, and the payload of every job that takes one in."""
    jobs = t.outbox_jobs.c
    with hub.db.engine.connect() as conn:
        payloads = conn.execute(select(func.count()).select_from(t.inbox)).scalar_one()
        taking = conn.execute(select(jobs.payload).where(jobs.kind == JOB_INBOX)).scalars()
        return payloads, list(taking)


def test_a_webhook_is_stored_with_its_job_once_however_often_it_comes(
    hub: Hub, template: dict[str, Any]
) -> None:
    apply_config(hub, one_warehouse_catalogue("S1", "WH1", {"SKU-A": 5}))
    headers, body = signed_order(template, "delivery-1")
    asked: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        asked.append(" ".join(statement.split()))

    woken: list[Queued] = []
    hub.db.on_new_jobs(woken.append)
    event.listen(hub.db.engine, "before_cursor_execute", note)
    try:
        first = receive_webhook(hub, "S1", headers, body)
    finally:
        event.remove(hub.db.engine, "before_cursor_execute", note)
    again = receive_webhook(hub, "S1", headers, body)

    assert first.new and not again.new and again.inbox_id == first.inbox_id
    assert stored(hub) == (1, [json.dumps({"inbox_id": first.inbox_id})])
    # This process's lanes, once, for a job due at once.
    assert len(woken) == 1 and woken[0] is not None and set(woken[0]) == {JOB_INBOX}
    assert (woken[0][JOB_INBOX] or math.inf) <= time.time()
    writes = [s for s in asked if not s.startswith("SELECT")]  # reads: the shop's settings
    if hub.db.is_postgres:
        assert len(writes) == 1 and writes[0].startswith("WITH stored AS")
    else:
        assert [s.split()[2] for s in writes] == ["inbox", "outbox_jobs"]


def test_on_postgresql_other_processes_hear_of_the_new_job(
    hub: Hub, template: dict[str, Any]
) -> None:
    if not hub.db.is_postgres:
        return  # SQLite's workers share the process that stored the payload
    apply_config(hub, one_warehouse_catalogue("S1", "WH1", {"SKU-A": 5}))
    url = make_url(str(hub.db.engine.url.render_as_string(hide_password=False)))
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    heard: list[str] = []
    listening = threading.Event()

    def listen() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("LISTEN orderhub_jobs")
            listening.set()
            for note in conn.notifies(timeout=10, stop_after=1):
                heard.append(note.payload)

    listener = threading.Thread(target=listen)
    listener.start()
    assert listening.wait(10)
    receive_webhook(hub, "S1", *signed_order(template, "delivery-2"))
    listener.join(15)
    assert len(heard) == 1
    queued = store_db.heard(heard[0])
    assert queued is not None and set(queued) == {JOB_INBOX}
    assert (queued[JOB_INBOX] or math.inf) <= time.time()  # due at once


def test_a_node_callback_is_kept_with_its_job_once_however_often_it_comes(hub: Hub) -> None:
    body = b"<request><deliveryOrderCode>D1</deliveryOrderCode></request>"
    asked: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        asked.append(" ".join(statement.split()))

    def keep() -> str:
        return keep_callback(
            hub,
            source="callback",
            code="WH1",
            topic="deliveryorder.confirm",
            body=body,
            headers={},
            read=lambda: None,
            job_kind="node.event",
        )

    event.listen(hub.db.engine, "before_cursor_execute", note)
    try:
        assert keep() == ""
    finally:
        event.remove(hub.db.engine, "before_cursor_execute", note)
    assert keep() == ""
    jobs = t.outbox_jobs.c
    with hub.db.engine.connect() as conn:
        kept = conn.execute(select(t.inbox.c.id, t.inbox.c.status)).all()
        queued = conn.execute(select(jobs.payload).where(jobs.kind == "node.event")).scalars()
        assert [json.loads(p) for p in queued] == [{"inbox_id": kept[0].id}]
    assert [status for _, status in kept] == ["pending"]
    if hub.db.is_postgres:
        assert len(asked) == 1 and asked[0].startswith("WITH stored AS")


WEBHOOKS = 24


def in_threads(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Each call in a thread of its own; what each returned or raised, in order."""
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            outcomes[i] = calls[i]()
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    return _joined(threads, outcomes)


def _joined(threads: list[threading.Thread], outcomes: list[Any]) -> list[Any]:
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive(), "a write was left waiting"
    return outcomes


def started(calls: Sequence[Callable[[], Any]], writes: GroupedWrites) -> Callable[[], list[Any]]:
    """Start the calls while the caller holds SQLite's write lock, once all of them wait;
    returns what waits for their outcomes."""
    outcomes: list[Any] = []
    runner = threading.Thread(target=lambda: outcomes.extend(in_threads(calls)))
    runner.start()
    deadline = time.monotonic() + 10
    while writes.waiting() < len(calls) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert writes.waiting() == len(calls)

    def finished() -> list[Any]:
        runner.join(30)
        assert not runner.is_alive(), "a write was left waiting"
        return outcomes

    return finished


def commits_counted(hub: Hub) -> list[int]:
    counted = [0]

    def count(*_: Any) -> None:
        counted[0] += 1

    event.listen(hub.db.engine, "commit", count)
    return counted


def test_webhooks_that_wait_for_the_database_together_are_stored_in_one_transaction(
    hub: Hub, template: dict[str, Any]
) -> None:
    apply_config(hub, one_warehouse_catalogue("S1", "WH1", {"SKU-A": 5}))
    deliveries = [f"delivery-{i}" for i in range(WEBHOOKS)] + ["delivery-0", "delivery-1"]
    calls = [partial(receive_webhook, hub, "S1", *signed_order(template, d)) for d in deliveries]
    commits = commits_counted(hub)
    lock = hub.db.write_lock
    if lock is None:  # PostgreSQL: each webhook is one statement, side by side
        answers = in_threads(calls)
    else:
        with lock:  # the worker's batch holds the database
            finished = started(calls, hub.grouped_writes)
        answers = finished()

    assert all(isinstance(answer, Received) for answer in answers), answers
    firsts = {d: a for d, a in zip(deliveries, answers, strict=True) if a.new}
    assert sorted(firsts) == sorted(set(deliveries))
    assert len({a.inbox_id for a in firsts.values()}) == WEBHOOKS
    # Each repeat is answered with the copy stored first, whichever of the two that was.
    for delivery in deliveries[WEBHOOKS:]:
        copies = [a for d, a in zip(deliveries, answers, strict=True) if d == delivery]
        assert [a.new for a in copies].count(True) == 1
        assert {a.inbox_id for a in copies} == {firsts[delivery].inbox_id}
    count, taking = stored(hub)
    assert count == WEBHOOKS
    assert sorted(taking) == sorted(json.dumps({"inbox_id": a.inbox_id}) for a in firsts.values())
    if lock is not None:
        assert commits[0] == 1


def _inbox_rows(hub: Hub) -> list[str]:
    with hub.db.engine.connect() as conn:
        return sorted(conn.execute(select(t.inbox.c.dedup_key)).scalars())


def _add(key: str, *, then_fail: bool = False) -> Callable[[UnitOfWork], str]:
    def write(uow: UnitOfWork) -> str:
        item_id, _ = uow.inbox.add(
            shop="S1", source="webhook", topic="orders/create", dedup_key=key, body=b"{}"
        )
        if then_fail:
            raise ValueError(f"{key} cannot be kept")
        return item_id

    return write


def test_a_write_that_fails_among_others_fails_alone(hub: Hub) -> None:
    if hub.db.write_lock is None:
        return  # PostgreSQL writes each alone anyway
    writes = GroupedWrites(hub.db, most=3)
    keys = [f"k{i}" for i in range(7)]
    calls = [partial(writes.run, _add(k, then_fail=k == "k1")) for k in keys]
    with hub.db.write_lock:
        finished = started(calls, writes)
    outcomes = finished()

    assert isinstance(outcomes[1], ValueError) and "k1 cannot be kept" in str(outcomes[1])
    kept = [k for k, o in zip(keys, outcomes, strict=True) if isinstance(o, str)]
    assert kept == [k for k in keys if k != "k1"]
    assert _inbox_rows(hub) == kept
    assert writes.waiting() == 0


def test_writes_that_cannot_get_the_database_fail_and_the_next_one_is_written(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    if hub.db.write_lock is None:
        return  # PostgreSQL has no write lock to wait for
    monkeypatch.setattr(store_uow, "WRITE_WAIT", 0.3)
    writes = GroupedWrites(hub.db)
    calls = [partial(writes.run, _add(k)) for k in ("a", "b", "c")]
    with hub.db.write_lock:
        finished = started(calls, writes)
        outcomes = finished()  # waited out while the lock is still held

    assert all(isinstance(o, OperationalError) for o in outcomes), outcomes
    assert writes.run(_add("d")).startswith("i")
    assert _inbox_rows(hub) == ["d"]


def test_every_payload_of_a_burst_is_stored_once_with_its_job(
    hub: Hub, template: dict[str, Any]
) -> None:
    apply_config(hub, one_warehouse_catalogue("S1", "WH1", {"SKU-A": 5}))
    calls = [
        partial(receive_webhook, hub, "S1", *signed_order(template, f"burst-{i % 60}"))
        for i in range(120)
    ]
    answers = in_threads(calls)

    assert all(isinstance(a, Received) for a in answers), answers
    assert sum(a.new for a in answers) == 60
    for i in range(60):
        assert answers[i].inbox_id == answers[i + 60].inbox_id
    count, taking = stored(hub)
    assert count == 60 and len(taking) == 60
    jobs = t.outbox_jobs.c
    with hub.db.engine.connect() as conn:
        queued = conn.execute(
            select(func.count()).select_from(t.outbox_jobs).where(jobs.kind == JOB_INBOX)
        ).scalar_one()
    assert queued == 60
