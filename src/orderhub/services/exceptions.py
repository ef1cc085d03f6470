"""Working through the exception queue: a person resolves the cause, the hub replays
the order (or the stored payload, or the dead job) from where it stopped."""

from __future__ import annotations

from dataclasses import dataclass

from orderhub.domain.errors import OrderhubError
from orderhub.domain.order import OrderStatus
from orderhub.services.hub import Hub
from orderhub.services.ingest import replay_inbox
from orderhub.services.pipeline import route
from orderhub.store.records import ExceptionRecord

__all__ = ["Replayed", "replay_exception", "replay_order"]


@dataclass(frozen=True)
class Replayed:
    """What a replay did, in words, and where the order stands now."""

    exception_id: str
    outcome: str
    order_id: str | None = None
    status: str | None = None


def replay_order(hub: Hub, order_id: str) -> str:
    """Route a held order again with today's catalogue, listings and stock; its status."""
    with hub.uow() as uow:
        order = uow.orders.get(order_id, for_update=True)
        if order.status is not OrderStatus.HELD:
            raise OrderhubError(f"order {order_id} is {order.status}, not held")
        shop = uow.catalog.shop(order.shop)
        uow.exceptions.resolve_for_order(order.id)
        order.move_to(OrderStatus.RECEIVED)
        uow.orders.trace(order.id, "replay", "ok", "replayed by a person")
        route(uow, order, shop, stock_window=hub.settings.stock_push_window)
        uow.orders.set_status(order)
        uow.commit()
        return order.status.value


def replay_exception(hub: Hub, exception_id: str) -> Replayed:
    """Replay whatever the exception stopped: a held order, an unreadable payload, a
    dead job. An exception that stopped nothing is simply closed."""
    with hub.reader() as uow:
        record: ExceptionRecord = uow.exceptions.get(exception_id)
        if record.status != "open":
            raise OrderhubError(f"exception {exception_id} is already resolved")
        order = uow.orders.find(record.order_id) if record.order_id else None
    if record.job_id is not None:
        with hub.uow() as uow:
            requeued = uow.outbox.requeue(record.job_id)
            uow.exceptions.resolve(exception_id)
            uow.commit()
        return Replayed(exception_id, "job queued again" if requeued else "closed", record.order_id)
    if order is not None and order.status is OrderStatus.HELD:
        status = replay_order(hub, order.id)
        return Replayed(exception_id, "order routed again", order.id, status)
    if order is None and record.inbox_id:
        order_id = replay_inbox(hub, record.inbox_id)
        return Replayed(exception_id, "payload mapped again", order_id)
    with hub.uow() as uow:
        uow.exceptions.resolve(exception_id)
        uow.commit()
    return Replayed(exception_id, "closed", record.order_id, order.status if order else None)
