"""Ship-by deadlines: whether an open order is on time, at risk of shipping late, or late.

Shops penalise sellers for late shipment; a person must act on an order hours before its
ship-by time (another node, a warehouse call), not after.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from orderhub.domain.order import OrderStatus

__all__ = ["OPEN_STATUSES", "SlaState", "sla_state"]

SlaState = Literal["ok", "at_risk", "overdue"]

# Orders that have yet to leave a node; the rest have shipped or will never ship.
OPEN_STATUSES: frozenset[OrderStatus] = frozenset(
    {OrderStatus.RECEIVED, OrderStatus.HELD, OrderStatus.RESERVED, OrderStatus.PUSHED}
)


def sla_state(
    order_status: OrderStatus | str,
    ship_by: datetime | None,
    now: datetime,
    *,
    at_risk_before: timedelta,
) -> SlaState | None:
    """Where an order stands against its ship-by time; None when that no longer matters.

    `sla_state("pushed", ship_by=10:00, now=08:30, at_risk_before=6h) -> "at_risk"`;
    at 10:00 exactly it is "overdue"; a shipped or cancelled order gives None.
    """
    if ship_by is None or OrderStatus(order_status) not in OPEN_STATUSES:
        return None
    if now >= ship_by:
        return "overdue"
    if ship_by - now <= at_risk_before:
        return "at_risk"
    return "ok"
