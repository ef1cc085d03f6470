"""Many orders racing for few units through the real pipeline: exactly the stock is sold.

Four racers (processes on PostgreSQL, threads on SQLite), each with a hub of its own on
the same database, store 200 Shopify orders of one unit each and then, all at once,
process them: 100 units must make exactly 100 reservations and 700 held orders.
"""

from __future__ import annotations

import copy
import multiprocessing
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.services import queries
from orderhub.services.ingest import process_inbox, receive_payload
from orderhub.services.setup import apply_config
from support import make_hub, one_warehouse_catalogue

RACERS, ORDERS_EACH, STOCK = 4, 200, 100
SHOP, NODE, SKU = "S1", "WH1", "SKU-RACE"


class Barrier(Protocol):
    def wait(self, timeout: float | None = None) -> int: ...


class Results(Protocol):
    def put(self, item: tuple[int, int]) -> None: ...


def shopify_orders(racer: int) -> list[dict[str, Any]]:
    """The racer's orders: a real emulator order of one unit, with fresh ids each."""
    emulator = ShopifyEmulator(shop_domain="x.myshopify.com")
    try:
        template = emulator.place_order({"lines": [{"sku": SKU, "quantity": 1}]})
    finally:
        emulator.close()
    orders = []
    for i in range(ORDERS_EACH):
        number = racer * ORDERS_EACH + i
        order = copy.deepcopy(template)
        order["id"] = template["id"] + 10_000 * number
        order["name"] = f"#R{number}"
        order["order_number"] = 5000 + number
        order["line_items"][0]["id"] = template["line_items"][0]["id"] + 10_000 * number
        orders.append(order)
    return orders


def race(database_url: str, tenant: str, racer: int, start: Barrier, results: Results) -> None:
    """Store this racer's orders, wait for the others, process them one by one, and
    report how many of them won a reservation."""
    hub = make_hub(database_url, tenant=tenant)
    try:
        stored = [
            receive_payload(hub, SHOP, order, source="import").inbox_id
            for order in shopify_orders(racer)
        ]
        start.wait(timeout=120)
        order_ids = [process_inbox(hub, inbox_id) for inbox_id in stored]
        with hub.uow() as uow:
            won = sum(uow.orders.get(o).status == "reserved" for o in order_ids if o)
        results.put((racer, won))
    finally:
        hub.close()


def run_in_processes(database_url: str, tenant: str) -> dict[int, int]:
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(RACERS), spawn.Queue()
    racers = [
        spawn.Process(target=race, args=(database_url, tenant, i, start, results))
        for i in range(RACERS)
    ]
    for process in racers:
        process.start()
    for process in racers:
        process.join(timeout=180)
    assert [p.exitcode for p in racers] == [0] * RACERS
    return dict(results.get(timeout=10) for _ in racers)


def run_in_threads(database_url: str, tenant: str) -> dict[int, int]:
    start, results = threading.Barrier(RACERS), queue.Queue[tuple[int, int]]()
    failures: list[BaseException] = []

    def run(racer: int) -> None:
        try:
            race(database_url, tenant, racer, start, results)
        except BaseException as exc:
            failures.append(exc)
            start.abort()

    racers = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in racers:
        thread.start()
    for thread in racers:
        thread.join(timeout=180)
    assert failures == []
    return dict(results.get_nowait() for _ in racers)


def test_800_orders_racing_for_100_units_reserve_exactly_100_and_hold_700(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Spawned racers import this module under the name pytest gave it.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[__name__.count(".")]))
    tenant = "racing"
    hub = make_hub(database_url, tenant=tenant)
    try:
        apply_config(hub, one_warehouse_catalogue(SHOP, NODE, {SKU: STOCK}))
        run: Callable[[str, str], dict[int, int]] = (
            run_in_processes if database_url.startswith("postgresql") else run_in_threads
        )
        wins = run(database_url, tenant)
        with hub.uow() as uow:
            by_status = uow.orders.count_by_status()
            inbox = uow.inbox.count_by_status()
            reserved = uow.orders.ids_by_status("reserved", limit=2000)
            held = uow.orders.ids_by_status("held", limit=2000)
            holdings = {tuple(uow.stock.held_by(order_id)) for order_id in reserved}
            level = uow.stock.level(NODE, SKU)
            mismatches = uow.stock.ledger_mismatches()
        waiting = queries.exception_list(hub, code="out_of_stock", limit=2000)
    finally:
        hub.close()
    assert inbox == {"processed": RACERS * ORDERS_EACH}
    assert sum(wins.values()) == STOCK
    if database_url.startswith("postgresql"):
        # (SQLite's busy handler favours whoever holds the lock, so there one racer may
        # take every unit; PostgreSQL's row locks share them out.)
        assert sum(1 for won in wins.values() if won) > 1, f"no race happened: {wins}"
    assert by_status == {"reserved": STOCK, "held": RACERS * ORDERS_EACH - STOCK}
    assert level is not None and (level.on_hand, level.reserved) == (STOCK, STOCK)
    assert holdings == {((NODE, SKU, 1),)}
    assert sorted(x.order_id for x in waiting if x.order_id) == sorted(held)
    assert len(waiting) == len(held)
    assert mismatches == []
