"""京东云仓 (ECLP) as a fulfilment node, over real HTTP on SQLite and PostgreSQL: orders
pushed once, shipments found by polling and confirmed to the shop once, cancellations
either way, and the warehouse's stock read into the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.dispatch import JOB_NODE_PUSH
from orderhub.services.inventory import Difference, reconcile_node
from orderhub.services.node_polls import PollResult, poll_node, schedule_node_polls
from orderhub.store import tables as t
from support import wait_until

NODE = "JDL1"


def eclp_stack(make_stack: Callable[..., Stack]) -> Stack:
    """A Shopify shop served by WH1 (empty) and JDL1 (ten of each SKU): orders go to JDL1."""
    skus = [f"SKU-{n:03d}" for n in range(1, 4)]
    stack = make_stack(eclp=True, stock_by_node={NODE: {sku: 10 for sku in skus}})
    assert stack.eclp is not None
    return stack


def hub_order(stack: Stack, placed: dict[str, Any]) -> Any:
    with stack.hub.reader() as uow:
        return uow.orders.by_channel_ref("SHOP1", str(placed["id"]))


def status_of(stack: Stack, placed: dict[str, Any]) -> str | None:
    order = hub_order(stack, placed)
    return None if order is None else str(order.status)


def level(stack: Stack, sku: str) -> tuple[int, int]:
    """(on hand, reserved) of a SKU at JDL1, as the hub has it."""
    with stack.hub.reader() as uow:
        [found] = uow.stock.levels(nodes=[NODE], skus=[sku])
    return found.on_hand, found.reserved


def pushed(stack: Stack, sku: str, quantity: int) -> tuple[dict[str, Any], str, str]:
    """Place an order at the shop and wait until JDL1 has it: (placed, code, eclpSoNo)."""
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": sku, "quantity": quantity}]})
    wait_until(lambda: status_of(stack, placed) == "pushed", what="the order at ECLP")
    code = hub_order(stack, placed).id
    with stack.hub.reader() as uow:
        dispatch = uow.dispatches.get(code)
    assert dispatch is not None and dispatch.node == NODE and dispatch.external_id
    return placed, code, dispatch.external_id


def dispatch_status(stack: Stack, code: str) -> str | None:
    with stack.hub.reader() as uow:
        dispatch = uow.dispatches.get(code)
    return None if dispatch is None else dispatch.status


def polled_payloads(stack: Stack) -> int:
    c = t.inbox.c
    with stack.hub.db.engine.connect() as conn:
        query = select(func.count()).where(c.shop == NODE, c.source == "node")
        return int(conn.execute(query).scalar_one())


def test_an_order_is_pushed_once_and_its_polled_shipment_reaches_the_shop_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = eclp_stack(make_stack)
    eclp, shop = stack.eclp, stack.shops["SHOP1"]
    assert eclp is not None
    placed, code, number = pushed(stack, "SKU-001", 2)
    at_eclp = eclp.order(number)
    assert at_eclp["isv_uuid"] == code and at_eclp["platform_order_no"] == str(placed["id"])
    assert [(x["sku"], x["quantity"]) for x in at_eclp["lines"]] == [("SKU-001", 2)]
    assert eclp.stock()["SKU-001"] == {"total": 10, "usable": 8}

    # The push runs again (a worker died after the call, before its commit): ECLP gives
    # the same number for the same isvUUID, and no second order exists.
    with stack.hub.uow() as uow:
        uow.dispatches.mark(code, "pending")
        uow.outbox.add(JOB_NODE_PUSH, {"dispatch_id": code}, key=f"push:{code}:again")
        uow.commit()
    wait_until(lambda: eclp.stats()["add_order_calls"] == 2, what="the second push")
    wait_until(lambda: dispatch_status(stack, code) == "pushed", what="the second push done")
    assert eclp.stats()["distinct_orders"] == 1
    with stack.hub.reader() as uow:
        again = uow.dispatches.get(code)
    assert again is not None and again.external_id == number
    assert poll_node(stack.hub, NODE) == PollResult(asked=1, events=0, stored=0)

    eclp.pack(number)
    waybill = eclp.ship(number)
    schedule_node_polls(stack.hub, slot=1)
    wait_until(lambda: status_of(stack, placed) == "completed", what="the polled shipment")
    assert poll_node(stack.hub, NODE) == PollResult(asked=0, events=0, stored=0)
    order = hub_order(stack, placed)
    [parcel] = order.fulfillments
    assert (parcel.carrier, parcel.tracking_no, parcel.node) == ("JD", waybill, NODE)
    assert shop.stats()["tracking_numbers"][str(placed["id"])] == [waybill]
    assert len(shop.fulfillments_for(placed["id"])) == 1
    assert level(stack, "SKU-001") == (8, 0)
    assert polled_payloads(stack) == 1
    stages = [(x.stage, x.status) for x in queries.order_view(stack.hub, order.id).trace]
    assert ("ship", "ok") in stages and ("confirm", "ok") in stages


def test_a_shipment_polled_again_and_again_is_stored_and_applied_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = eclp_stack(make_stack)
    assert stack.eclp is not None
    placed, code, number = pushed(stack, "SKU-002", 1)
    stack.eclp.ship(number)
    stored = [poll_node(stack.hub, NODE).stored for _ in range(5)]
    assert stored[0] == 1 and sum(stored) == 1
    wait_until(lambda: status_of(stack, placed) == "completed", what="the polled shipment")
    with stack.hub.reader() as uow:
        assert len(uow.orders.get(code).fulfillments) == 1
    assert len(stack.shops["SHOP1"].fulfillments_for(placed["id"])) == 1
    assert polled_payloads(stack) == 1


def test_a_cancellation_before_shipment_is_accepted_and_after_it_the_parcel_still_counts(
    make_stack: Callable[..., Stack],
) -> None:
    stack = eclp_stack(make_stack)
    eclp, shop = stack.eclp, stack.shops["SHOP1"]
    assert eclp is not None
    early, _, early_no = pushed(stack, "SKU-001", 2)
    shop.cancel_order(early["id"])
    wait_until(lambda: status_of(stack, early) == "cancelled", what="ECLP to stop it")
    assert eclp.order(early_no)["statuses"] == ["10010", "10028"]
    assert eclp.stock()["SKU-001"] == {"total": 10, "usable": 10}
    assert level(stack, "SKU-001") == (10, 0)

    late, late_code, late_no = pushed(stack, "SKU-003", 1)
    waybill = eclp.ship(late_no)
    shop.cancel_order(late["id"])
    wait_until(
        lambda: any(e.code == "intercept_failed" for e in queries.exception_list(stack.hub)),
        what="ECLP's refusal",
    )
    assert status_of(stack, late) == "cancelling"
    assert poll_node(stack.hub, NODE).stored == 1
    wait_until(lambda: status_of(stack, late) in ("shipped", "completed"), what="the shipment")
    with stack.hub.reader() as uow:
        [parcel] = uow.orders.get(late_code).fulfillments
    assert parcel.tracking_no == waybill
    assert level(stack, "SKU-003") == (9, 0)


def test_an_order_the_warehouse_cancels_itself_is_held_for_a_person(
    make_stack: Callable[..., Stack],
) -> None:
    stack = eclp_stack(make_stack)
    assert stack.eclp is not None
    placed, code, number = pushed(stack, "SKU-002", 3)
    assert stack.eclp.cancel(number)
    assert poll_node(stack.hub, NODE).stored == 1
    wait_until(lambda: status_of(stack, placed) == "held", what="the order held")
    [problem] = queries.exception_list(stack.hub, code="node_cancelled")
    assert problem.order_id == code and NODE in problem.message
    assert level(stack, "SKU-002") == (10, 0)
    assert poll_node(stack.hub, NODE) == PollResult(asked=0, events=0, stored=0)


def test_reconciliation_reads_the_warehouse_stock_into_the_ledger(
    make_stack: Callable[..., Stack],
) -> None:
    stack = eclp_stack(make_stack)
    assert stack.eclp is not None
    stack.eclp.set_stock("SKU-002", 7)
    stack.eclp.set_stock("SKU-003", 12)
    found = reconcile_node(stack.hub, NODE)
    assert sorted(found, key=lambda d: d.sku) == [
        Difference(NODE, "SKU-002", 10, 7),
        Difference(NODE, "SKU-003", 10, 12),
    ]
    assert [level(stack, sku)[0] for sku in ("SKU-001", "SKU-002", "SKU-003")] == [10, 7, 12]
    c = t.stock_ledger.c
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(c.sku, c.on_hand_delta, c.reason)
            .where(c.tenant == stack.hub.db.tenant, c.node == NODE, c.sku == "SKU-002")
            .order_by(c.id)
        ).all()
    assert (rows[-1].on_hand_delta, rows[-1].reason) == (
        -3,
        "reconciled with the warehouse's count",
    )
    assert reconcile_node(stack.hub, NODE) == []
