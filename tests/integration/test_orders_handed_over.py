"""A new order goes to its node as stored, not as the batch lane last held it: the batch
lane hands the orders it committed to the push lane of the same process, which sends
one without reading it back only while it is still stored exactly so. An order changed
after it was handed over is read again, and sent as changed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from orderhub.jobs.worker import Worker
from orderhub.services.delivery import PushPlan, outbound_order, plan_pushes
from orderhub.services.dispatch import JOB_NODE_PUSH
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, receive_payload
from orderhub.services.setup import apply_config
from orderhub.store.orders import OrderRepository
from orderhub.store.outbox import Job
from support import one_warehouse_catalogue

SHOP, NODE = "S1", "WH1"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def take_in(hub: Hub, template: dict[str, Any], count: int) -> list[str]:
    """`count` new orders taken in by one batch; their ids."""
    for number in range(count):
        order = copy.deepcopy(template)
        order["id"], order["name"] = 950_000_000 + number, f"#H{number}"
        order["line_items"][0]["id"] = 850_000_000 + number
        receive_payload(hub, SHOP, order, source="import")
    assert Worker(hub, kinds=[JOB_INBOX]).claim_and_run_batch([JOB_INBOX], 32) == count
    with hub.reader() as uow:
        return [o.id for o in uow.orders.placed_page(since=_EPOCH)]


def push_jobs(hub: Hub) -> list[Job]:
    return Worker(hub, kinds=[JOB_NODE_PUSH]).claim(kinds=[JOB_NODE_PUSH])


def plans(hub: Hub, jobs: list[Job]) -> dict[str, PushPlan]:
    """What the push lane would send for these jobs, by dispatch."""
    planned = plan_pushes(hub, jobs)
    return {plan.dispatch.id: plan for plan in planned.values() if plan is not None}


def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Order ids read back from their stored form, from now on."""
    read: list[str] = []
    original: Callable[..., Any] = OrderRepository._load

    def counted(repo: OrderRepository, order_id: str, *args: Any) -> Any:
        read.append(order_id)
        return original(repo, order_id, *args)

    monkeypatch.setattr(OrderRepository, "_load", counted)
    return read


@pytest.fixture
def handing_hub(hub: Hub) -> Hub:
    apply_config(hub, one_warehouse_catalogue(SHOP, NODE, {"SKU-A": 50}))
    hub.keep_orders_written()
    return hub


def test_a_handed_over_order_is_sent_as_the_stored_one_would_be(
    handing_hub: Hub, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = handing_hub
    ids = take_in(hub, template, 3)
    jobs = push_jobs(hub)
    read = loads(monkeypatch)

    handed = plans(hub, jobs)
    assert read == []  # none read back
    assert hub.orders_written is not None and len(hub.orders_written) == 0  # each taken once
    stored = plans(hub, jobs)
    assert sorted(read) == sorted(ids)  # nothing left to take: read back

    assert sorted(handed) == sorted(stored) and len(handed) == 3
    for dispatch_id, plan in handed.items():
        again = stored[dispatch_id]
        assert plan.stored == again.stored
        for order_id, order in plan.orders.items():
            assert order.model_dump(mode="json") == again.orders[order_id].model_dump(mode="json")
            assert order.trace == [] and order.exceptions == []
        sent = outbound_order(plan.dispatch, plan.orders, plan.recipes, plan.node)
        assert sent == outbound_order(again.dispatch, again.orders, again.recipes, again.node)


def test_an_order_changed_after_it_was_handed_over_is_sent_as_changed(
    handing_hub: Hub, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = handing_hub
    changed, kept = take_in(hub, template, 2)
    with hub.uow() as uow:  # the seller's note, added before the node has the order
        order = uow.orders.get(changed, for_update=True)
        order.remarks.seller = "gift wrap, no invoice"
        uow.orders.save(order)
        uow.commit()
    jobs = push_jobs(hub)
    read = loads(monkeypatch)

    planned = plans(hub, jobs)

    assert read == [changed]  # stored otherwise since: the handed one is not used
    remarks = {
        oid: order.remarks.seller for plan in planned.values() for oid, order in plan.orders.items()
    }
    assert remarks == {changed: "gift wrap, no invoice", kept: ""}
