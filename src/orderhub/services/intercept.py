"""Intercepting a dispatch at its node, because one of its orders was cancelled or a
person sends it from another node."""

from __future__ import annotations

import time

from orderhub.connectors.base import CancelResult
from orderhub.connectors.capabilities import cancels_by_node_id
from orderhub.domain.order import OrderStatus
from orderhub.observability import metrics
from orderhub.services.books import queue_void
from orderhub.services.dispatch import send_again
from orderhub.services.figures import count_cancel
from orderhub.services.hub import Hub
from orderhub.services.order_actions import route_again
from orderhub.services.pipeline import release
from orderhub.store.outbox import Job

__all__ = ["cancel_dispatch"]


def cancel_dispatch(hub: Hub, job: Job) -> None:
    """Ask the node to stop a dispatch because one of its orders was cancelled.

    Stopped: the cancelled order is done and its stock released, or, when a person sent
    it from another node (`then_node`), it is routed there; the other orders of a
    merged dispatch go back to RESERVED and into a new dispatch. Already shipped: a person
    is told, and a return is expected.
    """
    dispatch_id = str(job.payload.get("dispatch_id") or job.payload["order_id"])
    order_id = str(job.payload["order_id"])
    then_node = job.payload.get("then_node")
    with hub.reader() as uow:
        dispatch = uow.dispatches.get(dispatch_id)
        if dispatch is None or dispatch.status not in ("pushed", "acknowledged"):
            return
        node = uow.catalog.node(dispatch.node)
    started = time.perf_counter()
    if dispatch.exported_at is not None:
        # A sheet already handed over cannot be called back by the hub.
        result = CancelResult(False, "the purchase order went out on a sheet; ask the supplier")
    else:
        why = "cancelled on the channel" if then_node is None else "sent from another node"
        connector = hub.node(node)
        if cancels_by_node_id(connector) and dispatch.external_id:
            # The node knows the order by its own number (京东云仓's eclpSoNo).
            result = connector.cancel_outbound_at(
                code=dispatch.id, external_id=dispatch.external_id, reason=why
            )
        else:
            result = connector.cancel_outbound(code=dispatch.id, reason=why)
    latency = (time.perf_counter() - started) * 1000
    window = hub.settings.stock_push_window
    with hub.uow() as uow:
        order = uow.orders.get(order_id, for_update=True)
        if not result.cancelled:
            uow.orders.trace(
                order.id, "intercept", "failed", result.reason, latency_ms=latency, job_id=job.id
            )
            uow.exceptions.open(
                stage="intercept",
                code="intercept_failed",
                message=f"{node.code} could not stop {dispatch.id}: {result.reason}; "
                + (
                    "expect a shipment and a return"
                    if then_node is None
                    else f"it ships from {node.code}, not {then_node}"
                ),
                order_id=order.id,
            )
            uow.commit()
            return
        uow.dispatches.mark(dispatch.id, "cancelled", at="closed")
        uow.orders.trace(
            order.id, "intercept", "ok", f"{node.code} stopped {dispatch.id}", latency_ms=latency
        )
        for other_id in dispatch.order_ids:
            if other_id == order_id:
                continue
            other = uow.orders.get(other_id, for_update=True)
            if other.status is OrderStatus.PUSHED:
                send_again(uow, other, dispatch, node.kind)
        remaining = [
            d for d in uow.dispatches.of_order(order.id) if d.status in ("pushed", "acknowledged")
        ]
        if then_node is not None and order.status is OrderStatus.PUSHED and not remaining:
            uow.orders.trace(order.id, "route", "ok", f"sent from {then_node} instead")
            route_again(
                uow,
                order,
                stock_window=window,
                duplicate_window=hub.settings.duplicate_window,
                only_node=str(then_node),
            )
        elif order.status in (OrderStatus.CANCELLING, OrderStatus.PUSHED) and not remaining:
            release(uow, order, reason="intercepted at the node", stock_window=window)
            order.move_to(OrderStatus.CANCELLED)
            uow.orders.save(order)
            uow.exceptions.resolve_for_order(order.id)
            uow.orders.trace(order.id, "cancel", "ok", "intercepted at the node")
            metrics.orders.labels("cancelled").inc()
            queue_void(uow, order)
            count_cancel(uow, order)
        uow.commit()
