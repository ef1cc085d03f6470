"""Dispatches: an order's lines become warehouse orders and purchase orders.

A routed order gets one dispatch per node it ships from (a split order has several).
Orders of one shop to the same buyer at the same address, routed to the same node within
the shop's merge window, join one pending dispatch and leave as one parcel; towards the
shops they stay separate orders. The push to the node waits for the window to close.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from orderhub.domain.order import Order, OrderStatus
from orderhub.observability import metrics
from orderhub.store.dispatches import Dispatch
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_NODE_CANCEL",
    "JOB_NODE_PUSH",
    "ask_node_to_stop",
    "dispatch_order",
    "send_again",
    "stop_dispatch",
    "withdraw_order",
]

JOB_NODE_PUSH = "node.push"
JOB_NODE_CANCEL = "node.cancel"


def dispatch_order(
    uow: UnitOfWork,
    order: Order,
    parts: Mapping[str, Sequence[str]],
    *,
    kinds: Mapping[str, str],
    merge_window: float = 0.0,
    merge: bool = True,
    new_order: bool = False,
) -> list[str]:
    """Put each part (node → line ids) of a reserved order into a dispatch; their ids.

    A whole order (not split) joins a young pending dispatch to the same buyer and
    address at the same node when merging is on; otherwise it gets its own, whose push
    waits `merge_window` seconds for others to join. An order routed before may have
    dispatches under the same ids; a `new_order` (its id made in this transaction)
    has none, so none is looked for and its dispatch is written with the batch's.
    """
    lines = {line.line_id: line for line in order.lines}
    merge_key = uow.orders.buyer_key(order) if merge and merge_window > 0 else None
    split = len(parts) > 1
    created = []
    for n, (node, line_ids) in enumerate(sorted(parts.items()), start=1):
        rows = [
            (order.id, lid, lines[lid].sku or lines[lid].channel_sku, lines[lid].quantity)
            for lid in line_ids
        ]
        joined = None
        if merge_key is not None and not split:
            since = datetime.now(UTC) - timedelta(seconds=merge_window)
            joined = uow.dispatches.open_to_merge(node=node, merge_key=merge_key, since=since)
        if joined is not None:
            uow.dispatches.join(joined, rows)
            uow.orders.trace(order.id, "merge", "ok", f"joins {joined} at {node}")
            metrics.orders.labels("merged").inc()
            created.append(joined)
            continue
        dispatch_id = f"{order.id}-{n}" if split else order.id
        delay = merge_window if merge_key is not None and not split else 0.0
        earlier = None if new_order else uow.dispatches.get(dispatch_id, for_update=True)
        if earlier is not None and earlier.status == "failed" and earlier.node == node:
            # Routed again after the node refused it: the same code, sent again.
            uow.dispatches.reopen(dispatch_id, rows)
            if not uow.outbox.revive(f"push:{dispatch_id}", delay=delay):
                uow.outbox.add(
                    JOB_NODE_PUSH,
                    {"dispatch_id": dispatch_id},
                    key=f"push:{dispatch_id}",
                    order_id=order.id,
                    delay=delay,
                )
            uow.orders.trace(order.id, "push", "again", f"{dispatch_id} sent to {node} again")
            created.append(dispatch_id)
            continue
        if earlier is not None:
            dispatch_id = uow.dispatches.free_id(order.id)
        uow.dispatches.create(
            dispatch_id,
            node=node,
            kind=kinds.get(node, "warehouse"),
            shop=order.shop,
            merge_key=None if split else merge_key,
            lines=rows,
        )
        uow.outbox.add(
            JOB_NODE_PUSH,
            {"dispatch_id": dispatch_id},
            key=f"push:{dispatch_id}",
            order_id=order.id,
            delay=delay,
        )
        if delay > 0:
            until = datetime.now(UTC) + timedelta(seconds=delay)
            uow.orders.trace(
                order.id,
                "wait",
                "ok",
                f"waits for the merge window of {node} until {until:%Y-%m-%d %H:%M:%S} UTC: "
                "other orders of the same buyer may join it in one parcel",
            )
        created.append(dispatch_id)
    return created


def withdraw_order(uow: UnitOfWork, order: Order) -> list[Dispatch]:
    """Take the order out of its dispatches that were not pushed yet; the pushed ones
    (which the node must be asked to stop) are returned."""
    at_node = []
    for dispatch in uow.dispatches.of_order(order.id):
        if dispatch.status == "pending":
            if uow.dispatches.remove_order(dispatch.id, order.id) == 0:
                uow.dispatches.mark(dispatch.id, "cancelled", at="closed")
        elif dispatch.status in ("pushed", "acknowledged"):
            at_node.append(dispatch)
    return at_node


def stop_dispatch(
    uow: UnitOfWork, dispatch_id: str, order_id: str, *, then_node: str | None = None
) -> None:
    """Queue an intercept; with `then_node`, the order is sent from that node once the
    intercept succeeded instead of being cancelled."""
    payload = {"dispatch_id": dispatch_id, "order_id": order_id}
    if then_node is not None:
        payload["then_node"] = then_node
    uow.outbox.add(
        JOB_NODE_CANCEL,
        payload,
        key=f"{'cancel' if then_node is None else 'move'}:{dispatch_id}:{order_id}",
        order_id=order_id,
    )


def ask_node_to_stop(
    uow: UnitOfWork, order: Order, dispatches: Sequence[Dispatch], *, then_node: str | None = None
) -> None:
    """Queue an intercept of each pushed dispatch that carries the order."""
    for dispatch in dispatches:
        stop_dispatch(uow, dispatch.id, order.id, then_node=then_node)


def send_again(uow: UnitOfWork, order: Order, stopped: Dispatch, kind: str) -> None:
    """An order whose merged dispatch was stopped for another order's sake is sent again
    on its own; its reservation stays."""
    line_ids = [line.line_id for line in stopped.lines if line.order_id == order.id]
    order.move_to(OrderStatus.RESERVED)
    uow.orders.set_status(order)
    dispatch_id = uow.dispatches.free_id(order.id)
    lines = {line.line_id: line for line in order.lines}
    uow.dispatches.create(
        dispatch_id,
        node=stopped.node,
        kind=kind,
        shop=order.shop,
        merge_key=None,
        lines=[
            (order.id, lid, lines[lid].sku or lines[lid].channel_sku, lines[lid].quantity)
            for lid in line_ids
        ],
    )
    uow.outbox.add(
        JOB_NODE_PUSH, {"dispatch_id": dispatch_id}, key=f"push:{dispatch_id}", order_id=order.id
    )
    uow.orders.trace(
        order.id,
        "push",
        "again",
        f"{stopped.id} was stopped for another order; sent as {dispatch_id}",
    )
