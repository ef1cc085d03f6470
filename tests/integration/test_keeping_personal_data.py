"""Key rotation and retention of personal data, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from orderhub.config import HubConfig, SkuConfig
from orderhub.crypto import Cipher
from orderhub.domain.order import OrderStatus
from orderhub.services.hub import Hub
from orderhub.services.ingest import process_inbox, receive_payload
from orderhub.services.keeping import purge_personal_data, rotate_keys
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from orderhub.store.db import Database, make_engine
from orderhub.store.order_search import OrderFilter
from support import make_settings, offline_shop, offline_warehouse

OLD, NEW = b"o" * 32, b"n" * 32


def _hub(database_url: str, keys: dict[str, bytes], current: str, **settings: object) -> Hub:
    s = make_settings(database_url, **settings)
    return Hub(Database(make_engine(database_url), Cipher(keys, current), tenant=s.tenant), s)


def _raw(number: int) -> dict[str, object]:
    return {
        "id": number,
        "name": f"#{number}",
        "currency": "CNY",
        "created_at": "2026-11-01T08:00:00+08:00",
        "updated_at": "2026-11-01T08:00:00+08:00",
        "financial_status": "paid",
        "total_price": "10.00",
        "customer": {"first_name": "三", "last_name": "张", "phone": "+8613812348000"},
        "shipping_address": {
            "name": "张三",
            "phone": "13812348000",
            "country_code": "CN",
            "province": "浙江省",
            "city": "杭州市",
            "address1": "文三路100号",
            "zip": "310000",
        },
        "line_items": [{"id": 1, "sku": "SKU-1", "quantity": 1, "price": "10.00"}],
    }


@pytest.fixture
def old_hub(database_url: str) -> Iterator[Hub]:
    hub = _hub(database_url, {"old": OLD}, "old")
    apply_config(
        hub,
        HubConfig(
            shops=[offline_shop("S1")], nodes=[offline_warehouse()], skus=[SkuConfig(sku="SKU-1")]
        ),
    )
    yield hub
    hub.close()


def _ingest(hub: Hub, number: int) -> str:
    order_id = process_inbox(
        hub, receive_payload(hub, "S1", _raw(number), source="import").inbox_id
    )
    assert order_id is not None
    return order_id


def test_after_rotation_everything_opens_with_the_new_key_alone(
    old_hub: Hub, database_url: str
) -> None:
    order_id = _ingest(old_hub, 1001)
    both = _hub(database_url, {"old": OLD, "new": NEW}, "new")
    done = rotate_keys(both)
    assert (done.key, done.orders, done.payloads, done.connections) == ("new", 1, 1, 2)
    assert rotate_keys(both).orders == 0  # nothing left under the old key
    both.close()

    new_only = _hub(database_url, {"new": NEW}, "new")
    with new_only.db.engine.connect() as conn:
        inbox_id = conn.execute(select(t.orders.c.inbox_id)).scalar_one()
    with new_only.reader() as uow:
        assert uow.orders.get(order_id).receiver.phone == "13812348000"
        assert b"13812348000" in uow.inbox.get(inbox_id).body
        assert uow.catalog.shop("S1").secrets["access_token"] == "t"
    new_only.close()


def test_closed_orders_past_retention_keep_their_books_but_not_their_buyer(
    old_hub: Hub,
) -> None:
    closed, still_open = _ingest(old_hub, 1001), _ingest(old_hub, 1002)
    with old_hub.db.engine.begin() as conn:
        conn.execute(
            update(t.orders)
            .where(t.orders.c.id == closed)
            .values(status=OrderStatus.COMPLETED.value)
        )
    later = datetime.now(UTC) + timedelta(days=old_hub.settings.retention_days + 1)
    purged = purge_personal_data(old_hub, now=later)
    assert (purged.orders, purged.payloads) == (1, 1)
    assert purge_personal_data(old_hub, now=later).orders == 0

    with old_hub.reader() as uow:
        gone = uow.orders.get(closed)
        kept = uow.orders.get(still_open)
    assert (gone.receiver.name, gone.receiver.phone) == ("张*", "138****8000")
    assert gone.receiver.address1 != "文三路100号" and gone.receiver.province == "浙江省"
    assert gone.totals.grand_total == kept.totals.grand_total
    assert [line.sku for line in gone.lines] == ["SKU-1"]
    assert kept.receiver.phone == "13812348000"
    with old_hub.db.engine.connect() as conn:
        bodies = dict(conn.execute(select(t.inbox.c.order_id, t.inbox.c.body)).all())
    assert bytes(bodies[closed]) == b"" and bytes(bodies[still_open]) != b""

    # The purged order is no longer found by its phone's last four digits; the open one is.
    with old_hub.reader() as uow:
        assert [o.id for o in uow.orders.summaries(where=OrderFilter(phone_last4="8000"))] == [
            still_open
        ]
