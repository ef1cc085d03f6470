"""A node stopped one of our orders on its own (京东云仓 reports 取消成功 when polled).

Its dispatch is closed as cancelled, so the order can never be sent again under the same
code (ECLP would answer with the cancelled order). An order the hub was already stopping
(CANCELLING) is cancelled now, its stock released, as when an intercept succeeds. An
order the node was to ship (PUSHED) goes to a person: held as `node_cancelled`, its stock
released, to be sent again (under a new code) or cancelled. An order with parts still at
other nodes keeps its state, and the exception tells the person. A dispatch that shipped
or that the hub stopped first is left as it is.
"""

from __future__ import annotations

from orderhub.domain.errors import Problem
from orderhub.domain.order import OrderStatus
from orderhub.services.cancel import finish_cancel
from orderhub.services.hub import Hub
from orderhub.services.pipeline import hold
from orderhub.store.uow import UnitOfWork

__all__ = ["node_cancelled"]

_AT_NODE = ("pushed", "acknowledged")


def node_cancelled(
    hub: Hub, uow: UnitOfWork, node: str, code: str, *, job_id: int | None = None
) -> str | None:
    """Apply the node's own cancellation of dispatch `code`; the first order in it."""
    dispatch = uow.dispatches.get(code, for_update=True)
    if dispatch is None:
        uow.exceptions.open(
            stage="cancel",
            code="unknown_order",
            message=f"{node} cancelled {code}, which is not an order of ours",
        )
        return None
    first = dispatch.order_ids[0] if dispatch.order_ids else None
    if dispatch.status not in _AT_NODE:
        return first
    uow.dispatches.mark(dispatch.id, "cancelled", at="closed")
    why = f"{node} cancelled {dispatch.id} on its own"
    for order_id in dispatch.order_ids:
        order = uow.orders.get(order_id, for_update=True)
        elsewhere = [
            d for d in uow.dispatches.of_order(order.id) if d.id != code and d.status in _AT_NODE
        ]
        uow.orders.trace(order.id, "intercept", "node", why, job_id=job_id)
        if order.status is OrderStatus.CANCELLING and not elsewhere:
            finish_cancel(uow, order, reason=why, window=hub.settings.stock_push_window)
        elif order.status is OrderStatus.PUSHED and not elsewhere:
            order.move_to(OrderStatus.RESERVED)
            problem = Problem("node_cancelled", f"{why}; send it again or cancel it", "node")
            hold(uow, order, [problem], stage="push")
            uow.orders.set_status(order)
        elif order.status is not OrderStatus.CANCELLED:
            uow.exceptions.open(
                stage="push",
                code="node_cancelled",
                message=f"{why}; its other parts are still at their nodes",
                order_id=order.id,
            )
    return first
