"""`orderhub worker --processes N`: several worker processes under one parent."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from orderhub.demo_stack import Stack
from orderhub.store import tables as t
from support import TEST_KEYS, run_orderhub, wait_until

WORKER = [sys.executable, "-c", "from orderhub.cli import main; main()", "worker"]
STARTED = re.compile(r"worker process (\d+) started: pid (\d+)")


def _two_free_ports() -> int:
    """A port P such that P and P + 1 were both free a moment ago."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two neighbouring free ports")


def _started(log: Path) -> dict[int, int]:
    """The pid each worker process index was last started with, from the parent's log."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return {int(index): int(pid) for index, pid in STARTED.findall(text)}


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _cpus_of(pid: int) -> str:
    """The CPUs a process may run on, as Linux lists them (`3`, `0-1`)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(
        line.split(":")[1].strip()
        for line in status.splitlines()
        if line.startswith("Cpus_allowed_list")
    )


def _supervisor(
    database_url: str, log: Path, *options: str, **settings: str
) -> subprocess.Popen[bytes]:
    """`orderhub worker --processes 2`, its output (and its workers') into `log`."""
    env = {
        **os.environ,
        "ORDERHUB_DATABASE_URL": database_url,
        "ORDERHUB_ENCRYPTION_KEYS": TEST_KEYS,
        "ORDERHUB_LOG_LEVEL": "warning",
        **settings,
    }
    with log.open("wb") as sink:
        return subprocess.Popen(
            [*WORKER, "--processes", "2", *options],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_worker_processes_deliver_every_order_once_and_a_dead_one_is_replaced(
    make_stack: Callable[..., Stack], database_url: str, tmp_path: Path
) -> None:
    stack = make_stack(start_worker=False, stock=1000, skus=3)
    shop = stack.shops["SHOP1"]
    port = _two_free_ports()
    log = tmp_path / "workers.log"
    parent = _supervisor(
        database_url,
        log,
        "--metrics-port",
        str(port),
        ORDERHUB_JOB_LEASE="5",
        ORDERHUB_STOCK_PUSH_WINDOW="0.2",
    )
    try:
        wait_until(lambda: len(_started(log)) == 2, timeout=30, what=lambda: log.read_text())
        first = _started(log)
        for pid in first.values():
            assert _parent_of(pid) == parent.pid
        for index in (0, 1):
            wait_until(
                lambda i=index: _answers(f"http://127.0.0.1:{port + i}/metrics"),
                timeout=30,
                what=f"metrics of worker process {index}",
            )
        # Each keeps to a CPU of its own (ORDERHUB_CPU=auto), where there are two.
        if len(os.sched_getaffinity(0)) >= 2:
            assert len({_cpus_of(pid) for pid in first.values()}) == 2
            assert all(
                "," not in _cpus_of(pid) and "-" not in _cpus_of(pid) for pid in first.values()
            )

        # A worker process that dies is started again in its place.
        os.kill(first[0], signal.SIGKILL)
        wait_until(
            lambda: _started(log).get(0, first[0]) != first[0],
            timeout=30,
            what=lambda: log.read_text(),
        )
        replaced = _started(log)
        assert replaced[1] == first[1]
        assert _parent_of(replaced[0]) == parent.pid
        assert "exited with -9; starting it again" in log.read_text()
        wait_until(
            lambda: _answers(f"http://127.0.0.1:{port}/metrics"),
            timeout=30,
            what="metrics of the worker process started again",
        )

        total = 40
        shop.place_random_orders(total, skus=stack.sku_codes)
        wait_until(
            lambda: stack.qimen.stats()["distinct_orders"] == total,
            timeout=60,
            what=lambda: f"every order at the warehouse: {stack.qimen.stats()}",
        )
        for pid in replaced.values():
            assert Path(f"/proc/{pid}").exists()
        for index in (0, 1):
            text = httpx.get(f"http://127.0.0.1:{port + index}/metrics").text
            assert "orderhub_db_statements_total" in text
            assert 'orderhub_db_transactions_total{kind="commit"}' in text
    finally:
        parent.send_signal(signal.SIGTERM)
        try:
            parent.wait(60)
        except subprocess.TimeoutExpired:
            parent.kill()
            raise
    assert parent.returncode == 0, log.read_text()
    for pid in replaced.values():
        assert not Path(f"/proc/{pid}").exists()
    wms = stack.qimen.stats()
    assert wms["distinct_orders"] == total
    assert wms["duplicate_creates"] == 0
    with stack.hub.db.engine.connect() as conn:
        ids = set(conn.execute(select(t.orders.c.id)).scalars())
    assert ids == set(stack.qimen.orders())


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).is_success
    except httpx.HTTPError:
        return False


def test_several_worker_processes_are_refused_on_sqlite(tmp_path: Path) -> None:
    result = run_orderhub(f"sqlite:///{tmp_path / 'hub.db'}", "worker", "--processes", "2")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "orderhub: --processes 2 needs PostgreSQL: SQLite takes one writer at a time, so "
        "more worker processes would only wait for each other; run one"
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_worker_processes_stop_when_the_process_that_started_them_is_killed(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "workers.log"
    parent = _supervisor(database_url, log)
    try:
        wait_until(lambda: len(_started(log)) == 2, timeout=30, what=lambda: log.read_text())
        children = _started(log)
        parent.kill()  # no chance to pass anything on
        parent.wait(10)
        wait_until(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in children.values()),
            timeout=20,
            what=lambda: f"both worker processes gone: {log.read_text()}",
        )
        assert log.read_text().count("the process that started this worker is gone") == 2
    finally:
        for pid in _started(log).values():
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("signals", [1, 30])
def test_a_worker_stops_on_sigterm_however_many_come_at_once(tmp_path: Path, signals: int) -> None:
    # Stop signals often come twice (a service manager, then a person at the keyboard):
    # the second must not catch the first halfway and hang the worker.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env.update(
        ORDERHUB_DATABASE_URL=f"sqlite:///{tmp_path / 'hub.db'}",
        ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS,
        ORDERHUB_LOG_LEVEL="warning",
    )
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            WORKER, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_until(lambda: "running with" in log.read_text(), timeout=30, what=log.read_text)
        for _ in range(signals):
            worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
