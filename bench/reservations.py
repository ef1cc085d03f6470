"""Reservations per second through `StockRepository.reserve`, beside the bare UPDATE.

The hub reserves stock with one conditional UPDATE plus a ledger row, in a transaction
of its own (one UnitOfWork per reservation). This measures that on one hot SKU (every
worker on the same row) and on SKUs spread uniformly (1,000 by default), with 1, 4 and
8 worker processes, and beside it, in the same run on the same database:

* raw: the same `UPDATE stock_levels SET reserved = reserved + 1 ... WHERE ... AND
  on_hand - reserved >= 1` issued in a plain loop, autocommit per statement (psycopg,
  or the sqlite3 module with the hub's pragmas), by the same number of processes;
* raw_tx: the reservation the hub makes, through the plain driver with no hub code in
  the way: BEGIN (IMMEDIATE on SQLite), that UPDATE, the ledger row's INSERT, COMMIT. It
  is the most any code can get from a reservation that is a transaction with a ledger
  row, so `hub_vs_raw_tx` is what the hub's own layers cost and `raw_tx_vs_raw` what a
  transaction of two statements costs against one statement alone;
* on PostgreSQL, pgbench running that UPDATE (`pgbench -n -f script.sql -c C -j C -T S`).

The hub reserves that way when one order comes alone (an order run again on its own, a
person's action). Orders that arrive together are reserved as the worker's batch lane
reserves them: up to `--batch` orders in one transaction, their levels read ahead in one
query, changed in memory and written at commit with one conditional UPDATE per level,
each reservation still a ledger row. That is measured too (`hub_batched_per_s`), beside
the same raw loop.

Workers are processes, so that Python's interpreter lock does not cap the hub at one
core while the raw loop (which spends its time waiting on the database) is not capped.
PostgreSQL is a throwaway server with default settings (fsync on), started with
`scripts/pg` and removed afterwards; SQLite is a temporary file in WAL mode. Progress
goes to stderr; one JSON object is printed on stdout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from _common import log, postgres_server
from orderhub.crypto import Cipher
from orderhub.store import tables as t
from orderhub.store.db import (
    WAL_PAGES_BEFORE_A_WRITER_CHECKPOINTS,
    Database,
    make_engine,
    upgrade_schema,
)
from orderhub.store.uow import UnitOfWork

TENANT, NODE, HOT = "bench", "WH1", "HOT"
ON_HAND = 1_000_000_000  # never runs out: every reservation must succeed
RAW_PG = (
    "UPDATE stock_levels SET reserved = reserved + 1, updated_at = now() "
    "WHERE tenant = %s AND node = %s AND sku = %s AND on_hand - reserved >= 1"
)
RAW_SQLITE = (
    "UPDATE stock_levels SET reserved = reserved + 1, updated_at = ? "
    "WHERE tenant = ? AND node = ? AND sku = ? AND on_hand - reserved >= 1"
)
LEDGER_PG = (
    "INSERT INTO stock_ledger (tenant, node, sku, kind, on_hand_delta, reserved_delta, "
    "order_id, reason, at) VALUES (%s, %s, %s, 'reservation', 0, 1, %s, '', now())"
)
LEDGER_SQLITE = (
    "INSERT INTO stock_ledger (tenant, node, sku, kind, on_hand_delta, reserved_delta, "
    "order_id, reason, at) VALUES (?, ?, ?, 'reservation', 0, 1, ?, '', ?)"
)
PGBENCH_UPDATE = (
    "UPDATE stock_levels SET reserved = reserved + 1, updated_at = now() "
    f"WHERE tenant = '{TENANT}' AND node = '{NODE}' AND sku = {{sku}} "
    "AND on_hand - reserved >= 1;\n"
)
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "busy_timeout=60000",
    f"wal_autocheckpoint={WAL_PAGES_BEFORE_A_WRITER_CHECKPOINTS}",
)  # the hub's
_TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")

Reserve = Callable[[str], int]
"""Reserve one unit of a SKU; how many reservations were committed by this call."""


def spread_skus(count: int) -> list[str]:
    return [f"S{i}" for i in range(1, count + 1)]


# ---------------------------------------------------------------------------- workers


def _hub_database(url: str) -> Database:
    """The hub's database as one worker process holds it: one connection."""
    cipher = Cipher({"bench": b"b" * 32}, "bench")
    return Database(make_engine(url, pool_size=1), cipher, tenant=TENANT)


def _hub_reserver(url: str) -> Reserve:
    """One reservation as the hub makes it: a UnitOfWork, reserve (UPDATE + ledger row),
    commit."""
    db = _hub_database(url)
    prefix, made = f"bench-{os.getpid()}-", 0

    def reserve(sku: str) -> int:
        nonlocal made
        made += 1
        with UnitOfWork(db) as uow:
            ok = uow.stock.reserve(NODE, sku, 1, order_id=f"{prefix}{made}")
            uow.commit()
        return int(ok)

    return reserve


def _hub_batch_reserver(url: str, batch: int) -> Reserve:
    """Reservations as the worker's batch lane makes them: `batch` orders of one unit in
    one UnitOfWork, their levels read ahead in one query, changes held and written at
    commit, a ledger row each. The batch is made when its last order is asked for, as
    the lane claims its orders before it takes them in."""
    db = _hub_database(url)
    prefix, made = f"bench-batch-{os.getpid()}-", 0
    waiting: list[str] = []

    def reserve(sku: str) -> int:
        nonlocal made
        waiting.append(sku)
        if len(waiting) < batch:
            return 0
        skus = list(waiting)
        waiting.clear()
        committed = 0
        with UnitOfWork(db) as uow:
            uow.lock_shared_rows_at_commit()
            uow.stock.read_ahead(skus, [NODE])
            for each in skus:
                made += 1
                short = uow.stock.reserve_all(NODE, {each: 1}, order_id=f"{prefix}{made}")
                committed += not short
            uow.commit()
        return committed

    return reserve


def _bare_sqlite(url: str) -> sqlite3.Connection:
    """The plain sqlite3 module on the database, with the hub's pragmas, each statement
    committing as it runs unless a BEGIN opens a transaction."""
    conn = sqlite3.connect(str(make_url(url).database), isolation_level=None, timeout=60)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _bare_postgres(url: str, *, autocommit: bool) -> Any:
    """A plain psycopg connection to the database."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(dsn, autocommit=autocommit)


def _sqlite_now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _raw_reserver(url: str) -> Reserve:
    """The bare UPDATE, autocommit per statement, through the plain driver."""
    if make_url(url).get_backend_name() == "sqlite":
        conn = _bare_sqlite(url)

        def reserve_sqlite(sku: str) -> int:
            return conn.execute(RAW_SQLITE, (_sqlite_now(), TENANT, NODE, sku)).rowcount

        return reserve_sqlite
    pg = _bare_postgres(url, autocommit=True)

    def reserve_pg(sku: str) -> int:
        return int(pg.execute(RAW_PG, (TENANT, NODE, sku)).rowcount)

    return reserve_pg


def _raw_tx_reserver(url: str) -> Reserve:
    """The hub's reservation through the plain driver: the UPDATE and, when it changed the
    level, the ledger row, in one transaction; a refusal is rolled back."""
    prefix, made = f"raw-{os.getpid()}-", 0
    if make_url(url).get_backend_name() == "sqlite":
        conn = _bare_sqlite(url)

        def reserve_sqlite(sku: str) -> int:
            nonlocal made
            made += 1
            now = _sqlite_now()
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute(RAW_SQLITE, (now, TENANT, NODE, sku)).rowcount != 1:
                conn.execute("ROLLBACK")
                return 0
            conn.execute(LEDGER_SQLITE, (TENANT, NODE, sku, f"{prefix}{made}", now))
            conn.execute("COMMIT")
            return 1

        return reserve_sqlite
    pg = _bare_postgres(url, autocommit=False)

    def reserve_pg(sku: str) -> int:
        nonlocal made
        made += 1
        if pg.execute(RAW_PG, (TENANT, NODE, sku)).rowcount != 1:
            pg.rollback()
            return 0
        pg.execute(LEDGER_PG, (TENANT, NODE, sku, f"{prefix}{made}"))
        pg.commit()
        return 1

    return reserve_pg


_RESERVERS: dict[str, Callable[[str], Reserve]] = {
    "raw": _raw_reserver,
    "raw-tx": _raw_tx_reserver,
    "hub": _hub_reserver,
}


def _worker(tasks: Any, results: Any) -> None:
    """A benchmark process: runs (kind, url, skus, start, seconds) tasks until None.
    A kind is "raw", "raw-tx", "hub" or "hub-batch-N"."""
    reservers: dict[tuple[str, str], Reserve] = {}
    rng = random.Random(os.getpid())
    while (task := tasks.get()) is not None:
        kind, url, skus, start_at, seconds = task
        key = (kind, url)
        if key not in reservers:
            if kind.startswith("hub-batch-"):
                reservers[key] = _hub_batch_reserver(url, int(kind.removeprefix("hub-batch-")))
            else:
                reservers[key] = _RESERVERS[kind](url)
        reserve = reservers[key]
        batch = int(kind.removeprefix("hub-batch-")) if kind.startswith("hub-batch-") else 1
        for _ in range(batch):  # a warm connection before the clock starts
            reserve(skus[0])
        time.sleep(max(0.0, start_at - time.time()))
        done = asked = 0
        end = start_at + seconds
        # A batch is counted when it commits: the clock stops at the first commit after
        # the end, so no reservation is counted that was not written.
        while time.time() < end or asked % batch:
            asked += 1
            done += reserve(skus[0] if len(skus) == 1 else rng.choice(skus))
        results.put((done, asked - done, time.time() - start_at))


class Workers:
    """Worker processes started once; a measurement runs on the first C of them."""

    def __init__(self, count: int) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.results = spawn.Queue()
        self.queues = [spawn.Queue() for _ in range(count)]
        self.processes = [
            spawn.Process(target=_worker, args=(q, self.results), daemon=True) for q in self.queues
        ]
        for process in self.processes:
            process.start()
        self.warm = False

    def measure(
        self, kind: str, url: str, skus: Sequence[str], concurrency: int, seconds: float
    ) -> dict[str, float]:
        # Room to connect (and, the first time, for the processes to start and import).
        start_at = time.time() + (1.0 if self.warm else 5.0)
        self.warm = True
        for q in self.queues[:concurrency]:
            q.put((kind, url, list(skus), start_at, seconds))
        outcomes = [self.results.get(timeout=seconds + 120) for _ in range(concurrency)]
        done = sum(o[0] for o in outcomes)
        refused = sum(o[1] for o in outcomes)
        elapsed = max(o[2] for o in outcomes)
        return {"per_s": round(done / elapsed, 1), "refused": refused}

    def stop(self) -> None:
        for q in self.queues:
            q.put(None)
        for process in self.processes:
            process.join(30)
            if process.is_alive():
                process.kill()


# ---------------------------------------------------------------------------- set-up


def prepare(url: str, skus: Sequence[str]) -> None:
    """The hub's schema, and one stock level per SKU with stock that never runs out."""
    engine = make_engine(url)
    try:
        upgrade_schema(engine)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(
                insert(t.stock_levels),
                [
                    {"tenant": TENANT, "node": NODE, "sku": sku, "on_hand": ON_HAND,
                     "reserved": 0, "updated_at": now}
                    for sku in [HOT, *skus]
                ],
            )  # fmt: skip
    finally:
        engine.dispose()


def server_version(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


def pgbench(url: str, sku_count: int, concurrency: int, seconds: float, workdir: Path) -> float:
    """Transactions per second of pgbench running the same UPDATE."""
    script = workdir / f"reserve-{sku_count}.sql"
    if sku_count == 1:
        script.write_text(PGBENCH_UPDATE.format(sku=f"'{HOT}'"))
    else:
        script.write_text(
            f"\\set s random(1, {sku_count})\n" + PGBENCH_UPDATE.format(sku="'S' || :s")
        )
    parsed = make_url(url)
    command = [
        "pgbench", "-n", "-f", str(script), "-c", str(concurrency), "-j", str(concurrency),
        "-T", str(max(1, round(seconds))), "-h", str(parsed.host), "-p", str(parsed.port),
        "-U", str(parsed.username), str(parsed.database),
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    found = _TPS.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"pgbench failed: {done.stderr.strip() or done.stdout.strip()}")
    return float(found.group(1))


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


# ---------------------------------------------------------------------------- runs


def run_database(
    workers: Workers, url: str, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    skus = spread_skus(args.skus)
    prepare(url, skus)
    postgres = make_url(url).get_backend_name() == "postgresql"
    figures: dict[str, Any] = {"server": server_version(url)}
    for name, pool in (("hot_sku", [HOT]), (f"{args.skus}_skus", skus)):
        rows = []
        for concurrency in args.workers:
            log(f"{name}, {concurrency} worker(s): raw UPDATE")
            raw = workers.measure("raw", url, pool, concurrency, args.seconds)
            log(f"{name}, {concurrency} worker(s): UPDATE + ledger row, one transaction")
            raw_tx = workers.measure("raw-tx", url, pool, concurrency, args.seconds)
            log(f"{name}, {concurrency} worker(s): StockRepository.reserve")
            hub = workers.measure("hub", url, pool, concurrency, args.seconds)
            log(f"{name}, {concurrency} worker(s): {args.batch} orders per transaction")
            kind = f"hub-batch-{args.batch}"
            batched = workers.measure(kind, url, pool, concurrency, args.seconds)
            row: dict[str, Any] = {
                "workers": concurrency,
                "hub_per_s": hub["per_s"],
                "raw_per_s": raw["per_s"],
                "hub_vs_raw": ratio(hub["per_s"], raw["per_s"]),
                "raw_tx_per_s": raw_tx["per_s"],
                "hub_vs_raw_tx": ratio(hub["per_s"], raw_tx["per_s"]),
                "raw_tx_vs_raw": ratio(raw_tx["per_s"], raw["per_s"]),
                "hub_batched_per_s": batched["per_s"],
                "hub_batched_vs_raw": ratio(batched["per_s"], raw["per_s"]),
                "refused": int(
                    hub["refused"] + raw["refused"] + raw_tx["refused"] + batched["refused"]
                ),
            }
            if postgres:
                log(f"{name}, {concurrency} client(s): pgbench")
                tps = pgbench(url, len(pool), concurrency, args.seconds, workdir)
                row.update(
                    pgbench_tps=round(tps, 1),
                    hub_vs_pgbench=ratio(hub["per_s"], tps),
                    raw_vs_pgbench=ratio(raw["per_s"], tps),
                )
            log(f"  {row}")
            rows.append(row)
        figures[name] = rows
    return figures


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--skus", type=int, default=1000, help="SKUs in the spread case")
    parser.add_argument(
        "--batch", type=int, default=32, help="orders per transaction in the batched case"
    )
    parser.add_argument(
        "--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 8],
        help="worker processes, comma-separated (1,4,8)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="orderhub-bench-reservations."))
    workers = Workers(max(args.workers))
    output: dict[str, Any] = {
        "benchmark": "reservations",
        "unit": "reservations per second, each its own transaction (hub_batched: --batch "
        "orders per transaction, as the worker's batch lane)",
        "batch": args.batch,
        "seconds_per_measurement": args.seconds,
        "worker_kind": "processes",
        "cpus": os.cpu_count(),
        "databases": {},
    }
    try:
        if args.db in ("sqlite", "both"):
            log("SQLite")
            url = f"sqlite:///{workdir / 'reservations.db'}"
            output["databases"]["sqlite"] = run_database(workers, url, args, workdir)
        if args.db in ("postgresql", "both"):
            log("PostgreSQL: starting a throwaway server with default settings")
            with postgres_server("orderhub_reservations") as url:
                output["databases"]["postgresql"] = run_database(workers, url, args, workdir)
    finally:
        workers.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(output))


if __name__ == "__main__":
    main(sys.argv[1:])
