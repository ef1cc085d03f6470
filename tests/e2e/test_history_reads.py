"""An order's journey reads no history: every table that grows with each order is reached
through an index that narrows to the rows asked for, never by reading a seller's rows.

A read that scans a growing table, or narrows it only to the seller, costs more with
every order the seller ever took: on a database a year old, the same code would be a
hundred times slower. Each statement an order's journey runs is planned by the database
itself: SQLite's EXPLAIN QUERY PLAN, whose choice does not depend on the rows held;
PostgreSQL's EXPLAIN with sequential scans priced out, which then still scans a table
only where no index serves.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

from orderhub.demo_stack import Stack
from orderhub.domain.access import Principal, Role
from orderhub.services import queries
from orderhub.services.audit import list_entries
from orderhub.services.buyers import export_buyer, find_buyer
from orderhub.services.returns import list_returns
from support import wait_until

# Tables whose size follows the seller's set-up (shops, SKUs, nodes), not their history.
SET_UP = {
    "bundle_components",
    "config_versions",
    "erps",
    "listings",
    "nodes",
    "rule_sets",
    "shop_items",
    "shops",
    "skus",
    "stock_levels",
    "sync_cursors",
    "trackers",
    "users",
}


class Statements:
    """Each distinct statement run on an engine, with the parameters it first ran with."""

    def __init__(self, engine: Engine, *, with_this_thread: bool = False) -> None:
        self.engine = engine
        self.with_this_thread = with_this_thread
        self.seen: dict[str, Any] = {}
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._note)

    def _note(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if isinstance(params, list) or not re.match(r"\s*(SELECT|UPDATE|DELETE|WITH)", statement):
            return
        if threading.current_thread() is threading.main_thread() and not self.with_this_thread:
            return  # the test's own questions (is the order complete?), not the hub's work
        with self._lock:
            self.seen.setdefault(statement, params)

    def stop(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._note)


def history_reads(engine: Engine, statements: dict[str, Any]) -> list[str]:
    """The statements whose plan reads a growing table by scan or by the seller alone."""
    found: list[str] = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            cursor.execute("SET enable_seqscan = off")
        for statement, params in statements.items():
            if postgres:
                cursor.execute("EXPLAIN (FORMAT JSON) " + statement, params)
                plan = cursor.fetchone()[0]
                bad = _postgres_reads(plan[0]["Plan"] if isinstance(plan, list) else plan)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
                bad = [row[3] for row in cursor.fetchall() if _sqlite_reads(row[3])]
            if bad:
                found.append(f"{' '.join(statement.split())[:300]}\n    {bad}")
        if postgres:
            raw.rollback()
    finally:
        raw.close()
    return found


def _sqlite_reads(detail: str) -> bool:
    match = re.match(r"(SCAN|SEARCH) (\w+)", detail)
    if match is None or match.group(2) in SET_UP | {"CONSTANT"}:
        return False
    if re.search(r"INDEX ix_\w+_newest \(tenant=\?", detail):
        return False  # a page, newest first: the walk stops when the page is full
    return match.group(1) == "SCAN" or detail.endswith("(tenant=?)")


def _postgres_reads(node: dict[str, Any]) -> list[str]:
    """Scans no index could spare. Which index PostgreSQL picks among those that can
    serve depends on its statistics, which a test database's few rows do not show."""
    bad: list[str] = []
    table = node.get("Relation Name")
    if table and table not in SET_UP and node["Node Type"] == "Seq Scan":
        bad.append(f"Seq Scan on {table} {node.get('Filter', '')}")
    for child in node.get("Plans", []):
        bad += _postgres_reads(child)
    return bad


def test_an_orders_journey_reads_no_history(make_stack: Callable[..., Stack]) -> None:
    """Orders taken in, reserved, sent to the warehouse, one cancelled there and its stock
    released, the others shipped and their tracking sent back to the shop."""
    stack = make_stack(ship_delay=60)
    statements = Statements(stack.hub.db.engine)
    shop = stack.shops["SHOP1"]
    placed = [
        shop.place_order({"lines": [{"sku": f"SKU-00{1 + i % 3}", "quantity": 1 + i % 2}]})
        for i in range(8)
    ]
    placed.append(
        shop.place_order(
            {"lines": [{"sku": "SKU-001", "quantity": 1}, {"sku": "SKU-002", "quantity": 1}]}
        )
    )

    def order(channel_order_id: Any) -> Any:
        with stack.hub.reader() as uow:
            return uow.orders.by_channel_ref("SHOP1", str(channel_order_id))

    def all_are(status: str, orders: list[dict[str, Any]]) -> bool:
        return all((o := order(p["id"])) is not None and o.status == status for p in orders)

    wait_until(lambda: all_are("pushed", placed), what="the orders at the warehouse")
    cancelled, shipped = placed[0], placed[1:]
    shop.cancel_order(cancelled["id"])
    wait_until(lambda: all_are("cancelled", [cancelled]), what="the intercept")
    for each in shipped:
        stack.qimen.ship_now(order(each["id"]).id)
    wait_until(lambda: all_are("completed", shipped), what="the orders to complete")
    wait_until(stack.settled, what="the hub to settle")
    statements.stop()

    assert len(statements.seen) > 20, json.dumps(list(statements.seen))
    found = history_reads(stack.hub.db.engine, statements.seen)
    assert not found, "\n".join(found)


def test_the_pages_people_open_read_a_page_not_the_history(
    make_stack: Callable[..., Stack],
) -> None:
    """An order's page, the order list, returns, exceptions, the audit log and a
    buyer's export, opened after orders went through."""
    stack = make_stack(ship_delay=0.05)
    shop = stack.shops["SHOP1"]
    placed = [shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]}) for _ in range(3)]

    def order(channel_order_id: Any) -> Any:
        with stack.hub.reader() as uow:
            return uow.orders.by_channel_ref("SHOP1", str(channel_order_id))

    wait_until(
        lambda: all((o := order(p["id"])) is not None and o.status == "completed" for p in placed),
        what="the orders to complete",
    )
    wait_until(stack.settled, what="the hub to settle")
    order_id = order(placed[0]["id"]).id
    statements = Statements(stack.hub.db.engine, with_this_thread=True)
    owner = Principal("owner", Role.OWNER, via="test")
    queries.order_view(stack.hub, order_id)
    queries.order_view(stack.hub, str(placed[1]["id"]))
    queries.order_list(stack.hub)
    queries.order_list(stack.hub, status="completed", shop="SHOP1")
    queries.exception_list(stack.hub)
    list_returns(stack.hub)
    list_returns(stack.hub, order_id=order_id)
    list_entries(stack.hub)
    list_entries(stack.hub, actor="owner")
    buyer = find_buyer(stack.hub, order=order_id)
    export_buyer(stack.hub, buyer.id, who=owner, reason="the buyer asked")
    statements.stop()

    assert len(statements.seen) > 5, json.dumps(list(statements.seen))
    found = history_reads(stack.hub.db.engine, statements.seen)
    assert not found, "\n".join(found)
