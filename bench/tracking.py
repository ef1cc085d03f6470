"""Parcel tracking: 快递100 callbacks processed per second, beside a bare signed-form
handler on the same database, and the scans stored per parcel-day.

A `Stack` (Shopify and Qimen emulators, the 快递100 emulator, the hub's API and a
worker, in this process, on loopback) ships N orders, so N parcels are subscribed.
Then each parcel's life is replayed as 快递100 tells it: `--scans` scans over `--days`
days, one callback per scan carrying the whole history so far (newest first), signed
`MD5(param + salt)`. The callbacks are posted from `--clients` threads; the time from
the first post to the last callback applied (verified, stored, read, its new scans kept,
the parcel moved) gives callbacks per second.

The raw reference, in the same run on the same database: a handler that only checks
the same signature on the same form and stores the body with one INSERT and commit,
served the same way, fed the same callbacks by the same threads.

Progress goes to stderr; one JSON object is printed on stdout.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import httpx
from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    create_engine,
    func,
    insert,
    select,
)
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from _common import log, postgres_server
from orderhub.config import Settings
from orderhub.demo_stack import Stack, StackOptions
from orderhub.sandbox.server import serve_in_thread
from orderhub.store import tables as t

BEIJING = timezone(timedelta(hours=8))
ACK = {"result": True, "returnCode": "200", "message": "成功"}
STATES = ["1", "0", "0", "0", "0", "0", "5", "3"]


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
        time.sleep(0.05)


def callbacks(numbers: list[str], salt: str, scans: int, days: float) -> list[bytes]:
    """Each parcel's callbacks, one per scan, each with the whole history so far."""
    start = datetime.now(UTC) - timedelta(days=days)
    step = timedelta(days=days) / scans
    bodies = []
    for number in numbers:
        history: list[dict[str, str]] = []
        for n in range(scans):
            state = STATES[min(n, len(STATES) - 2)] if n < scans - 1 else "3"
            when = (start + step * n).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
            history.insert(
                0,
                {
                    "context": f"快件到达【第{n + 1}站转运中心】",
                    "time": when,
                    "ftime": when,
                    "areaName": "浙江省,杭州市",
                    "status": {"1": "揽收", "0": "在途", "5": "派件", "3": "签收"}[state],
                },
            )
            param = json.dumps(
                {
                    "status": "shutdown" if state == "3" else "polling",
                    "billstatus": "got",
                    "message": "",
                    "lastResult": {
                        "message": "ok",
                        "state": state,
                        "status": "200",
                        "ischeck": "1" if state == "3" else "0",
                        "com": "shunfeng",
                        "nu": number,
                        "data": list(history),
                    },
                },
                ensure_ascii=False,
            )
            sign = hashlib.md5((param + salt).encode()).hexdigest().upper()
            bodies.append(str(httpx.QueryParams({"param": param, "sign": sign})).encode())
    return bodies


def post_all(url: str, bodies: list[bytes], clients: int) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client(timeout=30) as http:

        def send(body: bytes) -> None:
            reply = http.post(url, content=body, headers=headers)
            if reply.status_code != 200 or reply.json() != ACK:
                raise RuntimeError(f"{url} answered {reply.status_code}: {reply.text[:200]}")

        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, bodies))


def reference_app(url: str, salt: str) -> tuple[Starlette, Any]:
    """Verify MD5(param + salt) on the form and store the body: one INSERT, one commit."""
    engine = create_engine(url, pool_size=10, max_overflow=10)
    table = Table(
        "bench_tracking_reference",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("body", LargeBinary, nullable=False),
    )
    table.metadata.create_all(engine)

    def store(body: bytes) -> bool:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        expected = hashlib.md5((form.get("param", "") + salt).encode()).hexdigest().upper()
        if not hmac.compare_digest(expected, form.get("sign", "")):
            return False
        with engine.begin() as conn:
            conn.execute(insert(table).values(body=body))
        return True

    async def handle(request: Request) -> Response:
        ok = await run_in_threadpool(store, await request.body())
        return JSONResponse(ACK if ok else {"result": False}, status_code=200 if ok else 401)

    return Starlette(routes=[Route("/kd", handle, methods=["POST"])]), engine


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    stack = Stack(
        settings_for(url, args.threads),
        StackOptions(
            tracking=True,
            ship_delay=0.01,
            stock=1_000_000,
            skus=5,
            worker_threads=args.threads,
        ),
    ).start()
    try:
        tracker = stack.tracker
        assert tracker is not None and stack.hub_config.trackers
        salt = stack.hub_config.trackers[0].secrets["salt"]
        log(f"shipping {args.parcels} orders")
        stack.shops["SHOP1"].place_random_orders(args.parcels, skus=stack.sku_codes)
        wait(lambda: len(tracker.parcels) >= args.parcels, args.timeout, "every parcel followed")
        numbers = sorted(tracker.parcels)
        bodies = callbacks(numbers, salt, args.scans, args.days)
        engine = stack.hub.db.engine

        def applied() -> int:
            with engine.connect() as conn:
                return int(
                    conn.execute(
                        select(func.count())
                        .select_from(t.inbox)
                        .where(t.inbox.c.source == "tracker", t.inbox.c.status != "pending")
                    ).scalar_one()
                )

        log(f"posting {len(bodies)} callbacks to the hub")
        started = time.perf_counter()
        post_all(f"{stack.api.url}/tracking/KD100", bodies, args.clients)
        wait(lambda: applied() >= len(bodies), args.timeout, "every callback applied")
        hub_seconds = time.perf_counter() - started
        with engine.connect() as conn:
            events = int(
                conn.execute(select(func.count()).select_from(t.parcel_events)).scalar_one()
            )
            delivered = int(
                conn.execute(
                    select(func.count())
                    .select_from(t.parcels)
                    .where(t.parcels.c.status == "delivered")
                ).scalar_one()
            )
        log(f"hub: {len(bodies)} in {hub_seconds:.2f} s; {events} scans kept")

        app, reference_engine = reference_app(url, salt)
        server = serve_in_thread(app)
        try:
            started = time.perf_counter()
            post_all(f"{server.url}/kd", bodies, args.clients)
            reference_seconds = time.perf_counter() - started
        finally:
            server.stop()
            reference_engine.dispose()
        log(f"reference: {len(bodies)} in {reference_seconds:.2f} s")
        hub_rate = len(bodies) / hub_seconds
        reference_rate = len(bodies) / reference_seconds
        received = sum(range(1, args.scans + 1)) * len(numbers)
        return {
            "parcels": len(numbers),
            "callbacks": len(bodies),
            "clients": args.clients,
            "worker_threads": args.threads,
            "hub_callbacks_per_s": round(hub_rate, 1),
            "reference_callbacks_per_s": round(reference_rate, 1),
            "ratio": round(hub_rate / reference_rate, 3),
            "scans_received": received,
            "scans_stored": events,
            "scans_stored_per_parcel_day": round(events / len(numbers) / args.days, 2),
            "delivered": delivered,
        }
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--parcels", type=int, default=200)
    parser.add_argument("--scans", type=int, default=8)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args.db in ("sqlite", "both"):
        folder = tempfile.mkdtemp(prefix="orderhub-bench-tracking.")
        try:
            results["sqlite"] = run(f"sqlite:///{folder}/hub.db", args)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.db in ("postgresql", "both"):
        with postgres_server("orderhub_bench_tracking") as url:
            results["postgresql"] = run(url, args)
    print(json.dumps({"benchmark": "tracking", **results}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
