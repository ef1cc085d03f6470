"""Shipments as nodes confirmed them, de-duplicated by the node's confirmation id."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from orderhub.store import tables as t
from orderhub.store.text import storable

__all__ = ["ShipmentRepository"]


class ShipmentRepository:
    """Parcels that left a node, and whether the shop has been told."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def add(
        self,
        order_id: str,
        node: str,
        *,
        confirm_id: str,
        carrier: str,
        tracking_no: str,
        lines: Sequence[tuple[str, int]],
        shipped_at: datetime | None,
    ) -> bool:
        """Record a shipment; False when this confirmation was recorded before. The node's
        words (its confirmation id, carrier and tracking number) are kept storable."""
        stmt = (
            postgresql.insert(t.shipments)
            if self.conn.dialect.name == "postgresql"
            else sqlite.insert(t.shipments)
        )
        result = self.conn.execute(
            stmt.values(
                tenant=self.tenant,
                order_id=order_id,
                node=node,
                confirm_id=storable(confirm_id),
                carrier=storable(carrier),
                tracking_no=storable(tracking_no),
                lines=json.dumps(list(lines)),
                shipped_at=shipped_at,
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
            .returning(t.shipments.c.id)
        ).first()
        return result is not None

    def mark_confirmed(self, order_id: str, tracking_no: str, channel_ref: str) -> None:
        c = t.shipments.c
        self.conn.execute(
            update(t.shipments)
            .where(c.order_id == order_id, c.tracking_no == storable(tracking_no))
            .values(channel_ref=channel_ref, confirmed_at=datetime.now(UTC))
        )

    def counts(self) -> tuple[int, int]:
        """(shipments recorded, shipments confirmed to the channel)."""
        c = t.shipments.c
        row = self.conn.execute(
            select(func.count(), func.count(c.confirmed_at)).where(c.tenant == self.tenant)
        ).one()
        return int(row[0]), int(row[1])
