"""Signed webhooks that are broken or hostile: each is kept, shown, and never stalls the hub.

A body that carries a valid signature came from the shop, however odd it is. It must be
stored before anything can fail on it, answered without a server error, and either
processed or held as an exception that names what is wrong, without being retried as if
the failure were passing.
"""

from __future__ import annotations

import copy
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

from orderhub.config import HubConfig, SkuConfig
from orderhub.jobs.worker import Worker
from orderhub.sandbox.server import RunningServer
from orderhub.services.hub import Hub
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from support import make_hub, offline_shop, offline_warehouse, shopify_signature

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shopify-orders.json"
SECRET = "s"  # the offline shop's webhook secret


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url, max_attempts=3)
    apply_config(
        h,
        HubConfig(
            shops=[offline_shop("S1")],
            nodes=[offline_warehouse("WH1")],
            skus=[SkuConfig(sku="SKU-001")],
        ),
    )
    yield h
    h.close()


def a_raw_order(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = copy.deepcopy(json.loads(EXAMPLE.read_text())[0])
    raw.update(changes)
    return raw


_deliveries = iter(range(1_000_000))


def post(
    api: RunningServer,
    body: bytes,
    *,
    topic: str | None = "orders/create",
    webhook_id: str | None = None,
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": shopify_signature(SECRET, body),
        "X-Shopify-Shop-Domain": "s1.myshopify.com",
    }
    if topic is not None:
        headers["X-Shopify-Topic"] = topic
    if webhook_id is None:
        webhook_id = f"delivery-{next(_deliveries)}-{time.monotonic_ns()}"
    headers["X-Shopify-Webhook-Id"] = webhook_id
    return httpx.post(f"{api.url}/webhooks/S1", content=body, headers=headers, timeout=10)


def inbox_rows(hub: Hub) -> list[Any]:
    with hub.db.engine.connect() as conn:
        return list(conn.execute(select(t.inbox.c.id, t.inbox.c.status, t.inbox.c.error)))


def open_exceptions(hub: Hub) -> list[Any]:
    with hub.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(t.exceptions.c.code, t.exceptions.c.field, t.exceptions.c.message).where(
                    t.exceptions.c.status == "open"
                )
            )
        )


def inbox_job_attempts(hub: Hub) -> list[int]:
    with hub.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(t.outbox_jobs.c.attempts).where(t.outbox_jobs.c.kind == "inbox.process")
            ).scalars()
        )


def test_a_body_nested_ten_thousand_deep_is_kept_and_refused_with_a_sentence(
    hub: Hub, api: RunningServer
) -> None:
    body = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    answer = post(api, body)
    assert answer.status_code == 400
    assert "nested deeper" in answer.json()["message"]
    [row] = inbox_rows(hub)
    assert row.status == "failed"
    [problem] = open_exceptions(hub)
    assert problem.code == "malformed_payload" and "nested deeper" in problem.message


@pytest.mark.parametrize("missing", ["X-Shopify-Topic", "X-Shopify-Webhook-Id"])
def test_a_webhook_without_its_topic_or_id_is_kept_and_named(
    hub: Hub, api: RunningServer, missing: str
) -> None:
    body = json.dumps(a_raw_order()).encode()
    headers = {
        "X-Shopify-Hmac-Sha256": shopify_signature(SECRET, body),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "w-1",
    }
    del headers[missing]
    answer = httpx.post(f"{api.url}/webhooks/S1", content=body, headers=headers)
    assert answer.status_code == 400
    assert missing in answer.json()["message"]
    [row] = inbox_rows(hub)
    assert row.status == "failed"
    [problem] = open_exceptions(hub)
    assert missing in problem.message


def test_over_long_webhook_ids_and_topics_are_stored_not_refused_by_the_database(
    hub: Hub, api: RunningServer
) -> None:
    raw = a_raw_order()
    long_id = post(api, json.dumps(raw).encode(), webhook_id="w" * 5000)
    assert long_id.status_code == 200
    again = post(api, json.dumps(raw).encode(), webhook_id="w" * 5000)
    assert again.json()["duplicate"] is True
    long_topic = post(api, json.dumps(raw).encode(), topic="orders/" + "x" * 500)
    assert long_topic.status_code == 400
    assert sorted(row.status for row in inbox_rows(hub)) == ["failed", "pending"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda raw: raw["line_items"][0].update(quantity="1e300000"), "lines[0].quantity"),
        (lambda raw: raw["line_items"][0].update(quantity=2**63), "lines[0].quantity"),
        (lambda raw: raw["line_items"][0].update(quantity="Infinity"), "lines[0].quantity"),
        (lambda raw: raw.update(id="9" * 101), "channel_order_id"),
        (lambda raw: raw["line_items"][0].update(price="1e400"), "lines[0].unit_price"),
    ],
    ids=["1e300000", "2^63", "infinity", "101-digit-id", "huge-price"],
)
def test_a_poison_order_becomes_one_exception_naming_its_field_without_retries(
    hub: Hub, api: RunningServer, change: Any, field: str
) -> None:
    raw = a_raw_order()
    change(raw)
    started = time.monotonic()
    assert post(api, json.dumps(raw).encode()).status_code == 200
    Worker(hub, threads=1).run_until_idle(timeout=30)
    assert time.monotonic() - started < 10
    [row] = inbox_rows(hub)
    assert row.status == "failed"
    assert field in {problem.field for problem in open_exceptions(hub)}
    assert inbox_job_attempts(hub) == [1]


def test_a_lone_surrogate_is_named_and_the_payload_kept(hub: Hub, api: RunningServer) -> None:
    body = json.dumps(a_raw_order()).replace('"note": null', '"note": "\\ud800"', 1).encode()
    assert b"\\ud800" in body
    assert post(api, body).status_code == 400
    [row] = inbox_rows(hub)
    assert row.status == "failed"
    [problem] = open_exceptions(hub)
    assert problem.field.endswith("note") and "surrogate" in problem.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)


def _mutated(raw: dict[str, Any], path: list[str], value: Any) -> bytes:
    target: Any = raw
    for key in path[:-1]:
        target = target[key] if not isinstance(target, list) else target[0]
    if isinstance(target, dict):
        target[path[-1]] = value
    return json.dumps(raw).encode()


FIELDS = [
    ["id"],
    ["name"],
    ["currency"],
    ["total_price"],
    ["updated_at"],
    ["line_items"],
    ["line_items", "0", "quantity"],
    ["line_items", "0", "sku"],
    ["line_items", "0", "price"],
    ["shipping_address"],
    ["shipping_address", "phone"],
    ["customer"],
]


@settings(
    max_examples=250,  # on each database: 500 signed bodies in all
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(FIELDS),
    value=json_values,
    garbage=st.one_of(st.none(), st.binary(max_size=64)),
)
def test_signed_fuzzed_orders_never_get_a_server_error_and_are_all_kept(
    hub: Hub, api: RunningServer, field: list[str], value: Any, garbage: bytes | None
) -> None:
    body = garbage if garbage is not None else _mutated(a_raw_order(), field, value)
    with hub.db.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.inbox)).scalar_one()
    answer = post(api, body)
    assert answer.status_code in (200, 400), answer.text
    with hub.db.engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(t.inbox)).scalar_one()
    assert after == before + 1
    Worker(hub, threads=1).run_until_idle(timeout=30)
    with hub.db.engine.connect() as conn:
        pending = conn.execute(
            select(func.count()).select_from(t.inbox).where(t.inbox.c.status == "pending")
        ).scalar_one()
        retried = conn.execute(
            select(func.count())
            .select_from(t.outbox_jobs)
            .where(t.outbox_jobs.c.kind == "inbox.process", t.outbox_jobs.c.attempts > 1)
        ).scalar_one()
    assert pending == 0
    assert retried == 0


def test_a_body_over_the_limit_is_refused_before_it_is_read(hub: Hub, api: RunningServer) -> None:
    body = b'{"pad": "' + b"x" * (hub.settings.max_body_bytes + 10) + b'"}'
    answer = post(api, body)
    assert answer.status_code == 413
    assert inbox_rows(hub) == []


def test_a_topic_the_hub_does_not_act_on_is_kept_and_ignored_visibly(
    hub: Hub, api: RunningServer
) -> None:
    answer = post(api, b'{"id": 7, "title": "Mug"}', topic="products/update")
    assert answer.status_code == 200
    [row] = inbox_rows(hub)
    assert row.status == "ignored" and "products/update" in row.error
    Worker(hub, threads=1).run_until_idle(timeout=10)
    assert open_exceptions(hub) == []
    assert inbox_job_attempts(hub) == []


def test_a_webhook_sent_days_ago_is_kept_and_shown_not_processed(
    hub: Hub, api: RunningServer
) -> None:
    body = json.dumps(a_raw_order()).encode()
    headers = {
        "X-Shopify-Hmac-Sha256": shopify_signature(SECRET, body),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "replayed-1",
        "X-Shopify-Triggered-At": "2026-01-01T00:00:00.000Z",
    }
    answer = httpx.post(f"{api.url}/webhooks/S1", content=body, headers=headers)
    assert answer.status_code == 200
    Worker(hub, threads=1).run_until_idle(timeout=10)
    [row] = inbox_rows(hub)
    assert row.status == "failed"
    [problem] = open_exceptions(hub)
    assert problem.code == "stale_webhook" and "ORDERHUB_WEBHOOK_MAX_AGE" in problem.message
    with hub.reader() as uow:
        assert uow.orders.by_channel_ref("S1", str(a_raw_order()["id"])) is None
