"""Cancellations from the channel: release before the push, intercept at the node after."""

from __future__ import annotations

from orderhub.domain.order import Order, OrderStatus
from orderhub.observability import metrics
from orderhub.services.pipeline import release
from orderhub.store.uow import UnitOfWork

__all__ = ["JOB_NODE_CANCEL", "cancel_from_channel", "finish_cancel"]

JOB_NODE_CANCEL = "node.cancel"


def cancel_from_channel(uow: UnitOfWork, order: Order, *, window: float) -> None:
    """The shop cancelled the order: stop it wherever it is."""
    status = order.status
    if status in (OrderStatus.RECEIVED, OrderStatus.HELD, OrderStatus.RESERVED):
        finish_cancel(uow, order, reason="cancelled on the channel", window=window)
    elif status is OrderStatus.PUSHED:
        order.move_to(OrderStatus.CANCELLING)
        uow.orders.save(order)
        uow.orders.trace(order.id, "cancel", "ok", "cancelled on the channel; asking the node")
        uow.outbox.add(
            JOB_NODE_CANCEL, {"order_id": order.id}, key=f"cancel:{order.id}", order_id=order.id
        )
    elif status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        uow.orders.save(order)
        uow.exceptions.open(
            stage="cancel",
            code="cancelled_after_shipment",
            message="the shop cancelled an order that has already shipped; expect a return",
            severity="warning",
            order_id=order.id,
        )
        uow.orders.trace(order.id, "cancel", "late", "cancelled on the channel after shipment")
    else:
        uow.orders.save(order)


def finish_cancel(uow: UnitOfWork, order: Order, *, reason: str, window: float) -> None:
    """Mark the order cancelled and give its stock back."""
    release(uow, order, reason=reason, stock_window=window)
    order.move_to(OrderStatus.CANCELLED)
    uow.orders.save(order)
    uow.exceptions.resolve_for_order(order.id)
    uow.orders.trace(order.id, "cancel", "ok", reason)
    metrics.orders.labels("cancelled").inc()
