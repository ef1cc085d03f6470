"""A webhook or a node's callback is stored with the job that takes it in, and a repeat of
it is not; on PostgreSQL both, and the word to every worker process, go in one statement
that opens no transaction of its own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import threading
import time
from typing import Any

import psycopg
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from orderhub.services.callback_inbox import keep_callback
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, receive_webhook
from orderhub.services.setup import apply_config
from orderhub.store import db as store_db
from orderhub.store import tables as t
from orderhub.store.db import Queued
from support import one_warehouse_catalogue


def signed(order: dict[str, Any], delivery: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of a Shopify orders/create webhook, signed with the test shop's
    secret."""
    body = json.dumps(order).encode()
    digest = hmac.new(b"s", body, hashlib.sha256).digest()
    headers = {
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Shop-Domain": "s1.myshopify.com",
        "Content-Type": "application/json",
    }
    return headers, body


def stored(hub: Hub) -> tuple[int, list[str]]:
    """Payloads stored, and the payload of every job that takes one in."""
    jobs = t.outbox_jobs.c
    with hub.db.engine.connect() as conn:
        payloads = conn.execute(select(func.count()).select_from(t.inbox)).scalar_one()
        taking = conn.execute(select(jobs.payload).where(jobs.kind == JOB_INBOX)).scalars()
        return payloads, list(taking)


def test_a_webhook_is_stored_with_its_job_once_however_often_it_comes(
    hub: Hub, template: dict[str, Any]
) -> None:
    apply_config(hub, one_warehouse_catalogue("S1", "WH1", {"SKU-A": 5}))
    headers, body = signed(template, "delivery-1")
    asked: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        asked.append(" ".join(statement.split()))

    woken: list[Queued] = []
    hub.db.on_new_jobs(woken.append)
    event.listen(hub.db.engine, "before_cursor_execute", note)
    try:
        first = receive_webhook(hub, "S1", headers, body)
    finally:
        event.remove(hub.db.engine, "before_cursor_execute", note)
    again = receive_webhook(hub, "S1", headers, body)

    assert first.new and not again.new and again.inbox_id == first.inbox_id
    assert stored(hub) == (1, [json.dumps({"inbox_id": first.inbox_id})])
    # This process's lanes, once, for a job due at once.
    assert len(woken) == 1 and woken[0] is not None and set(woken[0]) == {JOB_INBOX}
    assert (woken[0][JOB_INBOX] or math.inf) <= time.time()
    writes = [s for s in asked if not s.startswith("SELECT")]  # reads: the shop's settings
    if hub.db.is_postgres:
        assert len(writes) == 1 and writes[0].startswith("WITH stored AS")
    else:
        assert [s.split()[2] for s in writes] == ["inbox", "outbox_jobs"]


def test_on_postgresql_other_processes_hear_of_the_new_job(
    hub: Hub, template: dict[str, Any]
) -> None:
    if not hub.db.is_postgres:
        return  # SQLite's workers share the process that stored the payload
    apply_config(hub, one_warehouse_catalogue("S1", "WH1", {"SKU-A": 5}))
    url = make_url(str(hub.db.engine.url.render_as_string(hide_password=False)))
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    heard: list[str] = []
    listening = threading.Event()

    def listen() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("LISTEN orderhub_jobs")
            listening.set()
            for note in conn.notifies(timeout=10, stop_after=1):
                heard.append(note.payload)

    listener = threading.Thread(target=listen)
    listener.start()
    assert listening.wait(10)
    receive_webhook(hub, "S1", *signed(template, "delivery-2"))
    listener.join(15)
    assert len(heard) == 1
    queued = store_db.heard(heard[0])
    assert queued is not None and set(queued) == {JOB_INBOX}
    assert (queued[JOB_INBOX] or math.inf) <= time.time()  # due at once


def test_a_node_callback_is_kept_with_its_job_once_however_often_it_comes(hub: Hub) -> None:
    body = b"<request><deliveryOrderCode>D1</deliveryOrderCode></request>"
    asked: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        asked.append(" ".join(statement.split()))

    def keep() -> str:
        return keep_callback(
            hub,
            source="callback",
            code="WH1",
            topic="deliveryorder.confirm",
            body=body,
            headers={},
            read=lambda: None,
            job_kind="node.event",
        )

    event.listen(hub.db.engine, "before_cursor_execute", note)
    try:
        assert keep() == ""
    finally:
        event.remove(hub.db.engine, "before_cursor_execute", note)
    assert keep() == ""
    jobs = t.outbox_jobs.c
    with hub.db.engine.connect() as conn:
        kept = conn.execute(select(t.inbox.c.id, t.inbox.c.status)).all()
        queued = conn.execute(select(jobs.payload).where(jobs.kind == "node.event")).scalars()
        assert [json.loads(p) for p in queued] == [{"inbox_id": kept[0].id}]
    assert [status for _, status in kept] == ["pending"]
    if hub.db.is_postgres:
        assert len(asked) == 1 and asked[0].startswith("WITH stored AS")
