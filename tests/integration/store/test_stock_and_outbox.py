"""Storage behaviour that must hold on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError

from orderhub.domain.tracking import ParcelStatus, TrackingEvent
from orderhub.jobs.worker import Worker
from orderhub.services.hub import Hub
from orderhub.services.keeping import schedule_retention
from orderhub.services.pipeline import schedule_stock_push
from orderhub.store import tables as t
from orderhub.store.db import Queued, is_transient
from orderhub.store.outbox import TICK_MARGIN
from orderhub.store.stock_held import StockMoved
from orderhub.store.uow import UnitOfWork
from support import make_order


def test_two_orders_racing_for_the_last_unit_get_one_reservation(hub: Hub) -> None:
    with hub.uow() as uow:
        uow.stock.adjust("WH1", "SKU-1", 1)
        uow.commit()
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def race(i: int) -> None:
        barrier.wait()
        with hub.uow() as uow:
            won = uow.stock.reserve("WH1", "SKU-1", 1, order_id=f"o{i}")
            uow.commit()
        wins.append(won)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]
    with hub.uow() as uow:
        level = uow.stock.level("WH1", "SKU-1")
        assert level is not None and (level.on_hand, level.reserved) == (1, 1)
        assert uow.stock.ledger_mismatches() == []


def test_a_multi_line_reservation_is_all_or_nothing(hub: Hub) -> None:
    with hub.uow() as uow:
        uow.stock.adjust("WH1", "A", 5)
        uow.stock.adjust("WH1", "B", 1)
        assert uow.stock.reserve_all("WH1", {"A": 2, "B": 2}, order_id="o1") == ["B"]
        uow.commit()
    with hub.uow() as uow:
        assert [(x.sku, x.reserved) for x in uow.stock.levels()] == [("A", 0), ("B", 0)]


def test_personal_data_is_encrypted_at_rest_and_read_back_clear(hub: Hub) -> None:
    order = make_order()
    with hub.uow() as uow:
        uow.orders.add(order)
        uow.commit()
    with hub.db.engine.connect() as conn:
        document, pii = conn.execute(select(t.orders.c.document, t.orders.c.pii)).one()
    assert "张三" not in document and "13812348000" not in document
    assert "张三" not in pii and pii.startswith("v1:test:")
    with hub.uow() as uow:
        again = uow.orders.get(order.id)
    assert (again.receiver.name, again.buyer.phone) == ("张三", "13812348000")


def test_a_job_is_claimed_by_one_worker_only(hub: Hub) -> None:
    with hub.uow() as uow:
        for i in range(20):
            uow.outbox.add("test.kind", {"i": i}, key=f"k{i}")
        uow.outbox.add("test.kind", {"i": 0}, key="k0")
        uow.commit()
    claimed: list[int] = []
    lock = threading.Lock()

    def claim(name: str) -> None:
        while True:
            with hub.uow() as uow:
                jobs = uow.outbox.claim(name, limit=3, lease=30)
                uow.commit()
            if not jobs:
                return
            with lock:
                claimed.extend(job.payload["i"] for job in jobs)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == list(range(20))


@pytest.mark.parametrize("outcome", ["done", "done_many", "retry", "dead"])
def test_a_job_queued_again_while_it_runs_stays_queued_whatever_that_run_ends_with(
    hub: Hub, outcome: str
) -> None:
    """A route reopening a dispatch queues its push again while an earlier run of it may
    still be running, having read the dispatch closed and sent nothing: that run's end must
    not close the push over the new request, or the order is never sent."""
    with hub.uow() as uow:
        uow.outbox.add("node.push", {"dispatch_id": "D1"}, key="push:D1")
        uow.commit()
    with hub.uow() as uow:
        (job,) = uow.outbox.claim("w1", limit=1, lease=30)
        uow.commit()
    with hub.uow() as uow:
        assert uow.outbox.revive("push:D1")
        uow.commit()
    with hub.uow() as uow:
        if outcome == "done":
            uow.outbox.done(job, 1.0)
        elif outcome == "done_many":
            uow.outbox.done_many([job], 1.0)
        elif outcome == "retry":
            uow.outbox.retry_later(job, delay=3600, error="timed out", duration_ms=1.0)
        else:
            assert not uow.outbox.dead(job, error="refused", duration_ms=1.0)
        uow.commit()
    with hub.uow() as uow:
        (again,) = uow.outbox.claim("w2", limit=1, lease=30)
        uow.commit()
    assert again.id == job.id and again.attempts == 1
    with hub.db.engine.connect() as conn:
        attempts = t.job_attempts.c
        recorded = conn.execute(select(attempts.outcome).where(attempts.job_id == job.id))
        assert list(recorded.scalars()) == [{"done_many": "done"}.get(outcome, outcome)]


def test_coalesced_jobs_keep_one_pending_copy(hub: Hub) -> None:
    with hub.uow() as uow:
        for _ in range(5):
            uow.outbox.add("stock.push", {"sku": "SKU-1"}, coalesce_key="stock:1")
        uow.commit()
    with hub.uow() as uow:
        assert uow.outbox.depth() == {("stock.push", "pending"): 1}


def test_reservations_held_to_commit_count_each_other_and_are_written_once(hub: Hub) -> None:
    with hub.uow() as uow:
        uow.stock.adjust("WH1", "SKU-1", 3)
        uow.commit()
    with hub.uow() as uow:
        uow.lock_shared_rows_at_commit()
        assert uow.stock.reserve("WH1", "SKU-1", 2, order_id="o1")
        assert not uow.stock.reserve("WH1", "SKU-1", 2, order_id="o2")  # one left
        assert uow.stock.reserve_all("WH1", {"SKU-1": 1}, order_id="o3") == []
        level = uow.stock.level("WH1", "SKU-1")
        assert level is not None and level.reserved == 3
        uow.commit()
    with hub.uow() as uow:
        level = uow.stock.level("WH1", "SKU-1")
        assert level is not None and (level.on_hand, level.reserved) == (3, 3)
        assert uow.stock.held_by("o1") == [("WH1", "SKU-1", 2)]
        assert uow.stock.ledger_mismatches() == []


def test_held_reservations_no_longer_there_at_commit_write_nothing(hub: Hub) -> None:
    with hub.uow() as uow:
        uow.stock.adjust("WH1", "SKU-1", 2)
        uow.commit()
    with pytest.raises(StockMoved), hub.uow() as uow:
        uow.lock_shared_rows_at_commit()
        assert uow.stock.reserve("WH1", "SKU-1", 1, order_id="o1")
        assert uow.stock.reserve("WH1", "SKU-1", 1, order_id="o2")
        # Meanwhile another sale takes a unit (its change reaches the row first).
        levels = t.stock_levels
        uow.stock.conn.execute(update(levels).values(reserved=levels.c.reserved + 1))
        uow.commit()
    with hub.uow() as uow:
        level = uow.stock.level("WH1", "SKU-1")
        assert level is not None and (level.on_hand, level.reserved) == (2, 0)
        assert uow.stock.held_by("o1") == []
        assert uow.stock.ledger_mismatches() == []


def test_a_batchs_levels_are_written_in_one_statement_and_none_if_one_no_longer_fits(
    hub: Hub,
) -> None:
    with hub.uow() as uow:
        for sku in ("SKU-1", "SKU-2", "SKU-3"):
            uow.stock.adjust("WH1", sku, 2)
        uow.commit()
    updates: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE STOCK_LEVELS"):
            updates.append(statement)

    def batch(taken_meanwhile: str | None) -> None:
        with hub.uow() as uow:
            uow.lock_shared_rows_at_commit()
            assert uow.stock.reserve_all("WH1", {"SKU-1": 1, "SKU-2": 2}, order_id="o1") == []
            uow.stock.adjust("WH1", "SKU-3", 5)  # not a reservation: written whatever comes
            if taken_meanwhile:
                levels = t.stock_levels
                uow.stock.conn.execute(
                    update(levels)
                    .where(levels.c.sku == taken_meanwhile)
                    .values(reserved=levels.c.reserved + 1)
                )
            event.listen(uow.stock.conn, "before_cursor_execute", count)
            try:
                uow.commit()
            finally:
                event.remove(uow.stock.conn, "before_cursor_execute", count)

    with pytest.raises(StockMoved):
        batch(taken_meanwhile="SKU-2")
    batch(taken_meanwhile=None)
    assert len(updates) == 2  # three levels, one statement, in each batch
    with hub.uow() as uow:
        assert [(x.sku, x.on_hand, x.reserved) for x in uow.stock.levels(nodes=["WH1"])] == [
            ("SKU-1", 2, 1),
            ("SKU-2", 2, 2),
            ("SKU-3", 7, 0),
        ]
        assert uow.stock.ledger_mismatches() == []


def test_a_batch_reads_each_level_once_and_sees_what_it_holds(hub: Hub) -> None:
    with hub.uow() as uow:
        uow.stock.adjust("WH1", "SKU-1", 3)
        uow.stock.adjust("WH2", "SKU-1", 1)
        uow.commit()
    reads: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "stock_levels" in statement:
            reads.append(statement)

    with hub.uow() as uow:
        uow.lock_shared_rows_at_commit()
        event.listen(uow.stock.conn, "before_cursor_execute", count)
        for n in range(3):
            at = uow.stock.levels(skus=["SKU-1"], nodes=["WH1", "WH2"])
            assert [(x.node, x.reserved) for x in at] == [("WH1", n), ("WH2", 0)]
            assert uow.stock.reserve_all("WH1", {"SKU-1": 1}, order_id=f"o{n}") == []
        assert len(reads) == 1  # read once; what the batch holds is added to it
        assert uow.stock.reserve_all("WH1", {"SKU-1": 1}, order_id="o4") == ["SKU-1"]
        # A SKU no node had yet is read again once sold ahead of stock (a row made).
        assert uow.stock.levels(skus=["SKU-9"], nodes=["WH1"]) == []
        assert (
            uow.stock.reserve_all("WH1", {"SKU-9": 2}, order_id="o5", backorder={"SKU-9": 5}) == []
        )
        [ahead] = uow.stock.levels(skus=["SKU-9"], nodes=["WH1"])
        assert (ahead.on_hand, ahead.reserved) == (0, 2)
        event.remove(uow.stock.conn, "before_cursor_execute", count)
        uow.commit()
    with hub.uow() as uow:
        level = uow.stock.level("WH1", "SKU-1")
        assert level is not None and (level.on_hand, level.reserved) == (3, 3)
        assert uow.stock.ledger_mismatches() == []


def test_payloads_read_ahead_for_a_batch_are_taken_once_and_never_stale(hub: Hub) -> None:
    with hub.uow() as uow:
        ids = [
            uow.inbox.add(shop="S1", source="webhook", topic="t", dedup_key=k, body=b"{}")[0]
            for k in ("a", "b")
        ]
        uow.commit()
    with hub.uow() as uow:
        uow.inbox.read_ahead([*ids, "i-missing"])
        first = uow.inbox.get(ids[0])
        assert (first.id, first.status, first.body) == (ids[0], "pending", b"{}")
        uow.inbox.mark(ids[0], "processed", order_id="o1")
        again = uow.inbox.get(ids[0])  # read again, not taken from what was read ahead
        assert (again.status, again.order_id) == ("processed", "o1")
        uow.inbox.mark(ids[1], "failed", error="bad")
        assert uow.inbox.get(ids[1]).status == "failed"


def test_a_batchs_payload_marks_are_written_together_and_undone_with_their_savepoint(
    hub: Hub,
) -> None:
    with hub.uow() as uow:
        ids = [
            uow.inbox.add(shop="S1", source="webhook", topic="t", dedup_key=k, body=b"{}")[0]
            for k in ("a", "b", "c")
        ]
        uow.commit()
    updates: list[object] = []

    def count(conn: object, cursor: object, statement: str, params: object, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE INBOX"):
            updates.append(params)

    with hub.uow() as uow:
        event.listen(uow.inbox.conn, "before_cursor_execute", count)
        uow.inbox.mark(ids[0], "processed", order_id="o1")
        uow.inbox.mark(ids[1], "processed", order_id="o2")
        with pytest.raises(RuntimeError), uow.savepoint():
            uow.inbox.mark(ids[2], "processed", order_id="o3")
            raise RuntimeError("this one is undone")
        assert uow.inbox.count_by_status() == {"processed": 2, "pending": 1}
        event.remove(uow.inbox.conn, "before_cursor_execute", count)
        uow.commit()
    assert len(updates) == 1  # both marks in one statement, before the inbox was read
    with hub.reader() as uow:
        assert [uow.inbox.get(i).status for i in ids] == ["processed", "processed", "pending"]


def test_an_order_written_twice_is_refused_as_any_statement_would_be(hub: Hub) -> None:
    # Orders added are written together, with their lines, and on PostgreSQL sent
    # together; the refusal still comes back as the error a worker retries (another
    # process took the order first), not as the driver's.
    with hub.uow() as uow:
        uow.orders.add(make_order(channel_order_id="7001"))
        uow.orders.add(make_order(channel_order_id="7001"))
        with pytest.raises(IntegrityError) as refused:
            uow.flush()
        assert is_transient(refused.value)
    with hub.reader() as uow:
        assert uow.orders.by_channel_ref("S1", "7001") is None  # nothing was committed


def test_a_coalesced_job_held_to_commit_gets_its_whole_delay_after_commit(hub: Hub) -> None:
    # A stock push queued early in a long batch still gathers changes for its window
    # once the batch's changes are visible.
    with hub.uow() as uow:
        uow.outbox.hold_coalesced()
        uow.outbox.add("stock.push", {"sku": "A"}, coalesce_key="stock:A", delay=2.0)
        time.sleep(0.5)  # the rest of the batch
        committed = time.time()
        uow.commit()
    with hub.db.engine.connect() as conn:
        run_at = conn.execute(select(t.outbox_jobs.c.run_at)).scalar_one()
    assert committed + 2.0 - 0.05 <= run_at <= time.time() + 2.0


def test_a_write_refused_at_commit_undoes_the_whole_transaction(hub: Hub) -> None:
    # On PostgreSQL the held writes and COMMIT go in one round trip: a refusal among them
    # is raised by commit, as SQLAlchemy's error, and nothing of the transaction stays.
    def dispatch(uow: UnitOfWork, order_id: str) -> None:
        lines = [(order_id, "1", "SKU-1", 1)]
        uow.dispatches.create(
            "d-7002", node="WH1", kind="wms", shop="S1", merge_key=None, lines=lines
        )

    with hub.uow() as uow:
        dispatch(uow, "o-earlier")
        uow.commit()
    order = make_order(channel_order_id="7002")
    with hub.uow() as uow:
        uow.orders.add(order)  # written at once
        uow.orders.trace(order.id, "receive", "ok", "from a test")
        uow.outbox.add("channel.confirm", {"order_id": order.id}, key=f"confirm:{order.id}")
        dispatch(uow, order.id)  # held to commit, where its id is refused: it is taken
        with pytest.raises(IntegrityError):
            uow.commit()
    with hub.reader() as uow:
        assert uow.orders.by_channel_ref("S1", "7002") is None
        assert uow.outbox.count() == 0


def test_a_transaction_with_held_writes_commits_them_all_and_wakes_the_workers(hub: Hub) -> None:
    woken: list[Queued] = []
    hub.db.on_new_jobs(woken.append)
    order = make_order(channel_order_id="7003")
    with hub.uow() as uow:
        uow.orders.add(order)
        uow.orders.trace(order.id, "receive", "ok", "from a test")
        uow.outbox.add("channel.confirm", {"order_id": order.id}, key=f"confirm:{order.id}")
        uow.commit()
    with hub.reader() as uow:
        stored = uow.orders.by_channel_ref("S1", "7003")
        assert stored is not None
        assert [e.message for e in uow.orders.trace_of(stored.id)] == ["from a test"]
        assert uow.outbox.count(status="pending") == 1
    assert len(woken) == 1 and woken[0] is not None and set(woken[0]) == {"channel.confirm"}


def test_the_workers_are_told_when_each_kind_of_job_falls_due(hub: Hub) -> None:
    """A sale queues its delivery order at once and its stock push a window later: the
    stock lanes are not woken to find nothing due."""
    woken: list[Queued] = []
    hub.db.on_new_jobs(woken.append)
    before = time.time()
    with hub.uow() as uow:
        uow.outbox.hold_coalesced()
        uow.outbox.add("node.push", {"dispatch_id": "D1"}, key="push:D1")
        uow.outbox.add("stock.push", {"sku": "SKU-A"}, coalesce_key="stock:A", delay=1.0)
        uow.outbox.add("stock.push", {"sku": "SKU-B"}, coalesce_key="stock:B", delay=2.0)
        uow.commit()
    after = time.time()
    assert len(woken) == 1 and woken[0] is not None
    due = woken[0]
    assert set(due) == {"node.push", "stock.push"}
    assert before <= (due["node.push"] or 0) <= after
    assert before + 1.0 <= (due["stock.push"] or 0) <= after + 1.0  # the first of the two
    with hub.uow() as uow:  # a transaction that queues nothing wakes nobody
        uow.outbox.count()
        uow.commit()
    assert len(woken) == 1


def test_an_order_sent_again_gets_the_next_free_dispatch_code(hub: Hub) -> None:
    """`ORDER-rN` counts the order's own earlier codes only, not another order's that
    begin alike."""
    with hub.uow() as uow:
        for code in ("O1", "O1-r1", "O1-r2", "O1-rx", "O12-r3", "O1-r4"):
            uow.dispatches.create(
                code, node="WH1", kind="warehouse", shop="S1", merge_key=None, lines=[]
            )
        uow.commit()
    with hub.reader() as uow:
        assert uow.dispatches.free_id("O1") == "O1-r3"
        assert uow.dispatches.free_id("O12") == "O12-r1"
        assert uow.dispatches.free_id("O2") == "O2-r1"


def test_a_shipment_whose_node_sent_nul_characters_is_kept_and_confirmed(hub: Hub) -> None:
    """PostgreSQL refuses NUL in text: a node's carrier or tracking number holding one is
    kept with the character escaped, and the shop's confirmation still finds it."""
    with hub.uow() as uow:
        assert uow.shipments.add(
            "O1",
            "SUP1",
            confirm_id="c\x001",
            carrier="SF\x00",
            tracking_no="SF1\x00",
            lines=[("SKU-A", 1)],
            shipped_at=None,
        )
        uow.shipments.mark_confirmed("O1", "SF1\x00", "F1")
        uow.commit()
    with hub.reader() as uow:
        assert uow.shipments.counts() == (1, 1)
    with hub.db.engine.connect() as conn:
        assert conn.execute(select(t.shipments.c.carrier)).scalar_one() == "SF\\x00"


def test_a_parcel_whose_carrier_sent_nul_characters_is_followed_and_its_scans_kept(
    hub: Hub,
) -> None:
    """A tracking number, carrier or scan holding NUL is kept escaped, the parcel is found
    again by the number as the node sent it, and its orders are found through it."""
    at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    with hub.uow() as uow:
        uow.shipments.add(
            "O1",
            "SUP1",
            confirm_id="c1",
            carrier="SF",
            tracking_no="SF1\x00",
            lines=[("SKU-A", 1)],
            shipped_at=None,
        )
        parcel = uow.parcels.add(
            "SF1\x00",
            carrier="SF\x00",
            tracker="kuaidi100",
            city="",
            country="CN",
            shipped_at=None,
        )
        assert parcel is not None
        kept = uow.parcels.add_events(
            parcel.id,
            [TrackingEvent(at, ParcelStatus.IN_TRANSIT, "left\x00 hub", "Shen\x00zhen", "0\x00")],
        )
        uow.parcels.moved(
            parcel.id,
            status=ParcelStatus.IN_TRANSIT,
            last_event_at=at,
            finished=False,
            detail="on its way\x00",
        )
        uow.commit()
    assert len(kept) == 1
    with hub.reader() as uow:
        again = uow.parcels.by_tracking_no("SF1\x00")
        assert again is not None and again.id == parcel.id
        assert again.carrier == "SF\\x00"
        assert uow.parcels.orders_of("SF1\x00") == ["O1"]
        [scan] = uow.parcels.events(parcel.id)
        assert (scan.description, scan.location) == ("left\\x00 hub", "Shen\\x00zhen")
    with hub.uow() as uow:
        assert (
            uow.parcels.add(
                "SF1\x00", carrier="SF", tracker="kuaidi100", city="", country="CN", shipped_at=None
            )
            is None
        )


@pytest.mark.parametrize("held", [False, True], ids=["at_once", "held_to_commit"])
def test_stock_pushes_queued_within_one_window_fall_due_together_on_its_tick(
    hub: Hub, held: bool
) -> None:
    """SKUs that change within one window are pushed together: their pushes fall due at
    the same moment, the window's next tick, however far apart they were queued; and a
    change while a push is pending adds nothing."""
    window = 3600.0  # a tick passing between the transactions below is then unlikely
    queued_at = time.time()
    for skus in (["TICK-A"], ["TICK-B", "TICK-C"], ["TICK-A"]):
        with hub.uow() as uow:
            if held:
                uow.lock_shared_rows_at_commit()
            schedule_stock_push(uow, skus, window=window)
            uow.commit()
        time.sleep(0.02)
    c = t.outbox_jobs.c
    with hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(c.coalesce_key, c.run_at).where(c.coalesce_key.like("stock:%:TICK-%"))
        ).all()
    assert sorted(key.rsplit(":", 1)[1] for key, _ in rows) == ["TICK-A", "TICK-B", "TICK-C"]
    assert len({run_at for _, run_at in rows}) == 1
    due = rows[0].run_at
    assert due % window == 0 and queued_at < due <= queued_at + window * (1 + TICK_MARGIN) + 1


def test_jobs_finished_longer_ago_than_kept_are_forgotten_daily_with_their_attempts(
    hub: Hub,
) -> None:
    """The daily keeping run deletes jobs finished over `finished_jobs_kept_days` ago and
    their attempts; recent ones, jobs that gave up (a person's to look at) and jobs still
    queued stay, whatever their age."""
    kinds = {"old": "alert.send", "recent": "alert.send", "dead": "alert.send"}
    with hub.uow() as uow:
        for name, kind in kinds.items():
            uow.outbox.add(kind, {"name": name}, key=f"keep:{name}")
        uow.outbox.add("alert.send", {"name": "waiting"}, key="keep:waiting", delay=3600)
        claimed = {
            job.payload["name"]: job
            for job in uow.outbox.claim("test", limit=10, lease=30.0, kinds=["alert.send"])
        }
        uow.outbox.done(claimed["old"], 1.0)
        uow.outbox.done(claimed["recent"], 1.0)
        uow.outbox.dead(claimed["dead"], error="gave up", duration_ms=1.0)
        uow.commit()
    days_ago = time.time() - (hub.settings.finished_jobs_kept_days + 1) * 86400
    c = t.outbox_jobs.c
    with hub.db.engine.begin() as conn:
        for name in ("old", "dead"):
            conn.execute(
                update(t.outbox_jobs)
                .where(c.idempotency_key == f"keep:{name}")
                .values(run_at=days_ago, created_at=days_ago, done_at=days_ago)
            )
        conn.execute(
            update(t.outbox_jobs)
            .where(c.idempotency_key == "keep:waiting")
            .values(created_at=days_ago)
        )
    old_id = claimed["old"].id
    schedule_retention(hub, slot=1)
    Worker(hub).run_until_idle()
    with hub.db.engine.connect() as conn:
        left = set(
            conn.execute(
                select(c.idempotency_key).where(c.idempotency_key.like("keep:%"))
            ).scalars()
        )
        attempts = conn.execute(
            select(t.job_attempts.c.outcome).where(t.job_attempts.c.job_id == old_id)
        ).all()
    assert left == {"keep:recent", "keep:dead", "keep:waiting"}
    assert attempts == []


def test_a_lane_asks_when_its_next_job_falls_due_without_a_transaction(hub: Hub) -> None:
    """The lanes ask after every turn; one read sees a snapshot of its own, so on SQLite
    it opens no transaction (no BEGIN and ROLLBACK), and it still sees what was committed
    a moment before, while a writer holds the write lock."""
    with hub.uow() as uow:
        uow.outbox.add("alert.send", {"n": 1}, key="due:1", delay=60)
        uow.commit()
    with hub.uow() as writer:  # the write lock held meanwhile
        writer.outbox.add("alert.send", {"n": 2}, key="due:2", delay=5)
        with hub.reader(one_statement=True) as uow:
            due = uow.outbox.next_due(["alert.send"])
            if hub.db.engine.dialect.name == "sqlite":
                driver = uow.outbox.conn.connection.driver_connection
                assert driver is not None and not driver.in_transaction
        writer.commit()
    assert due is not None and time.time() + 55 < due < time.time() + 61
    with hub.reader(one_statement=True) as uow:
        sooner = uow.outbox.next_due(["alert.send"])
    assert sooner is not None and sooner < time.time() + 6
