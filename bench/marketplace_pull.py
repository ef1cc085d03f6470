"""Pulling marketplace shops: orders/s of pull + store + normalize, beside a bare loop.

For each platform (Taobao, Pinduoduo, JD, Douyin) its emulator on loopback holds
`--orders` orders modified over a span its windows must cut into several. The hub pulls
them with the pull engine, stores each in the inbox and maps it to a canonical order
(the inbox jobs, run to the end). The reference is a bare loop of exactly the same
calls, made by the same connector over the same windows, that keeps nothing. Reported
per platform: both rates, their ratio, and the API calls spent per 1,000 orders.

Usage: python bench/marketplace_pull.py [--db sqlite|postgresql|both] [--orders N]
       [--platforms taobao,pdd,jd,douyin]
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
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import log, postgres_server
from orderhub.bootstrap import build_hub
from orderhub.config import HubConfig, NodeConfig, Settings, SkuConfig
from orderhub.connectors.kit.pull import orders_since
from orderhub.connectors.registry import channel_connector
from orderhub.demo_marketplaces import start_marketplace
from orderhub.jobs.worker import Worker
from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.services.setup import apply_config
from orderhub.services.sync import pull_orders

SKUS = [f"SKU-{n:03d}" for n in range(1, 21)]
SPAN = {
    "taobao": timedelta(days=3),
    "pdd": timedelta(hours=6),
    "jd": timedelta(days=70),
    "douyin": timedelta(days=3),
}
"""Each platform's orders spread over several of its windows (a day, half an hour, a
month, a day)."""


def _calls(emulator: Any) -> int:
    return int(sum(emulator.stats()["calls"].values()))


def run(database_url: str, platform: str, args: argparse.Namespace) -> dict[str, Any]:
    servers: list[RunningServer] = []

    def serve(app: Any) -> RunningServer:
        servers.append(serve_in_thread(app))
        return servers[-1]

    market = start_marketplace(
        platform,
        "M1",
        skus=SKUS,
        stock=0,
        nodes=["WH1"],
        routing={},
        serve=serve,
        webhook_url="http://127.0.0.1:9/nowhere",
    )
    emulator, shop = market.emulator, market.shop
    if platform == "douyin":
        emulator.configure(push_url=None)
    now = datetime.now(UTC)
    rng = random.Random(5)
    span = SPAN[platform].total_seconds()
    for _ in range(args.orders):
        lines = [{"sku": rng.choice(SKUS), "quantity": rng.randint(1, 3)}]
        emulator.place_order({"lines": lines}, at=now - timedelta(seconds=rng.uniform(60, span)))
    since = now - SPAN[platform] - timedelta(minutes=5)
    until = datetime.now(UTC) + timedelta(seconds=1)
    try:
        bare = channel_connector(platform, {**shop.settings, **shop.secrets})
        started = time.perf_counter()
        seen = sum(1 for _ in orders_since(bare, since, now=until))
        bare_seconds = time.perf_counter() - started
        bare.close()
        calls_before = _calls(emulator)
        key = base64.b64encode(os.urandom(32)).decode()
        hub = build_hub(
            Settings(database_url=database_url, worker_threads=4, encryption_keys=f"bench:{key}")
        )
        apply_config(
            hub,
            HubConfig(
                shops=[shop],
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
        pulled = pull_orders(hub, "M1", since=since)
        pulled_at = time.perf_counter()
        Worker(hub, threads=1, kinds=["inbox.process"]).run_until_idle(timeout=600)
        finished = time.perf_counter()
        calls = _calls(emulator) - calls_before
        with hub.reader() as uow:
            stored = sum(uow.orders.count_by_status().values())
        hub.close()
    finally:
        for server in servers:
            server.stop()
        emulator.stop()
    hub_rate = stored / (finished - started)
    bare_rate = seen / bare_seconds
    return {
        "orders": args.orders,
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
    parser.add_argument("--platforms", default="taobao,pdd,jd,douyin")
    args = parser.parse_args(argv)
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    results: dict[str, Any] = {}
    if args.db in ("sqlite", "both"):
        for platform in platforms:
            with tempfile.TemporaryDirectory() as folder:
                log(f"sqlite: {platform}")
                results.setdefault(platform, {})["sqlite"] = run(
                    f"sqlite:///{folder}/hub.db", platform, args
                )
    if args.db in ("postgresql", "both"):
        for platform in platforms:
            with postgres_server() as url:
                log(f"postgresql: {platform}")
                results.setdefault(platform, {})["postgresql"] = run(url, platform, args)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
