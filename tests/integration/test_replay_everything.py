"""Every kind of exception and every kind of job, replayed or retried twice in a row.

A person who clicks "retry" twice, or replays after a colleague already did, must get a
plain answer and the same single effect: the same dispatch at the node, the same
coalesced stock push, never a database error. Every exception can be closed, at least
by dismissing it with a reason, which is kept. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from orderhub.config import HubConfig, ListingConfig, SkuConfig, StockConfig
from orderhub.domain.exceptions_catalog import CATALOG
from orderhub.domain.order import ChannelStatus, Order, OrderStatus
from orderhub.jobs.worker import Worker
from orderhub.services import queries
from orderhub.services.exceptions import (
    replay_exception,
    resolve_by_code,
    resolve_exception,
    retry_job,
)
from orderhub.services.handlers import HANDLERS
from orderhub.services.hub import Hub
from orderhub.services.ingest import process_inbox, receive_payload
from orderhub.services.pipeline import route
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from support import make_order, offline_shop, offline_warehouse, raw_shopify_order


@pytest.fixture
def hub(database_url: str) -> Any:
    from support import make_hub

    h = make_hub(database_url, max_attempts=1, duplicate_window=600.0)
    apply_config(
        h,
        HubConfig(
            shops=[offline_shop()],
            nodes=[offline_warehouse()],
            skus=[SkuConfig(sku="SKU-1"), SkuConfig(sku="SKU-2")],
            listings=[ListingConfig(shop="S1", channel_sku="SKU-1", sku="SKU-1")],
            stock=[StockConfig(node="WH1", sku="SKU-1", on_hand=5)],
        ),
    )
    yield h
    h.close()


def ingest(hub: Hub, order: Order) -> Order:
    with hub.uow() as uow:
        uow.orders.add(order)
        route(
            uow,
            order,
            uow.catalog.shop(order.shop),
            stock_window=0.05,
            duplicate_window=hub.settings.duplicate_window,
        )
        uow.orders.save(order)
        uow.commit()
    return order


def open_of(hub: Hub, code: str) -> list[Any]:
    return [e for e in queries.exception_list(hub, limit=1000) if e.code == code]


def _bad_receiver(**fields: str) -> Callable[[], Order]:
    def make() -> Order:
        order = make_order(channel_order_id=f"R-{'-'.join(fields)}", lines=[("SKU-1", 1)])
        for name, value in fields.items():
            setattr(order.receiver, name, value)
        return order

    return make


ORDER_HOLDS: dict[str, Callable[[], Order]] = {
    "unknown_sku": lambda: make_order(channel_order_id="U1", lines=[("NOT-OURS", 1)]),
    "out_of_stock": lambda: make_order(channel_order_id="S1", lines=[("SKU-1", 50)]),
    "no_lines": lambda: make_order(channel_order_id="E1", lines=[]),
    "missing_address": _bad_receiver(address1=""),
    "missing_phone": _bad_receiver(phone=""),
    "invalid_phone": _bad_receiver(phone="12"),
    "missing_receiver": _bad_receiver(name=""),
    "invalid_country": _bad_receiver(country="ZZZ"),
    "not_paid": lambda: make_order(
        channel_order_id="P1", lines=[("SKU-1", 1)], channel_status=ChannelStatus.UNPAID
    ),
}


@pytest.mark.parametrize("code", sorted(ORDER_HOLDS))
def test_an_order_hold_replayed_twice_routes_it_once_and_names_its_successor(
    hub: Hub, code: str
) -> None:
    held = ingest(hub, ORDER_HOLDS[code]())
    [first] = open_of(hub, code)

    once = replay_exception(hub, first.id)
    twice = replay_exception(hub, first.id)

    # Nothing changed, so the replay holds it again, under a new exception that the old
    # one points to; the second replay changes nothing and points there too.
    [successor] = open_of(hub, code)
    assert once.outcome == "order routed again" and once.now_open == (successor.id,)
    assert twice.outcome.startswith("already resolved")
    assert (twice.status, twice.now_open) == ("held", (successor.id,))
    view = queries.exception_view(hub, first.id)
    assert (view["status"], view["now_open"]) == ("resolved", [successor.id])

    dismissed = resolve_exception(hub, successor.id, "dismiss", note="checked with the buyer")
    assert dismissed.outcome.startswith("dismissed")
    closed = queries.exception_view(hub, successor.id)
    assert closed["resolution"] == "dismissed: checked with the buyer"
    assert queries.order_view(hub, held.id).status is OrderStatus.HELD


def test_a_possible_duplicate_and_a_seller_rule_hold_replay_twice(hub: Hub) -> None:
    ingest(hub, make_order(channel_order_id="D1", lines=[("SKU-1", 1)]))
    ingest(hub, make_order(channel_order_id="D2", lines=[("SKU-1", 1)]))
    [duplicate] = open_of(hub, "possible_duplicate")
    assert replay_exception(hub, duplicate.id).outcome == "order routed again"
    again = replay_exception(hub, duplicate.id)
    assert again.outcome.startswith("already resolved") and len(again.now_open) == 1
    released = resolve_exception(hub, again.now_open[0], "release", note="two mugs, two orders")
    assert released.status == "reserved"
    assert resolve_exception(hub, again.now_open[0], "release").outcome.startswith(
        "already resolved"
    )


PAYLOADS: dict[str, dict[str, Any]] = {
    "unreadable_field": {"created_at": "yesterday"},
    "invalid_field": {"currency": "DOLLARS"},
}


def _raw(number: int, **changes: Any) -> dict[str, Any]:
    return raw_shopify_order(number, **changes)


@pytest.mark.parametrize("code", sorted(PAYLOADS))
def test_a_payload_that_cannot_be_mapped_is_replayed_twice_without_harm(
    hub: Hub, code: str
) -> None:
    received = receive_payload(hub, "S1", _raw(5001, **PAYLOADS[code]), source="import")
    assert process_inbox(hub, received.inbox_id) is None
    [first] = open_of(hub, code)
    assert first.order_id is None and first.inbox_id == received.inbox_id

    once = replay_exception(hub, first.id)
    twice = replay_exception(hub, first.id)
    assert once.outcome == "payload mapped again" and once.order_id is None
    assert twice.outcome.startswith("already resolved") and len(twice.now_open) == 1
    # Nothing about an order: only retry and dismiss are offered.
    assert queries.exception_view(hub, twice.now_open[0])["actions"] == ["retry", "dismiss"]
    assert resolve_exception(hub, twice.now_open[0], "dismiss", note="test order").outcome == (
        "dismissed"
    )


def _dead_push(hub: Hub) -> Order:
    """An order whose push to the (unreachable) warehouse gave up: node_rejected."""
    order = ingest(hub, make_order(channel_order_id="N1", lines=[("SKU-1", 1)]))
    with hub.db.engine.begin() as conn:  # give up at the first failure
        conn.execute(update(t.outbox_jobs).values(max_attempts=1))
    Worker(hub, threads=1).run_until_idle(timeout=30)
    assert queries.order_view(hub, order.id).status is OrderStatus.HELD
    return order


def test_a_node_rejection_replayed_twice_sends_the_same_dispatch_again(hub: Hub) -> None:
    order = _dead_push(hub)
    [rejected] = open_of(hub, "node_rejected")

    once = replay_exception(hub, rejected.id)
    twice = replay_exception(hub, rejected.id)
    assert (once.outcome, once.status) == ("order routed again", "reserved")
    assert twice.outcome.startswith("already resolved") and twice.status == "reserved"
    with hub.db.engine.connect() as conn:
        dispatches = conn.execute(select(t.dispatches.c.id, t.dispatches.c.status)).all()
        pushes = conn.execute(
            select(t.outbox_jobs.c.status).where(t.outbox_jobs.c.kind == "node.push")
        ).all()
    assert [(d.id, d.status) for d in dispatches] == [(order.id, "pending")]
    assert [p.status for p in pushes] == ["pending"]


def test_a_dead_stock_push_retried_twice_and_replayed_never_clashes_with_its_twin(
    hub: Hub,
) -> None:
    # The opening stock push fails against the offline shop and gives up.
    with hub.db.engine.begin() as conn:
        conn.execute(update(t.outbox_jobs).values(max_attempts=1, run_at=0))
    Worker(hub, threads=1).run_until_idle(timeout=30)
    [failed] = open_of(hub, "job_failed")
    assert failed.job_id is not None
    with hub.uow() as uow:  # stock changes again: a new push for the same SKU is pending
        uow.stock.adjust("WH1", "SKU-1", 1, kind="adjustment", reason="found one")
        from orderhub.services.pipeline import schedule_stock_push

        schedule_stock_push(uow, {"SKU-1"}, window=0.05)
        uow.commit()

    assert retry_job(hub, failed.job_id) is True  # superseded by the pending twin
    assert retry_job(hub, failed.job_id) is False
    once = replay_exception(hub, failed.id)
    twice = replay_exception(hub, failed.id)
    assert once.outcome.startswith("closed") and twice.outcome.startswith("already resolved")
    with hub.db.engine.connect() as conn:
        pending = conn.execute(
            select(func.count()).where(
                t.outbox_jobs.c.kind == "stock.push", t.outbox_jobs.c.status == "pending"
            )
        ).scalar_one()
    assert pending == 1


@pytest.mark.parametrize("kind", sorted(HANDLERS))
def test_every_kind_of_dead_job_can_be_retried_once_and_says_so_the_second_time(
    hub: Hub, kind: str
) -> None:
    with hub.uow() as uow:
        uow.outbox.add(kind, {"order_id": "none", "dispatch_id": "none"}, key=f"t:{kind}")
        claimed = uow.outbox.claim("test", limit=10, lease=30.0, kinds=[kind])
        # The seeded stock may have a push of its own due by now: this test's job only.
        [job] = [each for each in claimed if each.idempotency_key == f"t:{kind}"]
        uow.outbox.dead(job, error="gave up", duration_ms=1.0)
        uow.commit()
    assert retry_job(hub, job.id) is True
    assert retry_job(hub, job.id) is False


def test_bulk_resolution_maps_one_sku_and_replays_every_order_it_held(hub: Hub) -> None:
    hub.settings.duplicate_window = 0.0  # five buyers ordering the same mug
    held = [
        ingest(hub, make_order(channel_order_id=f"B{i}", lines=[("MUG-BLUE", 1)])) for i in range(5)
    ]
    assert len(open_of(hub, "unknown_sku")) == 5
    bulk = resolve_by_code(hub, "unknown_sku", "map_sku", skus={"MUG-BLUE": "SKU-1"})
    assert len(bulk.results) == 5 and bulk.refused == ()
    statuses = {queries.order_view(hub, o.id).status for o in held}
    assert statuses == {OrderStatus.RESERVED}, queries.exception_list(hub)
    assert open_of(hub, "unknown_sku") == []
    assert resolve_by_code(hub, "unknown_sku", "map_sku", skus={"MUG-BLUE": "SKU-1"}).results == ()


def test_lists_say_how_many_there_are_and_page_explicitly(hub: Hub) -> None:
    for i in range(7):
        ingest(hub, make_order(channel_order_id=f"L{i}", lines=[("NOPE", 1)]))
    first = queries.exception_list(hub, limit=3)
    last = queries.exception_list(hub, limit=3, offset=6)
    assert (len(first), first.total, first.shown) == (3, 7, "showing 1–3 of 7")
    assert (len(last), last.shown) == (1, "showing 7–7 of 7")
    assert {e.id for e in first} & {e.id for e in last} == set()


def test_every_catalogued_code_offers_a_way_to_close_it() -> None:
    from orderhub.domain.exceptions_catalog import allowed_actions

    for code in [*CATALOG, "bad_sheet_row", "rule:vip", "something_new"]:
        assert "dismiss" in allowed_actions(code, about_order=False)
        assert allowed_actions(code, about_order=False)  # never empty
