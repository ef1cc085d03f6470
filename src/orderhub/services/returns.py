"""Returns and refunds (售后): a channel refund in, goods back at the node, stock booked.

A refund the shop reports is read with the shop's connector and becomes, depending on
where the order stands: a cancellation (nothing shipped yet), a return announced to the
node that shipped the goods (goods come back), or a note on the order (money only).
The node's receipt puts good units back on hand and writes defective ones off, both
through the stock ledger, and the order is RETURNED once all its returns are closed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from orderhub.connectors.base import ChannelRefund, OutboundLine, ReturnOrder, ReturnReceived
from orderhub.domain.errors import NotFound, OrderhubError
from orderhub.domain.order import ChannelStatus, Order, OrderLine, OrderStatus, Remarks, Totals
from orderhub.domain.returns import (
    Quality,
    RefundStatus,
    ReturnedItem,
    ReturnStatus,
    split_received,
)
from orderhub.observability import metrics
from orderhub.services.books import queue_booking
from orderhub.services.buyers import count_return
from orderhub.services.cancel import cancel_from_channel
from orderhub.services.figures import count_refund
from orderhub.services.hub import Hub
from orderhub.services.pipeline import route, schedule_stock_push, stock_arrived
from orderhub.store.ids import new_id
from orderhub.store.inbox import InboxItem
from orderhub.store.outbox import Job
from orderhub.store.returns import ReturnItem, ReturnRecord
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_NODE_RETURN",
    "REFUND_FETCHED",
    "REFUND_TOPICS",
    "Exchange",
    "NothingToReturn",
    "ReturnRecord",
    "apply_refund",
    "create_exchange",
    "get_return",
    "list_returns",
    "open_returns",
    "receive_return",
    "return_data",
    "return_dead",
    "return_order",
    "send_return",
]

JOB_NODE_RETURN = "node.return"
# A refund fetched whole because its order only named it (see services.messages).
REFUND_FETCHED = "refund.fetched"
# Inbox topics that carry a refund rather than an order.
REFUND_TOPICS = frozenset({"refunds/create", REFUND_FETCHED})

_NOT_SHIPPED = (
    OrderStatus.RECEIVED,
    OrderStatus.HELD,
    OrderStatus.RESERVED,
    OrderStatus.PUSHED,
    OrderStatus.CANCELLING,
)
_SHIPPED = (
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.RETURNING,
    OrderStatus.RETURNED,
)


class NothingToReturn(OrderhubError):
    """None of the lines asked for has shipped units left to send back."""


@dataclass(frozen=True)
class Exchange:
    """An exchange: the returns of the old goods and the new order for the replacement."""

    return_ids: list[str]
    order_id: str
    channel_order_id: str
    status: str


# ---------------------------------------------------------------------------- refunds in


def refund_on_the_order(
    hub: Hub, uow: UnitOfWork, order: Order, raw: Mapping[str, Any], *, inbox_id: str
) -> None:
    """Act on refunds a pulled platform carries on the order itself (Taobao's sub-order
    `refund_status`, say), once per refund, as a refund webhook is acted on."""
    shop = uow.catalog.shop(order.shop)
    try:
        refund = hub.channel(shop).parse_refund(raw)
    except ValueError:
        return
    if uow.returns.refund_seen(shop.code, refund.refund_id):
        return
    outcome = _act_on_refund(hub, uow, order, refund)
    uow.returns.note_refund(
        shop.code,
        refund.refund_id,
        order_id=order.id,
        amount=refund.amount,
        restock=refund.restock,
        outcome=outcome,
        inbox_id=inbox_id,
    )
    metrics.orders.labels(f"refund_{outcome}").inc()


def apply_refund(hub: Hub, uow: UnitOfWork, item: InboxItem) -> str | None:
    """Act on a stored `refunds/create` payload; the order id, or None when it became an
    exception (unreadable, or for an order the hub does not know yet: replay it later)."""
    shop = uow.catalog.shop(item.shop)
    try:
        raw = json.loads(item.body)
        if not isinstance(raw, dict):
            raise ValueError("the body is not a JSON object")
        refund = hub.channel(shop).parse_refund(raw)
    except ValueError as exc:
        message = f"the {item.topic} webhook cannot be read: {exc}"
        uow.exceptions.open(
            stage="parse", code="malformed_refund", message=message, inbox_id=item.id
        )
        uow.inbox.mark(item.id, "failed", error=message)
        metrics.inbound.labels("refund", "malformed").inc()
        return None
    order = uow.orders.by_channel_ref(shop.code, refund.channel_order_id, for_update=True)
    if order is None:
        message = (
            f"refund {refund.refund_id} is for order {refund.channel_order_id} of {shop.code}, "
            "which the hub has not received; replay it once the order is in"
        )
        uow.exceptions.open(stage="refund", code="unknown_order", message=message, inbox_id=item.id)
        uow.inbox.mark(item.id, "failed", error=message)
        return None
    if uow.returns.refund_seen(shop.code, refund.refund_id):
        uow.inbox.mark(item.id, "processed", order_id=order.id)
        return order.id
    outcome = _act_on_refund(hub, uow, order, refund)
    uow.returns.note_refund(
        shop.code,
        refund.refund_id,
        order_id=order.id,
        amount=refund.amount,
        restock=refund.restock,
        outcome=outcome,
        inbox_id=item.id,
    )
    uow.inbox.mark(item.id, "processed", order_id=order.id)
    metrics.orders.labels(f"refund_{outcome}").inc()
    return order.id


def _act_on_refund(hub: Hub, uow: UnitOfWork, order: Order, refund: ChannelRefund) -> str:
    """What the refund means for this order; a one-word outcome for the record."""
    refunded = uow.returns.refunded_amount(order.id) + refund.amount
    whole = order.totals.grand_total > 0 and refunded >= order.totals.grand_total
    wanted = _wanted_lines(order, refund)
    money = f"{refund.amount} {order.currency}"
    if order.status is OrderStatus.CANCELLED:
        _money_only(uow, order, refund, whole, note="the order was already cancelled")
        return "noted"
    if order.status in _NOT_SHIPPED:
        every_line = bool(refund.lines) and all(
            wanted.get(line.line_id, 0) >= line.quantity for line in order.lines
        )
        if every_line or whole:
            if whole:
                order.channel_status = ChannelStatus.REFUNDED
            uow.orders.trace(order.id, "refund", "ok", f"refund {refund.refund_id}: {money}")
            cancel_from_channel(uow, order, window=hub.settings.stock_push_window)
            return "cancelled"
        if not refund.lines:
            count_refund(uow, order, refund.refund_id, refund.amount, list(wanted))
            _money_only(uow, order, refund, whole)
            return "money_only"
        uow.exceptions.open(
            stage="refund",
            code="partial_refund_before_shipment",
            message=f"refund {refund.refund_id} takes back some lines ({_describe(wanted)}) "
            "of an order that has not shipped; change what the node ships by hand",
            severity="warning",
            order_id=order.id,
        )
        uow.orders.trace(order.id, "refund", "held", f"refund {refund.refund_id}: {money}")
        count_refund(uow, order, refund.refund_id, refund.amount, list(wanted))
        return "needs_review"
    count_refund(uow, order, refund.refund_id, refund.amount, list(wanted))
    if not refund.restock:
        _money_only(uow, order, refund, whole)
        return "money_only"
    try:
        created = open_returns(
            uow,
            order,
            wanted,
            channel_refund_id=refund.refund_id,
            reason=refund.reason,
            refund_status=RefundStatus.REFUNDED if refund.amount > 0 else RefundStatus.NONE,
        )
    except NothingToReturn as exc:
        uow.exceptions.open(
            stage="refund",
            code="nothing_to_return",
            message=f"refund {refund.refund_id}: {exc}",
            severity="warning",
            order_id=order.id,
        )
        _money_only(uow, order, refund, whole)
        return "noted"
    if whole:
        order.channel_status = ChannelStatus.REFUNDED
    uow.orders.save(order)
    uow.orders.trace(
        order.id, "refund", "ok", f"refund {refund.refund_id}: {money}; return {', '.join(created)}"
    )
    return "return"


def _wanted_lines(order: Order, refund: ChannelRefund) -> dict[str, int]:
    """Units per order line the refund takes back; no lines means the whole order."""
    if not refund.lines:
        return {line.line_id: line.quantity for line in order.lines} if refund.restock else {}
    wanted: dict[str, int] = {}
    for line_id, quantity in refund.lines:
        wanted[str(line_id)] = wanted.get(str(line_id), 0) + quantity
    return wanted


def _money_only(
    uow: UnitOfWork, order: Order, refund: ChannelRefund, whole: bool, *, note: str = ""
) -> None:
    """Money went back and no goods: keep the channel status in step and say so."""
    message = f"refund {refund.refund_id}: {refund.amount} {order.currency}, no goods back"
    if whole:
        order.channel_status = ChannelStatus.REFUNDED
        uow.orders.save(order)
        message += "; the whole order is refunded"
    uow.orders.trace(order.id, "refund", "ok", f"{message}; {note}" if note else message)


def _describe(lines: Mapping[str, int]) -> str:
    return ", ".join(f"{line_id}×{qty}" for line_id, qty in sorted(lines.items()))


def open_returns(
    uow: UnitOfWork,
    order: Order,
    wanted: Mapping[str, int],
    *,
    channel_refund_id: str | None = None,
    reason: str = "",
    refund_status: RefundStatus = RefundStatus.NONE,
    exchange_order_id: str | None = None,
) -> list[str]:
    """Open one return per dispatch the wanted units left with, queue their announcement
    to the node, and move the order to RETURNING; the return ids.

    Only units that shipped and are not already coming back are taken; raises
    NothingToReturn when none are left.
    """
    lines = {line.line_id: line for line in order.lines}
    shipped = order.shipped_quantities()
    already = uow.returns.refunded_quantities(order.id)
    dispatches = [d for d in uow.dispatches.of_order(order.id) if d.status != "cancelled"]
    per_dispatch: dict[str, list[ReturnItem]] = {}
    nodes: dict[str, str] = {}
    skipped: list[str] = []
    for line_id, quantity in sorted(wanted.items()):
        line = lines.get(line_id)
        left = min(quantity, shipped.get(line_id, 0) - already.get(line_id, 0))
        if line is None or left <= 0:
            skipped.append(f"{line_id}×{quantity}")
            continue
        if left < quantity:
            skipped.append(f"{line_id}×{quantity - left}")
        for dispatch in dispatches:
            for part in dispatch.lines:
                if left <= 0 or part.order_id != order.id or part.line_id != line_id:
                    continue
                take = min(left, part.shipped)
                if take <= 0:
                    continue
                left -= take
                nodes[dispatch.id] = dispatch.node
                per_dispatch.setdefault(dispatch.id, []).append(
                    ReturnItem(line_id, part.sku, take, reason[:200], part.line_no)
                )
    if not per_dispatch:
        raise NothingToReturn(f"nothing shipped is left to return of {_describe(wanted)}")
    created = []
    for dispatch_id, items in sorted(per_dispatch.items()):
        return_id = new_id("rt")
        uow.returns.add(
            return_id,
            order_id=order.id,
            shop=order.shop,
            node=nodes[dispatch_id],
            dispatch_id=dispatch_id,
            lines=items,
            channel_refund_id=channel_refund_id,
            kind="exchange" if exchange_order_id else "return",
            reason=reason,
            refund_status=refund_status,
            exchange_order_id=exchange_order_id,
        )
        uow.outbox.add(
            JOB_NODE_RETURN, {"return_id": return_id}, key=f"return:{return_id}", order_id=order.id
        )
        units = sum(item.quantity for item in items)
        uow.orders.trace(
            order.id,
            "return",
            "ok",
            f"return {return_id}: {units} unit(s) of {dispatch_id} expected back at "
            f"{nodes[dispatch_id]}",
        )
        created.append(return_id)
    if skipped:
        uow.orders.trace(
            order.id, "return", "partial", f"not shipped or already returned: {', '.join(skipped)}"
        )
    # Part of the order may still be waiting at a node: it ships as planned, and the
    # order shows RETURNING only once everything left (the return is tracked either way).
    if order.status is not OrderStatus.PARTIALLY_SHIPPED and order.can_move_to(
        OrderStatus.RETURNING
    ):
        order.move_to(OrderStatus.RETURNING)
    uow.orders.save(order)
    metrics.orders.labels("returning").inc()
    return created


# ----------------------------------------------------------------------- the node's side


def return_order(
    record: ReturnRecord, order: Order, recipes: Mapping[str, Mapping[str, int]]
) -> ReturnOrder:
    """The return as the node needs it: the buyer (the order's receiver) sends the goods
    back, bundles as their components, line numbers of the original outbound."""
    r = order.receiver
    titles = {line.line_id: line.title for line in order.lines}
    lines: list[OutboundLine] = []
    for item in record.lines:
        recipe = recipes.get(item.sku)
        if not recipe:
            lines.append(
                OutboundLine(item.line_no, item.sku, item.quantity, titles.get(item.line_id, ""))
            )
            continue
        for part, per_set in sorted(recipe.items()):
            lines.append(OutboundLine(f"{item.line_no}-{part}", part, per_set * item.quantity))
    return ReturnOrder(
        code=record.id,
        original_code=record.dispatch_id,
        shop_code=order.shop,
        channel_order_id=order.channel_order_id,
        sender_name=r.name,
        sender_phone=r.phone,
        country=r.country,
        province=r.province,
        city=r.city,
        address=" ".join(part for part in (r.district, r.address1, r.address2) if part),
        lines=lines,
        reason=record.reason,
    )


def send_return(hub: Hub, job: Job) -> None:
    """Announce a requested return to its node (idempotent on the return id)."""
    return_id = str(job.payload["return_id"])
    with hub.reader() as uow:
        record = uow.returns.get(return_id)
        if record.status is not ReturnStatus.REQUESTED:
            return
        order = uow.orders.get(record.order_id)
        node = uow.catalog.node(record.node)
        recipes = uow.catalog.bundles(sorted({item.sku for item in record.lines}))
    started = time.perf_counter()
    receipt = hub.node(node).create_return(return_order(record, order, recipes))
    latency = (time.perf_counter() - started) * 1000
    with hub.uow() as uow:
        record = uow.returns.get(return_id, for_update=True)
        if record.status is ReturnStatus.REQUESTED:
            uow.returns.move(record, ReturnStatus.SENT_TO_NODE, external_id=receipt.external_id)
        else:  # the node's receipt overtook this answer
            uow.returns.set_external_id(record.id, receipt.external_id)
        uow.orders.trace(
            record.order_id,
            "return",
            "ok",
            f"{node.code} expects return {record.id} as {receipt.external_id}",
            latency_ms=latency,
            job_id=job.id,
        )
        uow.commit()


def return_dead(hub: Hub, job: Job, error: str) -> None:
    """The node refused the return for good: a person arranges it."""
    return_id = str(job.payload["return_id"])
    with hub.uow() as uow:
        record = uow.returns.find(return_id)
        if record is None:
            return
        uow.exceptions.open(
            stage="return",
            code="return_rejected",
            message=f"{record.node} refused return {record.id}: {error}; arrange it by hand",
            order_id=record.order_id,
            job_id=job.id,
        )
        uow.orders.trace(record.order_id, "return", "failed", error, job_id=job.id)
        uow.commit()


def receive_return(
    hub: Hub,
    uow: UnitOfWork,
    node: str,
    received: ReturnReceived,
    *,
    job_id: int | None = None,
    inbox_id: str | None = None,
) -> str | None:
    """The node checked a return in: good units back on hand, defective ones written off,
    the return closed, the order RETURNED when none of its returns is open; the order id."""
    record = uow.returns.find(received.code, for_update=True)
    if record is None:
        uow.exceptions.open(
            stage="return",
            code="unknown_return",
            message=f"{node} received return {received.code}, which is not a return of ours",
            inbox_id=inbox_id,
        )
        return None
    if record.status in (ReturnStatus.RECEIVED, ReturnStatus.CLOSED):
        return record.order_id  # a repeated confirm: booked already
    if record.status is ReturnStatus.CANCELLED:
        uow.exceptions.open(
            stage="return",
            code="return_after_cancel",
            message=f"{node} received return {record.id}, which was called off; count the goods",
            order_id=record.order_id,
            inbox_id=inbox_id,
        )
        return record.order_id
    if record.status is ReturnStatus.REQUESTED:
        record = uow.returns.move(record, ReturnStatus.SENT_TO_NODE)
    items = [
        ReturnedItem(
            line.sku,
            line.quantity,
            Quality.GOOD if line.quality == Quality.GOOD.value else Quality.DEFECTIVE,
        )
        for line in received.lines
    ]
    good, bad = split_received(items)
    why = f"return {record.id} of order {record.order_id}"
    for sku, quantity in sorted(good.items()):
        uow.stock.adjust(node, sku, quantity, kind="return", reason=why)
    for sku, quantity in sorted(bad.items()):
        uow.stock.adjust(node, sku, quantity, kind="return_defective", reason=why)
        uow.stock.adjust(node, sku, -quantity, kind="write_off", reason=f"defective, {why}")
    record = uow.returns.move(
        record,
        ReturnStatus.RECEIVED,
        confirm_id=received.confirm_id,
        received=[
            {"sku": line.sku, "quantity": line.quantity, "quality": line.quality}
            for line in received.lines
        ],
        restock={"restocked": good, "written_off": bad},
        received_at=received.received_at or datetime.now(UTC),
    )
    uow.returns.move(record, ReturnStatus.CLOSED)
    order = uow.orders.get(record.order_id, for_update=True)
    uow.orders.trace(
        order.id,
        "return",
        "ok",
        f"{node} received return {record.id}: {sum(good.values())} back in stock, "
        f"{sum(bad.values())} defective written off",
        job_id=job_id,
    )
    if not any(r.is_open for r in uow.returns.of_order(order.id)) and order.can_move_to(
        OrderStatus.RETURNED
    ):
        order.move_to(OrderStatus.RETURNED)
        uow.orders.save(order)
        metrics.orders.labels("returned").inc()
    queue_booking(uow, "return", record.id, order)
    count_return(uow, order.id)
    if good:
        schedule_stock_push(uow, good, window=hub.settings.stock_push_window)
        stock_arrived(uow, good)
    return order.id


# ----------------------------------------------------------------------------- exchanges


def create_exchange(
    hub: Hub,
    order_id: str,
    lines: Sequence[tuple[str, int]],
    sku: str,
    *,
    reason: str = "exchange",
) -> Exchange:
    """Take these (line id, quantity) lines back and send `sku` instead, as a new order of
    the same shop (`<channel order id>-EX<n>`, no charge, same receiver) routed like any
    other."""
    if not lines or any(quantity <= 0 for _, quantity in lines):
        raise OrderhubError("an exchange needs at least one line with a positive quantity")
    with hub.uow() as uow:
        order = uow.orders.get(order_id, for_update=True)
        if order.status not in _SHIPPED:
            raise OrderhubError(
                f"order {order.id} is {order.status}: only goods that shipped can be exchanged"
            )
        shop = uow.catalog.shop(order.shop)
        n = uow.returns.count_exchanges(order.id) + 1
        while uow.orders.by_channel_ref(shop.code, f"{order.channel_order_id}-EX{n}"):
            n += 1
        now = datetime.now(UTC)
        replacement = Order(
            id=new_id("o"),
            shop=order.shop,
            platform=order.platform,
            channel_order_id=f"{order.channel_order_id}-EX{n}",
            order_no=f"{order.order_no or order.channel_order_id}-EX{n}",
            origin="exchange",
            placed_at=now,
            paid_at=now,
            channel_updated_at=now,
            currency=order.currency,
            totals=Totals(),
            buyer=order.buyer.model_copy(),
            receiver=order.receiver.model_copy(),
            remarks=Remarks(seller=f"exchange for {order.order_no or order.channel_order_id}"),
            lines=[
                OrderLine(
                    line_id="1",
                    channel_sku=sku,
                    title=f"exchange: {sku}",
                    quantity=sum(quantity for _, quantity in lines),
                )
            ],
        )
        wanted: dict[str, int] = {}
        for line_id, quantity in lines:
            wanted[line_id] = wanted.get(line_id, 0) + quantity
        return_ids = open_returns(
            uow, order, wanted, reason=reason, exchange_order_id=replacement.id
        )
        uow.orders.trace(
            replacement.id, "receive", "ok", f"exchange for order {order.id} ({_describe(wanted)})"
        )
        route(uow, replacement, shop, stock_window=hub.settings.stock_push_window)
        uow.orders.add(replacement)
        uow.orders.trace(
            order.id, "exchange", "ok", f"{sku} sent as order {replacement.channel_order_id}"
        )
        uow.commit()
    return Exchange(return_ids, replacement.id, replacement.channel_order_id, replacement.status)


# ------------------------------------------------------------------------------- queries


def list_returns(
    hub: Hub,
    *,
    status: str | None = None,
    order_id: str | None = None,
    shops: Collection[str] | None = None,
    limit: int = 100,
) -> list[ReturnRecord]:
    """The newest returns first (of `shops` only, when given)."""
    with hub.reader() as uow:
        return uow.returns.search(status=status, order_id=order_id, shops=shops, limit=limit)


def get_return(hub: Hub, return_id: str) -> ReturnRecord:
    """One return; NotFound if it is not one of ours."""
    with hub.reader() as uow:
        found = uow.returns.find(return_id)
    if found is None:
        raise NotFound("return", return_id)
    return found


def return_data(record: ReturnRecord) -> dict[str, Any]:
    """A return as JSON-ready data, for the API and the command line."""
    data = asdict(record)
    for key in ("created_at", "received_at", "closed_at"):
        moment = data[key]
        data[key] = None if moment is None else moment.isoformat()
    data["status"] = record.status.value
    data["refund_status"] = record.refund_status.value
    return data
