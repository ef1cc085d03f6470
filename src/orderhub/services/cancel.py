"""Cancellations: from the channel (release before the push, intercept at the node after),
and from a person in the hub, which the shop is then told of where its platform allows."""

from __future__ import annotations

import time

from orderhub.domain.errors import IllegalTransition
from orderhub.domain.order import Order, OrderStatus
from orderhub.observability import metrics
from orderhub.services.books import queue_void
from orderhub.services.dispatch import JOB_NODE_CANCEL, ask_node_to_stop, withdraw_order
from orderhub.services.figures import count_cancel
from orderhub.services.hub import Hub
from orderhub.services.pipeline import release
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_CHANNEL_CANCEL",
    "JOB_NODE_CANCEL",
    "cancel_by_person",
    "cancel_from_channel",
    "cancel_on_shop",
    "finish_cancel",
    "tell_shop",
]


def _stop(uow: UnitOfWork, order: Order, *, reason: str, window: float) -> str | None:
    """Stop an order that has not shipped: lines not yet sent to a node are simply taken
    back; a dispatch already at a node is intercepted (the node is asked to stop it), and
    the order is cancelled when every intercept succeeded. What happened, or None for
    an order past stopping."""
    status = order.status
    at_node = withdraw_order(uow, order)
    if status in (OrderStatus.RECEIVED, OrderStatus.HELD) or (
        status in (OrderStatus.RESERVED, OrderStatus.PUSHED) and not at_node
    ):
        finish_cancel(uow, order, reason=reason, window=window)
        return "cancelled"
    if status in (OrderStatus.RESERVED, OrderStatus.PUSHED):
        if status is OrderStatus.RESERVED:
            order.move_to(OrderStatus.PUSHED)
        order.move_to(OrderStatus.CANCELLING)
        uow.orders.save(order)
        uow.orders.trace(order.id, "cancel", "ok", f"{reason}; asking the node")
        ask_node_to_stop(uow, order, at_node)
        return "the node is asked to stop it"
    return None


def cancel_from_channel(uow: UnitOfWork, order: Order, *, window: float) -> None:
    """The shop cancelled the order: stop it wherever it is."""
    if _stop(uow, order, reason="cancelled on the channel", window=window) is not None:
        return
    if order.status in (
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.COMPLETED,
    ):
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


def cancel_by_person(uow: UnitOfWork, order: Order, *, reason: str, window: float) -> str:
    """A person cancelled the order in the hub: stop it wherever it is; what happened."""
    outcome = _stop(uow, order, reason=reason, window=window)
    if outcome is None:
        raise IllegalTransition(order.id, order.status, OrderStatus.CANCELLED)
    return outcome


def finish_cancel(uow: UnitOfWork, order: Order, *, reason: str, window: float) -> None:
    """Mark the order cancelled, take it out of dispatches not yet sent, and give its
    stock back."""
    withdraw_order(uow, order)
    release(uow, order, reason=reason, stock_window=window)
    order.move_to(OrderStatus.CANCELLED)
    uow.orders.save(order)
    uow.exceptions.resolve_for_order(order.id)
    uow.orders.trace(order.id, "cancel", "ok", reason)
    metrics.orders.labels("cancelled").inc()
    queue_void(uow, order)
    count_cancel(uow, order)


JOB_CHANNEL_CANCEL = "channel.cancel"


def tell_shop(hub: Hub, uow: UnitOfWork, order: Order) -> str:
    """After a person cancelled an order in the hub, queue its cancellation on the shop
    where the platform allows it; the sentence says which happened."""
    if order.origin != "channel":
        return "the shop never had this order"
    shop = uow.catalog.shop(order.shop)
    if not getattr(hub.channel(shop), "can_cancel_orders", False):
        why = f"the shop was not told: {shop.platform} does not let orders be cancelled by API"
        uow.orders.trace(order.id, "cancel", "manual", why)
        return f"{why}; cancel it on the shop by hand"
    uow.outbox.add(
        JOB_CHANNEL_CANCEL,
        {"order_id": order.id},
        key=f"channel-cancel:{order.id}",
        order_id=order.id,
    )
    return "the shop will be told"


def cancel_on_shop(hub: Hub, job: Job) -> None:
    """Cancel the order on its shop (an outbox job: at most once in effect)."""
    order_id = str(job.payload["order_id"])
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        shop = uow.catalog.shop(order.shop)
    started = time.perf_counter()
    hub.channel(shop).cancel_order(channel_order_id=order.channel_order_id, reason="other")
    latency = (time.perf_counter() - started) * 1000
    with hub.uow() as uow:
        uow.orders.trace(
            order.id, "cancel", "ok", f"cancelled on {shop.code}", latency_ms=latency, job_id=job.id
        )
        uow.commit()
