"""Exceptions (the work queue of people) and sync cursors (where each pull left off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, or_, select, update

from orderhub.domain.errors import NotFound
from orderhub.store import tables as t
from orderhub.store.ids import new_id
from orderhub.store.text import storable

__all__ = ["CursorRepository", "ExceptionRecord", "ExceptionRepository"]


@dataclass(frozen=True)
class ExceptionRecord:
    """Something a person must look at, linked to the order, payload or job it is about."""

    id: str
    stage: str
    code: str
    message: str
    field: str
    severity: str
    status: str
    order_id: str | None
    inbox_id: str | None
    job_id: int | None
    created_at: datetime
    resolved_at: datetime | None = None
    resolution: str = ""
    resolved_by: str = ""


class ExceptionRepository:
    """Open and resolved exceptions of one seller."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def open(
        self,
        *,
        stage: str,
        code: str,
        message: str,
        field: str = "",
        severity: str = "error",
        order_id: str | None = None,
        inbox_id: str | None = None,
        job_id: int | None = None,
    ) -> str:
        exception_id = new_id("x")
        self.conn.execute(
            insert(t.exceptions).values(
                id=exception_id,
                tenant=self.tenant,
                stage=stage,
                code=code,
                message=storable(message),
                field=storable(field),
                severity=severity,
                status="open",
                order_id=order_id,
                inbox_id=inbox_id,
                job_id=job_id,
                created_at=datetime.now(UTC),
            )
        )
        return exception_id

    def resolve_for_order(self, order_id: str, *, stage: str | None = None) -> int:
        """Close the open exceptions of an order (all, or those of one stage)."""
        c = t.exceptions.c
        query = update(t.exceptions).where(c.order_id == order_id, c.status == "open")
        if stage:
            query = query.where(c.stage == stage)
        return int(
            self.conn.execute(
                query.values(status="resolved", resolved_at=datetime.now(UTC))
            ).rowcount
        )

    def resolve_for_orders(self, order_ids: list[str]) -> None:
        """Close the open exceptions of many orders in one statement."""
        if order_ids:
            c = t.exceptions.c
            self.conn.execute(
                update(t.exceptions)
                .where(c.order_id.in_(order_ids), c.status == "open")
                .values(status="resolved", resolved_at=datetime.now(UTC))
            )

    def resolve_for_inbox(self, inbox_id: str) -> int:
        """Close the open exceptions about one stored payload."""
        c = t.exceptions.c
        return int(
            self.conn.execute(
                update(t.exceptions)
                .where(c.inbox_id == inbox_id, c.status == "open")
                .values(status="resolved", resolved_at=datetime.now(UTC))
            ).rowcount
        )

    def resolve(self, exception_id: str, *, resolution: str = "", by: str = "") -> ExceptionRecord:
        """Close one exception, keeping how (an action, or a person's reason) and by whom."""
        record = self.get(exception_id)
        self.conn.execute(
            update(t.exceptions)
            .where(t.exceptions.c.id == exception_id, t.exceptions.c.status == "open")
            .values(
                status="resolved",
                resolved_at=datetime.now(UTC),
                resolution=resolution[:2000],
                resolved_by=by[:100],
            )
        )
        return record

    def open_about(
        self, *, order_id: str | None, inbox_id: str | None, job_id: int | None
    ) -> list[ExceptionRecord]:
        """The open exceptions about the same order, payload or job: what a replay left."""
        c = t.exceptions.c
        about = []
        if order_id:
            about.append(c.order_id == order_id)
        if inbox_id:
            about.append(c.inbox_id == inbox_id)
        if job_id is not None:
            about.append(c.job_id == job_id)
        if not about:
            return []
        return self._select(c.status == "open", or_(*about))

    def count(
        self, *, status: str | None = "open", code: str | None = None, shop: str | None = None
    ) -> int:
        c = t.exceptions.c
        query = select(func.count()).where(c.tenant == self.tenant)
        if status:
            query = query.where(c.status == status)
        if code:
            query = query.where(c.code == code)
        if shop:
            query = query.where(self._of_shop(shop))
        return int(self.conn.execute(query).scalar_one())

    def open_by_code(self, shops: frozenset[str] = frozenset()) -> dict[str, int]:
        """Open exceptions per code; with `shops`, only those about these shops."""
        c = t.exceptions.c
        query = select(c.code, func.count()).where(c.tenant == self.tenant, c.status == "open")
        if shops:
            query = query.where(or_(*(self._of_shop(shop) for shop in sorted(shops))))
        return {code: int(n) for code, n in self.conn.execute(query.group_by(c.code)).all()}

    def _of_shop(self, shop: str) -> Any:
        """About an order of the shop, or about a payload the shop sent."""
        c = t.exceptions.c
        orders = select(t.orders.c.id).where(
            t.orders.c.tenant == self.tenant, t.orders.c.shop == shop
        )
        payloads = select(t.inbox.c.id).where(
            t.inbox.c.tenant == self.tenant, t.inbox.c.shop == shop
        )
        return or_(c.order_id.in_(orders), c.inbox_id.in_(payloads))

    def shop_of(self, record: ExceptionRecord) -> str | None:
        """The shop an exception is about, when it is about one."""
        if record.order_id:
            found = self.conn.execute(
                select(t.orders.c.shop).where(t.orders.c.id == record.order_id)
            ).scalar()
            if found:
                return str(found)
        if record.inbox_id:
            found = self.conn.execute(
                select(t.inbox.c.shop).where(t.inbox.c.id == record.inbox_id)
            ).scalar()
            return str(found) if found else None
        return None

    def get(self, exception_id: str) -> ExceptionRecord:
        rows = self._select(t.exceptions.c.id == exception_id)
        if not rows:
            raise NotFound("exception", exception_id)
        return rows[0]

    def search(
        self,
        *,
        status: str | None = "open",
        code: str | None = None,
        shop: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ExceptionRecord]:
        c = t.exceptions.c
        conditions = []
        if status:
            conditions.append(c.status == status)
        if code:
            conditions.append(c.code == code)
        if shop:
            conditions.append(self._of_shop(shop))
        return self._select(*conditions, limit=limit, offset=offset)

    def count_open(self) -> int:
        c = t.exceptions.c
        return int(
            self.conn.execute(
                select(func.count()).where(c.tenant == self.tenant, c.status == "open")
            ).scalar_one()
        )

    def _select(
        self, *conditions: ColumnElement[bool], limit: int = 100, offset: int = 0
    ) -> list[ExceptionRecord]:
        c = t.exceptions.c
        rows = self.conn.execute(
            select(t.exceptions)
            .where(c.tenant == self.tenant, *conditions)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [
            ExceptionRecord(
                id=r.id,
                stage=r.stage,
                code=r.code,
                message=r.message,
                field=r.field,
                severity=r.severity,
                status=r.status,
                order_id=r.order_id,
                inbox_id=r.inbox_id,
                job_id=r.job_id,
                created_at=r.created_at,
                resolved_at=r.resolved_at,
                resolution=r.resolution,
                resolved_by=r.resolved_by,
            )
            for r in rows
        ]


class CursorRepository:
    """Watermarks of incremental pulls, per shop."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def get(self, shop: str, kind: str) -> str | None:
        c = t.sync_cursors.c
        value = self.conn.execute(
            select(c.value).where(c.tenant == self.tenant, c.shop == shop, c.kind == kind)
        ).scalar()
        return None if value is None else str(value)

    def set(self, shop: str, kind: str, value: str) -> None:
        c = t.sync_cursors.c
        now = datetime.now(UTC)
        updated = self.conn.execute(
            update(t.sync_cursors)
            .where(c.tenant == self.tenant, c.shop == shop, c.kind == kind)
            .values(value=value, updated_at=now)
        )
        if not updated.rowcount:
            self.conn.execute(
                insert(t.sync_cursors).values(
                    tenant=self.tenant, shop=shop, kind=kind, value=value, updated_at=now
                )
            )
