"""Whole-pipeline benchmark: Shopify webhook in → reserved → delivered to the WMS.

Three kinds of process, so that no two of them share an interpreter lock:

* the hub, started as an operator starts it (`orderhub serve` with ORDERHUB_* and a
  configuration YAML): its HTTP API and its in-process worker;
* this process: the Shopify and Qimen emulators (uvicorn threads) and the bookkeeping;
  a thin ASGI wrapper around the WMS emulator notes when each delivery order arrives;
* the load generator (`bench/_loadgen.py`), posting signed webhooks.

The raw reference (`bench/_reference.py`: verify the HMAC, one INSERT, commit) is
driven by the same load generator, in the same run, on the same kind of database.

Figures, per database: reference webhooks/s; pipeline orders/s (first webhook sent until
the WMS has every order), split into the orders/s reaching the WMS while webhooks were
still coming in and after the last was answered; webhooks accepted/s, and the same burst
into `serve --no-worker` with no worker anywhere (webhooks alone), beside the reference,
to tell the cost of taking webhooks in from the cost of the orders' way on; statements
and transactions per order in the burst (the hub's counters, and on PostgreSQL the
server's); webhook → WMS latency percentiles at each steady open-loop rate beside the
reference's response-time percentiles at that rate; CPU per order at each steady rate,
the hub's (all it did from the phase's first webhook until the WMS had its last order)
beside the reference's, a figure that, unlike throughput on a shared machine, holds from
run to run; on PostgreSQL, orders/s with one and with two worker processes; the hub's and
the reference's peak RSS. One JSON object is printed on stdout (and written to `--out`).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import orderhub
from _common import (
    BENCH_DIR,
    clean_env,
    cores_busy,
    cpu_seconds,
    create_database,
    free_port,
    log,
    machine_ticks,
    orderhub_command,
    peak_rss_mb,
    percentiles,
    pg_transactions,
    postgres_server,
    process_tree,
    run_json_process,
    stop_process,
    tree_cpu_seconds,
    wait_http,
)
from _profile import Profiler
from orderhub.config import Settings
from orderhub.demo_stack import Stack, StackOptions
from orderhub.sandbox.qimen import QimenEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.shopify import ShopifyEmulator

Namespace = argparse.Namespace

SHOP = "SHOP1"
NODE = "WH1"
SHOP_DOMAIN = "bench-shop.myshopify.com"
QIMEN_KEY, QIMEN_SECRET, QIMEN_CUSTOMER = "bench-app-key", "bench-app-secret", "bench-owner"
FIRST_ORDER_ID = 7_000_000_000_000
TEMPLATES = 16
LATENCY_TARGETS_MS = {"10": 100.0, "100": 200.0}
TARGETS: dict[str, Any] = {
    "pipeline_ratio_min": 1 / 3,
    "latency_p99_ms_max": LATENCY_TARGETS_MS,
    "hub_rss_mb_max": 300.0,
    "worker_processes_ratio_min": 1.6,
}
MIN_LATENCY_ORDERS = 100
# PostgreSQL counts a session's transactions in pg_stat_database when it goes idle, at
# most once a second and otherwise up to 10 s later.
PG_STATS_SETTLE_S = 11.0

_SOURCE_CODE = re.compile(rb"<sourceOrderCode>([^<]+)</sourceOrderCode>")
_TAKEN = b"<flag>success</flag>"  # the reply's own flag, the first in the body


class CreateRecorder:
    """Wraps the WMS emulator's ASGI app and notes when each delivery order first arrived.

    Only accepted creates count (HTTP 200 with `<flag>success</flag>`; for a batch create,
    every order of a batch the WMS took whole). Orders are keyed
    by the shop's order id, which the hub sends as `orderLines[].sourceOrderCode`, so no
    lookup from the hub's `deliveryOrderCode` (its own order id) is needed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._arrivals: dict[str, float] = {}
        self._served: list[tuple[float, float]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope["query_string"] if scope["type"] == "http" else b""
        if b"deliveryorder.create" not in query and b"deliveryorder.batchcreate" not in query:
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        replayed = False
        status = 0
        reply = bytearray()

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                reply.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, capture)
        finished = time.monotonic()
        sources = _SOURCE_CODE.findall(body)
        if status != 200 or not reply.startswith(_TAKEN, reply.find(b"<flag>")) or not sources:
            return
        with self._lock:
            self._served.append((arrived, finished - arrived))
            for source in sources:
                self._arrivals.setdefault(source.decode(), arrived)

    def arrivals(self, keys: Iterable[str]) -> dict[str, float]:
        """Arrival times of those of `keys` the WMS has received."""
        with self._lock:
            return {k: self._arrivals[k] for k in keys if k in self._arrivals}

    def service_ms(self, start: float, end: float) -> dict[str, float | None]:
        """How long the WMS emulator took to answer the creates that arrived in a window;
        a slow answer here is the harness's cost, not the hub's."""
        with self._lock:
            spans = [d * 1000 for t, d in self._served if start <= t <= end]
        return percentiles(spans)

    def wait_for(self, keys: Sequence[str], timeout: float) -> dict[str, float]:
        """Wait until every key has arrived or `timeout` passes; the arrivals seen."""
        deadline = time.monotonic() + timeout
        wanted = set(keys)
        last_report = time.monotonic()
        while True:
            seen = self.arrivals(wanted)
            if len(seen) == len(wanted) or time.monotonic() > deadline:
                return seen
            if time.monotonic() - last_report > 10:
                log(f"  {len(seen)}/{len(wanted)} orders at the WMS so far")
                last_report = time.monotonic()
            time.sleep(0.01)


@dataclass
class Emulators:
    """The emulated shop and warehouse, on loopback threads of this process.

    The WMS never ships (`ship_delay=0`) so no shipping callback competes with the
    measured flow, and its rate limit is far above any rate reached here.
    """

    skus: list[str]
    stock: int
    batch_create: int = 0  # the node's batch_size with batch_create set; 0: one per call
    shopify: ShopifyEmulator = field(init=False)
    qimen: QimenEmulator = field(init=False)
    recorder: CreateRecorder = field(init=False)
    shop_server: RunningServer = field(init=False)
    wms_server: RunningServer = field(init=False)

    def start(self) -> Emulators:
        self.shopify = ShopifyEmulator(shop_domain=SHOP_DOMAIN, bucket_size=400, leak_rate=200.0)
        self.shopify.seed_product({"skus": self.skus, "price": "19.90", "stock": 0})
        self.qimen = QimenEmulator(
            QIMEN_KEY,
            QIMEN_SECRET,
            QIMEN_CUSTOMER,
            warehouse_code=NODE,
            ship_delay=0.0,
            rate_limit=1_000_000.0,
        )
        self.qimen.set_stock({sku: self.stock for sku in self.skus})
        self.recorder = CreateRecorder(self.qimen.app)
        self.shop_server = serve_in_thread(self.shopify.app)
        self.wms_server = serve_in_thread(self.recorder)
        return self

    def templates(self, count: int) -> list[dict[str, Any]]:
        """Real Shopify orders, placed in a twin of the shop so the hub's scheduled pull
        of the real one finds nothing extra."""
        twin = ShopifyEmulator(shop_domain=SHOP_DOMAIN)
        try:
            twin.seed_product({"skus": self.skus, "price": "19.90", "stock": 0})
            return twin.place_random_orders(count, skus=self.skus)
        finally:
            twin.close()

    def hub_config(self) -> dict[str, Any]:
        """The hub's YAML configuration; secrets are `${VAR}` references, as in production."""
        return {
            "shops": [
                {
                    "code": SHOP,
                    "platform": "shopify",
                    "name": "Bench shop",
                    "nodes": [NODE],
                    "settings": {"base_url": self.shop_server.url, "shop_domain": SHOP_DOMAIN},
                    "secrets": {
                        "access_token": "${BENCH_SHOPIFY_TOKEN}",
                        "webhook_secret": "${BENCH_SHOPIFY_SECRET}",
                    },
                }
            ],
            "nodes": [
                {
                    "code": NODE,
                    "platform": "qimen",
                    "name": "Bench warehouse",
                    "settings": {
                        "base_url": f"{self.wms_server.url}/router/qimen/service",
                        "app_key": QIMEN_KEY,
                        "customer_id": QIMEN_CUSTOMER,
                        "warehouse_code": NODE,
                        "owner_code": QIMEN_CUSTOMER,
                        **(
                            {"batch_create": True, "batch_size": self.batch_create}
                            if self.batch_create
                            else {}
                        ),
                    },
                    "secrets": {"app_secret": "${BENCH_QIMEN_SECRET}"},
                }
            ],
            "skus": [{"sku": sku, "title": f"Bench item {sku}"} for sku in self.skus],
            "listings": [{"shop": SHOP, "channel_sku": sku, "sku": sku} for sku in self.skus],
            "stock": [{"node": NODE, "sku": sku, "on_hand": self.stock} for sku in self.skus],
        }

    def secrets_env(self) -> dict[str, str]:
        return {
            "BENCH_SHOPIFY_TOKEN": self.shopify.access_token,
            "BENCH_SHOPIFY_SECRET": self.shopify.client_secret,
            "BENCH_QIMEN_SECRET": QIMEN_SECRET,
        }

    def stop(self) -> None:
        self.wms_server.stop()
        self.shop_server.stop()
        self.shopify.close()
        self.qimen.stop()


@dataclass
class Server:
    """A server process this benchmark started, where it answers and shows its metrics."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    token: str = ""
    metrics: list[str] = field(default_factory=list)

    def stop(self) -> None:
        stop_process(self.process)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def start_hub(
    workdir: Path,
    database_url: str,
    emulators: Emulators,
    *,
    workers: int = 0,
    processes: int = 0,
    no_worker: bool = False,
    label: str = "hub",
) -> tuple[Server, list[Server]]:
    """`orderhub serve` with an API, webhooks and an in-process worker, as an operator runs
    it; or `serve --no-worker` plus, with `workers`, that many `orderhub worker`
    processes, or, with `processes`, one `orderhub worker --processes N` (the production
    layouts, which use every core); or, with `no_worker` alone, `serve --no-worker` and
    nothing to take the orders in. Every worker process serves its metrics."""
    config_path = workdir / f"{label}.yaml"
    config_path.write_text(yaml.safe_dump(emulators.hub_config(), sort_keys=False))
    command = orderhub_command()
    port = free_port()
    env = clean_env()
    env.update(emulators.secrets_env())
    env.update(
        {
            "ORDERHUB_DATABASE_URL": database_url,
            "ORDERHUB_CONFIG": str(config_path),
            "ORDERHUB_ENCRYPTION_KEYS": "bench:" + base64.b64encode(os.urandom(32)).decode(),
        }
    )
    # A read-only person whose token lets the benchmark watch the job queue.
    for step in (["users", "create", "bench", "--role", "viewer"], ["tokens", "create", "bench"]):
        made = subprocess.run(
            [command, *step], env=env, capture_output=True, text=True, check=True, timeout=120
        )
    token = made.stdout.strip().splitlines()[-1]
    log_path = workdir / f"{label}.log"
    serve = [command, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as sink:
        process = subprocess.Popen(
            [*serve, "--no-worker"] if workers or processes or no_worker else serve,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    server = Server("hub", process, url, log_path, token, [f"{url}/metrics"])
    started: list[Server] = []
    try:
        wait_http(f"{server.url}/readyz", process=process, timeout=120)
        launches: list[tuple[str, list[str], int]] = [
            (f"worker-{i}", [], 1) for i in range(workers)
        ]
        if processes:
            launches.append(("workers", ["--processes", str(processes)], processes))
        for name, options, count in launches:
            first = free_port(count)
            worker_log = workdir / f"{label}-{name}.log"
            with worker_log.open("wb") as sink:
                child = subprocess.Popen(
                    [command, "worker", *options, "--metrics-port", str(first)],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            ports = range(first, first + count)
            metrics = [f"http://127.0.0.1:{p}/metrics" for p in ports]
            started.append(Server(name, child, "", worker_log, metrics=metrics))
            for address in metrics:
                wait_http(address, process=child, timeout=120)
    except BaseException:
        for running in [server, *started]:
            log(f"{running.name} log:\n{running.log_tail()}")
            running.stop()
        raise
    return server, started


def start_reference(workdir: Path, database_url: str, secret: str) -> Server:
    """The bare webhook receiver in a process of its own."""
    port = free_port()
    log_path = workdir / "reference.log"
    with log_path.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "_reference.py"), database_url, secret, str(port)],
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server("reference", process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_http(f"{server.url}/healthz", process=process, timeout=60)
    except RuntimeError:
        log(f"reference log:\n{server.log_tail()}")
        server.stop()
        raise
    return server


@dataclass
class Load:
    """What the load generator is told, apart from where and how much."""

    templates: list[dict[str, Any]]
    secret: str
    workdir: Path
    next_id: int = FIRST_ORDER_ID

    def send(self, server: Server, count: int, *, concurrency: int = 32, rate: float = 0.0) -> Sent:
        """Post `count` new orders to `server`; closed loop, or open loop at `rate`/s."""
        first = self.next_id
        self.next_id += count
        spec = {
            "url": f"{server.url}/webhooks/{SHOP}",
            "secret": self.secret,
            "shop_domain": SHOP_DOMAIN,
            "templates": self.templates,
            "first_id": first,
            "first_number": 1001 + first - FIRST_ORDER_ID,
            "count": count,
            "concurrency": concurrency,
            "rate": rate,
        }
        budget = 120.0 + (count / rate if rate > 0 else count / 10)
        result = run_json_process("_loadgen.py", spec, self.workdir, timeout=budget)
        sent = Sent([tuple(row) for row in result["results"]], result["errors"])
        if sent.errors:
            log(f"  {server.name}: {count - sent.accepted} webhooks not accepted: {sent.errors}")
        return sent


@dataclass
class Sent:
    """The load generator's record: (order id, due, sent, answered, status) per webhook."""

    rows: list[tuple[int, float, float, float, int]]
    errors: dict[str, int]

    @property
    def accepted_keys(self) -> list[str]:
        """Orders whose webhook was answered 2xx: only these can reach the warehouse."""
        return [str(row[0]) for row in self.rows if 200 <= row[4] < 300]

    @property
    def accepted(self) -> int:
        return sum(1 for row in self.rows if 200 <= row[4] < 300)

    @property
    def first_sent(self) -> float:
        return min(row[2] for row in self.rows)

    @property
    def last_answered(self) -> float:
        return max(row[3] for row in self.rows)

    def accepted_per_s(self) -> float:
        return self.accepted / max(1e-9, self.last_answered - self.first_sent)

    def response_ms(self) -> list[float]:
        """Answer time from when each webhook was due (open loop: its scheduled time)."""
        return [(row[3] - row[1]) * 1000 for row in self.rows if 200 <= row[4] < 300]

    def __len__(self) -> int:
        return len(self.rows)

    def schedule_lag_ms(self) -> float | None:
        """How far behind schedule the generator sent (p99), to show it kept up."""
        return percentiles([(row[2] - row[1]) * 1000 for row in self.rows])["p99"]


class CpuMeter:
    """CPU used by a server process and by this one (the emulators) over a phase, as a
    percentage of one core: 100 means a whole core, the most one interpreter lock allows
    for Python code."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.started = time.monotonic()
        self.server = cpu_seconds(pid)
        self.emulators = cpu_seconds()

    def server_ms_per(self, count: int) -> float:
        """The server's CPU over the phase, in milliseconds per one of `count` orders."""
        return round(1000 * (cpu_seconds(self.pid) - self.server) / max(1, count), 3)

    def read(self) -> dict[str, float]:
        wall = max(1e-9, time.monotonic() - self.started)
        return {
            "server": round(100 * (cpu_seconds(self.pid) - self.server) / wall, 1),
            "emulators": round(100 * (cpu_seconds() - self.emulators) / wall, 1),
        }


def metric_samples(sources: Sequence[str]) -> Iterator[Sample]:
    """Every sample the hub's processes show on their /metrics."""
    for url in sources:
        reply = httpx.get(url, timeout=10)
        reply.raise_for_status()
        for family in text_string_to_metric_families(reply.text):
            yield from family.samples


def thread_cpu(sources: Sequence[str]) -> dict[str, float]:
    """CPU seconds per kind of thread, summed over the hub's processes."""
    totals: dict[str, float] = {}
    for sample in metric_samples(sources):
        if sample.name == "orderhub_thread_cpu_seconds_total":
            group = sample.labels["thread"]
            totals[group] = totals.get(group, 0.0) + sample.value
    return totals


def thread_ms_per(
    before: dict[str, float], after: dict[str, float], count: int
) -> dict[str, float]:
    """Milliseconds of CPU per order by kind of thread, those that used any."""
    spent = {group: after[group] - before.get(group, 0.0) for group in after}
    return {
        group: round(1000 * seconds / max(1, count), 2)
        for group, seconds in sorted(spent.items(), key=lambda item: -item[1])
        if seconds > 0
    }


def drain(server: Server, timeout: float = 60.0) -> None:
    """Wait until the hub has no job running or due within a few seconds (stock pushes
    included). A job queued for later, such as the alert digest an hourly task's alert
    queues minutes ahead, is not work in flight."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = 0
        for status in ("pending", "running"):
            reply = httpx.get(
                f"{server.url}/api/v1/jobs",
                params={"status": status, "limit": 1000},
                headers={"Authorization": f"Bearer {server.token}"},
                timeout=10,
            )
            reply.raise_for_status()
            page = reply.json()
            busy += int(page["total"])
            if status == "pending":
                soon = time.time() + 10
                busy -= sum(1 for job in page["items"] if job["run_at"] > soon)
        if busy == 0:
            return
        time.sleep(0.2)
    log("  the hub still had jobs queued after the drain timeout; going on")


@dataclass
class DbWork:
    """Statements and transactions so far: as the hub's processes counted them (the sum of
    their /metrics) and, on PostgreSQL, as the server counted them (`pg_stat_database`)."""

    statements: float
    commits: float
    rollbacks: float
    pg_transactions: int | None

    @classmethod
    def read(cls, sources: Sequence[str], pg_url: str | None) -> DbWork:
        """Read every process's counters, and the server's; on PostgreSQL, only after the
        server has had time to count the sessions' last transactions."""
        if pg_url is not None:
            time.sleep(PG_STATS_SETTLE_S)
        statements = commits = rollbacks = 0.0
        for sample in metric_samples(sources):
            if sample.name == "orderhub_db_statements_total":
                statements += sample.value
            elif sample.name == "orderhub_db_transactions_total":
                if sample.labels.get("kind") == "commit":
                    commits += sample.value
                else:
                    rollbacks += sample.value
        pg = pg_transactions(pg_url) if pg_url is not None else None
        return cls(statements, commits, rollbacks, pg)

    def per_order(self, before: DbWork, orders: int) -> dict[str, Any]:
        """What happened since `before`, per order completed."""
        statements = round(self.statements - before.statements)
        commits = round(self.commits - before.commits)
        rollbacks = round(self.rollbacks - before.rollbacks)
        result: dict[str, Any] = {
            "statements_per_order": _per(statements, orders),
            "transactions_per_order": _per(commits + rollbacks, orders),
        }
        work: dict[str, Any] = {
            "orders": orders,
            "statements": statements,
            "commits": commits,
            "rollbacks": rollbacks,
        }
        if self.pg_transactions is not None and before.pg_transactions is not None:
            # Less the first reading's own transaction, which the server counted after it.
            pg = self.pg_transactions - before.pg_transactions - 1
            result["pg_transactions_per_order"] = _per(pg, orders)
            work["pg_transactions"] = pg
        result["db_work"] = work
        return result


def _per(count: int, orders: int) -> float | None:
    return round(count / orders, 2) if orders else None


def rate_key(rate: float) -> str:
    """A rate as the key of its figures: 10.0 -> "10"."""
    return f"{rate:g}"


def latency_orders(rate: float, duration: float) -> int:
    """Orders in an open-loop phase: `duration` seconds at `rate`, and never fewer than
    MIN_LATENCY_ORDERS, so that a p99 is not one order's time."""
    return max(MIN_LATENCY_ORDERS, round(rate * duration))


@dataclass
class Burst:
    """The closed-loop burst: what was sent, when each order reached the WMS, and when the
    last one did (or the wait gave up)."""

    sent: Sent
    arrived: dict[str, float]
    end: float

    @property
    def per_s(self) -> float:
        return len(self.arrived) / max(1e-9, self.end - self.sent.first_sent)

    def split(self) -> dict[str, float | int | None]:
        """Orders/s reaching the WMS while the webhooks were still coming in and after the
        last was answered, and how many accepted orders had not reached it by then: where
        the two differ, taking webhooks in and sending orders out compete for the hub."""
        intake_end = self.sent.last_answered
        during = sum(1 for moment in self.arrived.values() if moment <= intake_end)
        after = len(self.arrived) - during
        drain = self.end - intake_end
        return {
            "while_taking_in_per_s": round(
                during / max(1e-9, intake_end - self.sent.first_sent), 1
            ),
            "after_intake_per_s": round(after / drain, 1) if after and drain > 0 else None,
            "backlog_at_intake_end": self.sent.accepted - during,
        }


def warm_up(server: Server, load: Load, recorder: CreateRecorder, args: Namespace) -> None:
    """Untimed orders first, through to the WMS, and every job they queued done."""
    log(f"{server.name}: warm-up {args.warmup}")
    warm = load.send(server, args.warmup, concurrency=args.concurrency)
    recorder.wait_for(warm.accepted_keys, args.timeout)
    drain(server)


def burst(server: Server, load: Load, recorder: CreateRecorder, args: Namespace) -> Burst:
    """N orders at C concurrent senders, timed until the WMS has every one."""
    sent = load.send(server, args.orders, concurrency=args.concurrency)
    arrived = recorder.wait_for(sent.accepted_keys, args.timeout)
    gave_up = time.monotonic()
    end = max(arrived.values()) if len(arrived) == len(sent) else gave_up
    return Burst(sent, arrived, end)


@dataclass
class Figures:
    """One side's measurements: throughput, latency percentiles per rate, peak memory."""

    per_s: float
    accepted: int
    latency_ms: dict[str, dict[str, float | None]]
    rss_mb: float
    schedule_lag_ms: dict[str, float | None]
    cpu_pct: float
    extra: dict[str, Any] = field(default_factory=dict)


def metered_burst(name: str, server: Server, load: Load, args: Namespace) -> tuple[Sent, CpuMeter]:
    """Untimed webhooks first, then N at C concurrent senders with the server's CPU
    metered; for a receiver whose webhooks go nowhere further."""
    log(f"{name}: warm-up {args.warmup}")
    load.send(server, args.warmup, concurrency=args.concurrency)
    log(f"{name}: {args.orders} webhooks, concurrency {args.concurrency}")
    meter = CpuMeter(server.process.pid)
    return load.send(server, args.orders, concurrency=args.concurrency), meter


def measure_reference(workdir: Path, database_url: str, load: Load, args: Namespace) -> Figures:
    """The bare receiver: throughput at the same concurrency, response time at the same rates."""
    server = start_reference(workdir, database_url, load.secret)
    latency: dict[str, dict[str, float | None]] = {}
    lag: dict[str, float | None] = {}
    cpu_ms: dict[str, float] = {}
    try:
        sent, meter = metered_burst("reference", server, load, args)
        cpu = meter.read()
        for rate in args.rates:
            count = latency_orders(rate, args.duration)
            log(f"reference: {count} webhooks at {rate:g}/s")
            steady_meter = CpuMeter(server.process.pid)
            steady = load.send(server, count, rate=rate)
            cpu_ms[rate_key(rate)] = steady_meter.server_ms_per(steady.accepted)
            missing = len(steady) - steady.accepted
            latency[rate_key(rate)] = percentiles(steady.response_ms(), missing=missing)
            lag[rate_key(rate)] = steady.schedule_lag_ms()
        rss = peak_rss_mb(server.process.pid)
    finally:
        server.stop()
    return Figures(
        per_s=sent.accepted / max(1e-9, sent.last_answered - sent.first_sent),
        accepted=sent.accepted,
        latency_ms=latency,
        rss_mb=rss,
        schedule_lag_ms=lag,
        cpu_pct=cpu["server"],
        extra={"cpu_ms_per_order": cpu_ms},
    )


def measure_hub(
    kind: str, workdir: Path, database_url: str, emulators: Emulators, load: Load, args: Namespace
) -> Figures:
    """The hub: pipeline throughput, acceptance, statements and transactions per order,
    webhook → WMS latency at each rate, peak RSS."""
    server, workers = start_hub(workdir, database_url, emulators, workers=args.workers)
    recorder = emulators.recorder
    sources = [url for process in [server, *workers] for url in process.metrics]
    pg_url = database_url if kind == "postgresql" else None
    latency: dict[str, dict[str, float | None]] = {}
    response: dict[str, dict[str, float | None]] = {}
    lag: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    missing: dict[str, int] = {}
    cpu_ms: dict[str, float] = {}
    by_thread: dict[str, dict[str, float]] = {}
    try:
        warm_up(server, load, recorder, args)
        before = DbWork.read(sources, pg_url)
        profiler = None
        if args.profile:
            profiler = Profiler(server.process.pid, args.profile / f"hub-{kind}")
        log(f"hub: {args.orders} webhooks, concurrency {args.concurrency}")
        meter = CpuMeter(server.process.pid)
        threads_before = thread_cpu(sources)
        timed = burst(server, load, recorder, args)
        cpu = meter.read()
        by_thread["burst"] = thread_ms_per(threads_before, thread_cpu(sources), len(timed.arrived))
        profile = profiler.stop() if profiler else None
        wms_service = recorder.service_ms(timed.sent.first_sent, timed.end)
        log(f"hub: {len(timed.arrived)}/{args.orders} orders at the WMS, {timed.per_s:.1f}/s")
        drain(server)
        work = DbWork.read(sources, pg_url).per_order(before, len(timed.arrived))
        log(f"hub: {json.dumps(work)}")
        for rate in args.rates:
            key = rate_key(rate)
            drain(server)
            counts[key] = latency_orders(rate, args.duration)
            log(f"hub: {counts[key]} webhooks at {rate:g}/s")
            steady_meter = CpuMeter(server.process.pid)
            threads_before = thread_cpu(sources)
            steady = load.send(server, counts[key], rate=rate)
            steady_arrived = recorder.wait_for(steady.accepted_keys, args.timeout)
            cpu_ms[key] = steady_meter.server_ms_per(len(steady_arrived))
            by_thread[key] = thread_ms_per(threads_before, thread_cpu(sources), len(steady_arrived))
            due = {str(row[0]): row[1] for row in steady.rows}
            latencies = [(t - due[k]) * 1000 for k, t in steady_arrived.items()]
            missing[key] = len(steady) - len(steady_arrived)
            latency[key] = percentiles(latencies, missing=missing[key])
            response[key] = percentiles(steady.response_ms())
            lag[key] = steady.schedule_lag_ms()
            log(f"hub: at {rate:g}/s {json.dumps(latency[key])}")
        rss = max(peak_rss_mb(x.process.pid) for x in [server, *workers])
    except BaseException:
        log(f"hub log:\n{server.log_tail()}")
        raise
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
    wms = emulators.qimen.stats()
    extra: dict[str, Any] = {
        "webhooks_accepted": timed.sent.accepted,
        "burst_to_wms": timed.split(),
        "webhooks_accepted_per_s": round(timed.sent.accepted_per_s(), 1),
        "completed": len(timed.arrived),
        **work,
        "latency_orders": counts,
        "latency_missing": missing,
        "webhook_response_ms": response,
        "cpu_ms_per_order": cpu_ms,
        "cpu_ms_per_order_by_thread": by_thread,
        "emulators_cpu_pct": cpu["emulators"],
        "wms_service_ms": wms_service,
        "wms_distinct_orders": wms["distinct_orders"],
        "wms_duplicate_creates": wms["duplicate_creates"],
        "wms_batch_calls": wms["batch_calls"],
        "separate_workers": args.workers,
    }
    if profile is not None:
        extra["profile"] = profile
    return Figures(
        per_s=timed.per_s,
        accepted=timed.sent.accepted,
        latency_ms=latency,
        rss_mb=rss,
        schedule_lag_ms=lag,
        cpu_pct=cpu["server"],
        extra=extra,
    )


def measure_door(
    workdir: Path, database_url: str, emulators: Emulators, load: Load, args: Namespace
) -> dict[str, Any]:
    """The burst again into `serve --no-worker` with no worker anywhere, on a new database:
    how fast the hub takes webhooks in when nothing else runs beside it, and the CPU each
    costs it, to set beside the reference's and the whole pipeline's."""
    server, _ = start_hub(workdir, database_url, emulators, no_worker=True, label="hub-door")
    try:
        sent, meter = metered_burst("hub, webhooks alone", server, load, args)
        cpu_ms = meter.server_ms_per(sent.accepted)
    except BaseException:
        log(f"hub-door log:\n{server.log_tail()}")
        raise
    finally:
        server.stop()
    per_s = sent.accepted_per_s()
    log(f"hub, webhooks alone: {per_s:.1f}/s")
    return {"per_s": round(per_s, 1), "accepted": sent.accepted, "cpu_ms_per_webhook": cpu_ms}


def measure_processes(
    workdir: Path, database_url: str, emulators: Emulators, load: Load, args: Namespace
) -> dict[str, Any]:
    """The burst again with `serve --no-worker` and `orderhub worker --processes N`, for N
    of 1 and 2, each on a new database of the same server; orders/s and their ratio."""
    rates: dict[str, float] = {}
    completed: dict[str, int] = {}
    busy: dict[str, float] = {}
    worker_ms: dict[str, float] = {}
    for count in (1, 2):
        url = create_database(database_url, f"orderhub_bench_processes_{count}")
        label = f"hub-{count}-processes"
        server, workers = start_hub(workdir, url, emulators, processes=count, label=label)
        try:
            warm_up(server, load, emulators.recorder, args)
            log(f"hub, {count} worker processes: {args.orders} webhooks")
            ticks = machine_ticks()
            pids = [pid for worker in workers for pid in process_tree(worker.process.pid)]
            worker_cpu = tree_cpu_seconds(pids)
            timed = burst(server, load, emulators.recorder, args)
            busy[str(count)] = cores_busy(ticks)
            worker_cpu = tree_cpu_seconds(pids) - worker_cpu
            worker_ms[str(count)] = round(1000 * worker_cpu / max(1, len(timed.arrived)), 2)
            rates[str(count)] = round(timed.per_s, 1)
            completed[str(count)] = len(timed.arrived)
            log(f"hub, {count} worker processes: {timed.per_s:.1f}/s, {busy[str(count)]} busy")
        except BaseException:
            for process in [server, *workers]:
                log(f"{process.name} log:\n{process.log_tail()}")
            raise
        finally:
            for worker in workers:
                worker.stop()
            server.stop()
    ratio = rates["2"] / rates["1"] if rates["1"] else 0.0
    # With the CPU an order costs everywhere (web server, workers, PostgreSQL, load,
    # emulators) as it is with one worker process, no number of processes can multiply
    # the rate by more than the machine's cores over the cores that one already kept busy.
    allows = (os.cpu_count() or 1) / busy["1"] if busy.get("1") else None
    return {
        **rates,
        "ratio": round(ratio, 3),
        "completed": completed,
        "machine_cores_busy": busy,
        "ratio_the_machine_allows": None if allows is None else round(allows, 2),
        "worker_cpu_ms_per_order": worker_ms,
    }


def run_database(kind: str, args: Namespace) -> dict[str, Any]:
    """Reference then hub on one kind of database; every temporary thing removed after."""
    workdir = Path(tempfile.mkdtemp(prefix=f"orderhub-bench-{kind}."))
    skus = Stack(Settings(database_url="sqlite://"), StackOptions(skus=args.skus)).sku_codes
    emulators = Emulators(skus, args.stock, args.batch_create).start()
    try:
        load = Load(emulators.templates(TEMPLATES), emulators.shopify.client_secret, workdir)
        if kind == "postgresql":
            with postgres_server() as url:
                reference = measure_reference(workdir, url, load, args)
                hub = measure_hub(kind, workdir, url, emulators, load, args)
                door_url = create_database(url, "orderhub_bench_door")
                hub.extra["webhooks_alone"] = measure_door(workdir, door_url, emulators, load, args)
                if args.process_ratio:
                    processes = measure_processes(workdir, url, emulators, load, args)
                    hub.extra["worker_processes"] = processes
        else:
            reference_url = f"sqlite:///{workdir / 'reference.db'}"
            reference = measure_reference(workdir, reference_url, load, args)
            hub_url = f"sqlite:///{workdir / 'orderhub.db'}"
            hub = measure_hub(kind, workdir, hub_url, emulators, load, args)
            door_url = f"sqlite:///{workdir / 'door.db'}"
            hub.extra["webhooks_alone"] = measure_door(workdir, door_url, emulators, load, args)
    finally:
        emulators.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return report(reference, hub)


def report(reference: Figures, hub: Figures) -> dict[str, Any]:
    """One database's figures, each beside its reference and the ratio."""
    extra = dict(hub.extra)
    accepted_per_s = extra.pop("webhooks_accepted_per_s")
    work: dict[str, Any] = {
        key: extra.pop(key)
        for key in (
            "statements_per_order",
            "transactions_per_order",
            "pg_transactions_per_order",
            "db_work",
        )
        if key in extra
    }
    processes = extra.pop("worker_processes", None)
    alone: dict[str, Any] | None = extra.pop("webhooks_alone", None)
    cpu_ms: dict[str, float] = extra.pop("cpu_ms_per_order", {})
    reference_cpu_ms: dict[str, float] = reference.extra.get("cpu_ms_per_order", {})
    ratio = hub.per_s / reference.per_s if reference.per_s else 0.0
    latency_ratio: dict[str, float | None] = {}
    for key, figures in hub.latency_ms.items():
        p99, reference_p99 = figures["p99"], reference.latency_ms[key]["p99"]
        latency_ratio[key] = (
            round(p99 / reference_p99, 1) if p99 is not None and reference_p99 else None
        )
    targets_met: dict[str, bool] = {
        "pipeline_ge_third_of_reference": ratio >= TARGETS["pipeline_ratio_min"],
    }
    for key, limit in LATENCY_TARGETS_MS.items():
        if key in hub.latency_ms:
            p99 = hub.latency_ms[key]["p99"]
            targets_met[f"p99_lt_{limit:g}ms_at_{key}"] = p99 is not None and p99 < limit
    targets_met["rss_lt_300mb"] = hub.rss_mb < TARGETS["hub_rss_mb_max"]
    result: dict[str, Any] = {
        "reference_per_s": round(reference.per_s, 1),
        "pipeline_per_s": round(hub.per_s, 1),
        "ratio": round(ratio, 3),
        "webhooks_accepted_per_s": accepted_per_s,
        "webhooks_accepted_ratio": round(accepted_per_s / reference.per_s, 3),
        "latency_ms": hub.latency_ms,
        "reference_latency_ms": reference.latency_ms,
        "latency_p99_ratio": latency_ratio,
        "cpu_ms_per_order": cpu_ms,
        "reference_cpu_ms_per_order": reference_cpu_ms,
        "cpu_per_order_ratio": {
            key: round(ms / reference_cpu_ms[key], 1) if reference_cpu_ms.get(key) else None
            for key, ms in cpu_ms.items()
        },
        **work,
    }
    if alone is not None:
        result["webhooks_alone"] = {
            **alone,
            "ratio": round(alone["per_s"] / reference.per_s, 3) if reference.per_s else None,
        }
    if processes is not None:
        result["worker_processes"] = processes
        targets_met["two_processes_ge_1_6x"] = (
            processes["ratio"] >= TARGETS["worker_processes_ratio_min"]
        )
    result.update(
        {
            "hub_peak_rss_mb": hub.rss_mb,
            "reference_peak_rss_mb": reference.rss_mb,
            "rss_ratio": round(hub.rss_mb / reference.rss_mb, 2),
            "load_schedule_lag_p99_ms": {
                "hub": hub.schedule_lag_ms,
                "reference": reference.schedule_lag_ms,
            },
            "reference_accepted": reference.accepted,
            "burst_cpu_pct": {"hub": hub.cpu_pct, "reference": reference.cpu_pct},
            **extra,
            "targets_met": targets_met,
        }
    )
    return result


def _rates(text: str) -> list[float]:
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of rates like 10,100") from None
    if not rates or any(rate <= 0 for rate in rates):
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of rates above 0")
    return rates


def parse_args(argv: Sequence[str]) -> Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--orders", type=int, default=1000, help="webhooks in the burst (N)")
    parser.add_argument("--concurrency", type=int, default=32, help="senders in the burst (C)")
    parser.add_argument(
        "--rates",
        type=_rates,
        default=[10.0, 100.0],
        help="open-loop rates, orders/s, one latency phase each (10,100)",
    )
    parser.add_argument("--rate", type=float, help="one open-loop rate instead of --rates")
    parser.add_argument(
        "--duration",
        type=float,
        default=20.0,
        help=f"seconds per open-loop phase (at least {MIN_LATENCY_ORDERS} orders each)",
    )
    parser.add_argument("--warmup", type=int, default=50, help="untimed orders first")
    parser.add_argument("--skus", type=int, default=5, help="SKUs the orders draw from")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="separate `orderhub worker` processes (0: the worker runs inside `serve`)",
    )
    parser.add_argument(
        "--process-ratio",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="on PostgreSQL, run the burst again with 1 and then 2 worker processes",
    )
    parser.add_argument("--stock", type=int, default=10_000_000, help="opening stock per SKU")
    parser.add_argument(
        "--batch-create",
        type=int,
        default=0,
        metavar="SIZE",
        help="the WMS takes delivery orders SIZE at a time (deliveryorder.batchcreate)",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="longest wait for orders to reach the WMS"
    )
    parser.add_argument(
        "--profile", type=Path, help="sample the hub with py-spy during the burst into this dir"
    )
    parser.add_argument("--out", type=Path, help="write the JSON result to this file too")
    args = parser.parse_args(argv)
    if args.rate is not None:
        if args.rate <= 0:
            parser.error("--rate must be above 0")
        args.rates = [args.rate]
    for name in ("orders", "concurrency", "warmup", "skus"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.orders > 50_000 or any(latency_orders(r, args.duration) > 50_000 for r in args.rates):
        parser.error("keep a run under 50 000 orders per phase")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    return args


def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    output: dict[str, Any] = {}
    for kind in kinds:
        log(f"== {kind}")
        output[kind] = run_database(kind, args)
        log(f"{kind}: {json.dumps(output[kind])}")
    output.update(
        {
            "orders": args.orders,
            "concurrency": args.concurrency,
            "batch_create": args.batch_create,
            "latency_rates_per_s": args.rates,
            "latency_duration_s": args.duration,
            "process_ratio": args.process_ratio and "postgresql" in kinds,
            "cpu_count": os.cpu_count(),
            "targets": TARGETS,
            "hub_source": str(Path(orderhub.__file__).parent),
        }
    )
    text = json.dumps(output)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
