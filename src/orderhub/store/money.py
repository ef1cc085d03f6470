"""Statement lines as the channels sent them, shipped orders' amounts, and the
reconciliations of a shop's day with their differences."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from orderhub.domain.errors import NotFound
from orderhub.domain.money import StatementLine
from orderhub.store import tables as t
from orderhub.store.ids import new_id

__all__ = ["Difference", "MoneyRepository", "ShippedOrder"]


@dataclass(frozen=True)
class ShippedOrder:
    order_id: str
    channel_order_id: str
    status: str
    grand_total: Decimal


@dataclass(frozen=True)
class Difference:
    id: str
    shop: str
    day: date
    kind: str
    ref: str
    order_id: str | None
    expected: Decimal | None
    received: Decimal | None
    message: str
    status: str
    note: str
    resolved_by: str


class MoneyRepository:
    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn, self.tenant = conn, tenant
        self._dialect = postgresql if conn.dialect.name == "postgresql" else sqlite

    def keep_lines(self, shop: str, lines: Sequence[StatementLine]) -> int:
        """Store what the channel sent; a line seen before is kept as first stored."""
        added = 0
        for line in lines:
            kept = self.conn.execute(
                self._dialect.insert(t.statement_lines)
                .values(
                    tenant=self.tenant,
                    shop=shop,
                    reference=line.reference,
                    kind=line.kind,
                    amount=line.amount,
                    fee=line.fee,
                    currency=line.currency[:3],
                    at=line.at,
                    order_ref=line.order_ref,
                    payout=line.payout,
                )
                .on_conflict_do_nothing()
                .returning(t.statement_lines.c.reference)
            ).first()
            added += kept is not None
        return added

    def lines(self, shop: str, *, since: datetime, until: datetime) -> list[Any]:
        s = t.statement_lines.c
        return list(
            self.conn.execute(
                select(t.statement_lines).where(
                    s.tenant == self.tenant, s.shop == shop, s.at >= since, s.at < until
                )
            )
        )

    def lines_of_orders(self, shop: str, order_refs: Sequence[str]) -> list[Any]:
        if not order_refs:
            return []
        s = t.statement_lines.c
        return list(
            self.conn.execute(
                select(t.statement_lines).where(
                    s.tenant == self.tenant, s.shop == shop, s.order_ref.in_(list(order_refs))
                )
            )
        )

    def shipped(self, shop: str, *, since: datetime, until: datetime) -> list[ShippedOrder]:
        """Orders of the shop whose first parcel left in the span."""
        sh, o = t.shipments.c, t.orders.c
        first = (
            select(sh.order_id, func.min(sh.shipped_at).label("first"))
            .where(sh.tenant == self.tenant)
            .group_by(sh.order_id)
            .subquery()
        )
        rows = self.conn.execute(
            select(o.id, o.channel_order_id, o.status, o.grand_total)
            .join(first, first.c.order_id == o.id)
            .where(
                o.tenant == self.tenant,
                o.shop == shop,
                first.c.first >= since,
                first.c.first < until,
            )
        )
        return [
            ShippedOrder(r.id, r.channel_order_id, r.status, Decimal(r.grand_total)) for r in rows
        ]

    def orders_by_ref(self, shop: str, refs: Sequence[str]) -> dict[str, ShippedOrder]:
        if not refs:
            return {}
        o = t.orders.c
        rows = self.conn.execute(
            select(o.id, o.channel_order_id, o.status, o.grand_total).where(
                o.tenant == self.tenant, o.shop == shop, o.channel_order_id.in_(list(refs))
            )
        )
        return {
            r.channel_order_id: ShippedOrder(
                r.id, r.channel_order_id, r.status, Decimal(r.grand_total)
            )
            for r in rows
        }

    def was_shipped(self, order_ids: Sequence[str]) -> set[str]:
        if not order_ids:
            return set()
        sh = t.shipments.c
        rows = self.conn.execute(
            select(sh.order_id).where(sh.order_id.in_(list(order_ids))).distinct()
        )
        return {r.order_id for r in rows}

    # reconciliations

    def save(self, shop: str, day: date, figures: dict[str, Any], *, by: str) -> None:
        c = t.reconciliations.c
        values = {
            "figures": json.dumps(figures, default=str),
            "run_at": datetime.now(UTC),
            "run_by": by,
        }
        key = [c.tenant == self.tenant, c.shop == shop, c.day == day]
        if not self.conn.execute(update(t.reconciliations).where(*key).values(**values)).rowcount:
            self.conn.execute(
                insert(t.reconciliations).values(tenant=self.tenant, shop=shop, day=day, **values)
            )

    def saved(self, shop: str, day: date) -> tuple[dict[str, Any], datetime] | None:
        c = t.reconciliations.c
        row = self.conn.execute(
            select(c.figures, c.run_at).where(c.tenant == self.tenant, c.shop == shop, c.day == day)
        ).first()
        return None if row is None else (json.loads(row.figures), row.run_at)

    def recent(self, shop: str | None, limit: int) -> list[dict[str, Any]]:
        """Stored days, newest first: their figures, when and by whom they were run."""
        c = t.reconciliations.c
        query = select(c.shop, c.day, c.figures, c.run_at, c.run_by).where(c.tenant == self.tenant)
        if shop:
            query = query.where(c.shop == shop)
        rows = self.conn.execute(query.order_by(c.day.desc(), c.shop).limit(limit)).all()
        return [
            {
                **json.loads(row.figures),
                "shop": row.shop,
                "day": row.day.isoformat(),
                "run_at": row.run_at.isoformat(),
                "run_by": row.run_by,
            }
            for row in rows
        ]

    def differences(self, shop: str | None = None, day: date | None = None) -> list[Difference]:
        d = t.reconciliation_differences.c
        query = select(t.reconciliation_differences).where(d.tenant == self.tenant)
        if shop is not None:
            query = query.where(d.shop == shop)
        if day is not None:
            query = query.where(d.day == day)
        return [_difference(r) for r in self.conn.execute(query.order_by(d.day, d.kind, d.ref))]

    def put_difference(
        self,
        shop: str,
        day: date,
        kind: str,
        ref: str,
        *,
        order_id: str | None,
        expected: Decimal | None,
        received: Decimal | None,
        message: str,
    ) -> None:
        """Open (or re-open with today's figures) the difference; notes stay."""
        d = t.reconciliation_differences.c
        key = [d.tenant == self.tenant, d.shop == shop, d.day == day, d.kind == kind, d.ref == ref]
        values = {
            "order_id": order_id,
            "expected": expected,
            "received": received,
            "message": message,
        }
        found = self.conn.execute(select(d.status).where(*key)).first()
        if found is None:
            self.conn.execute(
                insert(t.reconciliation_differences).values(
                    id=new_id("d"),
                    tenant=self.tenant,
                    shop=shop,
                    day=day,
                    kind=kind,
                    ref=ref,
                    **values,
                )
            )
        elif found.status == "cleared":
            self.conn.execute(
                update(t.reconciliation_differences).where(*key).values(status="open", **values)
            )
        else:
            self.conn.execute(update(t.reconciliation_differences).where(*key).values(**values))

    def clear_others(self, shop: str, day: date, keep: set[tuple[str, str]]) -> int:
        """Differences a re-run no longer finds (a late statement line arrived) are cleared."""
        cleared = 0
        for found in self.differences(shop, day):
            if found.status == "open" and (found.kind, found.ref) not in keep:
                d = t.reconciliation_differences.c
                self.conn.execute(
                    update(t.reconciliation_differences)
                    .where(d.id == found.id)
                    .values(status="cleared", resolved_by="re-run", resolved_at=datetime.now(UTC))
                )
                cleared += 1
        return cleared

    def resolve(self, difference_id: str, *, note: str, by: str, resolve: bool) -> Difference:
        d = t.reconciliation_differences.c
        values: dict[str, Any] = {"note": note}
        if resolve:
            values.update(status="resolved", resolved_by=by, resolved_at=datetime.now(UTC))
        done = self.conn.execute(
            update(t.reconciliation_differences)
            .where(d.tenant == self.tenant, d.id == difference_id)
            .values(**values)
        )
        if not done.rowcount:
            raise NotFound("difference", difference_id)
        row = self.conn.execute(
            select(t.reconciliation_differences).where(d.id == difference_id)
        ).one()
        return _difference(row)


def _difference(row: Any) -> Difference:
    return Difference(
        id=row.id,
        shop=row.shop,
        day=row.day,
        kind=row.kind,
        ref=row.ref,
        order_id=row.order_id,
        expected=None if row.expected is None else Decimal(row.expected),
        received=None if row.received is None else Decimal(row.received),
        message=row.message,
        status=row.status,
        note=row.note,
        resolved_by=row.resolved_by,
    )
