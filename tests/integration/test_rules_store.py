"""Rule sets kept per seller and versioned, decided on stored orders, and dry-run over
past orders without changing them: on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from orderhub.config import HubConfig
from orderhub.domain.errors import InvalidRuleSet, NotFound
from orderhub.domain.order import Address, Order, Remarks, Totals
from orderhub.services.hub import Hub
from orderhub.services.rules import (
    activate_rule_set,
    active_rules,
    decide,
    dry_run,
    list_rule_sets,
    put_rule_set,
    show_rule_set,
)
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from orderhub.store.uow import UnitOfWork
from support import make_order, offline_warehouse

DAY = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def nodes(hub: Hub) -> None:
    """The nodes the rules route to: a rule naming an unknown node is not activated."""
    codes = ("WH1", "WH-WEST", "WH-XIAN")
    apply_config(hub, HubConfig(nodes=[offline_warehouse(code) for code in codes]))


WEST = {
    "name": "west",
    "when": "order.receiver.province in ['新疆', '西藏', '青海']",
    "action": "route",
    "node": "WH-WEST",
    "reason": "western provinces ship from Xi'an",
}
INVOICE = {
    "name": "invoice",
    "when": "order.remarks.buyer.contains('发票')",
    "action": "hold",
    "reason": "the buyer asks for an invoice",
}
FIRST_BIG = {
    "name": "first-big",
    "when": "buyer.previous_orders == 0 && order.totals.grand_total > 1000",
    "action": "alert",
    "reason": "a first-time buyer spends more than 1000",
}


def body(*rules: dict[str, Any], name: str = "checks", description: str = "") -> dict[str, Any]:
    return {"name": name, "description": description, "rules": list(rules)}


def placed(
    channel_order_id: str,
    *,
    province: str = "浙江省",
    node: str | None = "WH1",
    remark: str = "",
    total: str = "100.00",
    hours: int = 0,
    receiver: str = "张三",
) -> Order:
    order = make_order(
        channel_order_id=channel_order_id,
        order_no=f"NO-{channel_order_id}",
        placed_at=DAY + timedelta(hours=hours),
        receiver=Address(name=receiver, phone="13812348000", country="CN", province=province),
        remarks=Remarks(buyer=remark),
        totals=Totals(items=Decimal(total), grand_total=Decimal(total)),
    )
    for line in order.lines:
        line.node = node
    return order


def store(hub: Hub, *orders: Order) -> None:
    with hub.uow() as uow:
        for order in orders:
            uow.orders.add(order)
        uow.commit()


def test_every_put_is_a_new_draft_version_and_the_newest_is_shown(hub: Hub) -> None:
    first = put_rule_set(hub, body(WEST, description="routing"))
    second = put_rule_set(hub, body(WEST, INVOICE, description="routing and invoices"))
    put_rule_set(hub, body(INVOICE, name="alerts"))

    newest = show_rule_set(hub, "checks")
    older = show_rule_set(hub, "checks", 1)
    listed = {s.name: s for s in list_rule_sets(hub)}

    assert (first, second) == (1, 2)
    assert (newest.version, newest.status, [r.name for r in newest.rule_set.rules]) == (
        2,
        "draft",
        ["west", "invoice"],
    )
    assert [r.name for r in older.rule_set.rules] == ["west"]
    assert list(listed) == ["alerts", "checks"]
    checks = listed["checks"]
    assert (checks.versions, checks.latest, checks.active, checks.rules, checks.description) == (
        2,
        2,
        None,
        2,
        "routing and invoices",
    )
    with pytest.raises(NotFound):
        show_rule_set(hub, "checks", 3)


def test_a_rule_set_that_does_not_compile_is_not_stored(hub: Hub) -> None:
    broken = {**INVOICE, "when": "order.remarks.buyer.contains('发票'"}

    with pytest.raises(InvalidRuleSet) as caught:
        put_rule_set(hub, body(WEST, broken))

    assert caught.value.rule == "invoice" and "Syntax error" in caught.value.message
    assert list_rule_sets(hub) == []


def test_activating_a_version_retires_the_one_in_force_and_decisions_follow(hub: Hub) -> None:
    put_rule_set(hub, body(WEST))
    put_rule_set(hub, body({**WEST, "node": "WH-XIAN"}))
    order = placed("1", province="新疆", node=None)
    store(hub, order)

    with hub.reader() as uow:
        before = decide(uow, order, now=DAY)
    assert activate_rule_set(hub, "checks", 1) == 1
    with hub.reader() as uow:
        with_v1 = decide(uow, order, now=DAY)
    assert activate_rule_set(hub, "checks") == 2
    with hub.reader() as uow:
        with_v2 = decide(uow, order, now=DAY)
        in_force = [(rule_set.name, version) for rule_set, version in uow.rules.active()]
        statuses = [v.status for v in uow.rules.versions("checks")]

    assert before.route is None
    assert with_v1.route is not None and with_v1.route.node == "WH-WEST"
    assert with_v2.route is not None and with_v2.route.node == "WH-XIAN"
    assert in_force == [("checks", 2)] and statuses == ["retired", "active"]


def test_rule_sets_of_another_seller_are_not_seen(hub: Hub) -> None:
    put_rule_set(hub, body(WEST))
    activate_rule_set(hub, "checks")

    with UnitOfWork(hub.db, tenant="other-seller", read_only=True) as uow:
        assert uow.rules.names() == [] and uow.rules.active() == []
        assert active_rules(uow).sets == ()


def test_a_version_is_compiled_once_and_reused_for_every_order(hub: Hub) -> None:
    put_rule_set(hub, body(WEST, INVOICE))
    activate_rule_set(hub, "checks")

    with hub.reader() as uow:
        first = active_rules(uow)
    with hub.reader() as uow:
        again = active_rules(uow)

    assert [s.name for s in first.sets] == ["checks"]
    assert again.sets[0] is first.sets[0]


def test_a_buyer_with_earlier_orders_in_the_shop_is_not_a_first_time_buyer(hub: Hub) -> None:
    put_rule_set(hub, body(FIRST_BIG))
    activate_rule_set(hub, "checks")
    earlier = placed("1", total="50.00", hours=0)
    returning = placed("2", total="1500.00", hours=5)
    newcomer = placed("3", total="1500.00", hours=5, receiver="王五")
    store(hub, earlier, returning, newcomer)

    with hub.reader() as uow:
        for_returning = decide(uow, returning, now=DAY)
        for_newcomer = decide(uow, newcomer, now=DAY)

    assert for_returning.alerts == []
    assert [h.rule for h in for_newcomer.alerts] == ["first-big"]


def _snapshot(hub: Hub) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]], dict[str, int]]:
    """Every order as the hub serves it, its stored row, and the rows of everything else a
    decision could write."""
    with hub.reader() as uow:
        ids = sorted(s.id for s in uow.orders.summaries(limit=100))
        orders = [uow.orders.get(i).model_dump(mode="json") for i in ids]
    o = t.orders.c
    with hub.db.engine.connect() as conn:
        rows = [
            tuple(r)
            for r in conn.execute(select(o.id, o.status, o.node, o.updated_at).order_by(o.id))
        ]
        counts = {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (t.exceptions, t.outbox_jobs, t.trace_events, t.rule_sets)
        }
    return orders, rows, counts


def test_a_dry_run_reports_matches_and_changed_routes_and_writes_nothing(hub: Hub) -> None:
    put_rule_set(hub, body(WEST))
    activate_rule_set(hub, "checks")
    typo = {
        "name": "typo",
        "when": "order.receiver.provnce == '新疆'",
        "action": "hold",
        "reason": "x",
    }
    off = {**INVOICE, "name": "off", "enabled": False}
    draft = put_rule_set(hub, body(WEST, INVOICE, typo, off))
    store(
        hub,
        placed("1", province="新疆", node="WH1", hours=1),
        placed("2", province="西藏", node="WH-WEST", hours=2),
        placed("3", province="青海", node=None, hours=3),
        placed("4", province="浙江省", remark="请开发票", hours=4),
        placed("5", province="新疆", node="WH1", hours=-48),
    )
    before = _snapshot(hub)

    report = dry_run(hub, "checks", version=draft, since=DAY)
    capped = dry_run(hub, "checks", version=draft, since=DAY, until=DAY + timedelta(hours=3))
    limited = dry_run(hub, "checks", version=draft, since=DAY, limit=2)

    assert (report.version, report.status, report.orders, report.truncated) == (
        draft,
        "draft",
        4,
        False,
    )
    by_rule = {r.rule: r for r in report.rules}
    assert list(by_rule) == ["west", "invoice", "typo", "off"]
    west = by_rule["west"]
    assert (west.matched, west.changed, west.examples) == (3, 2, ["NO-1", "NO-2", "NO-3"])
    invoice = by_rule["invoice"]
    assert (invoice.matched, invoice.changed, invoice.examples) == (1, None, ["NO-4"])
    typo_report = by_rule["typo"]
    assert (typo_report.matched, typo_report.errors) == (0, 4)
    assert typo_report.error_examples[0] == 'NO-1: no field "provnce"'
    assert (by_rule["off"].enabled, by_rule["off"].matched) == (False, 0)
    assert (capped.orders, {r.rule: r.matched for r in capped.rules}["west"]) == (2, 2)
    assert (limited.orders, limited.truncated) == (2, True)
    assert _snapshot(hub) == before
