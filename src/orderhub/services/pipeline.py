"""The order pipeline inside one transaction: validate → allocate → reserve → queue push.

These functions run inside a caller's unit of work and never call out: the push to the
node is written as an outbox job in the same transaction as the reservation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from orderhub.domain.allocation import NodeOption, allocate
from orderhub.domain.errors import Problem
from orderhub.domain.order import Order, OrderStatus
from orderhub.domain.validation import check_order, resolve_skus
from orderhub.observability import metrics
from orderhub.store.catalog import ShopRecord
from orderhub.store.uow import UnitOfWork

__all__ = ["JOB_NODE_PUSH", "JOB_STOCK_PUSH", "hold", "release", "route", "schedule_stock_push"]

JOB_NODE_PUSH = "node.push"
JOB_STOCK_PUSH = "listing.push_stock"


def route(uow: UnitOfWork, order: Order, shop: ShopRecord, *, stock_window: float) -> None:
    """Take a received (or replayed) order as far as it can go without calling out."""
    listings = uow.catalog.listing_map(shop.code)
    known = uow.catalog.known_skus()
    problems = resolve_skus(order, listings=listings, known_skus=known)
    problems += check_order(order)
    if problems:
        hold(uow, order, problems, stage="validate")
        return
    needed = order.sku_quantities()
    options = _node_options(uow, shop, needed)
    allocation = allocate(order, options)
    if allocation is None:
        hold(
            uow,
            order,
            [Problem("no_node", f"no node serves shop {shop.code}", "lines")],
            stage="allocate",
        )
        return
    uow.orders.trace(order.id, "allocate", "ok", f"{allocation.strategy}: {allocation.reason}")
    short = uow.stock.reserve_all(allocation.node, needed, order_id=order.id)
    if short:
        hold(
            uow,
            order,
            [
                Problem(
                    "out_of_stock",
                    f"not enough stock of {sku} at {allocation.node} "
                    f"(needs {needed[sku]}); waiting for stock",
                    "lines",
                )
                for sku in short
            ],
            stage="reserve",
        )
        return
    order.move_to(OrderStatus.RESERVED)
    uow.orders.set_status(order)
    uow.orders.trace(order.id, "reserve", "ok", f"reserved at {allocation.node}")
    uow.outbox.add(JOB_NODE_PUSH, {"order_id": order.id}, key=f"push:{order.id}", order_id=order.id)
    metrics.orders.labels("reserved").inc()
    schedule_stock_push(uow, needed, window=stock_window)


def _node_options(uow: UnitOfWork, shop: ShopRecord, needed: dict[str, int]) -> list[NodeOption]:
    node_codes = list(shop.nodes) or [n.code for n in uow.catalog.nodes()]
    priorities = {n.code: n.priority for n in uow.catalog.nodes() if n.code in node_codes}
    available: dict[str, dict[str, int]] = {code: {} for code in priorities}
    for level in uow.stock.levels(skus=needed, nodes=list(priorities)):
        available[level.node][level.sku] = level.available
    return [NodeOption(code, priorities[code], available[code]) for code in priorities]


def hold(uow: UnitOfWork, order: Order, problems: Sequence[Problem], *, stage: str) -> None:
    """Hold the order with one open exception per problem (replacing older ones)."""
    if order.status is OrderStatus.RESERVED:
        release(uow, order, reason="held")
    order.move_to(OrderStatus.HELD)
    uow.orders.set_status(order)
    uow.exceptions.resolve_for_order(order.id)
    for problem in problems:
        uow.exceptions.open(
            stage=stage,
            code=problem.code,
            message=problem.message,
            field=problem.field,
            severity=problem.severity,
            order_id=order.id,
        )
    uow.orders.trace(order.id, stage, "held", "; ".join(f"{p.code}: {p.message}" for p in problems))
    metrics.orders.labels("held").inc()


def release(uow: UnitOfWork, order: Order, *, reason: str, stock_window: float = 1.0) -> None:
    """Give back the order's reservations and let the shops show the stock again."""
    touched = uow.stock.release(order.id, reason=reason)
    if touched:
        uow.orders.trace(order.id, "release", "ok", reason)
        schedule_stock_push(uow, {sku for _, sku in touched}, window=stock_window)


def schedule_stock_push(uow: UnitOfWork, skus: Iterable[str], *, window: float) -> None:
    """Queue one coalesced stock push per affected listing, due after `window` seconds."""
    listings = uow.catalog.listings(skus=list(skus))
    if not listings:
        return
    uow.catalog.bump_listings([listing.id for listing in listings])
    for listing in listings:
        uow.outbox.add(
            JOB_STOCK_PUSH,
            {"listing_id": listing.id},
            coalesce_key=f"stock:{uow.tenant}:{listing.id}",
            delay=window,
        )
