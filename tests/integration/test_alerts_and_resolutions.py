"""Alerts counted per key and sent as one digest, the SLA scan, and exceptions resolved
by an action and replayed; on SQLite and PostgreSQL.

The shop and the warehouse point at closed ports: only database work runs here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from orderhub.config import HubConfig, ListingConfig, SkuConfig, StockConfig
from orderhub.domain.alerts import Alert
from orderhub.domain.exceptions_catalog import ActionNotAllowed
from orderhub.domain.order import Order, OrderStatus
from orderhub.services import queries
from orderhub.services.alerts import JOB_ALERT_DIGEST, alert_list, raise_alert, send_digest
from orderhub.services.exceptions import resolve_exception
from orderhub.services.hub import Hub
from orderhub.services.inventory import check_low_stock
from orderhub.services.pipeline import route
from orderhub.services.setup import apply_config
from orderhub.services.sla import late_orders, scan_sla
from orderhub.store import tables as t
from support import make_order, offline_shop, offline_warehouse

SKUS = ("SKU-1", "SKU-2")


class Inbox:
    """A notifier that keeps what it was sent."""

    def __init__(self) -> None:
        self.digests: list[list[Alert]] = []

    def send(self, alerts: Sequence[Alert]) -> None:
        self.digests.append(list(alerts))


def configure(hub: Hub, *, low_at: int | None = None) -> None:
    apply_config(
        hub,
        HubConfig(
            shops=[offline_shop()],
            nodes=[offline_warehouse()],
            skus=[
                SkuConfig(sku=s, title=s, low_stock_threshold=low_at) for s in ("SKU-1", "SKU-2")
            ],
            listings=[ListingConfig(shop="S1", channel_sku="SKU-1", sku="SKU-1")],
            stock=[StockConfig(node="WH1", sku=s, on_hand=10) for s in SKUS],
        ),
    )


def ingest(hub: Hub, order: Order) -> Order:
    """Store the order and take it through the pipeline, as the inbox job does."""
    with hub.uow() as uow:
        uow.orders.add(order)
        route(uow, order, uow.catalog.shop(order.shop), stock_window=0.05)
        uow.orders.save(order)
        uow.commit()
    return order


def order(channel_order_id: str, quantity: int, **fields: Any) -> Order:
    return make_order(channel_order_id=channel_order_id, lines=[("SKU-1", quantity)], **fields)


def stored(hub: Hub, order_id: str) -> Order:
    with hub.reader() as uow:
        return uow.orders.get(order_id)


def digest_jobs(hub: Hub) -> int:
    c = t.outbox_jobs.c
    with hub.db.engine.connect() as conn:
        return len(conn.execute(select(c.id).where(c.kind == JOB_ALERT_DIGEST)).all())


# alerts


def test_the_same_key_raised_again_counts_and_sends_once_per_window(hub: Hub) -> None:
    alert = Alert("low_stock", "low_stock:WH1:SKU-1", "SKU-1 at WH1 is low")
    with hub.uow() as uow:
        assert raise_alert(uow, alert)
        for _ in range(4):
            assert not raise_alert(uow, alert)
        uow.commit()
    inbox = Inbox()

    assert send_digest(hub, via=[inbox]) == 1

    [[sent]] = inbox.digests
    assert (sent.key, sent.count) == ("low_stock:WH1:SKU-1", 5)
    # Within the window it only counts; nothing more is sent.
    with hub.uow() as uow:
        assert not raise_alert(uow, alert)
        uow.commit()
    assert send_digest(hub, via=[inbox]) == 0
    assert len(inbox.digests) == 1
    [row] = alert_list(hub)
    assert (row.count, row.sent_at is not None) == (6, True)
    # After the window it alerts again.
    with hub.uow() as uow:
        assert raise_alert(uow, alert, now=datetime.now(UTC) + timedelta(hours=2))
        uow.commit()
    assert send_digest(hub, via=[inbox]) == 1


def test_low_stock_checked_five_times_makes_three_alerts_in_one_digest(hub: Hub) -> None:
    configure(hub, low_at=20)

    for _ in range(5):
        check_low_stock(hub)

    rows = alert_list(hub)
    assert sorted((r.key, r.count) for r in rows) == [
        ("low_stock:WH1:SKU-1", 5),
        ("low_stock:WH1:SKU-2", 5),
    ]
    assert digest_jobs(hub) == 1
    inbox = Inbox()
    assert send_digest(hub, via=[inbox]) == 2
    assert len(inbox.digests) == 1


def test_a_failed_send_keeps_the_alerts_for_the_retry(hub: Hub) -> None:
    class Down:
        def send(self, alerts: Sequence[Alert]) -> None:
            raise ConnectionError("mail server down")

    with hub.uow() as uow:
        raise_alert(uow, Alert("stock_difference", "stock_difference:WH1:SKU-1", "-12"))
        uow.commit()
    with pytest.raises(ConnectionError):
        send_digest(hub, via=[Down()])
    inbox = Inbox()
    assert send_digest(hub, via=[inbox]) == 1
    assert [a.key for a in inbox.digests[0]] == ["stock_difference:WH1:SKU-1"]


# SLA


def test_the_sla_scan_alerts_and_traces_each_late_order_once(hub: Hub) -> None:
    configure(hub)
    now = datetime.now(UTC)
    # Different quantities: the same buyer's identical orders would be held as duplicates.
    soon = ingest(hub, order("A", 1, ship_by=now + timedelta(hours=2)))
    late = ingest(hub, order("B", 2, ship_by=now - timedelta(hours=1)))
    later = ingest(hub, order("C", 3, ship_by=now + timedelta(days=2)))
    assert {soon.status, late.status, later.status} == {OrderStatus.RESERVED}

    report = scan_sla(hub)
    again = scan_sla(hub)

    assert [o.order_id for o in report.at_risk] == [soon.id]
    assert [o.order_id for o in report.overdue] == [late.id]
    assert (report.alerted, again.alerted) == (2, 0)
    assert sorted(r.key for r in alert_list(hub)) == [
        f"sla_at_risk:{soon.id}",
        f"sla_overdue:{late.id}",
    ]
    trace = [e for e in queries.order_view(hub, late.id).trace if e.stage == "sla"]
    assert [(e.status, "missed ship-by" in e.message) for e in trace] == [("overdue", True)]
    listed = late_orders(hub)
    assert [(o.channel_order_id, o.state, o.receiver) for o in listed] == [
        ("B", "overdue", "张*, 杭州市 CN"),
        ("A", "at_risk", "张*, 杭州市 CN"),
    ]


# resolving exceptions


def open_exception(hub: Hub, order_id: str) -> Any:
    [record] = [e for e in queries.exception_list(hub) if e.order_id == order_id]
    return record


def test_fixing_the_phone_stores_it_encrypted_and_routes_the_order(hub: Hub) -> None:
    configure(hub)
    order = make_order(channel_order_id="P1")
    order.receiver.phone = ""
    held = ingest(hub, order)
    exception = open_exception(hub, held.id)
    assert (held.status, exception.code) == (OrderStatus.HELD, "missing_phone")
    assert queries.exception_view(hub, exception.id)["actions"] == [
        "fix_address",
        "cancel",
        "dismiss",
    ]

    result = resolve_exception(
        hub, exception.id, "fix_address", receiver={"receiver.phone": "139 0000 1111"}
    )

    assert (result.outcome, result.status) == ("order routed again", "reserved")
    assert stored(hub, held.id).receiver.phone == "139 0000 1111"
    with hub.db.engine.connect() as conn:
        row = conn.execute(
            select(t.orders.c.document, t.orders.c.pii).where(t.orders.c.id == held.id)
        ).one()
    assert "139 0000 1111" not in row.document + row.pii
    assert queries.exception_list(hub) == []
    trace = [e.message for e in queries.order_view(hub, held.id).trace if e.stage == "resolve"]
    assert trace == ["fix_address: set receiver.phone"]


def test_mapping_the_sku_adds_the_listing_and_routes_the_order(hub: Hub) -> None:
    configure(hub)
    held = ingest(hub, make_order(channel_order_id="M1", lines=[("MUG-BLUE", 1)]))
    exception = open_exception(hub, held.id)
    assert exception.code == "unknown_sku"

    with pytest.raises(ActionNotAllowed):
        resolve_exception(hub, exception.id, "fix_address", receiver={"phone": "1"})
    result = resolve_exception(hub, exception.id, "map_sku", skus={"MUG-BLUE": "SKU-2"}, note="ok")

    assert result.status == "reserved"
    assert [line.sku for line in stored(hub, held.id).lines] == ["SKU-2"]
    with hub.reader() as uow:
        assert uow.catalog.listing_map("S1", ["MUG-BLUE"]) == {"MUG-BLUE": "SKU-2"}


def test_cancelling_a_held_order_closes_it_and_resolving_it_again_changes_nothing(
    hub: Hub,
) -> None:
    configure(hub)
    held = ingest(hub, make_order(channel_order_id="X1", lines=[("NOPE", 1)]))
    exception = open_exception(hub, held.id)

    result = resolve_exception(hub, exception.id, "cancel", note="buyer asked by phone")

    assert (result.outcome, result.status) == (
        "order cancelled; the shop will be told",
        "cancelled",
    )
    assert stored(hub, held.id).status is OrderStatus.CANCELLED
    again = resolve_exception(hub, exception.id, "cancel")
    assert again.outcome == "already resolved: cancel (buyer asked by phone)"
    assert (again.status, again.now_open) == ("cancelled", ())


def test_alert_rows_keep_their_data(hub: Hub) -> None:
    with hub.uow() as uow:
        raise_alert(uow, Alert("x", "x:1", "m", data={"sku": "SKU-1", "n": 2}))
        uow.commit()
    [row] = alert_list(hub)
    assert row.data == {"sku": "SKU-1", "n": 2}
    assert json.loads(json.dumps(row.data)) == row.data
