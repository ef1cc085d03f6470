"""Stock sync: channel calls per 1,000 stock changes, and change → every shop updated.

A `Stack` (emulated Shopify shops, the Qimen WMS emulator and the hub's API, in this
process, on loopback; the hub's worker too on SQLite, as `orderhub serve` runs it, and
as a process of its own on PostgreSQL, as that database's production layout runs it)
takes N stock changes at a steady rate: orders placed on the shops (webhook → hub →
reservation) and adjustments through `services.inventory.adjust_stock`, spread over a
few SKUs. Every change lowers the
stock, so each figure a SKU passes through is unique and "the shop shows the new
figure" is well defined: the shop shows that figure or a lower one, for good.

Reported per database: stock-setting calls the shops received (REST
`inventory_levels/set`, one figure each, and GraphQL `inventorySetQuantities`, many),
per shop, per 1,000 changes, beside the 1,000 an uncoalesced hub would make and the
ceilings of one call per listing and one call per shop per window (over the span from
the first change the hub recorded to the last), and the figures they set; percentiles
of the time from each change (its ledger row) to the moment the last shop shows it, and
from each sale's placement to that moment, beside the coalescing window configured and
a raw reference measured in the same run: a bare client setting one figure on every
shop (httpx, one POST each).
Targets: at most 50 calls per shop per 1,000 changes; p99 change → every shop < 2 s.
Progress goes to stderr; one JSON object is printed on stdout.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from _common import clean_env, log, orderhub_command, percentiles, postgres_server, stop_process
from orderhub.config import Settings
from orderhub.demo_stack import Stack, StackOptions
from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.services.inventory import adjust_stock
from orderhub.store import tables as t

NODE = "WH1"
OPENING = 1_000_000  # never runs out: every order reserves
REFERENCE_SKU = "REF-1"
DRIVERS = 4  # threads applying the changes
TARGETS = {"set_calls_per_shop_per_1000_changes_max": 50, "change_to_every_shop_p99_ms_max": 2000}


@dataclass
class ShopLog:
    """What one shop was told and sold, in wall-clock seconds: the figure it shows."""

    opening: dict[str, int]
    events: dict[str, list[tuple[float, str, int]]] = field(default_factory=dict)
    calls: int = 0  # stock-setting calls answered: one REST set, or one GraphQL mutation
    lock: threading.Lock = field(default_factory=threading.Lock)

    def called(self) -> None:
        with self.lock:
            self.calls += 1

    def record(self, sku: str, kind: str, value: int) -> None:
        with self.lock:
            self.events.setdefault(sku, []).append((time.time(), kind, value))

    def restart(self, opening: dict[str, int]) -> None:
        """Forget what came before: the shop shows `opening` now."""
        with self.lock:
            self.opening = dict(opening)
            self.events.clear()
            self.calls = 0

    def figures_set(self, skus: Sequence[str]) -> int:
        with self.lock:
            return sum(1 for s in skus for e in self.events.get(s, []) if e[1] == "set")

    def timeline(self, sku: str) -> tuple[list[float], list[int]]:
        """Event times, and for each the highest figure the shop shows from it on,
        negated (so that it ascends, for bisect)."""
        shown = self.opening[sku]
        times, figures = [float("-inf")], [shown]
        for at, kind, value in sorted(self.events.get(sku, [])):
            shown = value if kind == "set" else shown - value
            times.append(at)
            figures.append(shown)
        for i in range(len(figures) - 2, -1, -1):
            figures[i] = max(figures[i], figures[i + 1])
        return times, [-f for f in figures]


def instrument(emulator: ShopifyEmulator, shop_log: ShopLog) -> None:
    """Note every stock-setting call the shop's emulator answers, and each figure it set:
    REST inventory_levels/set (one figure) and GraphQL inventorySetQuantities (many)."""
    state = emulator.state
    one, many = state.set_inventory, state.set_inventory_quantities

    def sku_of(item_id: int) -> str:
        with state.lock:
            return str(state.catalog.inventory_items[item_id]["sku"])

    def noted_one(body: Any) -> Any:
        level = one(body)
        shop_log.called()
        shop_log.record(sku_of(int(body["inventory_item_id"])), "set", int(body["available"]))
        return level

    def noted_many(quantities: list[tuple[int, int, int]]) -> Any:
        levels = many(quantities)
        shop_log.called()
        for _, item_id, available in quantities:
            shop_log.record(sku_of(item_id), "set", available)
        return levels

    state.set_inventory = noted_one  # type: ignore[method-assign]
    state.set_inventory_quantities = noted_many  # type: ignore[method-assign]


def raw_reference(stack: Stack, rounds: int) -> dict[str, float]:
    """Milliseconds for a bare client to set one figure on every shop, one POST each."""
    with stack.hub.uow() as uow:
        records = uow.catalog.shops()
    targets = []
    for record in records:
        emulator = stack.shops[record.code]
        ids = emulator.seed_product({"skus": [REFERENCE_SKU], "stock": 0})
        url = (
            f"{record.settings['base_url']}/admin/api/{emulator.api_version}"
            "/inventory_levels/set.json"
        )
        targets.append(
            (url, emulator.access_token, ids["inventory_item_ids"][REFERENCE_SKU],
             emulator.locations[0]["id"])
        )  # fmt: skip
    took = []
    with httpx.Client() as client:
        for i in range(rounds):
            started = time.perf_counter()
            for url, token, item, location in targets:
                client.post(
                    url,
                    headers={"X-Shopify-Access-Token": token},
                    json={"location_id": location, "inventory_item_id": item, "available": i},
                ).raise_for_status()
            took.append((time.perf_counter() - started) * 1000)
    return percentiles(took, (50, 99))


def settings_for(url: str, window: float) -> Settings:
    key = base64.b64encode(os.urandom(32)).decode()
    return Settings(
        database_url=url,
        encryption_keys=f"bench:{key}",
        stock_push_window=window,
        pull_interval=3600,
        log_level="warning",
    )


def apply_changes(
    stack: Stack, logs: dict[str, ShopLog], args: argparse.Namespace
) -> tuple[dict[str, float], int, int]:
    """N changes on a fixed schedule, from a few threads so that one change waiting for
    the database does not hold up the next: sales on the shops, in turn, and write-offs
    through the service. Returns when each sale was placed (shop order id → wall-clock
    time), and the numbers of sales and write-offs."""
    rng = random.Random(7)
    codes = list(stack.shops)
    plan = []
    for i in range(args.changes):
        sku = rng.choice(stack.sku_codes)
        shop = None if rng.random() < args.adjust_share else codes[i % len(codes)]
        plan.append((i / args.rate, sku, shop))
    placed: dict[str, float] = {}
    began = time.monotonic()

    def drive(lane: int) -> None:
        for due, sku, shop in plan[lane::DRIVERS]:
            time.sleep(max(0.0, began + due - time.monotonic()))
            if shop is None:
                adjust_stock(stack.hub, NODE, sku, -1, reason="bench: written off")
                continue
            # Noted as sold just before the shop counts it: never later than it shows.
            logs[shop].record(sku, "sale", 1)
            sold_at = time.time()
            order = stack.shops[shop].place_order({"lines": [{"sku": sku, "quantity": 1}]})
            placed[str(order["id"])] = sold_at

    drivers = [threading.Thread(target=drive, args=(lane,)) for lane in range(DRIVERS)]
    for driver in drivers:
        driver.start()
    for driver in drivers:
        driver.join()
    sales = sum(1 for _, _, shop in plan if shop is not None)
    return placed, sales, len(plan) - sales


def wait_settled(stack: Stack, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.settled() and all_shops_current(stack):
            return True
        time.sleep(0.2)
    return False


def all_shops_current(stack: Stack) -> bool:
    with stack.hub.uow() as uow:
        levels = {x.sku: x.available for x in uow.stock.levels(nodes=[NODE])}
    return all(
        emulator.inventory_by_sku().get(sku) == levels[sku]
        for emulator in stack.shops.values()
        for sku in stack.sku_codes
    )


def latencies(
    stack: Stack, logs: dict[str, ShopLog], first_row: int, placed: dict[str, float]
) -> tuple[list[float], list[float], int, int, float]:
    """From each change (and each sale's placement) to the last shop showing it, in ms;
    the number of changes some shop never showed; the number of changes; the seconds
    from the first change to the last (the hub takes sales in later than they are made)."""
    led, o = t.stock_ledger.c, t.orders.c
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(led.id, led.sku, led.kind, led.on_hand_delta, led.reserved_delta,
                   led.order_id, led.at)
            .where(led.id > first_row, led.node == NODE)
            .order_by(led.id)
        ).all()  # fmt: skip
        channel_ref = {
            r.id: r.channel_order_id for r in conn.execute(select(o.id, o.channel_order_id))
        }
    with stack.hub.uow() as uow:
        figure = {x.sku: x.available for x in uow.stock.levels(nodes=[NODE])}
    for row in rows:  # back from the final levels to those before the first change
        figure[row.sku] -= row.on_hand_delta - row.reserved_delta
    timelines = {(code, sku): shop.timeline(sku) for code, shop in logs.items() for sku in figure}
    from_change: list[float] = []
    from_sale: list[float] = []
    unseen = changes = 0
    span: list[float] = []
    for row in rows:
        figure[row.sku] += row.on_hand_delta - row.reserved_delta
        if row.kind not in ("reservation", "adjustment"):
            continue  # a shipment takes reserved stock: what can be sold stays the same
        changes += 1
        changed_at = row.at.timestamp()
        span = [span[0] if span else changed_at, changed_at]
        shown_at: float | None = changed_at
        for code in logs:
            times, lowest_after = timelines[(code, row.sku)]
            # The first event from which the shop never shows more than this figure.
            k = bisect.bisect_left(lowest_after, -figure[row.sku])
            if k == len(times) or shown_at is None:
                shown_at = None
                continue
            shown_at = max(shown_at, times[k])
        if shown_at is None:
            unseen += 1
            continue
        from_change.append((shown_at - changed_at) * 1000)
        sold_at = placed.get(channel_ref.get(row.order_id, "") if row.order_id else "")
        if sold_at is not None:
            from_sale.append((shown_at - sold_at) * 1000)
    return from_change, from_sale, unseen, changes, (span[1] - span[0] if span else 0.0)


def push_jobs(stack: Stack, since: float) -> dict[str, Any]:
    """The stock pushes run since `since` (wall clock): how many, and how long each
    took from falling due (change + window) to done, queueing included."""
    j = t.outbox_jobs.c
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(j.run_at, j.done_at).where(
                j.kind == "stock.push", j.created_at >= since, j.done_at.is_not(None)
            )
        ).all()
    return {
        "runs": len(rows),
        "due_to_done_ms": percentiles([(r.done_at - r.run_at) * 1000 for r in rows], (50, 99)),
    }


def start_worker_process(settings: Settings, workdir: Path) -> subprocess.Popen[bytes]:
    """`orderhub worker` on the stack's database, as PostgreSQL's production layout runs
    it beside `serve --no-worker`: the jobs do not share the API's interpreter lock."""
    env = clean_env()
    env.update(
        {
            "ORDERHUB_DATABASE_URL": settings.database_url,
            "ORDERHUB_ENCRYPTION_KEYS": settings.encryption_keys or "",
            "ORDERHUB_STOCK_PUSH_WINDOW": str(settings.stock_push_window),
            "ORDERHUB_PULL_INTERVAL": str(settings.pull_interval),
            "ORDERHUB_LOG_LEVEL": settings.log_level,
        }
    )
    with (workdir / "worker.log").open("wb") as sink:
        return subprocess.Popen(
            [orderhub_command(), "worker"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )


def run_database(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """On SQLite, the hub's API and worker share a process, as `orderhub serve` runs
    them; on PostgreSQL the worker is a process of its own (see `start_worker_process`)."""
    settings = settings_for(url, args.window)
    own_process = make_url(url).get_backend_name() == "postgresql"
    stack = Stack(
        settings,
        StackOptions(
            shops=args.shops,
            skus=args.skus,
            stock=OPENING,
            ship_delay=0.2,
            start_worker=not own_process,
        ),
    ).start()
    workdir = Path(tempfile.mkdtemp(prefix="orderhub-stock-sync-"))
    worker = start_worker_process(settings, workdir) if own_process else None
    try:
        skus = stack.sku_codes
        logs = {code: ShopLog(opening={}) for code in stack.shops}
        for code, emulator in stack.shops.items():
            instrument(emulator, logs[code])
        if not wait_settled(stack, 60):
            raise RuntimeError("the shops never showed the opening stock")
        reference = raw_reference(stack, 50)
        for code, emulator in stack.shops.items():
            logs[code].restart(emulator.inventory_by_sku())
        with stack.hub.db.engine.connect() as conn:
            first_row = conn.execute(select(func.max(t.stock_ledger.c.id))).scalar() or 0
        log(f"{args.changes} changes at {args.rate:g}/s")
        began, began_wall = time.monotonic(), time.time()
        placed, orders, adjustments = apply_changes(stack, logs, args)
        applied_in = time.monotonic() - began
        settled = wait_settled(stack, args.timeout)
        log(f"applied in {applied_in:.1f} s; settled: {settled}")
        calls = {code: shop.calls for code, shop in logs.items()}
        figures_set = {code: shop.figures_set(skus) for code, shop in logs.items()}
        from_change, from_sale, unseen, changes, span = latencies(stack, logs, first_row, placed)
        per_shop = max(calls.values()) * 1000 / args.changes
        change_ms = percentiles(from_change, (50, 99))
        with stack.hub.uow() as uow:
            held = uow.orders.count_by_status().get("held", 0)
        return {
            "orders": orders,
            "adjustments": adjustments,
            "changes_in_ledger": changes,
            "applied_in_s": round(applied_in, 2),
            "applied_per_s": round(args.changes / applied_in, 1),
            "settled": settled,
            "held_orders": held,
            "inventory_set_calls": calls,
            "figures_set": figures_set,
            "set_calls_per_shop_per_1000_changes": round(per_shop, 1),
            "uncoalesced_set_calls_per_shop_per_1000_changes": 1000,
            "changes_span_s": round(span, 2),
            "ceiling_one_call_per_listing_per_window_per_1000_changes": round(
                args.skus * (span / args.window + 1) * 1000 / args.changes, 1
            ),
            "ceiling_one_call_per_shop_per_window_per_1000_changes": round(
                (span / args.window + 1) * 1000 / args.changes, 1
            ),
            "change_to_every_shop_ms": {
                **change_ms,
                "max": round(max(from_change, default=0.0), 1),
            },
            "sale_placed_to_every_shop_ms": percentiles(from_sale, (50, 99)),
            "changes_some_shop_never_showed": unseen,
            "stock_push_jobs": push_jobs(stack, began_wall),
            "raw_reference_set_every_shop_ms": reference,
            "targets_met": {
                "every_change_reached_every_shop": unseen == 0,
                "set_calls_per_shop_per_1000_changes": (
                    per_shop <= TARGETS["set_calls_per_shop_per_1000_changes_max"]
                ),
                "change_to_every_shop_p99": (
                    change_ms["p99"] < TARGETS["change_to_every_shop_p99_ms_max"]
                ),
            },
        }
    finally:
        if worker is not None:
            stop_process(worker)
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--changes", type=int, default=1000, help="stock changes (N)")
    parser.add_argument("--rate", type=float, default=100.0, help="changes per second")
    parser.add_argument("--adjust-share", type=float, default=0.3, help="share of write-offs")
    parser.add_argument("--shops", type=int, default=3)
    parser.add_argument("--skus", type=int, default=5)
    parser.add_argument("--window", type=float, default=1.0, help="stock_push_window, s")
    parser.add_argument("--timeout", type=float, default=120.0, help="longest wait to settle")
    args = parser.parse_args(argv)
    output: dict[str, Any] = {
        "benchmark": "stock_sync",
        "changes": args.changes,
        "rate_per_s": args.rate,
        "shops": args.shops,
        "skus": args.skus,
        "stock_push_window_s": args.window,
        "targets": TARGETS,
        "databases": {},
    }
    workdir = tempfile.mkdtemp(prefix="orderhub-bench-stock-sync.")
    try:
        if args.db in ("sqlite", "both"):
            log("SQLite")
            url = f"sqlite:///{workdir}/stock-sync.db"
            output["databases"]["sqlite"] = run_database(url, args)
        if args.db in ("postgresql", "both"):
            log("PostgreSQL: starting a throwaway server with default settings")
            with postgres_server("orderhub_stock_sync") as url:
                output["databases"]["postgresql"] = run_database(url, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(output))


if __name__ == "__main__":
    main(sys.argv[1:])
