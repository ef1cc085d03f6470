"""Pulling a marketplace shop: orders/s of pull + store + normalize, beside a bare loop.

The shop is the Taobao emulator on loopback, holding `--orders` trades modified over
`--days` days. The hub pulls them with the pull engine (windows of a day, pages read
from the last backwards, each trade read whole), stores each in the inbox and maps it
to a canonical order (the inbox jobs, run to the end). The reference is a bare loop of
exactly the same calls, signed by hand with httpx, that keeps nothing. Reported: both
rates, their ratio, and the API calls spent per 1,000 orders.

Usage: python bench/marketplace_pull.py [--db sqlite|postgresql|both] [--orders N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from _common import log, postgres_server
from orderhub.bootstrap import build_hub
from orderhub.config import HubConfig, NodeConfig, Settings, ShopConfig, SkuConfig
from orderhub.jobs.worker import Worker
from orderhub.sandbox.server import serve_in_thread
from orderhub.sandbox.taobao import TaobaoEmulator
from orderhub.services.setup import apply_config
from orderhub.services.sync import pull_orders

BEIJING = timezone(timedelta(hours=8))
SKUS = [f"SKU-{n:03d}" for n in range(1, 21)]


def _shop(orders: int, days: float) -> tuple[TaobaoEmulator, Any, datetime]:
    shop = TaobaoEmulator(seed=11)
    shop.seed_items([{"sku": sku, "stock": 0} for sku in SKUS])
    now = datetime.now(UTC)
    rng = random.Random(5)
    for _ in range(orders):
        lines = [{"sku": rng.choice(SKUS), "quantity": rng.randint(1, 3)}]
        shop.place_order(
            {"lines": lines}, at=now - timedelta(seconds=rng.uniform(60, days * 86400))
        )
    return shop, serve_in_thread(shop.app), now


def _stamp(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _bare_loop(
    url: str, creds: dict[str, str], since: datetime, now: datetime
) -> tuple[int, float]:
    """The same searches and detail reads, one window a day, keeping nothing."""
    http = httpx.Client(timeout=30)

    def call(method: str, **business: Any) -> dict[str, Any]:
        params = {
            "method": method,
            "app_key": creds["app_key"],
            "session": creds["session"],
            "timestamp": _stamp(datetime.now(UTC)),
            "format": "json",
            "v": "2.0",
            "sign_method": "md5",
            **{k: str(v) for k, v in business.items()},
        }
        text = "".join(f"{k}{params[k]}" for k in sorted(params) if params[k])
        secret = creds["app_secret"]
        params["sign"] = hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()
        body: dict[str, Any] = http.post(f"{url}/router/rest", data=params).json()
        return body

    started, seen = time.perf_counter(), 0
    start = since
    while start < now:
        end = min(start + timedelta(days=1), now)
        window = {"start_modified": _stamp(start), "end_modified": _stamp(end)}
        first = call(
            "taobao.trades.sold.increment.get", fields="tid,modified", page_size=100, **window
        )
        total = first["trades_sold_increment_get_response"]["total_results"]
        for page in range(1, max(math.ceil(total / 100), 1) + 1):
            found = call(
                "taobao.trades.sold.increment.get",
                fields="tid,modified",
                page_size=100,
                page_no=page,
                **window,
            )["trades_sold_increment_get_response"]
            for trade in found["trades"]["trade"]:
                call("taobao.trade.fullinfo.get", fields="tid,orders", tid=trade["tid"])
                seen += 1
        start = end
    http.close()
    return seen, time.perf_counter() - started


def run(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    shop, server, now = _shop(args.orders, args.days)
    since = now - timedelta(days=args.days, minutes=5)
    try:
        seen, bare_seconds = _bare_loop(server.url, shop.credentials, since, now)
        calls_before = sum(shop.stats()["calls"].values())
        settings = Settings(database_url=database_url, worker_threads=4)
        hub = build_hub(settings)
        apply_config(
            hub,
            HubConfig(
                shops=[
                    ShopConfig(
                        code="TB1",
                        platform="taobao",
                        nodes=["WH1"],
                        settings={"base_url": server.url, "app_key": shop.credentials["app_key"]},
                        secrets={
                            "app_secret": shop.credentials["app_secret"],
                            "session": shop.credentials["session"],
                        },
                    )
                ],
                nodes=[
                    NodeConfig(
                        code="WH1",
                        platform="qimen",
                        settings={
                            "base_url": "http://127.0.0.1:9/router",
                            "app_key": "k",
                            "customer_id": "c",
                            "owner_code": "c",
                            "warehouse_code": "WH1",
                        },
                        secrets={"app_secret": "x"},
                    )
                ],
                skus=[SkuConfig(sku=sku) for sku in SKUS],
            ),
        )
        started = time.perf_counter()
        pulled = pull_orders(hub, "TB1", since=since)
        pulled_at = time.perf_counter()
        Worker(hub, threads=1, kinds=["inbox.process"]).run_until_idle(timeout=600)
        finished = time.perf_counter()
        calls = sum(shop.stats()["calls"].values()) - calls_before
        with hub.reader() as uow:
            stored = sum(uow.orders.count_by_status().values())
        hub.close()
    finally:
        server.stop()
    hub_rate = stored / (finished - started)
    bare_rate = seen / bare_seconds
    return {
        "orders": args.orders,
        "pulled": pulled.fetched,
        "stored_orders": stored,
        "windows": pulled.windows,
        "hub_orders_per_s": round(hub_rate, 1),
        "pull_seconds": round(pulled_at - started, 2),
        "normalize_seconds": round(finished - pulled_at, 2),
        "bare_loop_orders_per_s": round(bare_rate, 1),
        "ratio_hub_to_bare": round(hub_rate / bare_rate, 3),
        "api_calls_per_1000_orders": round(calls * 1000 / max(stored, 1), 1),
    }


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--days", type=float, default=3.0)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"platform": "taobao"}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            log("sqlite: pulling")
            results["sqlite"] = run(f"sqlite:///{folder}/hub.db", args)
    if args.db in ("postgresql", "both"):
        with postgres_server() as url:
            log("postgresql: pulling")
            results["postgresql"] = run(url, args)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
