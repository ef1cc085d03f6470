"""Jobs that talk to nodes: push an order to its warehouse, and intercept (cancel) it."""

from __future__ import annotations

import time
from collections.abc import Mapping

from orderhub.connectors.base import OutboundLine, OutboundOrder
from orderhub.domain.errors import Problem
from orderhub.domain.order import Order, OrderStatus
from orderhub.observability import metrics
from orderhub.services.cancel import JOB_NODE_CANCEL, finish_cancel
from orderhub.services.hub import Hub
from orderhub.services.pipeline import hold
from orderhub.store.outbox import Job

__all__ = ["cancel_at_node", "outbound_order", "push_dead", "push_to_node"]


def _outbound_lines(order: Order, recipes: Mapping[str, Mapping[str, int]]) -> list[OutboundLine]:
    lines = []
    for line in order.lines:
        sku = line.sku or line.channel_sku
        recipe = recipes.get(sku)
        if not recipe:
            lines.append(
                OutboundLine(
                    line_no=line.line_id,
                    sku=sku,
                    quantity=line.quantity,
                    title=line.title,
                    unit_price=line.unit_price,
                )
            )
            continue
        for part, per_set in sorted(recipe.items()):
            lines.append(
                OutboundLine(
                    line_no=f"{line.line_id}-{part}",
                    sku=part,
                    quantity=per_set * line.quantity,
                    title=f"{line.title} / {part}",
                )
            )
    return lines


def outbound_order(
    order: Order, recipes: Mapping[str, Mapping[str, int]] | None = None
) -> OutboundOrder:
    """The order as a warehouse needs it, bundles as their components; its code is our
    order id (the warehouse's idempotency key)."""
    r = order.receiver
    return OutboundOrder(
        code=order.id,
        shop_code=order.shop,
        platform=order.platform,
        channel_order_id=order.channel_order_id,
        placed_at=order.placed_at,
        paid_at=order.paid_at,
        currency=order.currency,
        grand_total=order.totals.grand_total,
        shipping_fee=order.totals.shipping,
        discount=order.totals.discount,
        receiver_name=r.name,
        receiver_phone=r.phone,
        country=r.country,
        province=r.province,
        city=r.city,
        district=r.district,
        address=" ".join(part for part in (r.address1, r.address2) if part),
        postcode=r.postcode,
        lines=_outbound_lines(order, recipes or {}),
        buyer_remark=order.remarks.buyer,
        seller_remark=order.remarks.seller,
        buyer_nick=order.buyer.name,
    )


def push_to_node(hub: Hub, job: Job) -> None:
    """Create the outbound order at the node; on success the order is PUSHED."""
    order_id = str(job.payload["order_id"])
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        if order.status is not OrderStatus.RESERVED or order.node is None:
            return
        node = uow.catalog.node(order.node)
        recipes = uow.catalog.bundles([line.sku for line in order.lines if line.sku])
    started = time.perf_counter()
    receipt = hub.node(node).create_outbound(outbound_order(order, recipes))
    latency = (time.perf_counter() - started) * 1000
    with hub.uow() as uow:
        order = uow.orders.get(order_id, for_update=True)
        uow.orders.trace(
            order.id,
            "push",
            "ok",
            f"{node.code} accepted as {receipt.external_id}",
            latency_ms=latency,
            job_id=job.id,
        )
        if order.status is OrderStatus.RESERVED:
            order.move_to(OrderStatus.PUSHED)
            uow.orders.set_status(order)
            metrics.orders.labels("pushed").inc()
        elif order.status is OrderStatus.CANCELLED:
            uow.outbox.add(
                JOB_NODE_CANCEL,
                {"order_id": order.id},
                key=f"cancel:{order.id}",
                order_id=order.id,
            )
        uow.commit()


def push_dead(hub: Hub, job: Job, error: str) -> None:
    """The node refused the order for good: hold it for a person, stock released."""
    with hub.uow() as uow:
        order = uow.orders.get(str(job.payload["order_id"]), for_update=True)
        if order.status is OrderStatus.RESERVED:
            hold(uow, order, [Problem("node_rejected", error, "node")], stage="push")
            uow.orders.set_status(order)
            uow.commit()


def cancel_at_node(hub: Hub, job: Job) -> None:
    """Ask the node to stop the order; if it already shipped, a person is told."""
    order_id = str(job.payload["order_id"])
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        if order.node is None:
            return
        node = uow.catalog.node(order.node)
    started = time.perf_counter()
    result = hub.node(node).cancel_outbound(code=order.id, reason="cancelled on the channel")
    latency = (time.perf_counter() - started) * 1000
    with hub.uow() as uow:
        order = uow.orders.get(order_id, for_update=True)
        if result.cancelled:
            uow.orders.trace(
                order.id, "intercept", "ok", node.code, latency_ms=latency, job_id=job.id
            )
            if order.status in (OrderStatus.CANCELLING, OrderStatus.PUSHED):
                finish_cancel(
                    uow,
                    order,
                    reason="intercepted at the node",
                    window=hub.settings.stock_push_window,
                )
        else:
            uow.orders.trace(
                order.id, "intercept", "failed", result.reason, latency_ms=latency, job_id=job.id
            )
            uow.exceptions.open(
                stage="intercept",
                code="intercept_failed",
                message=f"{node.code} could not stop the order: {result.reason}; "
                "expect a shipment and a return",
                order_id=order.id,
            )
        uow.commit()
