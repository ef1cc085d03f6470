"""Shipments: a node's confirmation comes in, the tracking number goes out to the shop."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from orderhub.connectors.base import ShipmentConfirmed
from orderhub.domain.order import Fulfillment, FulfillmentLine, Order, OrderLine, OrderStatus
from orderhub.observability import metrics
from orderhub.services.books import queue_booking
from orderhub.services.figures import count_shipped
from orderhub.services.hub import Hub
from orderhub.services.switches import syncs
from orderhub.services.tracking import follow_parcel
from orderhub.store.dispatches import Dispatch
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = ["JOB_CHANNEL_CONFIRM", "apply_shipment", "confirm_to_channel"]

JOB_CHANNEL_CONFIRM = "channel.confirm"


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
    shipped: dict[str, int] = {}  # units of each dispatch line this parcel carries
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
            for line_no, quantity in _order_shipped(
                uow, order, node, shipment, dispatch, components, job_id
            ):
                shipped[line_no] = shipped.get(line_no, 0) + quantity
    if shipment.final or _all_shipped(dispatch, shipped):
        uow.dispatches.mark(dispatch.id, "shipped", at="shipped")
    return first_id or (dispatch.order_ids[0] if dispatch.order_ids else None)


def _all_shipped(dispatch: Dispatch, shipped: Mapping[str, int]) -> bool:
    """Whether every line has left, with this parcel (the dispatch was read locked)."""
    return all(x.shipped + shipped.get(x.line_no, 0) >= x.quantity for x in dispatch.lines)


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
) -> list[tuple[str, int]]:
    """The order's part of a parcel: stock consumed, a fulfillment, SHIPPED when every
    line has left (PARTIALLY_SHIPPED before), and the confirmation to its shop queued.
    Returns the (dispatch line number, units) it shipped."""
    if order.status is OrderStatus.CANCELLED:
        uow.exceptions.open(
            stage="ship",
            code="shipped_after_cancel",
            message=f"{node} shipped an order that was cancelled; expect a return",
            order_id=order.id,
        )
        uow.orders.trace(order.id, "ship", "late", shipment.tracking_no, job_id=job_id)
        return []
    if not uow.catalog.node(node).location.get("unlimited_stock"):
        uow.stock.consume(order.id, components, node=node)
    line_nos = {x.line_id: x.line_no for x in dispatch.lines if x.order_id == order.id}
    recipes = uow.catalog.bundles([x.sku for x in order.lines if x.sku])
    parcel = _fulfillment_lines(
        [x for x in order.lines if x.line_id in line_nos], components, recipes
    )
    shipped = [(line_nos[part.line_id], part.quantity) for part in parcel]
    uow.dispatches.add_shipped(dispatch.id, shipped)
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
    uow.orders.set_status(order)  # its lines and personal data are as they were
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
    queue_booking(uow, "outbound", f"{order.id}:{shipment.tracking_no}", order)
    follow_parcel(uow, order, shipment)
    count_shipped(uow, order, node, shipment.shipped_at or datetime.now(UTC))
    return shipped


def _fulfillment_lines(
    order_lines: Sequence[OrderLine],
    shipped: dict[str, int],
    recipes: Mapping[str, Mapping[str, int]],
) -> list[FulfillmentLine]:
    """Which order lines a parcel covers; a bundle line counts its complete sets, and a
    line sold in packs its complete packs."""
    remaining = dict(shipped)
    lines = []
    for line in order_lines:
        sku = line.sku or line.channel_sku
        recipe = {part: n * line.pack for part, n in (recipes.get(sku) or {sku: 1}).items()}
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
    elif not syncs(shop, "tracking"):
        # The seller sends tracking numbers another way for now: the parcel is done here.
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
        told = syncs(shop, "tracking") or order.origin != "channel"
        uow.orders.trace(
            order.id,
            "confirm",
            "ok" if told else "skipped",
            f"{shop.code} fulfillment {reference}"
            if told
            else f"{tracking_no} not sent: tracking back is switched off for {shop.code}",
            latency_ms=latency,
            job_id=job.id,
        )
        uow.commit()
