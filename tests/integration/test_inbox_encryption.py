"""Raw payloads carry names, phones and addresses: they rest encrypted like the orders."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, update

from orderhub.crypto import DecryptionError
from orderhub.services.hub import Hub
from orderhub.store import tables as t

BODY = json.dumps(
    {"id": 1, "shipping_address": {"name": "张三", "phone": "13812348000"}},
    ensure_ascii=False,
).encode()


def _stored(hub: Hub) -> bytes:
    with hub.db.engine.connect() as conn:
        return bytes(conn.execute(select(t.inbox.c.body)).scalar_one())


def test_a_stored_payload_is_unreadable_in_the_table_and_whole_when_read(hub: Hub) -> None:
    with hub.uow() as uow:
        inbox_id, _ = uow.inbox.add(
            shop="S1", source="webhook", topic="orders/create", dedup_key="k1", body=BODY
        )
        uow.commit()
    raw = _stored(hub)
    assert "张三".encode() not in raw and b"13812348000" not in raw
    with hub.reader() as uow:
        assert uow.inbox.get(inbox_id).body == BODY


def test_a_body_moved_to_another_row_does_not_open(hub: Hub) -> None:
    with hub.uow() as uow:
        first, _ = uow.inbox.add(shop="S1", source="webhook", topic="t", dedup_key="a", body=BODY)
        second, _ = uow.inbox.add(shop="S1", source="webhook", topic="t", dedup_key="b", body=b"{}")
        uow.commit()
    with hub.db.engine.begin() as conn:
        sealed = conn.execute(select(t.inbox.c.body).where(t.inbox.c.id == first)).scalar_one()
        conn.execute(update(t.inbox).where(t.inbox.c.id == second).values(body=sealed))
    with hub.reader() as uow, pytest.raises(DecryptionError):
        uow.inbox.get(second)


def test_payloads_stored_before_encryption_are_still_read(hub: Hub) -> None:
    with hub.db.engine.begin() as conn:
        conn.execute(
            insert(t.inbox).values(
                id="i-legacy",
                tenant=hub.db.tenant,
                shop="S1",
                source="webhook",
                topic="orders/create",
                dedup_key="legacy",
                headers="{}",
                body=BODY,
                status="processed",
                received_at=datetime.now(UTC),
            )
        )
    with hub.reader() as uow:
        assert uow.inbox.get("i-legacy").body == BODY
