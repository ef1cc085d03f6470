"""Worker batches in several processes racing for the same few SKUs: no stock is sold
twice, none is left unsold while an order waits for it, and every batch finishes.

Four racers (processes on PostgreSQL, threads on SQLite), each with a hub and a worker
of its own on the same database, share one queue of 240 two-line orders over three
SKUs of 40 units, the lines in every order of the pairs. Each worker claims orders in
batches, so batches in different processes reserve the same hot levels in different
orders: the case the shared rows written at commit, in one order, are for.
"""

from __future__ import annotations

import copy
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from orderhub.jobs.worker import Worker
from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, receive_payload
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from support import make_hub, one_warehouse_catalogue

RACERS, ORDERS, STOCK, BUYERS = 4, 240, 40, 20
SHOP, NODE, SKUS = "S1", "WH1", ("HOT-A", "HOT-B", "HOT-C")
TENANT = "batches"


def two_line_orders() -> list[dict[str, Any]]:
    """Real emulator orders of one unit of two SKUs, the pairs in every order, from a
    few returning buyers."""
    emulator = ShopifyEmulator(shop_domain="x.myshopify.com")
    try:
        templates = [
            emulator.place_order({"lines": [{"sku": a, "quantity": 1}, {"sku": b, "quantity": 1}]})
            for a, b in permutations(SKUS, 2)
        ]
    finally:
        emulator.close()
    orders = []
    for number in range(ORDERS):
        order = copy.deepcopy(templates[number % len(templates)])
        order["id"] = 900_000_000 + number
        order["name"] = f"#B{number}"
        order["order_number"] = 7000 + number
        for i, line in enumerate(order["line_items"]):
            line["id"] = 800_000_000 + 10 * number + i
        # Twenty buyers, each coming back a dozen times: their orders meet in batches too.
        buyer = number % BUYERS
        email, phone = f"racer{buyer}@example.cn", f"+86 1390000{buyer:04d}"
        order["email"] = order["contact_email"] = order["customer"]["email"] = email
        order["customer"]["id"] = 700_000_000 + buyer
        for part in (order, order["customer"], order["shipping_address"], order["billing_address"]):
            part["phone"] = phone
        orders.append(order)
    return orders


def work(database_url: str, start: Any) -> None:
    """Wait for the others, then run inbox jobs in batches until none is left."""
    hub = make_hub(database_url, tenant=TENANT, worker_batch=8)
    try:
        start.wait(timeout=120)
        Worker(hub, kinds=[JOB_INBOX]).run_until_idle(timeout=120)
    finally:
        hub.close()


def run_in_processes(database_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(RACERS)
    racers = [spawn.Process(target=work, args=(database_url, start)) for _ in range(RACERS)]
    for process in racers:
        process.start()
    for process in racers:
        process.join(timeout=180)
    assert [p.exitcode for p in racers] == [0] * RACERS


def run_in_threads(database_url: str) -> None:
    start = threading.Barrier(RACERS)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work(database_url, start)
        except BaseException as exc:
            failures.append(exc)
            start.abort()

    racers = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in racers:
        thread.start()
    for thread in racers:
        thread.join(timeout=180)
    assert failures == []


def deadlocks(hub: Hub) -> int:
    """Deadlocks PostgreSQL broke in this database so far (none on SQLite: one writer)."""
    if not hub.db.is_postgres:
        return 0
    with hub.db.engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(
            conn.execute(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()
        )


def test_batches_in_several_processes_sell_each_unit_once_and_leave_none_an_order_needs(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Spawned racers import this module under the name pytest gave it.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[__name__.count(".")]))
    hub = make_hub(database_url, tenant=TENANT)
    try:
        apply_config(hub, one_warehouse_catalogue(SHOP, NODE, dict.fromkeys(SKUS, STOCK)))
        for order in two_line_orders():
            receive_payload(hub, SHOP, order, source="import")
        run: Callable[[str], None] = (
            run_in_processes if database_url.startswith("postgresql") else run_in_threads
        )
        deadlocks_before = deadlocks(hub)
        run(database_url)
        deadlocks_during = deadlocks(hub) - deadlocks_before
        with hub.uow() as uow:
            inbox = uow.inbox.count_by_status()
            by_status = uow.orders.count_by_status()
            reserved = uow.orders.ids_by_status("reserved", limit=1000)
            held = uow.orders.ids_by_status("held", limit=1000)
            holdings = Counter[str]()
            for order_id in reserved:
                for _node, sku, quantity in uow.stock.held_by(order_id):
                    holdings[sku] += quantity
            levels = {x.sku: x for x in uow.stock.levels(nodes=[NODE])}
            needs = [{line.sku for line in uow.orders.get(o).lines} for o in held]
            mismatches = uow.stock.ledger_mismatches()
        with hub.db.engine.connect() as conn:
            counted = conn.execute(select(func.sum(t.buyers.c.orders))).scalar_one()
    finally:
        hub.close()
    assert deadlocks_during == 0  # no batch was undone and run again order by order
    assert inbox == {"processed": ORDERS}
    assert by_status == {"reserved": len(reserved), "held": len(held)}
    assert len(reserved) + len(held) == ORDERS
    assert mismatches == []
    assert counted == ORDERS  # every order counted to its buyer, once
    for sku, level in levels.items():
        assert level.on_hand == STOCK
        assert level.reserved == holdings[sku] <= STOCK, sku
    # 240 orders of two units want 480 of the 120 there are: at most 60 can be served,
    # and an order waits only for a SKU that has run out.
    assert len(reserved) == sum(holdings.values()) // 2 <= 60
    for wanted in needs:
        assert any(levels[sku].on_hand - levels[sku].reserved < 1 for sku in wanted), wanted
