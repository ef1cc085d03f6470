"""A batch of payloads reads ahead what its orders need (are they stored, is the buyer
known, did the buyer order lately) in one query each, and comes out exactly as the same
payloads taken one at a time."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from orderhub.jobs.worker import Worker
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, receive_payload
from orderhub.services.setup import apply_config
from support import make_hub, one_warehouse_catalogue

SHOP, NODE = "S1", "WH1"


def shopify_order(
    template: dict[str, Any],
    number: int,
    buyer: int,
    *,
    sku: str = "SKU-A",
    minute: int = 0,
    cancelled: bool = False,
) -> dict[str, Any]:
    """The template as another order of one unit of `sku` by buyer number `buyer`."""
    order = copy.deepcopy(template)
    placed = datetime(2026, 12, 1, 9, minute, tzinfo=UTC)
    order["id"] = 910_000_000 + number
    order["name"], order["order_number"] = f"#R{number}", 8000 + number
    order["created_at"] = order["processed_at"] = placed.isoformat()
    order["updated_at"] = (placed + timedelta(seconds=30 if cancelled else 0)).isoformat()
    if cancelled:
        order["cancelled_at"], order["cancel_reason"] = order["updated_at"], "customer"
    line = order["line_items"][0]
    line["id"], line["sku"] = 810_000_000 + number, sku
    email, phone = f"reader{buyer}@example.cn", f"+86 1391111{buyer:04d}"
    order["email"] = order["contact_email"] = order["customer"]["email"] = email
    order["customer"]["id"] = 710_000_000 + buyer
    for part in (order, order["customer"], order["shipping_address"], order["billing_address"]):
        part["phone"] = phone
    return order


def outcome(hub: Hub, numbers: list[int]) -> dict[int, tuple[str, list[str], int]]:
    """Per order: its status, the codes of its open exceptions and its buyer's order count."""
    found = {}
    with hub.reader() as uow:
        for number in numbers:
            order = uow.orders.by_channel_ref(SHOP, str(910_000_000 + number))
            assert order is not None, number
            buyer = uow.buyers.of_order(order.id)
            codes = sorted(x.code for x in uow.orders.exceptions_of(order.id) if not x.resolved)
            found[number] = (order.status.value, codes, buyer.orders if buyer else 0)
    return found


def run_inbox_jobs(hub: Hub) -> list[str]:
    """Take every stored payload in; the statements the hub sent to its database."""
    asked: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        asked.append(" ".join(statement.split()))

    event.listen(hub.db.engine, "before_cursor_execute", note)
    try:
        Worker(hub, kinds=[JOB_INBOX]).run_until_idle(timeout=60)
    finally:
        event.remove(hub.db.engine, "before_cursor_execute", note)
    return asked


@pytest.fixture
def hubs(database_url: str) -> Iterator[tuple[Hub, Hub]]:
    """Two hubs on one database, as two tenants: one takes payloads in batches of 50,
    the other one at a time."""
    window = {"duplicate_window": 600.0}  # a repeated cart within 10 minutes waits
    batched = make_hub(database_url, tenant="batched", worker_batch=50, **window)
    alone = make_hub(database_url, tenant="alone", worker_batch=1, **window)
    try:
        for hub in (batched, alone):
            apply_config(hub, one_warehouse_catalogue(SHOP, NODE, {"SKU-A": 10, "SKU-B": 10}))
        yield batched, alone
    finally:
        batched.close()
        alone.close()


def test_a_batch_holding_versions_and_repeats_of_orders_ends_as_one_at_a_time_would(
    hubs: tuple[Hub, Hub], template: dict[str, Any]
) -> None:
    payloads = [
        shopify_order(template, 1, buyer=1),
        shopify_order(template, 1, buyer=1, cancelled=True),  # a later version of order 1
        shopify_order(template, 2, buyer=2),
        shopify_order(template, 3, buyer=2, minute=2),  # the same cart again: a duplicate
        shopify_order(template, 4, buyer=2, sku="SKU-B", minute=5),
        shopify_order(template, 5, buyer=3),
    ]
    results, inserts = [], []
    for hub in hubs:
        for payload in payloads:
            receive_payload(hub, SHOP, payload, source="import")
        asked = run_inbox_jobs(hub)
        inserts.append(sum(s.startswith("INSERT INTO orders ") for s in asked))
        results.append(outcome(hub, [1, 2, 3, 4, 5]))
    # One at a time, each order is one INSERT; the batch writes its new orders together
    # (fewer), and would write them again had it been undone and run order by order.
    assert inserts[0] <= inserts[1] == 5
    batched, alone = results
    assert batched == alone
    assert batched == {
        1: ("cancelled", [], 1),
        2: ("reserved", [], 3),
        3: ("held", ["possible_duplicate"], 3),
        4: ("reserved", [], 3),
        5: ("reserved", [], 1),
    }
    with hubs[0].reader() as uow:
        level = uow.stock.level(NODE, "SKU-A")
        assert level is not None and level.reserved == 2  # orders 2 and 5
        assert uow.stock.ledger_mismatches() == []


def test_a_batch_of_new_orders_asks_once_whether_they_or_their_buyers_are_known(
    hubs: tuple[Hub, Hub], template: dict[str, Any]
) -> None:
    hub = hubs[0]
    for number in range(20):
        receive_payload(
            hub, SHOP, shopify_order(template, number, buyer=number, sku="SKU-B"), source="import"
        )
    asked = run_inbox_jobs(hub)
    selects = [s for s in asked if s.startswith("SELECT")]
    stored = [s for s in selects if "FROM orders" in s and "channel_order_id" in s]
    buyers_known = [s for s in selects if "buyer_keys" in s]
    recent = [s for s in selects if "FROM orders" in s and "buyer_key" in s]
    buyers_made = [s for s in asked if s.startswith("INSERT INTO buyers ")]
    assert (len(stored), len(buyers_known), len(recent), len(buyers_made)) == (1, 1, 1, 1)
    # The twenty new orders, and their lines, are written in one statement each.
    orders_written = [s for s in asked if s.startswith("INSERT INTO orders ")]
    lines_written = [s for s in asked if s.startswith("INSERT INTO order_lines ")]
    assert (len(orders_written), len(lines_written)) == (1, 1)
    with hub.reader() as uow:
        assert uow.orders.count_by_status() == {"reserved": 10, "held": 10}
        for number in range(20):
            order = uow.orders.by_channel_ref(SHOP, str(910_000_000 + number))
            assert order is not None
            buyer = uow.buyers.of_order(order.id)
            assert buyer is not None and buyer.orders == 1


def test_a_batch_of_orders_for_many_skus_reads_their_stock_in_one_query(
    database_url: str, template: dict[str, Any]
) -> None:
    skus = {f"SKU-{n:02d}": 1 for n in range(20)}
    hub = make_hub(database_url, worker_batch=50)
    try:
        apply_config(hub, one_warehouse_catalogue(SHOP, NODE, skus))
        for number, sku in enumerate(skus):
            receive_payload(
                hub, SHOP, shopify_order(template, number, buyer=number, sku=sku), source="import"
            )
        asked = run_inbox_jobs(hub)
        levels_read = [s for s in asked if s.startswith("SELECT") and "FROM stock_levels" in s]
        assert len(levels_read) == 1
        with hub.reader() as uow:
            assert uow.orders.count_by_status() == {"reserved": 20}
            levels = uow.stock.levels(skus=list(skus), nodes=[NODE])
            assert [(level.sku, level.available) for level in levels] == [
                (sku, 0) for sku in sorted(skus)
            ]
            assert uow.stock.ledger_mismatches() == []
    finally:
        hub.close()
