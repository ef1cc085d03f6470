"""On SQLite, what is committed goes to the write-ahead log first and is copied into the
database file later. A writer does not stop to copy it every 1,000 pages, with every
other writer of the process waiting behind it: a running worker copies it from a thread
of its own, and the log does not grow without end."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from orderhub.jobs.worker import Worker
from orderhub.services.hub import Hub
from orderhub.store import tables as t
from support import make_hub

ROWS = 20_000  # about 7 MB of ledger rows: well past SQLite's 1,000 pages


@pytest.fixture
def sqlite_file(tmp_path: Path, _sqlite_template: Path) -> Path:
    path = tmp_path / "orderhub.db"
    shutil.copyfile(_sqlite_template, path)
    return path


@pytest.fixture
def hub(sqlite_file: Path) -> Iterator[Hub]:
    made = make_hub(f"sqlite:///{sqlite_file}")
    yield made
    made.close()


def write_ledger_rows(hub: Hub) -> None:
    now = datetime.now(UTC)
    rows = [
        {"tenant": hub.settings.tenant, "node": "WH1", "sku": f"SKU-{i % 500}",
         "kind": "adjustment", "on_hand_delta": 1, "reserved_delta": 0,
         "order_id": None, "reason": f"count {i} " + "x" * 250, "at": now}
        for i in range(ROWS)
    ]  # fmt: skip
    with hub.db.engine.begin() as conn:
        conn.execute(insert(t.stock_ledger), rows)


def pages_in_the_log(path: Path) -> int:
    """Pages written to the log, read off the files (a connection closing could copy
    them: the database's page size is in its header, bytes 16-17)."""
    log = path.with_name(path.name + "-wal")
    if not log.exists():
        return 0
    with path.open("rb") as file:
        page_size = int.from_bytes(file.read(18)[16:18], "big")
    return max(0, (log.stat().st_size - 32) // (page_size + 24))


def test_a_writer_leaves_the_log_to_be_copied_and_a_running_worker_copies_it(
    hub: Hub, sqlite_file: Path
) -> None:
    size_before = sqlite_file.stat().st_size
    write_ledger_rows(hub)
    # The commit did not copy its log into the file, as SQLite does past 1,000 pages.
    assert sqlite_file.stat().st_size == size_before
    assert pages_in_the_log(sqlite_file) > 1_000

    worker = Worker(hub)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while sqlite_file.stat().st_size == size_before and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()

    assert sqlite_file.stat().st_size > size_before + 5_000_000
    assert not [x for x in threading.enumerate() if x.name == "worker-checkpoint"]
    # Everything committed is in the file: a connection that reads the file alone (no
    # log beside it) finds every row.
    copy = sqlite_file.with_name("copy.db")
    shutil.copyfile(sqlite_file, copy)
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("SELECT count(*) FROM stock_ledger").fetchone()[0] == ROWS
    finally:
        conn.close()


def test_the_copying_thread_ends_when_asked(hub: Hub) -> None:
    stop = threading.Event()
    copying = threading.Thread(target=hub.db.checkpoint_until, args=(stop, 0.01))
    copying.start()
    time.sleep(0.05)
    stop.set()
    copying.join(5)
    assert not copying.is_alive()
