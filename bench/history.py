"""What a seller's history costs the orders arriving now: the hot path's reads on a
database holding a long history, beside the same reads on a fresh one.

Every order leaves rows behind: its stored payload, the order, two or three finished
jobs, ledger rows, a delivery order. A read that passes over them to find what it wants
slows down as the history grows, the same code getting slower month after month. This
fills the database with `--history` past orders' rows (finished jobs in the proportions
orders leave them) and times, with and without that history, on the same database in
the same run:

* claim: the batch lane's claim of its due jobs, with jobs of other kinds due beside
  them (undone after each call, so every call finds the same queue);
* next_due: when a lane's next job falls due;
* depth: the queue's jobs per kind and status, read on every /metrics scrape and
  dashboard load;
* waiting: whether an order has a job of a kind queued;
* payloads: a batch's stored payloads read at once (`InboxRepository.read_ahead`);
* known_orders: whether a batch's orders, and their buyers, are stored already
  (`OrderLookup.read_ahead`);
* held: what an order holds in reservation, read when it is cancelled
  (`StockRepository.held_by`).

Each figure is microseconds per call and the ratio with history ÷ without (1.0: the
history costs nothing). PostgreSQL is a throwaway server with default settings, started
with `scripts/pg`; SQLite is a temporary file in WAL mode. One JSON object on stdout.

Usage: python bench/history.py [--db sqlite|postgresql|both] [--history N] [--calls N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from _common import log, postgres_server
from orderhub.crypto import Cipher
from orderhub.store import tables as t
from orderhub.store.db import Database, make_engine, upgrade_schema
from orderhub.store.uow import UnitOfWork

TENANT = "bench"
BATCH = "inbox.process"
# What an order leaves behind: its intake, its delivery order, a coalesced stock push.
FINISHED_KINDS = (BATCH, "node.push", "stock.push")
# The queue the worker looks at: a few orders' intake due, and delivery orders beside.
LIVE = {BATCH: 20, "node.push": 30}
CHUNK = 20_000
# The batch the reads ask about: this many new orders, numbered from FIRST_NEW, their
# payloads stored and their stock reserved, the orders themselves not stored yet.
NEW = 5
FIRST_NEW = 10**8
SHOP = "S1"


def _rows(start: int, count: int, status: str, kinds: Sequence[str]) -> list[dict[str, Any]]:
    now = time.time()
    return [
        {
            "tenant": TENANT,
            "kind": kinds[i % len(kinds)],
            "payload": json.dumps({"inbox_id": str(i)}),
            "idempotency_key": f"{status}-{kinds[i % len(kinds)]}-{i}",
            "order_id": f"O{i:09d}",
            "status": status,
            "attempts": 1 if status == "done" else 0,
            "max_attempts": 10,
            "run_at": now - 86_400 + i * 0.001 if status == "done" else now - 1,
            "created_at": now,
            "done_at": now if status == "done" else None,
        }
        for i in range(start, start + count)
    ]


def _orders(start: int, count: int, *, new: bool = False) -> dict[Any, list[dict[str, Any]]]:
    """Past orders' rows: the order, its payload and two ledger rows each (reserved, then
    shipped). A `new` batch's: its payload still to process and its reservation only."""
    at = datetime.now(UTC) - timedelta(days=0 if new else 30)
    orders, payloads, ledger = [], [], []
    for i in range(start, start + count):
        order_id = f"O{i:09d}"
        if not new:
            orders.append(
                {
                    "id": order_id,
                    "tenant": TENANT,
                    "shop": SHOP,
                    "platform": "shopify",
                    "channel_order_id": str(10**10 + i),
                    "status": "completed",
                    "channel_status": "paid",
                    "placed_at": at,
                    "currency": "CNY",
                    "grand_total": 10,
                    "document": "{}",
                    "pii": "",
                    "buyer_key": f"buyer-{i % 50_000}",
                    "created_at": at,
                    "updated_at": at,
                }
            )
        payloads.append(
            {
                "id": f"I{i:09d}",
                "tenant": TENANT,
                "shop": SHOP,
                "source": "webhook",
                "dedup_key": f"webhook-{i}",
                "body": b"{}",
                "status": "pending" if new else "done",
                "order_id": None if new else order_id,
                "received_at": at,
            }
        )
        moves = [("reservation", 1)] if new else [("reservation", 1), ("consume", -1)]
        for kind, reserved in moves:
            ledger.append(
                {
                    "tenant": TENANT,
                    "node": "WH1",
                    "sku": f"SKU-{i % 200}",
                    "kind": kind,
                    "reserved_delta": reserved,
                    "order_id": order_id,
                    "at": at,
                }
            )
    return {t.orders: orders, t.inbox: payloads, t.stock_ledger: ledger}


def fill(db: Database, history: int) -> None:
    """The live queue and a new batch's rows, then `history` past orders' rows (and
    three finished jobs each), in chunks."""
    with db.engine.begin() as conn:
        for kind, count in LIVE.items():
            conn.execute(insert(t.outbox_jobs), _rows(10**9, count, "pending", [kind]))
        for table, rows in _orders(FIRST_NEW, NEW, new=True).items():
            if rows:
                conn.execute(insert(table), rows)
    for start in range(0, history, CHUNK):
        with db.engine.begin() as conn:
            conn.execute(
                insert(t.outbox_jobs),
                _rows(3 * start, 3 * min(CHUNK, history - start), "done", FINISHED_KINDS),
            )
            for table, rows in _orders(start, min(CHUNK, history - start)).items():
                conn.execute(insert(table), rows)


def settle(db: Database) -> None:
    """On PostgreSQL, the tables as autovacuum leaves them: dead row versions gone, their
    statistics read. SQLite keeps none unless asked, and the hub does not ask."""
    if db.is_postgres:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def timed(call: Callable[[], object], calls: int) -> float:
    """Microseconds per call, over `calls` calls after one to warm up. A fixed number, so
    that the row versions a rolled-back claim leaves behind on PostgreSQL are as many
    with history as without."""
    call()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return round((time.perf_counter() - started) / calls * 1e6, 1)


def measure(db: Database, calls: int) -> dict[str, float]:
    """Each read in a transaction of its own, as the worker runs it, on the tables as
    `settle` leaves them."""

    def claim() -> None:
        with UnitOfWork(db) as uow:
            jobs = uow.outbox.claim("bench", limit=50, lease=60, kinds=[BATCH])
            assert len(jobs) == LIVE[BATCH], len(jobs)
            # Undone, so that every call finds the same queue.

    def next_due() -> None:
        with UnitOfWork(db, read_only=True) as uow:
            assert uow.outbox.next_due([BATCH]) is not None

    def depth() -> None:
        with UnitOfWork(db, read_only=True) as uow:
            uow.outbox.depth()

    def waiting() -> None:
        with UnitOfWork(db, read_only=True) as uow:
            uow.outbox.waiting_for_order("O000000007", "node.push")

    new = range(FIRST_NEW, FIRST_NEW + NEW)

    def payloads() -> None:
        with UnitOfWork(db, read_only=True) as uow:
            assert len(uow.inbox.read_ahead([f"I{i:09d}" for i in new])) == NEW

    def known_orders() -> None:
        with UnitOfWork(db, read_only=True) as uow:
            uow.orders.read_ahead(
                [(SHOP, str(10**10 + i)) for i in new],
                [(SHOP, f"buyer-{i % 50_000}") for i in new],
                since=datetime.now(UTC) - timedelta(days=1),
            )

    def held() -> None:
        with UnitOfWork(db, read_only=True) as uow:
            assert uow.stock.held_by(f"O{FIRST_NEW:09d}") == [("WH1", "SKU-0", 1)]

    figures = {}
    for name, call in (
        ("claim_us", claim),
        ("next_due_us", next_due),
        ("depth_us", depth),
        ("waiting_us", waiting),
        ("payloads_us", payloads),
        ("known_orders_us", known_orders),
        ("held_us", held),
    ):
        settle(db)
        figures[name] = timed(call, calls)
    return figures


def run_database(url: str, history: int, calls: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for label, size in (("fresh", 0), ("history", history)):
        engine = make_engine(url)
        upgrade_schema(engine)
        db = Database(engine, Cipher({"bench": b"b" * 32}, "bench"), tenant=TENANT)
        try:
            with engine.begin() as conn:
                for table in (t.outbox_jobs, t.inbox, t.orders, t.stock_ledger):
                    conn.execute(table.delete())
            log(f"  {label}: {size} past orders")
            fill(db, size)
            figures[label] = measure(db, calls)
            log(f"  {label}: {figures[label]}")
        finally:
            engine.dispose()
    figures["history_orders"] = history
    figures["ratio"] = {
        key: round(figures["history"][key] / figures["fresh"][key], 2) for key in figures["fresh"]
    }
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--history", type=int, default=100_000, help="past orders")
    parser.add_argument("--calls", type=int, default=300, help="per figure")
    args = parser.parse_args(argv)
    output: dict[str, Any] = {"history_orders": args.history}
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="orderhub-bench-history."))
        stack.callback(shutil.rmtree, workdir, True)
        if args.db in ("sqlite", "both"):
            log("sqlite")
            output["sqlite"] = run_database(
                f"sqlite:///{workdir / 'history.db'}", args.history, args.calls
            )
        if args.db in ("postgresql", "both"):
            log("postgresql")
            url = stack.enter_context(postgres_server("orderhub_job_history"))
            output["postgresql"] = run_database(url, args.history, args.calls)
    print(json.dumps(output))


if __name__ == "__main__":
    main()
