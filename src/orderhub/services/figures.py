"""Counting each change of an order into the report figures, in the change's transaction.

Every figure belongs to the day the order was placed (in the seller's time zone) and its
shop: a report for a week then shows what happened to that week's orders. A sale counts
when the order is reserved at a node, with the node it was reserved at; a cancellation
takes back what that sale counted; a refund's amount is shared over the lines it names
(or over the whole order) by their value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from orderhub.domain.order import Order, OrderLine
from orderhub.store.report_figures import Change, SaleLine, bucket_of
from orderhub.store.uow import UnitOfWork

__all__ = ["count_cancel", "count_pushed", "count_refund", "count_sale", "count_shipped"]

CENT = Decimal("0.01")


def _shares(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`total` split by `weights` to the cent, the remainder on the last share."""
    whole = sum(weights, Decimal("0"))
    if not weights:
        return []
    if whole == 0:
        weights, whole = [Decimal("1")] * len(weights), Decimal(len(weights))
    shares = [(total * w / whole).quantize(CENT, ROUND_HALF_UP) for w in weights[:-1]]
    return [*shares, total - sum(shares, Decimal("0"))]


def _line_values(order: Order) -> list[Decimal]:
    return [line.unit_price * line.quantity for line in order.lines]


def _per_line(
    day: date, order: Order, lines: Sequence[OrderLine], amounts: Sequence[dict[str, Any]]
) -> list[tuple[date, str, SaleLine]]:
    """Each line's amounts, as sales figures of its SKU and node on the order's day."""
    return [
        (day, order.shop, SaleLine(line.sku or line.channel_sku, line.node or "", **amount))
        for line, amount in zip(lines, amounts, strict=True)
    ]


def count_sale(uow: UnitOfWork, order: Order) -> None:
    """The order is reserved: its lines count as sold at their nodes."""
    figures = uow.figures
    if not order.lines:
        return
    values = _line_values(order)
    discounts = _shares(order.totals.discount, values)
    day = figures.day_of(order.placed_at)
    figures.count_once(
        Change(
            order.id,
            "sale",
            sales=_per_line(
                day,
                order,
                order.lines,
                [
                    {"lines": 1, "units": line.quantity, "revenue": value, "discounts": discount}
                    for line, value, discount in zip(order.lines, values, discounts, strict=True)
                ],
            ),
            orders=[(day, order.shop, {"orders": 1})],
        )
    )


def count_cancel(uow: UnitOfWork, order: Order) -> None:
    """The order is cancelled: what its sale counted is counted as cancelled."""
    figures = uow.figures
    if not figures.has(order.id, "sale"):
        return
    day = figures.day_of(order.placed_at)
    figures.count_once(
        Change(
            order.id,
            "cancel",
            sales=_per_line(
                day,
                order,
                order.lines,
                [
                    {"cancelled_units": line.quantity, "cancelled_revenue": value}
                    for line, value in zip(order.lines, _line_values(order), strict=True)
                ],
            ),
            orders=[(day, order.shop, {"cancelled": 1})],
        )
    )


def _started(order: Order) -> datetime:
    return order.paid_at or order.placed_at


def count_pushed(uow: UnitOfWork, order: Order, node: str, at: datetime) -> None:
    """The order reached its node: the time from payment to the warehouse."""
    figures = uow.figures
    bucket = bucket_of((at - _started(order)).total_seconds())
    day = figures.day_of(order.placed_at)
    figures.count_once(
        Change(order.id, "pushed", times=[(day, order.shop, node, "to_node", bucket, 1)])
    )


def count_shipped(uow: UnitOfWork, order: Order, node: str, at: datetime) -> None:
    """The order's first parcel left: the time from payment, and whether it was late."""
    figures = uow.figures
    day = figures.day_of(order.placed_at)
    bucket = bucket_of((at - _started(order)).total_seconds())
    late = order.ship_by is not None and at > order.ship_by
    figures.count_once(
        Change(
            order.id,
            "shipped",
            times=[(day, order.shop, node, "to_ship", bucket, 1)],
            orders=[(day, order.shop, {"shipped": 1, "shipped_late": int(late)})],
        )
    )


def count_refund(
    uow: UnitOfWork, order: Order, refund_id: str, amount: Decimal, line_ids: Sequence[str]
) -> None:
    """Money went back to the buyer: shared over the refunded lines by their value."""
    figures = uow.figures
    if amount <= 0 or not order.lines:
        return
    wanted = set(line_ids)
    lines = [line for line in order.lines if line.line_id in wanted] or list(order.lines)
    shares = _shares(amount, [line.unit_price * line.quantity for line in lines])
    day = figures.day_of(order.placed_at)
    figures.count_once(
        Change(
            order.id,
            f"refund:{refund_id}",
            sales=_per_line(day, order, lines, [{"refunds": share} for share in shares]),
            orders=[(day, order.shop, {"refunded": 1})],
        )
    )
