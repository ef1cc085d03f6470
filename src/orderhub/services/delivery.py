"""Jobs that send dispatches to their nodes: read, send (one or a batch per call), and
write down what the nodes took; and give up on one a node refuses for good."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from orderhub.connectors.base import (
    ConnectorError,
    OutboundLine,
    OutboundOrder,
    OutboundReceipt,
)
from orderhub.connectors.capabilities import takes_outbound_batches
from orderhub.connectors.registry import CROSS_BORDER_NODES
from orderhub.domain.customs import NodeCustoms, crosses_border, latin_receiver, shipping_method_for
from orderhub.domain.errors import NotFound, Problem
from orderhub.domain.order import Order, OrderStatus
from orderhub.observability import metrics
from orderhub.services.books import queue_booking
from orderhub.services.dispatch import stop_dispatch
from orderhub.services.figures import count_pushed
from orderhub.services.hub import Hub
from orderhub.services.pipeline import hold
from orderhub.store.catalog import NodeRecord
from orderhub.store.dispatches import Dispatch
from orderhub.store.orders import Stored
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = [
    "PushPlan",
    "Pushed",
    "dispatch_dead",
    "outbound_order",
    "plan_pushes",
    "push_batch_size",
    "push_dispatch",
    "record_pushes",
    "send_push",
    "send_pushes",
]

_TO_SHIP = frozenset({OrderStatus.RESERVED, OrderStatus.PUSHED, OrderStatus.PARTIALLY_SHIPPED})


def _outbound_lines(
    dispatch: Dispatch, orders: Mapping[str, Order], recipes: Mapping[str, Mapping[str, int]]
) -> list[OutboundLine]:
    currency = orders[dispatch.order_ids[0]].currency
    lines = []
    for item in dispatch.lines:
        source = next(x for x in orders[item.order_id].lines if x.line_id == item.line_id)
        recipe = recipes.get(item.sku)
        if not recipe:
            lines.append(
                OutboundLine(
                    line_no=item.line_no,
                    sku=item.sku,
                    quantity=item.quantity * source.pack,
                    title=source.title,
                    unit_price=source.unit_price,
                    hs_code=source.hs_code,
                    customs_description=source.customs_description,
                    declared_value=(
                        source.unit_price
                        if source.declared_value is None
                        else source.declared_value
                    )
                    / source.pack,
                    declared_currency=source.declared_currency or currency,
                    origin_country=source.origin_country,
                )
            )
            continue
        for part, per_set in sorted(recipe.items()):
            lines.append(
                OutboundLine(
                    line_no=f"{item.line_no}-{part}",
                    sku=part,
                    quantity=per_set * item.quantity * source.pack,
                    title=f"{source.title} / {part}",
                )
            )
    return lines


def outbound_order(
    dispatch: Dispatch,
    orders: Mapping[str, Order],
    recipes: Mapping[str, Mapping[str, int]],
    node: NodeRecord | None = None,
) -> OutboundOrder:
    """The dispatch as the node needs it: the first order's receiver and amounts, every
    order's lines (bundles as their components), and the dispatch id as its code. Across
    a border the receiver is the Latin-script one, with the node's shipping method."""
    first = orders[dispatch.order_ids[0]]
    customs = NodeCustoms.model_validate((node.location if node else {}).get("customs") or {})
    abroad = node is not None and crosses_border(
        first,
        str(node.location.get("country", "")),
        customs,
        overseas=node.platform in CROSS_BORDER_NODES,
    )
    r = latin_receiver(first) if abroad else first.receiver
    method = shipping_method_for(customs, first.receiver.country) if abroad else ""
    # Sealed field by field, the ciphertexts go where the clear text would: the
    # warehouse prints through the platform with them.
    ciphers = r.sealed_fields
    merged = [orders[oid] for oid in dispatch.order_ids]
    return OutboundOrder(
        code=dispatch.id,
        shop_code=first.shop,
        platform=first.platform,
        channel_order_id=",".join(o.channel_order_id for o in merged),
        placed_at=first.placed_at,
        paid_at=first.paid_at,
        currency=first.currency,
        grand_total=sum((o.totals.grand_total for o in merged), start=Decimal("0")),
        shipping_fee=sum((o.totals.shipping for o in merged), start=Decimal("0")),
        discount=sum((o.totals.discount for o in merged), start=Decimal("0")),
        receiver_name=ciphers[0] if ciphers else r.name,
        receiver_phone=ciphers[1] if ciphers else r.phone,
        country=r.country,
        province=r.province,
        city=r.city,
        district=r.district,
        address=ciphers[2] if ciphers else " ".join(p for p in (r.address1, r.address2) if p),
        postcode=r.postcode,
        lines=_outbound_lines(dispatch, orders, recipes),
        buyer_remark=" / ".join(o.remarks.buyer for o in merged if o.remarks.buyer),
        seller_remark=" / ".join(o.remarks.seller for o in merged if o.remarks.seller),
        buyer_nick=first.buyer.name,
        town=r.town,
        sealed_receiver="" if ciphers else r.sealed,
        email=first.buyer.email,
        shipping_method=method or "",
        ioss_number=first.customs.ioss_number if abroad else "",
        vat_number=first.customs.vat_number if abroad else "",
    )


@dataclass(frozen=True)
class PushPlan:
    """One claimed push, read before the call: what goes to which node."""

    job: Job
    dispatch: Dispatch
    orders: Mapping[str, Order]
    node: NodeRecord
    recipes: Mapping[str, Mapping[str, int]]
    stored: Mapping[str, Stored]  # what each order was read from


@dataclass(frozen=True)
class Pushed:
    """A push the node accepted, to be written down."""

    plan: PushPlan
    receipt: OutboundReceipt
    latency_ms: float


def plan_pushes(hub: Hub, jobs: Sequence[Job]) -> dict[int, PushPlan | None]:
    """Read what each push job sends, in one read-only transaction and a few queries
    for all of them; None for a job with nothing left to send (the dispatch went, was
    stopped, or its orders left)."""
    wanted = {job.id: _dispatch_of(job) for job in jobs}
    with hub.reader() as uow:
        dispatches = uow.dispatches.get_many(list(wanted.values()))
        order_ids = sorted({oid for d in dispatches.values() for oid in d.order_ids})
        stored: dict[str, Stored] = {}
        read = uow.orders.get_many(order_ids, stored=stored, known=_handed_over(hub, order_ids))
        orders = {order.id: order for order in read}
        return {
            job.id: _plan(uow, job, dispatches.get(wanted[job.id]), orders, stored) for job in jobs
        }


def _handed_over(hub: Hub, order_ids: Sequence[str]) -> dict[str, tuple[Order, Stored]]:
    """The orders the batch lane of this process stored and handed over (`Hub.
    keep_orders_written`); each is used only if it is still stored as it was then."""
    kept = hub.orders_written
    if kept is None:
        return {}
    found = {order_id: kept.take(order_id) for order_id in order_ids}
    return {order_id: handed for order_id, handed in found.items() if handed is not None}


def _dispatch_of(job: Job) -> str:
    return str(job.payload.get("dispatch_id") or job.payload["order_id"])


def _plan(
    uow: UnitOfWork,
    job: Job,
    dispatch: Dispatch | None,
    read: Mapping[str, Order],
    stored: Mapping[str, Stored],
) -> PushPlan | None:
    if dispatch is None or dispatch.status != "pending" or not dispatch.lines:
        return None
    missing = [oid for oid in dispatch.order_ids if oid not in read]
    if missing:
        raise NotFound("order", missing[0])
    orders = {oid: read[oid] for oid in dispatch.order_ids}
    # Only orders still to ship go out (a held or cancelled one left); a split order is
    # already PUSHED when its second part goes.
    waiting = {oid for oid, o in orders.items() if o.status in _TO_SHIP}
    if not waiting:
        return None
    return PushPlan(
        job=job,
        dispatch=replace(dispatch, lines=tuple(x for x in dispatch.lines if x.order_id in waiting)),
        orders={oid: o for oid, o in orders.items() if oid in waiting},
        node=uow.catalog.node(dispatch.node),
        recipes=uow.catalog.bundles(sorted({line.sku for line in dispatch.lines})),
        stored={oid: stored[oid] for oid in orders},
    )


def send_push(hub: Hub, plan: PushPlan) -> Pushed:
    """The call to the node, outside any transaction; raises the connector's errors."""
    started = time.perf_counter()
    outbound = outbound_order(plan.dispatch, plan.orders, plan.recipes, plan.node)
    receipt = hub.node(plan.node).create_outbound(outbound)
    return Pushed(plan, receipt, (time.perf_counter() - started) * 1000)


def push_batch_size(hub: Hub, node: NodeRecord) -> int:
    """How many delivery orders one call to this node carries (1 unless it takes a batch)."""
    connector = hub.node(node)
    return max(1, connector.outbound_batch) if takes_outbound_batches(connector) else 1


def send_pushes(hub: Hub, plans: Sequence[PushPlan]) -> list[Pushed | Exception]:
    """Many pushes to one node in one call, outside any transaction: each plan's own
    outcome, in order. An order that cannot be written out fails alone; an error for
    the whole call is each order's."""
    connector = hub.node(plans[0].node)
    if len(plans) == 1 or not takes_outbound_batches(connector) or connector.outbound_batch < 2:
        return [_send_one(hub, plan) for plan in plans]
    started = time.perf_counter()
    outcomes: dict[int, Pushed | Exception] = {}
    built: list[tuple[PushPlan, OutboundOrder]] = []
    for plan in plans:
        try:
            built.append(
                (plan, outbound_order(plan.dispatch, plan.orders, plan.recipes, plan.node))
            )
        except Exception as exc:
            outcomes[plan.job.id] = exc
    answers: Sequence[OutboundReceipt | Exception] = []
    try:
        if built:
            answers = connector.create_outbounds([outbound for _, outbound in built])
        if len(answers) != len(built):
            raise ConnectorError(
                f"{plans[0].node.code} answered for {len(answers)} of {len(built)} orders"
            )
    except Exception as exc:
        answers = [exc] * len(built)
    latency = (time.perf_counter() - started) * 1000
    for (plan, _), answer in zip(built, answers, strict=True):
        outcomes[plan.job.id] = (
            Pushed(plan, answer, latency) if isinstance(answer, OutboundReceipt) else answer
        )
    return [outcomes[plan.job.id] for plan in plans]


def _send_one(hub: Hub, plan: PushPlan) -> Pushed | Exception:
    try:
        return send_push(hub, plan)
    except Exception as exc:
        return exc


def record_pushes(uow: UnitOfWork, accepted: Sequence[Pushed]) -> None:
    """Write down what the nodes accepted: each dispatch is pushed and its orders PUSHED.

    The dispatches are locked first, then their orders, as a node's callback locks
    them, so the two never wait on each other. The orders are read again under lock,
    all at once and in id order (an order stored as it was when sent is not loaded
    again): one cancelled while the call was on its way has its dispatch stopped again."""
    uow.dispatches.mark_many(
        {pushed.plan.dispatch.id: pushed.receipt.external_id for pushed in accepted},
        "pushed",
        at="pushed",
    )
    ids = sorted({oid for pushed in accepted for oid in pushed.plan.dispatch.order_ids})
    known = {
        oid: (order, pushed.plan.stored[oid])
        for pushed in accepted
        for oid, order in pushed.plan.orders.items()
    }
    locked = {o.id: o for o in uow.orders.get_many(ids, for_update=True, known=known)}
    moved: list[Order] = []
    for pushed in accepted:
        moved += _record_push(uow, pushed, locked)
    uow.orders.set_statuses(moved)


def _record_push(uow: UnitOfWork, pushed: Pushed, locked: Mapping[str, Order]) -> list[Order]:
    """Trace, count and book one accepted push; the orders it moved to PUSHED (stored
    by the caller, with the others')."""
    dispatch, node, job = pushed.plan.dispatch, pushed.plan.node, pushed.plan.job
    external_id = pushed.receipt.external_id
    count = len(pushed.plan.orders)
    merged = f" with {count - 1} other order(s)" if count > 1 else ""
    now = datetime.now(UTC)
    first: Order | None = None
    moved = []
    for order_id in dispatch.order_ids:
        order = locked.get(order_id)
        if order is None:
            raise NotFound("order", order_id)
        first = first or order
        uow.orders.trace(
            order.id,
            "push",
            "ok",
            f"{node.code} accepted {dispatch.id}{merged} as {external_id}",
            latency_ms=pushed.latency_ms,
            job_id=job.id,
        )
        if order.status is OrderStatus.RESERVED:
            order.move_to(OrderStatus.PUSHED)
            moved.append(order)
            metrics.orders.labels("pushed").inc()
            count_pushed(uow, order, node.code, now)
        elif order.status is OrderStatus.CANCELLED:
            # Cancelled while the call was on its way: stop the dispatch again.
            stop_dispatch(uow, dispatch.id, order.id)
    if node.kind == "supplier" and first is not None:
        queue_booking(uow, "purchase_order", dispatch.id, first)
    return moved


def push_dispatch(hub: Hub, job: Job) -> None:
    """Send a pending dispatch to its node; on success its orders are PUSHED."""
    plan = plan_pushes(hub, [job])[job.id]
    if plan is None:
        return
    pushed = send_push(hub, plan)
    with hub.uow() as uow:
        record_pushes(uow, [pushed])
        uow.commit()


def dispatch_dead(hub: Hub, job: Job, error: str) -> None:
    """The node refused the dispatch for good: its orders wait for a person, stock
    released."""
    dispatch_id = str(job.payload.get("dispatch_id") or job.payload["order_id"])
    with hub.uow() as uow:
        dispatch = uow.dispatches.get(dispatch_id, for_update=True)
        if dispatch is None:
            return
        uow.dispatches.mark(dispatch.id, "failed", at="closed")
        for order_id in dispatch.order_ids:
            order = uow.orders.get(order_id, for_update=True)
            if order.status is OrderStatus.RESERVED:
                hold(uow, order, [Problem("node_rejected", error, "node")], stage="push")
                uow.orders.set_status(order)
        uow.commit()
