"""Signed WooCommerce webhooks, fuzzed: each is kept, answered without a server error,
and processed or held, never retried as if the failure were passing.

The bodies start from a real WooCommerce order (the golden one) with one field replaced
by any JSON value, or are plain garbage; each is signed with the shop's webhook secret
as WooCommerce signs it (base64 HMAC-SHA256 of the exact bytes).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fuzzing import json_values
from orderhub.config import HubConfig, ShopConfig, SkuConfig
from orderhub.jobs.worker import Worker
from orderhub.sandbox.server import RunningServer
from orderhub.services.hub import Hub
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from support import make_hub, offline_warehouse

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "woocommerce"
SECRET = "whsec-fuzz"
FIELDS = [
    ["id"],
    ["status"],
    ["currency"],
    ["total"],
    ["date_modified_gmt"],
    ["line_items"],
    ["line_items", "0", "quantity"],
    ["line_items", "0", "sku"],
    ["line_items", "0", "subtotal"],
    ["shipping"],
    ["billing"],
    ["refunds"],
]


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url, max_attempts=3)
    shop = ShopConfig(
        code="S1",
        platform="woocommerce",
        nodes=["WH1"],
        settings={"url": "http://127.0.0.1:9"},
        secrets={"consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": SECRET},
    )
    apply_config(
        h, HubConfig(shops=[shop], nodes=[offline_warehouse("WH1")], skus=[SkuConfig(sku="A")])
    )
    yield h
    h.close()


def _raw_order() -> dict[str, Any]:
    [path] = sorted(GOLDEN.glob("*.raw.json"))
    raw: dict[str, Any] = json.loads(path.read_text())
    return copy.deepcopy(raw)


def _mutated(raw: dict[str, Any], path: list[str], value: Any) -> bytes:
    target: Any = raw
    for key in path[:-1]:
        target = target[key] if not isinstance(target, list) else target[0]
    if isinstance(target, dict):
        target[path[-1]] = value
    return json.dumps(raw).encode()


def _post(api: RunningServer, body: bytes) -> httpx.Response:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "updated",
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": hashlib.md5(str(time.monotonic_ns()).encode()).hexdigest(),
    }
    return httpx.post(f"{api.url}/webhooks/S1", content=body, headers=headers, timeout=10)


def _count(hub: Hub, *where: Any, table: Any = t.inbox) -> int:
    with hub.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(FIELDS),
    value=json_values,
    garbage=st.one_of(st.none(), st.binary(max_size=64)),
)
def test_signed_fuzzed_woocommerce_orders_never_get_a_server_error_and_are_all_kept(
    hub: Hub, api: RunningServer, field: list[str], value: Any, garbage: bytes | None
) -> None:
    body = garbage if garbage is not None else _mutated(_raw_order(), field, value)
    before = _count(hub)
    answer = _post(api, body)
    assert answer.status_code < 500, answer.text
    assert _count(hub) in (before, before + 1)  # the same bytes again are kept once
    Worker(hub, threads=1).run_until_idle(timeout=30)
    assert _count(hub, t.inbox.c.status == "pending") == 0
    retried = _count(
        hub,
        t.outbox_jobs.c.kind == "inbox.process",
        t.outbox_jobs.c.attempts > 1,
        table=t.outbox_jobs,
    )
    assert retried == 0
