"""The raw reference: a bare Shopify webhook receiver, served like the hub's API.

It does the least any correct receiver must: verify the HMAC on the raw body in constant
time and store the body with one INSERT and one commit per request. It runs in a
process of its own under uvicorn on loopback, with the same request shape as the hub
(async handler, the database work in Starlette's thread pool) and a database engine
set up like the hub's (SQLite: WAL, synchronous=NORMAL, the same checkpoint bound, BEGIN
IMMEDIATE; both: a pool of 20 connections kept, none pinged before use), kept to one
CPU as the hub keeps each of its processes by default (ORDERHUB_CPU=auto). Anything
the hub does beyond this is what the benchmark's ratio puts a price on.

Usage: python bench/_reference.py DATABASE_URL SECRET PORT
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sys
from typing import Any

import uvicorn
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
)
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["build_app", "make_reference_engine"]

metadata = MetaData()
inbox = Table(
    "bench_reference_inbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("webhook_id", String(64), nullable=False, unique=True),
    Column("body", LargeBinary, nullable=False),
)


def make_reference_engine(url: str) -> Engine:
    """An engine configured the way the hub configures its own."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_size=20, max_overflow=0)
    engine = create_engine(
        parsed,
        connect_args={"check_same_thread": False, "timeout": 60},
        pool_size=20,
        max_overflow=0,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        # As the hub's connections: the log is copied into the file past 16,384 pages
        # (orderhub.store.db.WAL_PAGES_BEFORE_A_WRITER_CHECKPOINTS), not SQLite's 1,000.
        cursor.execute("PRAGMA wal_autocheckpoint=16384")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def build_app(database_url: str, secret: str) -> Starlette:
    """POST /webhooks/{shop}: verify, insert, answer; GET /healthz for start-up."""
    engine = make_reference_engine(database_url)
    metadata.create_all(engine)
    key = secret.encode()

    def store(webhook_id: str, body: bytes) -> None:
        with engine.begin() as conn:
            conn.execute(insert(inbox).values(webhook_id=webhook_id, body=body))

    async def webhook(request: Request) -> Response:
        body = await request.body()
        given = request.headers.get("x-shopify-hmac-sha256", "").strip().encode()
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest())
        if not given or not hmac.compare_digest(expected, given):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        webhook_id = request.headers.get("x-shopify-webhook-id", "")
        await run_in_threadpool(store, webhook_id, body)
        return JSONResponse({"stored": True})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/webhooks/{shop}", webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def keep_to_one_cpu() -> int | None:
    """Run on the CPU this process started on, as the hub does by default (ORDERHUB_CPU
    auto), so that both sides of the ratio get the same help; `BENCH_REFERENCE_CPU=off`
    leaves the reference to the operating system."""
    if os.environ.get("BENCH_REFERENCE_CPU", "auto") == "off":
        return None
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        return None
    with open("/proc/self/stat") as stat:
        cpu = int(stat.read().rsplit(")", 1)[-1].split()[36])  # "processor", field 39
    os.sched_setaffinity(0, {cpu})
    return cpu


def main(argv: list[str]) -> None:
    database_url, secret, port = argv
    keep_to_one_cpu()
    app = build_app(database_url, secret)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
