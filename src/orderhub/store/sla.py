"""Open orders near or past their ship-by time, found through the (tenant, ship_by) index."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from orderhub.store import tables as t

__all__ = ["DueOrder", "SlaRepository"]


@dataclass(frozen=True)
class DueOrder:
    """An order with a ship-by time; personal data stays out."""

    id: str
    shop: str
    channel_order_id: str
    order_no: str
    status: str
    node: str | None
    ship_by: datetime


class SlaRepository:
    """Ship-by deadlines of one seller's orders."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def due_before(
        self, deadline: datetime, *, statuses: Collection[str], limit: int = 1000
    ) -> list[DueOrder]:
        """Orders in these statuses that must ship by `deadline`, most urgent first."""
        c = t.orders.c
        rows = self.conn.execute(
            select(c.id, c.shop, c.channel_order_id, c.order_no, c.status, c.node, c.ship_by)
            .where(
                c.tenant == self.tenant,
                c.ship_by.is_not(None),
                c.ship_by <= deadline,
                c.status.in_(sorted(statuses)),
            )
            .order_by(c.ship_by, c.id)
            .limit(limit)
        )
        return [
            DueOrder(
                id=r.id,
                shop=r.shop,
                channel_order_id=r.channel_order_id,
                order_no=r.order_no,
                status=r.status,
                node=r.node,
                ship_by=r.ship_by,
            )
            for r in rows
        ]
