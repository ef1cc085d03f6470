"""Stock levels per (node, SKU) and the ledger every change is written to.

Reservation is one conditional UPDATE, so two orders racing for the last unit cannot
both win, on SQLite or PostgreSQL, however many processes run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from orderhub.domain.stock import Level
from orderhub.store import tables as t

__all__ = ["StockRepository"]


class StockRepository:
    """Stock levels and their ledger for one seller."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def _key(self, node: str, sku: str) -> list[ColumnElement[bool]]:
        c = t.stock_levels.c
        return [c.tenant == self.tenant, c.node == node, c.sku == sku]

    def _ledger(
        self,
        node: str,
        sku: str,
        kind: str,
        *,
        on_hand: int = 0,
        reserved: int = 0,
        order_id: str | None = None,
        reason: str = "",
    ) -> None:
        self.conn.execute(
            insert(t.stock_ledger).values(
                tenant=self.tenant,
                node=node,
                sku=sku,
                kind=kind,
                on_hand_delta=on_hand,
                reserved_delta=reserved,
                order_id=order_id,
                reason=reason,
                at=datetime.now(UTC),
            )
        )

    def reserve(self, node: str, sku: str, quantity: int, *, order_id: str) -> bool:
        """Reserve `quantity` if that much is available; False (and nothing changed) if not."""
        c = t.stock_levels.c
        result = self.conn.execute(
            update(t.stock_levels)
            .where(*self._key(node, sku), c.on_hand - c.reserved >= quantity)
            .values(reserved=c.reserved + quantity, updated_at=datetime.now(UTC))
        )
        if result.rowcount != 1:
            return False
        self._ledger(node, sku, "reservation", reserved=quantity, order_id=order_id)
        self.conn.execute(
            insert(t.reservations).values(
                tenant=self.tenant,
                order_id=order_id,
                node=node,
                sku=sku,
                quantity=quantity,
                status="active",
                created_at=datetime.now(UTC),
            )
        )
        return True

    def reserve_all(self, node: str, needed: dict[str, int], *, order_id: str) -> list[str]:
        """Reserve every SKU or none; returns the SKUs that were short (empty on success)."""
        if len(needed) == 1:
            ((sku, quantity),) = needed.items()
            return [] if self.reserve(node, sku, quantity, order_id=order_id) else [sku]
        savepoint = self.conn.begin_nested()
        short = [
            sku
            for sku in sorted(needed)
            if not self.reserve(node, sku, needed[sku], order_id=order_id)
        ]
        if short:
            savepoint.rollback()
        else:
            savepoint.commit()
        return short

    def _active(self, order_id: str) -> Sequence[tuple[int, str, str, int]]:
        r = t.reservations.c
        rows = self.conn.execute(
            select(r.id, r.node, r.sku, r.quantity).where(
                r.order_id == order_id, r.status == "active", r.tenant == self.tenant
            )
        )
        return [(row.id, row.node, row.sku, row.quantity) for row in rows]

    def release(self, order_id: str, *, reason: str = "") -> list[tuple[str, str]]:
        """Give back every active reservation of the order; the (node, sku) pairs touched."""
        c = t.stock_levels.c
        touched = []
        for res_id, node, sku, quantity in sorted(self._active(order_id), key=lambda r: r[1:3]):
            self.conn.execute(
                update(t.stock_levels)
                .where(*self._key(node, sku))
                .values(reserved=c.reserved - quantity, updated_at=datetime.now(UTC))
            )
            self._ledger(node, sku, "release", reserved=-quantity, order_id=order_id, reason=reason)
            self.conn.execute(
                update(t.reservations)
                .where(t.reservations.c.id == res_id)
                .values(status="released")
            )
            touched.append((node, sku))
        return touched

    def consume(self, order_id: str, shipped: dict[str, int], *, node: str) -> list[str]:
        """Turn reservations into shipped stock: on hand and reserved both go down."""
        c = t.stock_levels.c
        reserved = {
            sku: (res_id, qty) for res_id, n, sku, qty in self._active(order_id) if n == node
        }
        touched = []
        for sku, quantity in sorted(shipped.items()):
            res = reserved.get(sku)
            from_reserved = min(quantity, res[1]) if res else 0
            self.conn.execute(
                update(t.stock_levels)
                .where(*self._key(node, sku))
                .values(
                    on_hand=c.on_hand - quantity,
                    reserved=c.reserved - from_reserved,
                    updated_at=datetime.now(UTC),
                )
            )
            self._ledger(
                node, sku, "shipment", on_hand=-quantity, reserved=-from_reserved, order_id=order_id
            )
            if res:
                self.conn.execute(
                    update(t.reservations)
                    .where(t.reservations.c.id == res[0])
                    .values(status="consumed")
                )
            touched.append(sku)
        return touched

    def adjust(
        self, node: str, sku: str, delta: int, *, kind: str = "adjustment", reason: str = ""
    ) -> None:
        """Change on-hand stock by `delta` (creating the level if new)."""
        self._ensure(node, sku)
        c = t.stock_levels.c
        self.conn.execute(
            update(t.stock_levels)
            .where(*self._key(node, sku))
            .values(on_hand=c.on_hand + delta, updated_at=datetime.now(UTC))
        )
        self._ledger(node, sku, kind, on_hand=delta, reason=reason)

    def set_on_hand(self, node: str, sku: str, on_hand: int, *, reason: str = "") -> int:
        """Set on-hand stock to a counted figure; the difference goes to the ledger."""
        current = self.level(node, sku)
        delta = on_hand - (current.on_hand if current else 0)
        if current is None or delta:
            self.adjust(node, sku, delta, kind="stocktake", reason=reason)
        return delta

    def _ensure(self, node: str, sku: str) -> None:
        if self.level(node, sku) is None:
            self.conn.execute(
                insert(t.stock_levels).values(
                    tenant=self.tenant,
                    node=node,
                    sku=sku,
                    on_hand=0,
                    reserved=0,
                    updated_at=datetime.now(UTC),
                )
            )

    def level(self, node: str, sku: str) -> Level | None:
        c = t.stock_levels.c
        row = self.conn.execute(
            select(c.node, c.sku, c.on_hand, c.reserved).where(*self._key(node, sku))
        ).first()
        return None if row is None else Level(row.node, row.sku, row.on_hand, row.reserved)

    def levels(
        self, *, skus: Iterable[str] | None = None, nodes: Iterable[str] | None = None
    ) -> list[Level]:
        c = t.stock_levels.c
        query = select(c.node, c.sku, c.on_hand, c.reserved).where(c.tenant == self.tenant)
        if skus is not None:
            query = query.where(c.sku.in_(list(skus)))
        if nodes is not None:
            query = query.where(c.node.in_(list(nodes)))
        rows = self.conn.execute(query.order_by(c.sku, c.node))
        return [Level(r.node, r.sku, r.on_hand, r.reserved) for r in rows]

    def ledger_mismatches(self) -> list[tuple[str, str, int, int, int, int]]:
        """(node, sku, on_hand, ledger on_hand, reserved, ledger reserved) that disagree."""
        lg = t.stock_ledger.c
        sums = (
            select(
                lg.node,
                lg.sku,
                func.coalesce(func.sum(lg.on_hand_delta), 0).label("on_hand"),
                func.coalesce(func.sum(lg.reserved_delta), 0).label("reserved"),
            )
            .where(lg.tenant == self.tenant)
            .group_by(lg.node, lg.sku)
        )
        ledger = {(r.node, r.sku): (r.on_hand, r.reserved) for r in self.conn.execute(sums)}
        bad = []
        for level in self.levels():
            on_hand, reserved = ledger.pop((level.node, level.sku), (0, 0))
            if (on_hand, reserved) != (level.on_hand, level.reserved):
                bad.append(
                    (level.node, level.sku, level.on_hand, on_hand, level.reserved, reserved)
                )
        for (node, sku), (on_hand, reserved) in ledger.items():
            bad.append((node, sku, 0, on_hand, 0, reserved))
        return bad
