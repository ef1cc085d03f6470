"""Shipments: a node's confirmation comes in, the tracking number goes out to the shop."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence

from orderhub.connectors.base import ShipmentConfirmed
from orderhub.domain.order import Fulfillment, FulfillmentLine, Order, OrderLine, OrderStatus
from orderhub.observability import metrics
from orderhub.services.hub import Hub
from orderhub.services.ingest import BadSignature
from orderhub.services.inventory import apply_stock_changes
from orderhub.services.returns import receive_return
from orderhub.store.dispatches import Dispatch
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_CHANNEL_CONFIRM",
    "JOB_NODE_EVENT",
    "apply_shipment",
    "confirm_to_channel",
    "process_node_event",
    "receive_node_callback",
]

JOB_NODE_EVENT = "node.event"
JOB_CHANNEL_CONFIRM = "channel.confirm"


def receive_node_callback(
    hub: Hub, node_code: str, query: Mapping[str, str], body: bytes
) -> tuple[bytes, str]:
    """Verify and store a node's callback, queue it, and answer in the node's own format."""
    with hub.reader() as uow:
        node = uow.catalog.node(node_code)
    connector = hub.node(node)
    if not connector.verify_callback(query, body):
        metrics.inbound.labels("node", "bad_signature").inc()
        raise BadSignature(f"callback from node {node_code} has a bad signature")
    digest = hashlib.sha256(body).hexdigest()
    try:
        # Read before the node is told "success": a body that cannot be read is kept
        # and shown, and the node hears that it was not accepted.
        connector.parse_callback(query, body)
        problem = ""
    except (ValueError, RecursionError) as exc:
        problem = f"callback from {node_code} is unreadable: {exc}"[:1000]
    with hub.uow() as uow:
        inbox_id, new = uow.inbox.add(
            shop=node_code,
            source="node",
            topic=str(query.get("method", ""))[:100],
            dedup_key=f"node:{node_code}:{digest}",
            body=body,
            headers={"query": json.dumps(dict(query))},
            status="failed" if problem else "pending",
            error=problem or None,
        )
        if new and problem:
            uow.exceptions.open(
                stage="parse", code="malformed_callback", message=problem, inbox_id=inbox_id
            )
        elif new:
            uow.outbox.add(JOB_NODE_EVENT, {"inbox_id": inbox_id}, key=f"inbox:{inbox_id}")
        uow.commit()
    if problem:
        metrics.inbound.labels("node", "malformed").inc()
        return connector.callback_reply(ok=False, message="the callback cannot be read")
    metrics.inbound.labels("node", "stored" if new else "duplicate").inc()
    return connector.callback_reply(ok=True)


def process_node_event(hub: Hub, job: Job, *, uow: UnitOfWork | None = None) -> None:
    """Apply a stored node callback: today, a shipment confirmation.

    Runs inside `uow` when given (the worker batches these); otherwise in its own.
    """
    if uow is not None:
        _apply_event(hub, uow, str(job.payload["inbox_id"]), job.id)
        return
    with hub.uow() as own:
        _apply_event(hub, own, str(job.payload["inbox_id"]), job.id)
        own.commit()


def _apply_event(hub: Hub, uow: UnitOfWork, inbox_id: str, job_id: int) -> None:
    item = uow.inbox.get(inbox_id)
    if item.status != "pending":
        return
    node = uow.catalog.node(item.shop)
    query = json.loads(item.headers.get("query", "{}"))
    try:
        event = hub.node(node).parse_callback(query, item.body)
    except ValueError as exc:
        uow.exceptions.open(
            stage="parse",
            code="malformed_callback",
            message=f"callback from {node.code} is unreadable: {exc}",
            inbox_id=item.id,
        )
        uow.inbox.mark(item.id, "failed", error=str(exc))
        return
    order_id = None
    if event.acknowledged is not None:
        order_id = _acknowledged(uow, node.code, event.acknowledged, job_id)
    if event.shipment is not None:
        order_id = apply_shipment(uow, node.code, event.shipment, job_id=job_id)
    if event.returned is not None:
        order_id = receive_return(
            hub, uow, node.code, event.returned, job_id=job_id, inbox_id=item.id
        )
    if event.stock_changes:
        apply_stock_changes(hub, uow, node.code, event.stock_changes)
    uow.inbox.mark(
        item.id,
        "processed" if order_id or event.shipment is None else "failed",
        order_id=order_id,
    )


def apply_shipment(
    uow: UnitOfWork, node: str, shipment: ShipmentConfirmed, *, job_id: int | None = None
) -> str | None:
    """Record a parcel against the orders of its dispatch; each order's part of it
    becomes a fulfillment, confirmed to its shop on its own."""
    dispatch = uow.dispatches.get(shipment.code, for_update=True)
    if dispatch is None:
        uow.exceptions.open(
            stage="ship",
            code="unknown_order",
            message=f"{node} shipped {shipment.code}, which is not an order of ours",
        )
        return None
    per_order = _split_by_order(dispatch, shipment)
    merged = len(dispatch.order_ids) > 1
    first_id = None
    for order_id, components in per_order.items():
        order = uow.orders.get(order_id, for_update=True)
        first_id = first_id or order.id
        recorded = uow.shipments.add(
            order.id,
            node,
            confirm_id=f"{shipment.confirm_id}/{order.id}" if merged else shipment.confirm_id,
            carrier=shipment.carrier,
            tracking_no=shipment.tracking_no,
            lines=sorted(components.items()),
            shipped_at=shipment.shipped_at,
        )
        if recorded:
            _order_shipped(uow, order, node, shipment, dispatch, components, job_id)
    if shipment.final or _all_shipped(uow, dispatch.id):
        uow.dispatches.mark(dispatch.id, "shipped", at="shipped")
    return first_id or (dispatch.order_ids[0] if dispatch.order_ids else None)


def _acknowledged(uow: UnitOfWork, node: str, code: str, job_id: int | None) -> str | None:
    """A supplier took the purchase order on; how quickly counts towards its score."""
    dispatch = uow.dispatches.get(code, for_update=True)
    if dispatch is None:
        uow.exceptions.open(
            stage="ack",
            code="unknown_order",
            message=f"{node} acknowledged {code}, which is not a purchase order of ours",
        )
        return None
    if dispatch.acknowledged_at is None and dispatch.status == "pushed":
        uow.dispatches.mark(dispatch.id, "acknowledged", at="acknowledged")
        for order_id in dispatch.order_ids:
            uow.orders.trace(order_id, "acknowledge", "ok", f"{node} took {code}", job_id=job_id)
    return dispatch.order_ids[0] if dispatch.order_ids else None


def _all_shipped(uow: UnitOfWork, dispatch_id: str) -> bool:
    dispatch = uow.dispatches.get(dispatch_id)
    return dispatch is not None and all(x.shipped >= x.quantity for x in dispatch.lines)


def _split_by_order(dispatch: Dispatch, shipment: ShipmentConfirmed) -> dict[str, dict[str, int]]:
    """Units per SKU of each order that the parcel carries.

    Nodes echo our line numbers (`3`, or `3-PART` for a bundle's component); a parcel
    without them is matched by SKU, oldest line first, and a merged dispatch's unknown
    SKU goes to its first order.
    """
    by_no = {line.line_no: line for line in dispatch.lines}
    left = {line.line_no: line.quantity - line.shipped for line in dispatch.lines}
    result: dict[str, dict[str, int]] = {}
    for item in shipment.lines:
        line = by_no.get((item.line_no or "").split("-", 1)[0])
        if line is None:
            line = next(
                (x for x in dispatch.lines if x.sku == item.sku and left[x.line_no] > 0),
                dispatch.lines[0] if dispatch.lines else None,
            )
            if line is None:
                continue
        if line.sku == item.sku:
            left[line.line_no] -= min(item.quantity, left[line.line_no])
        skus = result.setdefault(line.order_id, {})
        skus[item.sku] = skus.get(item.sku, 0) + item.quantity
    return result


def _order_shipped(
    uow: UnitOfWork,
    order: Order,
    node: str,
    shipment: ShipmentConfirmed,
    dispatch: Dispatch,
    components: dict[str, int],
    job_id: int | None,
) -> None:
    """The order's part of a parcel: stock consumed, a fulfillment, SHIPPED when every
    line has left (PARTIALLY_SHIPPED before), and the confirmation to its shop queued."""
    if order.status is OrderStatus.CANCELLED:
        uow.exceptions.open(
            stage="ship",
            code="shipped_after_cancel",
            message=f"{node} shipped an order that was cancelled; expect a return",
            order_id=order.id,
        )
        uow.orders.trace(order.id, "ship", "late", shipment.tracking_no, job_id=job_id)
        return
    if not uow.catalog.node(node).location.get("unlimited_stock"):
        uow.stock.consume(order.id, components, node=node)
    line_nos = {x.line_id: x.line_no for x in dispatch.lines if x.order_id == order.id}
    recipes = uow.catalog.bundles([x.sku for x in order.lines if x.sku])
    parcel = _fulfillment_lines(
        [x for x in order.lines if x.line_id in line_nos], components, recipes
    )
    for part in parcel:
        uow.dispatches.add_shipped(dispatch.id, line_nos[part.line_id], part.quantity)
    fulfillment = Fulfillment(
        node=node,
        lines=parcel,
        carrier=shipment.carrier,
        tracking_no=shipment.tracking_no,
        shipped_at=shipment.shipped_at,
    )
    order.fulfillments.append(fulfillment)
    if order.status is OrderStatus.RESERVED:
        order.move_to(OrderStatus.PUSHED)
    target = OrderStatus.SHIPPED if order.fully_shipped else OrderStatus.PARTIALLY_SHIPPED
    if order.can_move_to(target):
        order.move_to(target)
    uow.orders.save(order)
    uow.orders.trace(
        order.id, "ship", "ok", f"{shipment.carrier} {shipment.tracking_no}", job_id=job_id
    )
    metrics.orders.labels("shipped").inc()
    uow.outbox.add(
        JOB_CHANNEL_CONFIRM,
        {"order_id": order.id, "tracking_no": shipment.tracking_no},
        key=f"confirm:{order.id}:{shipment.tracking_no}",
        order_id=order.id,
    )


def _fulfillment_lines(
    order_lines: Sequence[OrderLine],
    shipped: dict[str, int],
    recipes: Mapping[str, Mapping[str, int]],
) -> list[FulfillmentLine]:
    """Which order lines a parcel covers; a bundle line counts its complete sets."""
    remaining = dict(shipped)
    lines = []
    for line in order_lines:
        sku = line.sku or line.channel_sku
        recipe = recipes.get(sku) or {sku: 1}
        quantity = min(
            [line.quantity] + [remaining.get(part, 0) // n for part, n in recipe.items()]
        )
        if quantity > 0:
            for part, per_set in recipe.items():
                remaining[part] -= quantity * per_set
            lines.append(FulfillmentLine(line_id=line.line_id, sku=sku, quantity=quantity))
    return lines


def confirm_to_channel(hub: Hub, job: Job) -> None:
    """Send the tracking number to the shop; when every parcel is confirmed, it is done."""
    order_id = str(job.payload["order_id"])
    tracking_no = str(job.payload["tracking_no"])
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        shop = uow.catalog.shop(order.shop)
    fulfillment = next((f for f in order.fulfillments if f.tracking_no == tracking_no), None)
    if fulfillment is None or fulfillment.confirmed_to_channel:
        return
    all_lines = [line.line_id for line in order.lines]
    shipped_all = sorted(f.line_id for f in fulfillment.lines) == sorted(all_lines)
    started = time.perf_counter()
    if order.origin != "channel":
        # The shop never saw this order (an exchange the hub made): nothing to tell it.
        reference = ""
    else:
        reference = hub.channel(shop).confirm_shipment(
            channel_order_id=order.channel_order_id,
            carrier=fulfillment.carrier,
            tracking_no=tracking_no,
            lines=[] if shipped_all else [(f.line_id, f.quantity) for f in fulfillment.lines],
        )
    latency = (time.perf_counter() - started) * 1000
    with hub.uow() as uow:
        order = uow.orders.get(order_id, for_update=True)
        for f in order.fulfillments:
            if f.tracking_no == tracking_no:
                f.confirmed_to_channel = True
                f.channel_fulfillment_id = reference
        uow.shipments.mark_confirmed(order.id, tracking_no, reference)
        if all(f.confirmed_to_channel for f in order.fulfillments) and order.can_move_to(
            OrderStatus.COMPLETED
        ):
            order.move_to(OrderStatus.COMPLETED)
            metrics.orders.labels("completed").inc()
        uow.orders.save(order)
        uow.orders.trace(
            order.id,
            "confirm",
            "ok",
            f"{shop.code} fulfillment {reference}",
            latency_ms=latency,
            job_id=job.id,
        )
        uow.commit()
