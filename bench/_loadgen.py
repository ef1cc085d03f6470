"""Load generator: signed Shopify `orders/create` webhooks from a process of its own.

Bodies are real orders from the Shopify emulator (templates), each copy given its own
order id, name, number, times and line ids, and signed the way Shopify signs them. All
requests are built and signed before the clock starts. Two modes:

* closed loop: `concurrency` keep-alive connections post `count` webhooks back to back
  (throughput);
* open loop: one webhook every 1/`rate` s on schedule, whatever the answers, on as many
  connections as are needed (latency; a late answer never delays the next send).

The wire is a minimal HTTP/1.1 client on asyncio streams rather than httpx: on this
2-core machine an httpx.AsyncClient with a 32-connection pool saturated its own core at
about 150-300 requests/s (its pool does work per request that grows with the number of
connections), below the bare reference server, so it measured itself. This client
costs a small fraction of that per request.

Times are `time.monotonic()`, which on Linux is one clock for every process, so the
benchmark can subtract them from the times its emulators record.

Usage: python bench/_loadgen.py SPEC.json OUT.json
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import hmac
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Connection", "Prepared", "prepare", "run"]


IDLE_REOPEN = 3.0


@dataclass(frozen=True)
class Prepared:
    """One ready-to-send webhook: the whole HTTP request as bytes."""

    order_id: int
    request: bytes


def _zone_of(stamp: str) -> timezone:
    parsed = datetime.fromisoformat(stamp)
    return timezone(parsed.utcoffset() or timedelta(0))


def _order_copy(template: dict[str, Any], order_id: int, number: int, now: str) -> dict[str, Any]:
    order = copy.deepcopy(template)
    order["id"] = order_id
    order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
    order["name"] = f"#{number}"
    order["order_number"] = number
    order["number"] = number - 1000
    order["token"] = uuid.uuid4().hex
    order["created_at"] = order["processed_at"] = order["updated_at"] = now
    # Each order its own buyer (phone, e-mail and customer): copies of one buyer's order
    # would be held as duplicates, and would all count to one buyer.
    phone = f"+86 138{order_id % 10**8:08d}"
    email = f"buyer{order_id}@example.com"
    for part in ("shipping_address", "billing_address", "customer"):
        if isinstance(order.get(part), dict):
            order[part]["phone"] = phone
    order["phone"] = phone
    order["email"] = order["contact_email"] = email
    if isinstance(order.get("customer"), dict):
        order["customer"].update(id=order_id, email=email)
    for index, line in enumerate(order.get("line_items") or []):
        line_id = order_id * 100 + index
        line["id"] = line_id
        line["admin_graphql_api_id"] = f"gid://shopify/LineItem/{line_id}"
    return order


def prepare(spec: dict[str, Any]) -> list[Prepared]:
    """Every webhook of the run, built and signed in advance."""
    templates: list[dict[str, Any]] = spec["templates"]
    secret = str(spec["secret"]).encode()
    url = urlsplit(str(spec["url"]))
    now = datetime.now(_zone_of(str(templates[0]["updated_at"]))).isoformat(timespec="seconds")
    prepared = []
    for i in range(int(spec["count"])):
        order_id = int(spec["first_id"]) + i
        order = _order_copy(
            templates[i % len(templates)], order_id, int(spec["first_number"]) + i, now
        )
        body = json.dumps(order, ensure_ascii=False).encode()
        signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        head = (
            f"POST {url.path} HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "X-Shopify-Topic: orders/create\r\n"
            f"X-Shopify-Hmac-Sha256: {signature}\r\n"
            f"X-Shopify-Webhook-Id: {uuid.uuid4()}\r\n"
            f"X-Shopify-Event-Id: {uuid.uuid4()}\r\n"
            f"X-Shopify-Shop-Domain: {spec['shop_domain']}\r\n"
            "X-Shopify-API-Version: 2025-07\r\n"
            f"X-Shopify-Triggered-At: {datetime.now(UTC).isoformat()}\r\n"
            "\r\n"
        )
        prepared.append(Prepared(order_id, head.encode() + body))
    return prepared


@dataclass
class Connection:
    """One keep-alive HTTP/1.1 connection; reopened when the server has closed it.

    Servers close idle keep-alive connections (uvicorn after 5 s), and a request can
    race that close. As pooling HTTP clients do, a connection idle longer than
    `IDLE_REOPEN` seconds is reopened before use, and a request that got no byte back
    on a reused connection is sent once more on a fresh one (the webhook id makes the
    repeat harmless).
    """

    host: str
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    last_used: float = 0.0

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request, return (status, body)."""
        if self.writer is not None and time.monotonic() - self.last_used > IDLE_REOPEN:
            await self.close()
        reused = self.writer is not None and not self.writer.is_closing()
        try:
            return await self._exchange(request)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            got_nothing = not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial
            if not (reused and got_nothing):
                raise
            await self.close()
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get("transfer-encoding") == "chunked":
            body = await self._chunked()
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        self.last_used = time.monotonic()
        if headers.get("connection") == "close":
            await self.close()
        return status, body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await self.reader.readexactly(size + 2))
            if size == 0:
                return b"".join(parts)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


@dataclass
class Recorder:
    """(order id, due, sent, answered, status) per webhook, and the failures by kind."""

    timeout: float = 60.0
    rows: list[list[Any]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    async def send(self, connection: Connection, item: Prepared, due: float) -> None:
        sent = time.monotonic()
        try:
            exchange = connection.exchange(item.request)
            status, body = await asyncio.wait_for(exchange, self.timeout)
            if not 200 <= status < 300:
                self.errors[f"HTTP {status}: {body[:200].decode(errors='replace')}"] += 1
        except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError) as exc:
            status = 0
            self.errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
            await connection.close()
        self.rows.append([item.order_id, due, sent, time.monotonic(), status])


async def _closed_loop(
    host: str, port: int, items: list[Prepared], concurrency: int, record: Recorder
) -> list[Connection]:
    queue = iter(items)
    connections = [Connection(host, port) for _ in range(concurrency)]

    async def sender(connection: Connection) -> None:
        for item in queue:
            await record.send(connection, item, time.monotonic())

    await asyncio.gather(*(sender(c) for c in connections))
    return connections


async def _open_loop(
    host: str, port: int, items: list[Prepared], rate: float, record: Recorder
) -> list[Connection]:
    idle: list[Connection] = []
    everyone: list[Connection] = []

    async def one(item: Prepared, due: float) -> None:
        if idle:
            connection = idle.pop()
        else:
            connection = Connection(host, port)
            everyone.append(connection)
        await record.send(connection, item, due)
        idle.append(connection)

    tasks = []
    start = time.monotonic() + 0.05
    for i, item in enumerate(items):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(item, due)))
    await asyncio.gather(*tasks)
    return everyone


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Send every webhook of `spec` and report each one's times and status."""
    items = prepare(spec)
    url = urlsplit(str(spec["url"]))
    host, port = url.hostname or "127.0.0.1", url.port or 80
    rate = float(spec.get("rate") or 0)
    record = Recorder(timeout=float(spec.get("timeout", 60.0)))
    if rate > 0:
        connections = await _open_loop(host, port, items, rate, record)
    else:
        concurrency = int(spec.get("concurrency") or 32)
        connections = await _closed_loop(host, port, items, concurrency, record)
    await asyncio.gather(*(c.close() for c in connections))
    return {
        "results": record.rows,
        "errors": dict(record.errors.most_common(5)),
        "connections": len(connections),
    }


def main(argv: list[str]) -> None:
    spec_file, out_file = argv
    spec = json.loads(Path(spec_file).read_text())
    result = asyncio.run(run(spec))
    Path(out_file).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
