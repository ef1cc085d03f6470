"""Inbound orders: store raw first (webhook, pull, import), then map and route.

Receiving and processing are two use cases. `receive_*` only stores the payload and
queues its processing, so a burst of webhooks is answered at once; `process_inbox`
maps, de-duplicates and routes it, and turns anything unreadable into an exception
that points at the stored payload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orderhub.connectors.kit import bounded_json
from orderhub.domain.errors import InvalidOrder, NotFound, OrderhubError
from orderhub.domain.order import ChannelStatus, Order, OrderStatus
from orderhub.observability import get_logger, metrics
from orderhub.services.buyers import recognise
from orderhub.services.cancel import cancel_from_channel
from orderhub.services.hub import Hub
from orderhub.services.messages import queue_fetches, queue_refund_fetches
from orderhub.services.pipeline import route
from orderhub.services.returns import REFUND_TOPICS, apply_refund, refund_on_the_order
from orderhub.services.switches import syncs
from orderhub.store.catalog import ShopRecord
from orderhub.store.ids import new_id
from orderhub.store.inbox import InboxItem
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_INBOX",
    "BadSignature",
    "MalformedPayload",
    "Received",
    "inbox_dead",
    "map_payload",
    "process_inbox",
    "receive_payload",
    "receive_webhook",
]

JOB_INBOX = "inbox.process"
log = get_logger(__name__)


class BadSignature(OrderhubError):
    """The webhook's signature does not match: nothing from it is trusted or stored."""


class MalformedPayload(OrderhubError):
    """The body is not readable JSON; it is kept as an exception for a person."""

    def __init__(self, message: str, *, inbox_id: str) -> None:
        super().__init__(message)
        self.inbox_id = inbox_id


@dataclass(frozen=True)
class Received:
    """The stored payload's id, and whether it was new or a repeat delivery."""

    inbox_id: str
    new: bool


def receive_webhook(hub: Hub, shop_code: str, headers: Mapping[str, str], body: bytes) -> Received:
    """Verify, store raw, queue processing; raises BadSignature or MalformedPayload."""
    shop = hub.shop_for_webhook(shop_code)
    channel = hub.channel(shop)
    if not channel.verify_webhook(headers, body):
        metrics.inbound.labels("webhook", "bad_signature").inc()
        raise BadSignature(f"webhook for shop {shop_code} has a bad signature")
    kept = {
        k: v[:_HEADER_LIMIT]
        for k, v in headers.items()
        if k.lower().startswith(("x-shopify-", "x-")) and len(k) <= _HEADER_LIMIT
    }
    try:
        delivery = channel.describe_webhook(headers)
    except ValueError as exc:
        # Signed but not a delivery we can name: kept, shown, and never processed.
        key = f"webhook:{shop_code}:body:{hashlib.sha256(body).hexdigest()}"
        inbox_id = _refuse(
            hub, shop_code, topic="", dedup_key=key, body=body, headers=kept, reason=str(exc)
        )
        raise MalformedPayload(str(exc), inbox_id=inbox_id) from exc
    dedup_key = f"webhook:{shop_code}:{delivery.delivery_id}"
    if delivery.keyed_by_body:
        dedup_key += f":{hashlib.sha256(body).hexdigest()[:32]}"
    dedup_key = _bounded_key(dedup_key)
    if len(delivery.topic) > _TOPIC_LIMIT:
        reason = f"the webhook topic is {len(delivery.topic)} characters long, not a topic"
        inbox_id = _refuse(
            hub, shop_code, topic="", dedup_key=dedup_key, body=body, headers=kept, reason=reason
        )
        raise MalformedPayload(reason, inbox_id=inbox_id)
    if not delivery.handled:
        with hub.uow() as uow:
            inbox_id, new = uow.inbox.add(
                shop=shop_code,
                source="webhook",
                topic=delivery.topic,
                dedup_key=dedup_key,
                body=body,
                headers=kept,
                status="ignored",
                error=f"the {delivery.topic} topic is not one orderhub acts on",
            )
            uow.commit()
        metrics.inbound.labels("webhook", "ignored").inc()
        log.info("webhook topic ignored", shop=shop_code, topic=delivery.topic)
        return Received(inbox_id, new)
    age = _age_seconds(delivery.triggered_at)
    if age is not None and age > hub.settings.webhook_max_age:
        reason = (
            f"the {delivery.topic} webhook was sent {age / 3600:.1f} h ago, longer ago than "
            f"ORDERHUB_WEBHOOK_MAX_AGE ({hub.settings.webhook_max_age / 3600:.1f} h)"
        )
        inbox_id = _refuse(
            hub,
            shop_code,
            topic=delivery.topic,
            dedup_key=dedup_key,
            body=body,
            headers=kept,
            reason=reason,
            code="stale_webhook",
        )
        return Received(inbox_id, True)
    try:
        raw = bounded_json.loads(body)
    except bounded_json.UnreadableJson as exc:
        message = f"the {delivery.topic} webhook body is {exc.reason}" + (
            f" at {exc.path}" if exc.path else ""
        )
        inbox_id = _refuse(
            hub,
            shop_code,
            topic=delivery.topic,
            dedup_key=dedup_key,
            body=body,
            headers=kept,
            reason=message,
            field=exc.path,
        )
        raise MalformedPayload(f"the body cannot be read: {exc}", inbox_id=inbox_id) from exc
    return _store(
        hub,
        shop_code,
        source="webhook",
        topic=delivery.topic,
        dedup_key=dedup_key,
        body=body,
        headers=kept,
        read=raw,
    )


_HEADER_LIMIT = 300
_TOPIC_LIMIT = 100
_KEY_LIMIT = 300


def _age_seconds(triggered_at: str | None) -> float | None:
    """Seconds since the platform says it sent the webhook; None when it does not say."""
    if not triggered_at:
        return None
    try:
        sent = datetime.fromisoformat(triggered_at.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    return (datetime.now(UTC) - sent).total_seconds()


def _bounded_key(key: str) -> str:
    """A de-duplication key that fits its column: long ones keep a prefix and a hash."""
    if len(key) <= _KEY_LIMIT:
        return key
    return f"{key[:200]}:sha256:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _refuse(
    hub: Hub,
    shop_code: str,
    *,
    topic: str,
    dedup_key: str,
    body: bytes,
    headers: Mapping[str, str],
    reason: str,
    field: str = "",
    code: str = "malformed_payload",
) -> str:
    """Keep a signed body that cannot be processed, with an exception saying why."""
    with hub.uow() as uow:
        inbox_id, new = uow.inbox.add(
            shop=shop_code,
            source="webhook",
            topic=topic,
            dedup_key=_bounded_key(dedup_key),
            body=body,
            headers=headers,
            status="failed",
            error=reason[:1000],
        )
        if new:
            uow.exceptions.open(
                stage="parse",
                code=code,
                message=reason[:1000],
                field=field[:200],
                inbox_id=inbox_id,
            )
        uow.commit()
    metrics.inbound.labels("webhook", "malformed").inc()
    return inbox_id


def receive_payload(
    hub: Hub, shop_code: str, payload: Mapping[str, Any], *, source: str, topic: str = "order"
) -> Received:
    """Store one raw order from a pull or a file import and queue its processing."""
    with hub.reader() as uow:
        shop = uow.catalog.shop(shop_code)
    body = bounded_json.dumps(payload)
    try:
        order_id, updated_at = hub.channel(shop).order_ref(payload)
        digest = hashlib.sha256(body).hexdigest()[:16]
        key = _bounded_key(f"order:{shop_code}:{order_id}:{updated_at}:{digest}")
    except (KeyError, TypeError, ValueError):
        key = f"{source}:{shop_code}:{hashlib.sha256(body).hexdigest()}"
    return _store(hub, shop_code, source=source, topic=topic, dedup_key=key, body=body, headers={})


def _store(
    hub: Hub,
    shop_code: str,
    *,
    source: str,
    topic: str,
    dedup_key: str,
    body: bytes,
    headers: Mapping[str, str],
    read: Any = None,
) -> Received:
    """Store the payload with the job that takes it in. The body as the door `read` it
    is handed to that job (`Hub.keep_bodies_read`) as it is stored: on SQLite before the
    commit that lets the job be claimed; on PostgreSQL, where the one statement commits
    as it runs, a lane claiming at that very moment reads the body itself."""

    def write(uow: UnitOfWork) -> tuple[str, bool]:
        inbox_id, new = uow.inbox.add_and_queue(
            uow.outbox,
            kind=JOB_INBOX,
            shop=shop_code,
            source=source,
            topic=topic,
            dedup_key=dedup_key,
            body=body,
            headers=headers,
        )
        if new and read is not None and hub.bodies_read is not None:
            hub.bodies_read.put(inbox_id, read)
        return inbox_id, new

    inbox_id, new = hub.grouped_writes.run(write)
    metrics.inbound.labels(source, "stored" if new else "duplicate").inc()
    return Received(inbox_id, new)


def process_inbox(hub: Hub, inbox_id: str, *, uow: UnitOfWork | None = None) -> str | None:
    """Map and route one stored payload; the order id, or None when it became an exception."""
    if uow is not None:
        return _process(hub, uow, inbox_id)
    with hub.uow() as own:
        result = _process(hub, own, inbox_id)
        own.commit()
        return result


def _process(hub: Hub, uow: UnitOfWork, inbox_id: str) -> str | None:
    item = uow.inbox.get(inbox_id)
    if item.status not in ("pending", "failed"):
        return item.order_id
    shop = uow.catalog.shop(item.shop)
    if item.topic in REFUND_TOPICS:
        if not syncs(shop, "returns"):
            uow.inbox.mark(item.id, "ignored", error="returns are switched off for this shop")
            return None
        return apply_refund(hub, uow, item)
    try:
        if queue_fetches(uow, hub.channel(shop), item):
            return None
        mapped = uow.inbox.mapped.pop(item.id, None)  # by the batch's read-ahead
        raw, order = mapped if mapped is not None else map_payload(hub, shop, item)
    except bounded_json.UnreadableJson as exc:
        where = f" at {exc.path}" if exc.path else ""
        _unreadable(
            uow, item, "malformed_payload", f"the body is {exc.reason}{where}", field=exc.path
        )
        return None
    except InvalidOrder as exc:
        for problem in exc.problems:
            uow.exceptions.open(
                stage="map",
                code=problem.code,
                message=problem.message,
                field=problem.field,
                inbox_id=item.id,
            )
        uow.inbox.mark(item.id, "failed", error=str(exc))
        metrics.orders.labels("unmappable").inc()
        return None
    existing = uow.orders.by_channel_ref(shop.code, order.channel_order_id, for_update=True)
    if existing is None:
        order_id = _create(hub, uow, order, item)
    else:
        order_id = _update(hub, uow, existing, order, item)
    if order_id is not None and syncs(shop, "returns"):
        queue_refund_fetches(uow, hub.channel(shop), shop.code, order.channel_order_id, raw)
    return order_id


def map_payload(hub: Hub, shop: ShopRecord, item: InboxItem) -> tuple[Any, Order]:
    """The stored payload read and mapped to a canonical order (not yet stored); raises
    UnreadableJson or InvalidOrder naming the field. A body the door read in this process
    is not read again."""
    raw = hub.bodies_read.take(item.id) if hub.bodies_read is not None else None
    if raw is None:
        raw = bounded_json.loads(item.body)
    return raw, hub.mapping(shop).map(raw, shop=shop.code)


def _unreadable(
    uow: UnitOfWork, item: InboxItem, code: str, message: str, *, field: str = ""
) -> None:
    uow.exceptions.open(
        stage="parse", code=code, message=message, field=field[:200], inbox_id=item.id
    )
    uow.inbox.mark(item.id, "failed", error=message)


ORDERS_OFF = "orders in are switched off for this shop"


def take_in_ignored_orders(uow: UnitOfWork, shop: str) -> int:
    """Queue again what arrived while the shop's orders in were switched off."""
    found = uow.inbox.ignored(shop, ORDERS_OFF)
    for inbox_id in found:
        uow.inbox.mark(inbox_id, "pending")
        if not uow.outbox.revive(f"inbox:{inbox_id}"):
            uow.outbox.add(JOB_INBOX, {"inbox_id": inbox_id}, key=f"inbox:{inbox_id}")
    return len(found)


def _create(hub: Hub, uow: UnitOfWork, order: Order, item: InboxItem) -> str | None:
    shop = uow.catalog.shop(order.shop)
    if not syncs(shop, "orders"):
        # Kept, not acted on: once orders in are switched on, a replay brings it in.
        uow.inbox.mark(item.id, "ignored", error=ORDERS_OFF)
        return None
    order.id = new_id("o")
    uow.orders.trace(order.id, "receive", "ok", f"{item.source} {item.topic}".strip())
    metrics.orders.labels("received").inc()
    if order.channel_status in (ChannelStatus.CANCELLED, ChannelStatus.REFUNDED):
        order.move_to(OrderStatus.CANCELLED)
        uow.orders.trace(order.id, "cancel", "ok", "already cancelled on the channel")
    buyer = recognise(uow, order)
    if order.status is not OrderStatus.CANCELLED:
        route(
            uow,
            order,
            shop,
            stock_window=hub.settings.stock_push_window,
            duplicate_window=hub.settings.duplicate_window,
            new_order=True,
        )
    uow.orders.add(order, inbox_id=item.id, buyer_id=buyer.id if buyer is not None else None)
    uow.inbox.mark(item.id, "processed", order_id=order.id)
    return order.id


_STATUS_RANK = {
    ChannelStatus.UNPAID: 0,
    ChannelStatus.PAID: 1,
    ChannelStatus.REFUNDED: 2,
    ChannelStatus.CANCELLED: 3,
}


def _newer(incoming: Order, stored: Order) -> bool:
    """Whether `incoming` is a later version of the order than `stored`.

    Platforms stamp updates to the second, so two versions can share a time; then the
    one further along (paid after unpaid, cancelled after paid) is the later one.
    """
    new, old = incoming.channel_updated_at, stored.channel_updated_at
    if new is None or old is None or new != old:
        return new is None or old is None or new > old
    return _STATUS_RANK[incoming.channel_status] > _STATUS_RANK[stored.channel_status]


_LEFT_A_NODE = frozenset(
    {
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.COMPLETED,
        OrderStatus.RETURNING,
        OrderStatus.RETURNED,
    }
)


def _update(hub: Hub, uow: UnitOfWork, existing: Order, incoming: Order, item: InboxItem) -> str:
    if not _newer(incoming, existing):
        uow.inbox.mark(item.id, "stale", order_id=existing.id)
        return existing.id
    shop = uow.catalog.shop(existing.shop)
    left = existing.status in _LEFT_A_NODE
    if incoming.channel_status is ChannelStatus.REFUNDED and left:
        # Goods already left: the refund opens the return, from its own webhook or, on a
        # platform that is pulled, from the refunded lines of the order itself.
        existing.channel_status = incoming.channel_status
        existing.channel_updated_at = incoming.channel_updated_at
        uow.orders.save(existing)
        uow.orders.trace(existing.id, "update", "ok", "refunded on the channel")
        if hub.channel(shop).refunds_on_order and syncs(shop, "returns"):
            raw = bounded_json.loads(item.body)
            refund_on_the_order(hub, uow, existing, raw, inbox_id=item.id)
    elif incoming.channel_status in (ChannelStatus.CANCELLED, ChannelStatus.REFUNDED):
        existing.channel_status = incoming.channel_status
        existing.channel_updated_at = incoming.channel_updated_at
        cancel_from_channel(uow, existing, window=hub.settings.stock_push_window)
    elif existing.status in (OrderStatus.RECEIVED, OrderStatus.HELD):
        incoming.id = existing.id
        incoming.status = existing.status
        incoming.approved = existing.approved
        uow.orders.trace(existing.id, "update", "ok", "order changed on the channel")
        uow.exceptions.resolve_for_order(existing.id)
        if incoming.status is OrderStatus.HELD:
            incoming.move_to(OrderStatus.RECEIVED)
        route(
            uow,
            incoming,
            shop,
            stock_window=hub.settings.stock_push_window,
            duplicate_window=hub.settings.duplicate_window,
        )
        uow.orders.save(incoming)
    else:
        existing.channel_status = incoming.channel_status
        existing.channel_updated_at = incoming.channel_updated_at
        existing.remarks = incoming.remarks
        uow.orders.save(existing)
        uow.orders.trace(
            existing.id, "update", "ok", f"channel update noted; order is {existing.status}"
        )
    uow.inbox.mark(item.id, "processed", order_id=existing.id)
    return existing.id


def inbox_dead(hub: Hub, job: Job, error: str) -> None:
    """A payload whose processing gave up is marked failed, never left pending."""
    inbox_id = str(job.payload["inbox_id"])
    with hub.uow() as uow:
        if uow.inbox.get(inbox_id).status == "pending":
            uow.inbox.mark(inbox_id, "failed", error=error[:1000])
            uow.commit()


def replay_inbox(hub: Hub, inbox_id: str) -> str | None:
    """Run a stored payload through mapping again, after a mapping or data fix."""
    with hub.uow() as uow:
        item = uow.inbox.get(inbox_id)
        if item.status != "failed":
            raise NotFound("failed inbox item", inbox_id)
        uow.exceptions.resolve_for_inbox(inbox_id)
        uow.inbox.mark(inbox_id, "pending")
        result = _process(hub, uow, inbox_id)
        uow.commit()
        return result
