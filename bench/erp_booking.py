"""ERP booking: sales orders booked into the K/3 Cloud emulator per second, beside a bare
loop of the same calls.

A `Stack` (Shopify emulator, Qimen WMS emulator, K/3 Cloud emulator, the hub's API and
a worker, all in this process, on loopback) takes N orders to the warehouse with booking
switched off. Then booking is switched on and every order's `erp.book` job is queued at
once; the worker books them (per document: a query for our number, Save, Submit,
Audit, then the record and the trace in the hub's database), and the time from the
first job queued to the last document audited gives bookings per second.

The raw reference, in the same run against the same emulator: the connector's `book`
called for the same documents from as many threads as the worker has, with no job
queue, no database and no trace. The ratio says what the hub's exactly-once machinery
costs on top of the ERP's own calls.

Progress goes to stderr; one JSON object is printed on stdout.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from _common import log, postgres_server
from orderhub.config import Settings
from orderhub.connectors.books import ErpDocument
from orderhub.connectors.k3cloud import erp_from_settings
from orderhub.demo_stack import Stack, StackOptions
from orderhub.services.books import queue_booking
from orderhub.services.setup import erp_record
from orderhub.store import tables as t


def settings_for(url: str, threads: int) -> Settings:
    key = base64.b64encode(os.urandom(32)).decode()
    return Settings(
        database_url=url,
        encryption_keys=f"bench:{key}",
        pull_interval=3600,
        worker_threads=threads,
        log_level="warning",
    )


def wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    stack = Stack(
        settings_for(url, args.threads),
        StackOptions(
            erp=True,
            erp_settings={"book": []},
            ship_delay=3600.0,
            stock=1_000_000,
            skus=5,
            worker_threads=args.threads,
        ),
    ).start()
    try:
        shop = stack.shops["SHOP1"]
        emulator = stack.erp
        assert emulator is not None and stack.hub_config.erp is not None
        log(f"placing {args.orders} orders")
        shop.place_random_orders(args.orders, skus=stack.sku_codes)
        wait(
            lambda: stack.qimen.stats()["distinct_orders"] >= args.orders,
            args.timeout,
            "every order at the warehouse",
        )
        erp = stack.hub_config.erp
        on = erp.model_copy(update={"settings": {**erp.settings, "book": ["sale_order"]}})
        with stack.hub.uow() as uow:
            uow.books.put_erp(erp_record(on))
            uow.commit()
        with stack.hub.db.engine.connect() as conn:
            ids = list(conn.execute(select(t.orders.c.id)).scalars())
        with stack.hub.uow() as uow:
            orders = [uow.orders.get(oid) for oid in ids]
            log(f"queueing {len(orders)} bookings")
            started = time.perf_counter()
            for order in orders:
                queue_booking(uow, "sale_order", order.id, order)
            uow.commit()
        wait(lambda: emulator.calls["Audit"] >= len(orders), args.timeout, "every sale audited")
        hub_seconds = time.perf_counter() - started
        saves = emulator.calls["Save"]
        assert all(b["DocumentStatus"] == "C" for b in emulator.bills("SAL_SaleOrder"))
        log(f"hub: {len(orders)} in {hub_seconds:.2f} s")

        # The reference: the same documents (new numbers) booked by the connector alone.
        connector = erp_from_settings({**erp.settings, **erp.secrets})
        documents = [
            ErpDocument(
                "sale_order",
                f"ref-{n}",
                {
                    "erp": {"org": "100"},
                    "shop": {"code": "SHOP1", "customer": "SHOP1"},
                    "order": {"channel_order_id": f"ref-{n}", "placed_at": "2026-12-04T00:00:00Z"},
                    "lines": [
                        {"sku": stack.sku_codes[n % 5], "quantity": 1, "unit_price": "19.90"}
                    ],
                },
            )
            for n in range(len(orders))
        ]
        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(connector.book, documents))
        reference_seconds = time.perf_counter() - started
        connector.close()
        log(f"reference: {len(documents)} in {reference_seconds:.2f} s")
        hub_rate = len(orders) / hub_seconds
        reference_rate = len(documents) / reference_seconds
        return {
            "documents": len(orders),
            "worker_threads": args.threads,
            "hub_bookings_per_s": round(hub_rate, 1),
            "reference_bookings_per_s": round(reference_rate, 1),
            "ratio": round(hub_rate / reference_rate, 3),
            "saves_per_document": round(saves / len(orders), 3),
            "erp_calls_per_document": 4,
        }
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args.db in ("sqlite", "both"):
        folder = tempfile.mkdtemp(prefix="orderhub-bench-erp.")
        try:
            results["sqlite"] = run(f"sqlite:///{folder}/hub.db", args)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.db in ("postgresql", "both"):
        with postgres_server("orderhub_bench_erp") as url:
            results["postgresql"] = run(url, args)
    print(json.dumps({"benchmark": "erp_booking", **results}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
