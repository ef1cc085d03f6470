"""The console's pages on a large store: p50/p95 of every list the console loads.

A hub's database is filled with `--orders` orders (100,000 by default) over five shops
and every stage, with a trace for each and an open exception on one in fifty. The
hub's API then serves, with a signed-in browser session (cookie), the calls the
console's pages make: the dashboard, the first page of orders, a page deep in the list
(keyset, `after`), a filter by shop and status, a search by order number, by SKU, by
tracking number, by the last four digits of a phone and by day, one order with its
trace, the exception queue grouped by code, the failed jobs, the connections, the
returns, alerts and suppliers, and the console's own page. Each is
timed `--repeat` times. The reference is the same server answering `/healthz` (routing,
the session and HTTP without the database), measured the same way; each page reports its
p95 and the ratio of its p50 to the reference's.

Usage: python bench/console_pages.py [--db sqlite|postgresql|both] [--orders N]
       [--repeat N]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text, update

from _common import log, percentiles, postgres_server
from orderhub.api.app import create_app
from orderhub.bootstrap import build_hub
from orderhub.config import Settings
from orderhub.domain.access import Principal, Role
from orderhub.domain.order import Address, Buyer, Order, OrderLine, OrderStatus, Totals
from orderhub.sandbox.server import serve_in_thread
from orderhub.services.accounts import create_user
from orderhub.services.hub import Hub
from orderhub.store import tables as t

SHOPS = ["TB1", "JD1", "PD1", "DY1", "SHOP1"]
STATUSES = [
    OrderStatus.COMPLETED,
    OrderStatus.COMPLETED,
    OrderStatus.COMPLETED,
    OrderStatus.SHIPPED,
    OrderStatus.PUSHED,
    OrderStatus.RESERVED,
    OrderStatus.HELD,
    OrderStatus.CANCELLED,
]
TARGET_P95_MS = 300.0
PASSWORD = "a benchmark password"


def an_order(n: int, rng: random.Random, now: datetime) -> Order:
    shop = SHOPS[n % len(SHOPS)]
    quantity = rng.randint(1, 3)
    price = Decimal(rng.choice(["19.90", "59.00", "129.00"]))
    total = price * quantity
    return Order(
        shop=shop,
        platform="shopify",
        channel_order_id=str(10_000_000 + n),
        order_no=f"#{100_000 + n}",
        status=STATUSES[n % len(STATUSES)],
        placed_at=now - timedelta(minutes=n % (60 * 24 * 30)),
        channel_updated_at=now,
        currency="CNY",
        totals=Totals(items=total, grand_total=total),
        buyer=Buyer(name="张三", phone="13812348000"),
        receiver=Address(
            name="张三",
            phone=f"138{n % 10**8:08d}",
            country="CN",
            province="浙江省",
            city="杭州市",
            district="西湖区",
            address1=f"文三路 {n % 999} 号",
        ),
        lines=[
            OrderLine(
                line_id="1",
                channel_sku=f"SKU-{n % 50:03d}",
                sku=f"SKU-{n % 50:03d}",
                title="item",
                quantity=quantity,
                unit_price=price,
            )
        ],
    )


def tracking_no(n: int) -> str:
    return f"SF{n:010d}"


def fill(hub: Hub, orders: int) -> list[str]:
    """Store the orders with a short trace each; one in fifty has an open exception."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    ids: list[str] = []
    batch = 2000
    for start in range(0, orders, batch):
        with hub.uow() as uow:
            for n in range(start, min(start + batch, orders)):
                order = an_order(n, rng, now)
                order_id = uow.orders.add(order)
                uow.orders.trace(order_id, "received", "ok", "from the shop's webhook")
                uow.orders.trace(order_id, "route", "ok", "to WH1")
                if order.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
                    uow.shipments.add(
                        order_id,
                        "WH1",
                        confirm_id=f"C{n}",
                        carrier="SF",
                        tracking_no=tracking_no(n),
                        lines=[("1", order.lines[0].quantity)],
                        shipped_at=now,
                    )
                if n % 50 == 0:
                    uow.exceptions.open(
                        stage="validate",
                        code=rng.choice(["unknown_sku", "invalid_address", "amounts_mismatch"]),
                        message="held for the benchmark",
                        field="lines[0].channel_sku",
                        order_id=order_id,
                    )
                ids.append(order_id)
            uow.commit()
        if start % 20_000 == 0:
            log(f"{start + batch} orders stored")
    with hub.db.engine.begin() as conn:
        # As if each order had arrived when it was placed, over the last thirty days.
        conn.execute(update(t.orders).values(created_at=t.orders.c.placed_at))
    if hub.db.engine.dialect.name == "postgresql":
        # The statistics a running store's autovacuum keeps, at once.
        with hub.db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return ids


def shipped(rng: random.Random, orders: int) -> int:
    """An order number the seeding gave a parcel (shipped or completed)."""
    while True:
        n = rng.randrange(orders)
        if STATUSES[n % len(STATUSES)] in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
            return n


def time_calls(client: httpx.Client, path: Callable[[int], str], repeat: int) -> dict[str, Any]:
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        reply = client.get(path(i))
        samples.append((time.perf_counter() - started) * 1000)
        if reply.status_code != 200:
            raise RuntimeError(f"{path(i)} answered {reply.status_code}: {reply.text[:200]}")
    return percentiles(samples)


def run(db: str, url: str, orders: int, repeat: int) -> dict[str, Any]:
    key = base64.b64encode(os.urandom(32)).decode()
    hub = build_hub(Settings(database_url=url, encryption_keys=f"k1:{key}"))
    try:
        started = time.perf_counter()
        ids = fill(hub, orders)
        seeded = time.perf_counter() - started
        log(f"{db}: {orders} orders stored in {seeded:.0f} s")
        create_user(
            hub,
            "bench",
            "owner",
            actor=Principal("bench", Role.OWNER, via="bench"),
            password=PASSWORD,
        )
        server = serve_in_thread(create_app(hub))
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                client.post("/api/v1/session", json={"name": "bench", "password": PASSWORD})
                first = client.get("/api/v1/orders?limit=50").json()
                deep = client.get(f"/api/v1/orders?limit=50&after={ids[len(ids) // 2]}").json()
                assert len(first) == 50 and len(deep) == 50
                rng = random.Random(5)
                yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
                pages: dict[str, Callable[[int], str]] = {
                    "dashboard": lambda _: "/api/v1/dashboard",
                    "orders_first_page": lambda _: "/api/v1/orders?limit=50",
                    "orders_deep_page": lambda _: (
                        f"/api/v1/orders?limit=50&after={rng.choice(ids)}"
                    ),
                    "orders_by_shop_and_status": lambda i: (
                        f"/api/v1/orders?limit=50&shop={SHOPS[i % 5]}&status=held"
                    ),
                    "orders_search_number": lambda _: (
                        f"/api/v1/orders?limit=50&search={100_000 + rng.randrange(orders)}"
                    ),
                    "orders_by_sku": lambda i: f"/api/v1/orders?limit=50&sku=SKU-{i % 50:03d}",
                    "orders_by_tracking_no": lambda _: (
                        f"/api/v1/orders?limit=50&tracking_no={tracking_no(shipped(rng, orders))}"
                    ),
                    "orders_placed_yesterday": lambda _: (
                        f"/api/v1/orders?limit=50&placed_from={yesterday}&placed_to={yesterday}"
                    ),
                    "orders_by_phone": lambda i: (
                        f"/api/v1/orders?limit=50&phone_last4={i * 37 % 10_000:04d}"
                    ),
                    "order_detail": lambda _: f"/api/v1/orders/{rng.choice(ids)}",
                    "returns": lambda _: "/api/v1/returns?limit=100",
                    "alerts": lambda _: "/api/v1/alerts?limit=100",
                    "suppliers": lambda _: "/api/v1/suppliers",
                    "exceptions": lambda _: "/api/v1/exceptions?limit=1000",
                    "jobs_dead": lambda _: "/api/v1/jobs?status=dead&limit=50",
                    "connections": lambda _: "/api/v1/connections",
                    "console_page": lambda _: "/",
                }
                for path in pages.values():
                    time_calls(client, path, 3)  # warm
                reference = time_calls(client, lambda _: "/healthz", repeat)
                timed = {name: time_calls(client, path, repeat) for name, path in pages.items()}
        finally:
            server.stop()
    finally:
        hub.close()
    base = reference["p50"] or 0.1
    return {
        "orders": orders,
        "seed_seconds": round(seeded, 1),
        "reference_healthz_ms": reference,
        "pages_ms": {
            name: {**p, "p50_vs_reference": round((p["p50"] or 0) / base, 1)}
            for name, p in timed.items()
        },
        "worst_p95_ms": max(p["p95"] or 0 for p in timed.values()),
        "targets_met": all((p["p95"] or 1e9) < TARGET_P95_MS for p in timed.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()
    result: dict[str, Any] = {"target_p95_ms": TARGET_P95_MS}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/pages.db"
            result["sqlite"] = run("sqlite", url, args.orders, args.repeat)
    if args.db in ("postgresql", "both"):
        with postgres_server() as url:
            result["postgresql"] = run("postgresql", url, args.orders, args.repeat)
    print(json.dumps(result), file=sys.stdout)


if __name__ == "__main__":
    main()
