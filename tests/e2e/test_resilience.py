"""Crashes, duplicates and misbehaving platforms: every order still arrives exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable

from sqlalchemy import select

from orderhub.demo_stack import Stack
from orderhub.jobs.worker import Worker
from orderhub.services import queries
from orderhub.store import tables as t
from support import TEST_KEYS, wait_until

WORKER = [sys.executable, "-c", "from orderhub.cli import main; main()", "worker"]


def _start_worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ORDERHUB_DATABASE_URL": database_url,
        "ORDERHUB_ENCRYPTION_KEYS": TEST_KEYS,
        "ORDERHUB_JOB_LEASE": "5",
        "ORDERHUB_STOCK_PUSH_WINDOW": "0.2",
        "ORDERHUB_BACKOFF_BASE": "0.05",
        "ORDERHUB_BACKOFF_CAP": "0.5",
        "ORDERHUB_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(WORKER, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_worker_killed_mid_run_loses_no_order_and_pushes_none_twice(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack(start_worker=False, stock=1000, skus=3)
    shop = stack.shops["SHOP1"]
    total = 300
    shop.place_random_orders(total, skus=stack.sku_codes)
    wait_until(lambda: shop.stats()["webhooks"].get("pending", 0) == 0, what="webhooks stored")

    first = _start_worker(database_url)
    try:
        wait_until(
            lambda: stack.qimen.stats()["distinct_orders"] >= total // 3,
            timeout=60,
            what="a third of the orders at the warehouse",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed_at = stack.qimen.stats()["distinct_orders"]
    assert killed_at < total, "the worker finished before it could be killed"

    second = _start_worker(database_url)
    try:
        wait_until(
            lambda: queries.hub_stats(stack.hub)["orders"].get("completed", 0) == total,
            timeout=120,
            what="every order completed after the restart",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(30)
        except subprocess.TimeoutExpired:
            second.kill()
            raise
    wms = stack.qimen.stats()
    assert wms["distinct_orders"] == total
    with stack.hub.db.engine.connect() as conn:
        ids = set(conn.execute(select(t.orders.c.id)).scalars())
    assert ids == set(stack.qimen.orders())
    assert shop.stats()["fulfillments"] == total
    assert queries.hub_stats(stack.hub)["oversold"] == 0


def test_429_storms_and_5xx_from_both_sides_still_deliver_everything(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(stock=500, skus=2, start_worker=False)
    shop = stack.shops["SHOP1"]
    total = 30
    placed = shop.place_random_orders(total, skus=stack.sku_codes)
    wait_until(lambda: shop.stats()["webhooks"].get("pending", 0) == 0, what="webhooks stored")
    # The storm starts as the worker does, so the first calls to both sides meet it, and
    # lasts longer than the clients' own short retries.
    faults = {"error_rate": 0.2, "storm_seconds": 3.0, "retry_after": 0.4, "seed": 7}
    shop.faults.update(faults)
    stack.qimen.faults.update(faults)
    worker = Worker(stack.hub)
    worker.start()
    try:
        wait_until(
            lambda: queries.hub_stats(stack.hub)["orders"].get("completed", 0) == total,
            timeout=90,
            what="every order completed despite the faults",
        )
    finally:
        worker.stop()
    assert stack.qimen.stats()["distinct_orders"] == total
    assert all(len(shop.fulfillments_for(p["id"])) == 1 for p in placed)
    with stack.hub.db.engine.connect() as conn:
        attempts = conn.execute(
            select(
                t.job_attempts.c.job_id, t.job_attempts.c.status_code, t.job_attempts.c.at
            ).order_by(t.job_attempts.c.job_id, t.job_attempts.c.id)
        ).all()
    limited = [a for a in attempts if a.status_code == 429]
    assert limited, "the storm produced no 429 at all"
    for before in limited:
        later = [a for a in attempts if a.job_id == before.job_id and a.at > before.at]
        if later:
            assert later[0].at - before.at >= 0.4 * 0.95, "Retry-After was not honoured"
    assert queries.exception_list(stack.hub) == []
