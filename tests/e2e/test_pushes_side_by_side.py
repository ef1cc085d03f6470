"""Delivery orders go to a node several at a time, never more than the node allows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

import pytest
from sqlalchemy.exc import OperationalError

from orderhub.connectors.base import ConnectorError, NodeConnector, OutboundOrder, OutboundReceipt
from orderhub.connectors.qimen import QimenWarehouse
from orderhub.demo_stack import Stack
from orderhub.domain.access import Principal, Role
from orderhub.domain.order import OrderStatus
from orderhub.jobs import pushes as push_lane
from orderhub.jobs.worker import Worker
from orderhub.services import queries
from orderhub.services.delivery import Pushed, record_pushes
from orderhub.services.dispatch import JOB_NODE_PUSH
from orderhub.services.handlers import HANDLERS
from orderhub.services.order_actions import cancel_order
from orderhub.store.uow import UnitOfWork
from support import wait_until

W = TypeVar("W")


class Counting:
    """The node's real connector, with each create held a moment and counted while open."""

    def __init__(self, real: NodeConnector, hold: float) -> None:
        self.real, self.hold = real, hold
        self.open = self.most = self.calls = 0
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        with self.lock:
            self.open += 1
            self.calls += 1
            self.most = max(self.most, self.open)
        try:
            time.sleep(self.hold)
            return self.real.create_outbound(order)
        finally:
            with self.lock:
                self.open -= 1


def _wrap_wh1(stack: Stack, wrap: Callable[[NodeConnector], W]) -> W:
    """Warehouse WH1's connector, wrapped by `wrap`; the hub uses the wrapper from now on."""
    with stack.hub.reader() as uow:
        node = uow.catalog.node("WH1")
    wrapped = wrap(stack.hub.node(node))
    stack.hub.pin_node("WH1", wrapped)  # type: ignore[arg-type]
    return wrapped


def _counting_node(stack: Stack, *, hold: float) -> Counting:
    """Warehouse WH1's connector, wrapped in a `Counting` the hub uses from now on."""
    return _wrap_wh1(stack, lambda real: Counting(real, hold))


def _reserve_first(stack: Stack, count: int) -> None:
    """Take the orders in and reserve them without pushing any, so that their pushes
    are claimed together."""
    taking_in = Worker(stack.hub, kinds=[kind for kind in HANDLERS if kind != JOB_NODE_PUSH])
    wait_until(
        lambda: (
            taking_in.run_until_idle(timeout=10) >= 0
            and queries.hub_stats(stack.hub)["orders"].get("reserved", 0) == count
        ),
        what=f"{count} orders reserved",
    )


def _work_until_pushed(stack: Stack, count: int) -> None:
    """Run a worker until `count` orders have gone to the warehouse."""
    worker = Worker(stack.hub)

    def all_pushed() -> bool:
        worker.run_until_idle(timeout=10)
        orders = queries.hub_stats(stack.hub)["orders"]
        return sum(orders.get(s, 0) for s in ("pushed", "shipped", "completed")) == count

    wait_until(all_pushed, what="every order pushed")


def test_pushes_overlap_up_to_the_nodes_limit_and_each_order_goes_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack({"pushes_in_flight": 3, "push_batch": 12}, start_worker=False, stock=1000)
    counting = _counting_node(stack, hold=0.3)
    shop = stack.shops["SHOP1"]
    placed = [shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]}) for _ in range(9)]
    _work_until_pushed(stack, len(placed))
    # Three creates were open at once at the node, never more.
    assert counting.most == 3, counting.most
    assert counting.calls == len(placed)
    assert stack.qimen.stats()["distinct_orders"] == len(placed)
    assert stack.qimen.stats()["duplicate_creates"] == 0


def test_a_node_answering_for_some_orders_only_retries_the_others(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(start_worker=False, stock=1000)
    shop = stack.shops["SHOP1"]
    stack.qimen.faults.update({"error_rate": 0.5, "seed": 7})
    placed = [shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]}) for _ in range(8)]
    worker = Worker(stack.hub)
    wait_until(
        lambda: (
            worker.run_until_idle(timeout=10) >= 0
            and stack.qimen.stats()["distinct_orders"] == len(placed)
        ),
        what="every order at the warehouse despite its errors",
        timeout=60,
    )
    stack.qimen.faults.update({"error_rate": 0.0})
    orders = queries.hub_stats(stack.hub)["orders"]
    assert sum(orders.get(s, 0) for s in ("pushed", "shipped", "completed")) == len(placed)
    assert stack.qimen.stats()["duplicate_creates"] == 0


def test_accepted_pushes_are_written_down_alone_not_resent_when_their_joint_write_fails(
    make_stack: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = make_stack({"pushes_in_flight": 4, "push_batch": 12}, start_worker=False, stock=1000)
    counting = _counting_node(stack, hold=0.05)
    failed: list[int] = []

    def deadlocked_when_together(uow: UnitOfWork, accepted: Sequence[Pushed]) -> None:
        if len(accepted) > 1:  # as when the database chose this write as a deadlock's victim
            failed.append(len(accepted))
            raise OperationalError("UPDATE dispatches", None, Exception("deadlock detected"))
        record_pushes(uow, accepted)

    monkeypatch.setattr(push_lane, "record_pushes", deadlocked_when_together)
    shop = stack.shops["SHOP1"]
    placed = [shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]}) for _ in range(6)]
    _work_until_pushed(stack, len(placed))
    assert failed, "no joint write was made"
    # Each order reached the node once: the ones it took were written down, not resent.
    assert counting.calls == len(placed)
    assert stack.qimen.stats()["duplicate_creates"] == 0


def test_a_node_that_takes_batches_gets_many_orders_per_call_each_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        {"push_batch": 12},
        start_worker=False,
        stock=1000,
        warehouse_settings={"batch_create": True, "batch_size": 5},
    )
    shop = stack.shops["SHOP1"]
    placed = [shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]}) for _ in range(12)]
    _reserve_first(stack, len(placed))
    _work_until_pushed(stack, len(placed))
    stats = stack.qimen.stats()
    assert stats["distinct_orders"] == len(placed)
    assert stats["duplicate_creates"] == 0
    # Twelve orders claimed together went in three calls of at most five.
    assert sorted(stats["batch_sizes"]) == [2, 5, 5]
    # Each delivery order carries the warehouse's own number, as after a single create.
    at_wms = {code: o["delivery_order_id"] for code, o in stats["orders"].items()}
    with stack.hub.reader() as uow:
        kept = {code: d.external_id for code, d in uow.dispatches.get_many(list(at_wms)).items()}
    assert kept == at_wms


def test_a_supplier_that_takes_batches_gets_many_purchase_orders_per_call_each_once(
    make_stack: Callable[..., Stack],
) -> None:
    size = 5
    stack = make_stack(
        {"push_batch": 12},
        start_worker=False,
        stock=1000,
        supplier=True,
        supplier_settings={"batch_create": True, "batch_size": size},
        routing={
            "strategies": ["fixed_sku", "stock_first", "home_node"],
            "fixed_sku": {"SKU-003": "SUP1"},
        },
    )
    assert stack.supplier is not None
    shop = stack.shops["SHOP1"]
    placed = [shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 1}]}) for _ in range(12)]
    _reserve_first(stack, len(placed))
    _work_until_pushed(stack, len(placed))
    stats = stack.supplier.stats()
    assert stats["purchase_orders"] == len(placed)
    assert stats["duplicate_creates"] == 0
    assert stack.qimen.orders() == {}
    # The purchase orders claimed together went in as few calls as the batch size allows.
    sizes = stats["batch_sizes"]
    assert sum(sizes) == len(placed) and max(sizes) <= size
    assert len(sizes) == -(-len(placed) // size)
    # Each purchase order carries the supplier's own reference, as after a single create.
    at_supplier = {po: o["supplier_ref"] for po, o in stack.supplier.purchase_orders().items()}
    with stack.hub.reader() as uow:
        kept = {po: d.external_id for po, d in uow.dispatches.get_many(list(at_supplier)).items()}
    assert kept == at_supplier


class CancelledOnTheWay(Counting):
    """The node's connector; while the first create is on its way, a person cancels it."""

    def __init__(self, real: NodeConnector, stack: Stack) -> None:
        super().__init__(real, hold=0.0)
        self.stack = stack
        self.cancelled: list[str] = []

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        with self.lock:
            first = not self.cancelled
            if first:
                self.cancelled.append(order.code)
        if first:
            who = Principal("clerk", Role.OWNER, via="test")
            cancel_order(self.stack.hub, order.code, reason="the buyer called", who=who)
        return super().create_outbound(order)


def test_an_order_cancelled_while_its_push_is_on_its_way_stays_cancelled(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(start_worker=False, stock=1000, ship_delay=30)
    wrapped = _wrap_wh1(stack, lambda real: CancelledOnTheWay(real, stack))
    shop = stack.shops["SHOP1"]
    for _ in range(3):
        shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    worker = Worker(stack.hub)

    def settled() -> bool:
        worker.run_until_idle(timeout=10)
        orders = stack.qimen.orders()
        return len(orders) == 3 and orders[wrapped.cancelled[0]]["status"] == "CANCELED"

    wait_until(settled, what="the cancelled order stopped at the warehouse")
    [cancelled] = wrapped.cancelled
    with stack.hub.reader() as uow:
        assert uow.orders.get(cancelled).status is OrderStatus.CANCELLED
        others = [o for o in uow.orders.get_many(list(stack.qimen.orders())) if o.id != cancelled]
    # The others went on as usual, and the cancelled one's unit came back.
    assert [o.status for o in others] == [OrderStatus.PUSHED] * 2
    with stack.hub.reader() as uow:
        level = uow.stock.level("WH1", "SKU-001")
    assert level is not None and level.reserved == 2


class OneRefusedInTheBatch:
    """The node's connector; the first order of the first batch goes out without a
    receiver's phone, which the warehouse refuses, as it would refuse a real mistake."""

    def __init__(self, real: NodeConnector) -> None:
        assert isinstance(real, QimenWarehouse)
        self.real = real
        self.refused: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    @property
    def outbound_batch(self) -> int:
        return self.real.outbound_batch

    def create_outbounds(
        self, orders: Sequence[OutboundOrder]
    ) -> list[OutboundReceipt | ConnectorError]:
        if not self.refused:
            self.refused.append(orders[0].code)
            orders = [replace(orders[0], receiver_phone=""), *orders[1:]]
        return self.real.create_outbounds(orders)


def test_an_order_a_batch_node_refuses_waits_for_a_person_and_the_others_go(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        {"push_batch": 12},
        start_worker=False,
        stock=1000,
        warehouse_settings={"batch_create": True},
    )
    wrapped = _wrap_wh1(stack, OneRefusedInTheBatch)
    shop = stack.shops["SHOP1"]
    for _ in range(5):
        shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    _reserve_first(stack, 5)
    worker = Worker(stack.hub)

    def settled() -> bool:
        worker.run_until_idle(timeout=10)
        orders = queries.hub_stats(stack.hub)["orders"]
        went = sum(orders.get(s, 0) for s in ("pushed", "shipped", "completed"))
        return went == 4 and orders.get("held", 0) == 1

    wait_until(settled, what="four orders pushed and the refused one held")
    [refused] = wrapped.refused
    with stack.hub.reader() as uow:
        held = uow.orders.get(refused)
        problems = [e.code for e in uow.orders.exceptions_of(refused) if not e.resolved]
    assert held.status is OrderStatus.HELD and "node_rejected" in problems
    stats = stack.qimen.stats()
    assert refused not in stats["orders"] and stats["distinct_orders"] == 4
    assert stats["batch_calls"] == 1 and stats["duplicate_creates"] == 0


def test_a_backlog_of_delivery_orders_goes_out_in_one_turn_each_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack({"push_batch": 3}, start_worker=False, stock=1000)
    counting = _counting_node(stack, hold=0.0)
    shop = stack.shops["SHOP1"]
    placed = [shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 1}]}) for _ in range(8)]
    _reserve_first(stack, len(placed))
    worker = Worker(stack.hub)
    # Full claims of 3, each next one taken as the last was written down: 3 + 3 + 2.
    assert worker.claim_and_send_pushes([JOB_NODE_PUSH], 3) == len(placed)
    assert counting.calls == len(placed)
    orders = queries.hub_stats(stack.hub)["orders"]
    assert sum(orders.get(s, 0) for s in ("pushed", "shipped", "completed")) == len(placed)
    assert stack.qimen.stats()["distinct_orders"] == len(placed)
    assert stack.qimen.stats()["duplicate_creates"] == 0
    with stack.hub.reader() as uow:
        assert uow.outbox.count(kind=JOB_NODE_PUSH, status="done") == len(placed)
