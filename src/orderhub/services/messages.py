"""What a platform only names, fetched whole: orders a pushed message names (Douyin's
消息推送) and refunds an order names (WooCommerce's `refunds[]`).

The message is stored like any webhook; processing it queues one fetch per order it
names, and each fetch stores the whole order as a pull would. A message sent again names
the same orders, which the inbox then keeps once per order and update time. Likewise an
order that names refunds the hub has not acted on queues one fetch per refund (once per
refund, by the job's key); the fetch stores the refund raw and it is processed as a
refund webhook is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderhub.connectors.base import ChannelConnector
from orderhub.connectors.capabilities import names_refunds
from orderhub.store.inbox import InboxItem
from orderhub.store.uow import UnitOfWork

__all__ = ["JOB_FETCH", "JOB_FETCH_REFUND", "queue_fetches", "queue_refund_fetches"]

JOB_FETCH = "shop.fetch"
JOB_FETCH_REFUND = "shop.fetch_refund"


def names_orders_only(channel: ChannelConnector, item: InboxItem) -> bool:
    """Whether the stored payload is a message naming orders to fetch, not an order."""
    return channel.pushes_ids_only and item.source == "webhook"


def queue_fetches(uow: UnitOfWork, channel: ChannelConnector, item: InboxItem) -> bool:
    """Queue a fetch of every order a message names; False when the channel's pushes carry
    whole orders. An unreadable message raises UnreadableJson naming the field."""
    if not names_orders_only(channel, item):
        return False
    for order_id in channel.orders_in_message(item.body):
        uow.outbox.add(
            JOB_FETCH,
            {"shop": item.shop, "order_id": order_id},
            key=f"fetch:{item.shop}:{order_id}:{item.id}",
        )
    uow.inbox.mark(item.id, "processed")
    return True


def queue_refund_fetches(
    uow: UnitOfWork,
    channel: ChannelConnector,
    shop: str,
    channel_order_id: str,
    raw: Mapping[str, Any],
) -> int:
    """Queue a fetch of each refund the order names that the hub has not acted on yet;
    how many were queued (none for a channel whose orders do not name refunds)."""
    if not names_refunds(channel):
        return 0
    queued = 0
    for refund_id in channel.refunds_named(raw):
        if uow.returns.refund_seen(shop, refund_id):
            continue
        uow.outbox.add(
            JOB_FETCH_REFUND,
            {"shop": shop, "order_id": channel_order_id, "refund_id": refund_id},
            key=f"fetch-refund:{shop}:{channel_order_id}:{refund_id}",
        )
        queued += 1
    return queued
