"""Reports at 1,000,000 orders: how long each report takes on PostgreSQL (and SQLite).

A year of N orders (1,000,000) over S shops, K SKUs and 3 nodes is generated in memory
with a fixed seed (1 to 3 lines each, a few cancelled, some refunded, every shipped one
with its times) and counted into the report figures with the same arithmetic the hub
uses (`FigureRepository.add_sales_of_days`, `add_orders`, `add_times`), summed per day first as
the hub's upserts would leave them. Orders themselves are not stored: no report reads
them. Each report (sales by day, shop, SKU and node over the year and over 30 days,
fulfilment, stock) is then asked through the service the API calls, five times, and the
median is reported beside the raw reference: one bare `SELECT count(*), sum(units)` over
the whole sales table, the least any report over it could cost.

Target: every report under 2 s on PostgreSQL at 1,000,000 orders.
Progress goes to stderr; one JSON object is printed on stdout.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from _common import log, postgres_server
from orderhub.bootstrap import build_hub
from orderhub.config import Settings
from orderhub.domain.access import Principal, Role
from orderhub.services.hub import Hub
from orderhub.services.reports import report
from orderhub.store.report_figures import SaleLine, bucket_of

OWNER = Principal("bench", Role.OWNER, via="bench")


def settings_for(url: str) -> Settings:
    key = base64.b64encode(os.urandom(32)).decode()
    return Settings(database_url=url, encryption_keys=f"bench:{key}", log_level="warning")


def seed(hub: Hub, args: argparse.Namespace) -> dict[str, int]:
    """Count N generated orders into the figures; how many rows each table got."""
    rng = random.Random(7)
    last = date.today()
    first = last - timedelta(days=args.days - 1)
    shops = [f"SHOP{n}" for n in range(1, args.shops + 1)]
    skus = [f"SKU-{n:04d}" for n in range(1, args.skus + 1)]
    prices = {sku: Decimal(rng.randint(500, 30000)) / 100 for sku in skus}
    nodes = ["WH1", "WH2", "SUP1"]
    sales: dict[tuple[date, str, str, str], list[Any]] = defaultdict(
        lambda: [0, 0, Decimal("0"), Decimal("0"), Decimal("0"), 0, Decimal("0")]
    )
    orders: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    times: dict[tuple[date, str, str, str, int], int] = defaultdict(int)
    for _ in range(args.orders):
        day = first + timedelta(days=rng.randrange(args.days))
        shop = rng.choice(shops)
        node = rng.choice(nodes)
        cancelled = rng.random() < 0.04
        refunded = not cancelled and rng.random() < 0.05
        counts = orders[(day, shop)]
        counts[0] += 1
        for sku in rng.sample(skus, rng.choice((1, 1, 1, 2, 2, 3))):
            quantity = rng.choice((1, 1, 2, 3))
            value = prices[sku] * quantity
            row = sales[(day, shop, sku, node)]
            row[0] += 1
            row[1] += quantity
            row[2] += value
            if refunded:
                row[4] += (value / 2).quantize(Decimal("0.01"))
            if cancelled:
                row[5] += quantity
                row[6] += value
        if cancelled:
            counts[1] += 1
            continue
        counts[4] += int(refunded)
        to_node = rng.uniform(5, 600)
        to_ship = to_node + rng.uniform(3600, 3 * 86400)
        times[(day, shop, node, "to_node", bucket_of(to_node))] += 1
        times[(day, shop, node, "to_ship", bucket_of(to_ship))] += 1
        counts[2] += 1
        counts[3] += int(to_ship > 2 * 86400)
    log(f"{len(sales)} sales rows, {len(orders)} order rows, {len(times)} time rows")
    batch = 5000
    items = [
        (day, shop, SaleLine(sku, node, v[0], v[1], v[2], v[3], v[4], v[5], v[6]))
        for (day, shop, sku, node), v in sales.items()
    ]
    for start in range(0, len(items), batch):
        with hub.uow() as uow:
            uow.figures.add_sales_of_days(items[start : start + batch])
            uow.commit()
        if start // batch % 40 == 0:
            log(f"sales rows {start + batch}/{len(items)}")
    with hub.uow() as uow:
        for (day, shop), c in orders.items():
            uow.figures.add_orders(
                day,
                shop,
                orders=c[0],
                cancelled=c[1],
                shipped=c[2],
                shipped_late=c[3],
                refunded=c[4],
            )
        uow.commit()
    cells = [(*key, count) for key, count in times.items()]
    for start in range(0, len(cells), batch):
        with hub.uow() as uow:
            uow.figures.add_times(cells[start : start + batch])
            uow.commit()
    with hub.uow() as uow:
        for n, sku in enumerate(skus):
            for node in nodes[:2]:
                uow.stock.adjust(node, sku, (n * 37) % 500, kind="stocktake", reason="bench")
        uow.commit()
    return {"sales_rows": len(sales), "order_rows": len(orders), "time_rows": len(times)}


def timed(call: Any, repeat: int) -> float:
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(took), 1)


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    hub = build_hub(settings_for(url))
    try:
        started = time.perf_counter()
        rows = seed(hub, args)
        seeded = time.perf_counter() - started
        if hub.db.is_postgres:
            with hub.db.engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        today = date.today()
        year = today - timedelta(days=args.days - 1)
        month = today - timedelta(days=29)

        def reference() -> None:
            with hub.db.engine.connect() as conn:
                conn.execute(text("SELECT count(*), sum(units) FROM sales_by_day")).all()

        asks = {
            "sales_by_day_year": lambda: report(hub, "sales", who=OWNER, start=year, by=["day"]),
            "sales_by_shop_year": lambda: report(hub, "sales", who=OWNER, start=year, by=["shop"]),
            "sales_by_sku_year": lambda: report(hub, "sales", who=OWNER, start=year, by=["sku"]),
            "sales_by_node_year": lambda: report(hub, "sales", who=OWNER, start=year, by=["node"]),
            "sales_by_day_shop_30d": lambda: report(
                hub, "sales", who=OWNER, start=month, by=["day", "shop"]
            ),
            "fulfilment_by_day_year": lambda: report(
                hub, "fulfilment", who=OWNER, start=year, by=["day"]
            ),
            "fulfilment_by_node_30d": lambda: report(
                hub, "fulfilment", who=OWNER, start=month, by=["node"]
            ),
            "stock_30d": lambda: report(hub, "stock", who=OWNER, days=30),
        }
        reference_ms = timed(reference, args.repeat)
        figures = {name: timed(ask, args.repeat) for name, ask in asks.items()}
        worst = max(figures.values())
        return {
            "orders": args.orders,
            **rows,
            "seed_seconds": round(seeded, 1),
            "report_ms_median": figures,
            "reference_full_scan_ms": reference_ms,
            "worst_report_ms": worst,
            "worst_over_reference": round(worst / reference_ms, 2) if reference_ms else None,
            "target_ms": 2000,
            "targets_met": worst < 2000,
        }
    finally:
        hub.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="postgresql")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--shops", type=int, default=5)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args.db in ("postgresql", "both"):
        with postgres_server("orderhub_bench_reports") as url:
            results["postgresql"] = run(url, args)
    if args.db in ("sqlite", "both"):
        folder = tempfile.mkdtemp(prefix="orderhub-bench-reports.")
        try:
            results["sqlite"] = run(f"sqlite:///{folder}/hub.db", args)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"benchmark": "reports", **results}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
