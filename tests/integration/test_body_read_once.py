"""A webhook's body is read once: the door reads it (to refuse one that cannot be read)
and hands what it read to the job that takes the order in, when that job runs in the
same process. The order comes out as if the job had read the body itself."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from orderhub.connectors.kit import bounded_json
from orderhub.domain.order import Order
from orderhub.jobs.worker import Worker
from orderhub.services.dispatch import JOB_NODE_PUSH
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, receive_webhook
from orderhub.services.setup import apply_config
from support import one_warehouse_catalogue, signed_order

SHOP, NODE = "S1", "WH1"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, log: list[str]) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        log.append(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


def numbered(template: dict[str, Any], number: int) -> dict[str, Any]:
    order = copy.deepcopy(template)
    order["id"], order["name"] = 940_000_000 + number, f"#M{number}"
    order["line_items"][0]["id"] = 840_000_000 + number
    return order


def taken_in(hub: Hub) -> dict[str, Order]:
    with hub.reader() as uow:
        return {o.channel_order_id: o for o in uow.orders.placed_page(since=_EPOCH)}


def batch(hub: Hub) -> int:
    return Worker(hub, kinds=[JOB_INBOX]).claim_and_run_batch([JOB_INBOX], 32)


@pytest.mark.parametrize("worker_here", [True, False], ids=["worker-here", "api-only"])
def test_a_webhook_body_is_read_once_when_its_job_runs_in_the_same_process(
    hub: Hub, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, worker_here: bool
) -> None:
    apply_config(hub, one_warehouse_catalogue(SHOP, NODE, {"SKU-A": 5}))
    if worker_here:
        hub.keep_bodies_read()
    reads: list[str] = []
    counting(monkeypatch, bounded_json, "loads", reads)
    headers, body = signed_order(numbered(template, 1), "delivery-1")

    receive_webhook(hub, SHOP, headers, body)
    assert reads == ["loads"]  # at the door, which refuses what cannot be read
    assert batch(hub) == 1

    order = taken_in(hub)[str(940_000_001)]
    assert order.status.value == "reserved" and order.lines[0].sku == "SKU-A"
    assert order.buyer.email == template["email"]
    # The job took the door's reading; without a worker in the process none is kept.
    assert len(reads) == (1 if worker_here else 2)
    assert hub.bodies_read is None or len(hub.bodies_read) == 0


def test_what_is_handed_over_depends_on_the_lanes_this_process_runs(hub: Hub) -> None:
    def started(kinds: list[str] | None) -> None:
        worker = Worker(hub, kinds=kinds)
        worker.start()
        worker.stop()

    started([JOB_NODE_PUSH])
    assert hub.bodies_read is None  # an API process beside such a worker keeps nothing
    started([JOB_INBOX])
    assert hub.bodies_read is not None and hub.orders_written is None
    started(None)  # every lane: the batch lane's new orders go to the push lane
    assert hub.orders_written is not None
