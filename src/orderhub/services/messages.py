"""Pushed messages that name orders instead of carrying them (Douyin's 消息推送).

The message is stored like any webhook; processing it queues one fetch per order it
names, and each fetch stores the whole order as a pull would. A message sent again names
the same orders, which the inbox then keeps once per order and update time.
"""

from __future__ import annotations

from orderhub.connectors.base import ChannelConnector
from orderhub.store.inbox import InboxItem
from orderhub.store.uow import UnitOfWork

__all__ = ["JOB_FETCH", "queue_fetches"]

JOB_FETCH = "shop.fetch"


def queue_fetches(uow: UnitOfWork, channel: ChannelConnector, item: InboxItem) -> bool:
    """Queue a fetch of every order a message names; False when the channel's pushes carry
    whole orders. An unreadable message raises UnreadableJson naming the field."""
    if not channel.pushes_ids_only or item.source != "webhook":
        return False
    for order_id in channel.orders_in_message(item.body):
        uow.outbox.add(
            JOB_FETCH,
            {"shop": item.shop, "order_id": order_id},
            key=f"fetch:{item.shop}:{order_id}:{item.id}",
        )
    uow.inbox.mark(item.id, "processed")
    return True
