"""Load generator: signed Shopify `orders/create` webhooks from a process of its own.

Bodies are real orders from the Shopify emulator (templates), each copy given its own
order id, name, number, times and line ids, and signed the way Shopify signs them. All
bodies are built and signed before the clock starts, so the generator spends its time
on the wire only. Two modes:

* closed loop: `concurrency` senders post `count` webhooks back to back (throughput);
* open loop: one webhook every 1/`rate` s on schedule, whatever the answers
  (latency; the schedule is kept even while earlier requests are still waiting).

Times are `time.monotonic()`, which on Linux is one clock for every process, so the
benchmark can subtract them from the times its emulators record.

Usage: python bench/_loadgen.py SPEC.json OUT.json
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

__all__ = ["Prepared", "prepare", "run"]


@dataclass(frozen=True)
class Prepared:
    """One ready-to-send webhook."""

    order_id: int
    body: bytes
    headers: dict[str, str]


def _zone_of(stamp: str) -> timezone:
    parsed = datetime.fromisoformat(stamp)
    offset = parsed.utcoffset() or timedelta(0)
    return timezone(offset)


def _order_copy(template: dict[str, Any], order_id: int, number: int, now: str) -> dict[str, Any]:
    order = copy.deepcopy(template)
    order["id"] = order_id
    order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
    order["name"] = f"#{number}"
    order["order_number"] = number
    order["number"] = number - 1000
    order["token"] = uuid.uuid4().hex
    order["created_at"] = order["processed_at"] = order["updated_at"] = now
    for index, line in enumerate(order.get("line_items") or []):
        line_id = order_id * 100 + index
        line["id"] = line_id
        line["admin_graphql_api_id"] = f"gid://shopify/LineItem/{line_id}"
    return order


def prepare(spec: dict[str, Any]) -> list[Prepared]:
    """Every webhook of the run, built and signed in advance."""
    templates: list[dict[str, Any]] = spec["templates"]
    secret = str(spec["secret"]).encode()
    zone = _zone_of(str(templates[0]["updated_at"]))
    now = datetime.now(zone).isoformat(timespec="seconds")
    prepared = []
    for i in range(int(spec["count"])):
        order_id = int(spec["first_id"]) + i
        number = int(spec["first_number"]) + i
        order = _order_copy(templates[i % len(templates)], order_id, number, now)
        body = json.dumps(order, ensure_ascii=False).encode()
        signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Shop-Domain": str(spec["shop_domain"]),
            "X-Shopify-API-Version": "2025-07",
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        }
        prepared.append(Prepared(order_id, body, headers))
    return prepared



async def _send(
    client: httpx.AsyncClient,
    url: str,
    item: Prepared,
    due: float,
    results: list[list[Any]],
    errors: Counter[str],
) -> None:
    sent = time.monotonic()
    try:
        response = await client.post(url, content=item.body, headers=item.headers)
        status = response.status_code
        if not response.is_success:
            errors[f"HTTP {status}: {response.text[:200]}"] += 1
    except httpx.HTTPError as exc:
        status = 0
        errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
    results.append([item.order_id, due, sent, time.monotonic(), status])


async def _closed_loop(
    client: httpx.AsyncClient, url: str, items: list[Prepared], concurrency: int
) -> tuple[list[list[Any]], Counter[str]]:
    results: list[list[Any]] = []
    errors: Counter[str] = Counter()
    queue = iter(items)

    async def sender() -> None:
        for item in queue:
            await _send(client, url, item, time.monotonic(), results, errors)

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return results, errors


async def _open_loop(
    client: httpx.AsyncClient, url: str, items: list[Prepared], rate: float
) -> tuple[list[list[Any]], Counter[str]]:
    results: list[list[Any]] = []
    errors: Counter[str] = Counter()
    tasks = []
    start = time.monotonic() + 0.05
    for i, item in enumerate(items):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_send(client, url, item, due, results, errors)))
    await asyncio.gather(*tasks)
    return results, errors


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Send every webhook of `spec` and report each one's times and status."""
    items = prepare(spec)
    concurrency = int(spec.get("concurrency") or 32)
    rate = float(spec.get("rate") or 0)
    connections = concurrency if rate <= 0 else 512
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    timeout = httpx.Timeout(float(spec.get("timeout", 60.0)))
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        if rate > 0:
            results, errors = await _open_loop(client, spec["url"], items, rate)
        else:
            results, errors = await _closed_loop(client, spec["url"], items, concurrency)
    return {"results": results, "errors": dict(errors.most_common(5))}


def main(argv: list[str]) -> None:
    spec_file, out_file = argv
    spec = json.loads(Path(spec_file).read_text())
    result = asyncio.run(run(spec))
    Path(out_file).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
