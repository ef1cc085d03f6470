"""Dispatches: what goes to one node as one warehouse order or purchase order.

A dispatch holds lines of one or more orders (merged) for one node; an order split over
nodes has one dispatch per node. Its id is the code the node knows it by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from orderhub.store import tables as t
from orderhub.store.driver import Query
from orderhub.store.many_rows import ManyRows

__all__ = ["Dispatch", "DispatchLine", "DispatchRepository", "SupplierRecord"]

# Statements run for every dispatch, built once.
_BY_ID = select(t.dispatches).where(
    t.dispatches.c.id == bindparam("dispatch_id"), t.dispatches.c.tenant == bindparam("tenant")
)
_BY_ID_LOCKED = _BY_ID.with_for_update()
_LINES = select(t.dispatch_lines).where(t.dispatch_lines.c.dispatch_id == bindparam("dispatch_id"))
_ADD_DISPATCHES = ManyRows(insert(t.dispatches))
_ADD_LINES = ManyRows(insert(t.dispatch_lines))
# By id alone, the seller checked on the rows read (see `InboxRepository.read_ahead`).
_MANY = Query(select(t.dispatches).where(t.dispatches.c.id.in_(bindparam("ids", expanding=True))))
_ADD_SHIPPED = (
    update(t.dispatch_lines)
    .where(
        t.dispatch_lines.c.dispatch_id == bindparam("d"),
        t.dispatch_lines.c.line_no == bindparam("ln"),
    )
    .values(shipped=t.dispatch_lines.c.shipped + bindparam("q"))
)
_MANY_LINES = Query(
    select(t.dispatch_lines).where(
        t.dispatch_lines.c.dispatch_id.in_(bindparam("ids", expanding=True))
    )
)
_MARKS: dict[tuple[str, ...], ManyRows] = {}


@dataclass(frozen=True)
class DispatchLine:
    """One order line inside a dispatch; `line_no` is what the node sees."""

    line_no: str
    order_id: str
    line_id: str
    sku: str
    quantity: int
    shipped: int = 0


@dataclass(frozen=True)
class Dispatch:
    """A warehouse order or purchase order and where it stands."""

    id: str
    node: str
    kind: str
    shop: str
    status: str
    merge_key: str | None
    external_id: str | None
    created_at: datetime
    pushed_at: datetime | None
    acknowledged_at: datetime | None
    shipped_at: datetime | None
    exported_at: datetime | None
    lines: tuple[DispatchLine, ...]

    @cached_property
    def order_ids(self) -> tuple[str, ...]:
        """The orders in it, in the order they joined."""
        return tuple(dict.fromkeys(line.order_id for line in self.lines))


@dataclass(frozen=True)
class SupplierRecord:
    """What a supplier did with its purchase orders in a period."""

    node: str
    pushed: int
    acknowledged: int
    shipped: int
    failed: int
    ack_seconds: float | None
    ship_seconds: float | None


def _dispatch(row: Any, lines: Sequence[Any]) -> Dispatch:
    ordered = sorted(lines, key=lambda r: (len(r.line_no), r.line_no))
    return Dispatch(
        id=row.id,
        node=row.node,
        kind=row.kind,
        shop=row.shop,
        status=row.status,
        merge_key=row.merge_key,
        external_id=row.external_id,
        created_at=row.created_at,
        pushed_at=row.pushed_at,
        acknowledged_at=row.acknowledged_at,
        shipped_at=row.shipped_at,
        exported_at=row.exported_at,
        lines=tuple(
            DispatchLine(r.line_no, r.order_id, r.line_id, r.sku, r.quantity, r.shipped)
            for r in ordered
        ),
    )


def _mark_statement(columns: tuple[str, ...]) -> ManyRows:
    """The UPDATE that sets these columns of one dispatch, built once per set."""
    statement = _MARKS.get(columns)
    if statement is None:
        statement = _MARKS[columns] = ManyRows(
            update(t.dispatches)
            .where(t.dispatches.c.id == bindparam("dispatch_id"))
            .values({name: bindparam(name) for name in columns})
        )
    return statement


class DispatchRepository:
    """Dispatches by id, by order, and the open one a new order may join."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant
        # New dispatches are written together, before anything reads them or at commit:
        # a batch of re-routed orders makes two statements, not two per order.
        self._new: list[dict[str, object]] = []
        self._new_lines: list[dict[str, object]] = []

    def writes_held(self) -> int:
        """How many statements `flush` would run."""
        return int(bool(self._new)) + int(bool(self._new_lines))

    def flush(self) -> None:
        """Write the dispatches created since the last flush."""
        if self._new:
            rows, self._new = self._new, []
            _ADD_DISPATCHES.run(self.conn, rows)
        if self._new_lines:
            lines, self._new_lines = self._new_lines, []
            _ADD_LINES.run(self.conn, lines)

    def discard(self) -> None:
        self._new, self._new_lines = [], []

    def create(
        self,
        dispatch_id: str,
        *,
        node: str,
        kind: str,
        shop: str,
        merge_key: str | None,
        lines: Sequence[tuple[str, str, str, int]],
    ) -> None:
        """A new pending dispatch with (order id, line id, sku, quantity) lines."""
        self._new.append(
            {
                "id": dispatch_id,
                "tenant": self.tenant,
                "node": node,
                "kind": kind,
                "shop": shop,
                "merge_key": merge_key,
                "status": "pending",
                "created_at": datetime.now(UTC),
            }
        )
        self._new_lines += self._line_rows(dispatch_id, lines, first_no=1)

    def _line_rows(
        self, dispatch_id: str, lines: Sequence[tuple[str, str, str, int]], *, first_no: int
    ) -> list[dict[str, object]]:
        return [
            {
                "dispatch_id": dispatch_id,
                "line_no": str(first_no + i),
                "tenant": self.tenant,
                "order_id": order_id,
                "line_id": line_id,
                "sku": sku,
                "quantity": quantity,
            }
            for i, (order_id, line_id, sku, quantity) in enumerate(lines)
        ]

    def join(self, dispatch_id: str, lines: Sequence[tuple[str, str, str, int]]) -> None:
        """Add another order's lines to a pending dispatch (a merge)."""
        self.flush()
        last = self.conn.execute(
            select(func.count()).where(t.dispatch_lines.c.dispatch_id == dispatch_id)
        ).scalar_one()
        rows = self._line_rows(dispatch_id, lines, first_no=int(last) + 1)
        if rows:
            _ADD_LINES.run(self.conn, rows)

    def open_to_merge(self, *, node: str, merge_key: str, since: datetime) -> str | None:
        """A pending dispatch to the same buyer and address at this node, young enough."""
        self.flush()
        c = t.dispatches.c
        row = self.conn.execute(
            select(c.id)
            .where(
                c.tenant == self.tenant,
                c.merge_key == merge_key,
                c.status == "pending",
                c.node == node,
                c.created_at >= since,
            )
            .order_by(c.created_at)
            .limit(1)
        ).first()
        return None if row is None else str(row.id)

    def get(self, dispatch_id: str, *, for_update: bool = False) -> Dispatch | None:
        self.flush()
        locked = for_update and self.conn.dialect.name == "postgresql"
        row = self.conn.execute(
            _BY_ID_LOCKED if locked else _BY_ID,
            {"dispatch_id": dispatch_id, "tenant": self.tenant},
        ).first()
        if row is None:
            return None
        return _dispatch(row, self.conn.execute(_LINES, {"dispatch_id": dispatch_id}).all())

    def get_many(self, dispatch_ids: Sequence[str]) -> dict[str, Dispatch]:
        """These dispatches by id (missing ones left out), in two queries."""
        self.flush()
        if not dispatch_ids:
            return {}
        ids = sorted(set(dispatch_ids))
        rows = [r for r in _MANY.all(self.conn, {"ids": ids}) if r.tenant == self.tenant]
        lines: dict[str, list[Any]] = {row.id: [] for row in rows}
        for line in _MANY_LINES.all(self.conn, {"ids": ids}):
            lines.setdefault(line.dispatch_id, []).append(line)
        return {row.id: _dispatch(row, lines[row.id]) for row in rows}

    def of_order(self, order_id: str) -> list[Dispatch]:
        """Every dispatch holding lines of this order, oldest first."""
        self.flush()
        ids = self.conn.execute(
            select(t.dispatch_lines.c.dispatch_id)
            .where(t.dispatch_lines.c.order_id == order_id)
            .distinct()
        ).all()
        found = [self.get(r.dispatch_id) for r in ids]
        return sorted((d for d in found if d is not None), key=lambda d: (d.created_at, d.id))

    def reopen(self, dispatch_id: str, lines: Sequence[tuple[str, str, str, int]]) -> None:
        """A failed dispatch sent again under the same code, with the order's lines now:
        the node sees one order, however often a person retries it."""
        self.flush()
        c = t.dispatch_lines.c
        self.conn.execute(delete(t.dispatch_lines).where(c.dispatch_id == dispatch_id))
        self.conn.execute(insert(t.dispatch_lines), self._line_rows(dispatch_id, lines, first_no=1))
        self.conn.execute(
            update(t.dispatches)
            .where(t.dispatches.c.id == dispatch_id)
            .values(status="pending", created_at=datetime.now(UTC))
        )

    def free_id(self, order_id: str) -> str:
        """The next dispatch code for an order sent again elsewhere: `ORDER-rN`."""
        self.flush()
        c = t.dispatches.c
        # A range of the primary key, the seller checked on the rows: a prefix match (LIKE)
        # is read by SQLite as a scan of the seller's dispatches.
        rows = self.conn.execute(
            select(c.id, c.tenant).where(c.id >= f"{order_id}-r", c.id < f"{order_id}-s")
        )
        taken = {r.id for r in rows if r.tenant == self.tenant}
        n = 1
        while f"{order_id}-r{n}" in taken:
            n += 1
        return f"{order_id}-r{n}"

    def remove_order(self, dispatch_id: str, order_id: str) -> int:
        """Take an order's lines out of a pending dispatch; the lines left."""
        self.flush()
        c = t.dispatch_lines.c
        self.conn.execute(
            delete(t.dispatch_lines).where(c.dispatch_id == dispatch_id, c.order_id == order_id)
        )
        left = self.conn.execute(
            select(func.count()).where(c.dispatch_id == dispatch_id)
        ).scalar_one()
        return int(left)

    def mark(
        self, dispatch_id: str, status: str, *, external_id: str | None = None, at: str = ""
    ) -> None:
        """Move a dispatch on; `at` names the time column to stamp (pushed, shipped, ...)."""
        self.flush()
        values: dict[str, object] = {"status": status}
        if external_id is not None:
            values["external_id"] = external_id
        if at:
            values[f"{at}_at"] = datetime.now(UTC)
        statement = _mark_statement(tuple(values))
        statement.run(self.conn, [{"dispatch_id": dispatch_id, **values}])

    def mark_many(self, external_ids: Mapping[str, str], status: str, *, at: str) -> None:
        """Move these dispatches on in one statement, each with its node's id for it."""
        if not external_ids:
            return
        self.flush()
        key = ("status", "external_id", f"{at}_at")
        statement = _mark_statement(key)
        now = datetime.now(UTC)
        rows = [
            {"dispatch_id": d, "status": status, "external_id": external_ids[d], key[2]: now}
            for d in sorted(external_ids)
        ]
        statement.run(self.conn, rows)

    def add_shipped(self, dispatch_id: str, shipped: Sequence[tuple[str, int]]) -> None:
        """Count units of these (line number, quantity) lines as shipped, in one statement."""
        if not shipped:
            return
        self.flush()
        rows = [
            {"d": dispatch_id, "ln": line_no, "q": quantity}
            for line_no, quantity in sorted(shipped)
        ]
        self.conn.execute(_ADD_SHIPPED, rows if len(rows) > 1 else rows[0])

    def waiting_export(self, node: str) -> list[str]:
        """Purchase orders for a file supplier that were not exported yet."""
        self.flush()
        c = t.dispatches.c
        rows = self.conn.execute(
            select(c.id)
            .where(
                c.tenant == self.tenant,
                c.node == node,
                c.status == "pushed",
                c.exported_at.is_(None),
            )
            .order_by(c.created_at, c.id)
        )
        return [r.id for r in rows]

    def pending_at(self, node: str) -> list[str]:
        """Dispatches for a node not pushed yet (waiting for their merge window)."""
        self.flush()
        c = t.dispatches.c
        rows = self.conn.execute(
            select(c.id)
            .where(c.tenant == self.tenant, c.node == node, c.status == "pending")
            .order_by(c.created_at, c.id)
        )
        return [r.id for r in rows]

    def open_at(self, node: str) -> list[tuple[str, str | None]]:
        """(code, the node's own number) of the dispatches a node holds and has not
        shipped or stopped: what a node that calls nothing back is asked about."""
        self.flush()
        c = t.dispatches.c
        rows = self.conn.execute(
            select(c.id, c.external_id)
            .where(
                c.tenant == self.tenant,
                c.node == node,
                c.status.in_(("pushed", "acknowledged")),
            )
            .order_by(c.created_at, c.id)
        )
        return [(r.id, r.external_id) for r in rows]

    def mark_exported(self, ids: Sequence[str]) -> None:
        self.flush()
        if ids:
            self.conn.execute(
                update(t.dispatches)
                .where(t.dispatches.c.id.in_(list(ids)))
                .values(exported_at=datetime.now(UTC))
            )

    def supplier_records(self, *, days: float = 30.0) -> list[SupplierRecord]:
        """Per supplier: purchase orders sent in the period, and how fast they moved."""
        self.flush()
        c = t.dispatches.c
        since = datetime.now(UTC) - timedelta(days=days)
        rows = self.conn.execute(
            select(
                c.node,
                c.status,
                c.pushed_at,
                c.acknowledged_at,
                c.shipped_at,
            ).where(
                c.tenant == self.tenant,
                c.kind == "supplier",
                c.pushed_at.is_not(None),
                c.pushed_at >= since,
            )
        ).all()
        by_node: dict[str, list[tuple[str, datetime, datetime | None, datetime | None]]] = {}
        for r in rows:
            by_node.setdefault(r.node, []).append(
                (r.status, r.pushed_at, r.acknowledged_at, r.shipped_at)
            )
        records = []
        for node, items in sorted(by_node.items()):
            acks = [(a - p).total_seconds() for _, p, a, _ in items if a is not None]
            ships = [(s - p).total_seconds() for _, p, _, s in items if s is not None]
            records.append(
                SupplierRecord(
                    node=node,
                    pushed=len(items),
                    acknowledged=len(acks),
                    shipped=len(ships),
                    failed=sum(1 for status, *_ in items if status == "failed"),
                    ack_seconds=sum(acks) / len(acks) if acks else None,
                    ship_seconds=sum(ships) / len(ships) if ships else None,
                )
            )
        return records
