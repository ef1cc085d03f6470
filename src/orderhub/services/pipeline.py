"""The order pipeline inside one transaction: validate → allocate → reserve → queue push.

These functions run inside a caller's unit of work and never call out: the push to the
node is written as an outbox job in the same transaction as the reservation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from orderhub.domain.allocation import NodeOption, allocate
from orderhub.domain.errors import Problem
from orderhub.domain.order import Order, OrderStatus
from orderhub.domain.stock import expand_bundles
from orderhub.domain.validation import check_order, resolve_skus
from orderhub.observability import metrics
from orderhub.store.catalog import ShopRecord
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_NODE_PUSH",
    "JOB_REROUTE",
    "JOB_STOCK_PUSH",
    "hold",
    "release",
    "route",
    "schedule_stock_push",
    "stock_arrived",
]

JOB_NODE_PUSH = "node.push"
JOB_STOCK_PUSH = "stock.push"
JOB_REROUTE = "orders.reroute"


def route(uow: UnitOfWork, order: Order, shop: ShopRecord, *, stock_window: float) -> None:
    """Take a received (or replayed) order as far as it can go without calling out.

    Changes the order in memory (status, each line's SKU and node) and writes the stock,
    exceptions, trace and jobs that follow; the caller stores the order itself.
    """
    channel_skus = sorted({line.channel_sku for line in order.lines if line.channel_sku})
    listings = uow.catalog.listing_map(shop.code, channel_skus)
    records = uow.catalog.skus(sorted(set(channel_skus) | set(listings.values())))
    problems = resolve_skus(order, listings=listings, known_skus=records)
    problems += check_order(order)
    if problems:
        hold(uow, order, problems, stage="validate")
        return
    recipes = {sku: dict(r.components) for sku, r in records.items() if r.components}
    needed = expand_bundles(order.sku_quantities(), recipes)
    if recipes:
        records = {**records, **uow.catalog.skus(sorted(set(needed) - set(records)))}
    backorder = {sku: records[sku].backorder_limit for sku in needed if sku in records}
    options = _node_options(uow, shop, needed, backorder)
    allocation = allocate(order, options, needed=needed)
    if allocation is None:
        hold(
            uow,
            order,
            [Problem("no_node", f"no node serves shop {shop.code}", "lines")],
            stage="allocate",
        )
        return
    uow.orders.trace(order.id, "allocate", "ok", f"{allocation.strategy}: {allocation.reason}")
    short = uow.stock.reserve_all(allocation.node, needed, order_id=order.id, backorder=backorder)
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
        # The shop may have counted the sale itself: show it the hub's figure again.
        schedule_stock_push(uow, short, window=stock_window)
        return
    order.move_to(OrderStatus.RESERVED)
    presold = [sku for sku, allowed in backorder.items() if allowed]
    uow.orders.trace(
        order.id,
        "reserve",
        "ok",
        f"reserved at {allocation.node}" + (f" (presale: {', '.join(presold)})" if presold else ""),
    )
    uow.outbox.add(JOB_NODE_PUSH, {"order_id": order.id}, key=f"push:{order.id}", order_id=order.id)
    metrics.orders.labels("reserved").inc()
    schedule_stock_push(uow, needed, window=stock_window)


def _node_options(
    uow: UnitOfWork, shop: ShopRecord, needed: dict[str, int], backorder: dict[str, int]
) -> list[NodeOption]:
    nodes = uow.catalog.nodes()
    node_codes = list(shop.nodes) or [n.code for n in nodes]
    priorities = {n.code: n.priority for n in nodes if n.code in node_codes}
    available: dict[str, dict[str, int]] = {code: {} for code in priorities}
    for level in uow.stock.levels(skus=needed, nodes=list(priorities)):
        available[level.node][level.sku] = level.available + backorder.get(level.sku, 0)
    return [NodeOption(code, priorities[code], available[code]) for code in priorities]


def hold(uow: UnitOfWork, order: Order, problems: Sequence[Problem], *, stage: str) -> None:
    """Hold the order with one open exception per problem (replacing older ones);
    the caller stores the order."""
    if order.status is OrderStatus.RESERVED:
        release(uow, order, reason="held")
    order.move_to(OrderStatus.HELD)
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
        skus = {sku for _, sku in touched}
        uow.orders.trace(order.id, "release", "ok", reason)
        schedule_stock_push(uow, skus, window=stock_window)
        stock_arrived(uow, skus)


def schedule_stock_push(uow: UnitOfWork, skus: Iterable[str], *, window: float) -> None:
    """Queue one coalesced stock push per affected SKU, due after `window` seconds.

    While a push is pending, further changes add nothing: the push reads the stock when
    it runs, so the last value always wins.
    """
    changed = sorted(set(skus))
    if not changed:
        return
    changed = sorted(set(changed) | uow.catalog.bundles_containing(changed))
    for sku in changed:
        uow.outbox.add(
            JOB_STOCK_PUSH, {"sku": sku}, coalesce_key=f"stock:{uow.tenant}:{sku}", delay=window
        )


def stock_arrived(uow: UnitOfWork, skus: Iterable[str]) -> None:
    """More of these SKUs can be sold: queue one coalesced retry of the orders waiting
    for each of them."""
    for sku in sorted(set(skus)):
        uow.outbox.add(JOB_REROUTE, {"sku": sku}, coalesce_key=f"reroute:{uow.tenant}:{sku}")
