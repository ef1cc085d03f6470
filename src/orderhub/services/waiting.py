"""Orders held for stock get another try when stock comes back, oldest first."""

from __future__ import annotations

from orderhub.domain.order import OrderStatus
from orderhub.services.hub import Hub
from orderhub.services.pipeline import JOB_REROUTE, route, stock_arrived
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = ["JOB_REROUTE", "PAGE", "retry_waiting_orders"]

PAGE = 500


def retry_waiting_orders(hub: Hub, uow: UnitOfWork, job: Job) -> None:
    """Route again the orders held out of stock for a SKU, first come first served."""
    sku = str(job.payload["sku"])
    waiting = uow.orders.held_for_stock([sku], limit=PAGE)
    # Loaded and locked in one query, then placed oldest first.
    orders = [
        o for o in uow.orders.get_many(waiting, for_update=True) if o.status is OrderStatus.HELD
    ]
    uow.exceptions.resolve_for_orders([o.id for o in orders])
    placed = 0
    for order in orders:
        shop = uow.catalog.shop(order.shop)
        order.move_to(OrderStatus.RECEIVED)
        uow.orders.trace(order.id, "retry", "ok", f"stock of {sku} arrived")
        route(
            uow,
            order,
            shop,
            stock_window=hub.settings.stock_push_window,
            duplicate_window=hub.settings.duplicate_window,
            review=False,  # it passed review before it waited for stock
        )
        uow.orders.set_status(order)
        placed += order.status is not OrderStatus.HELD
    if len(waiting) == PAGE and placed:
        # A full page went through and stock is left: the next page gets its turn.
        stock_arrived(uow, [sku])
