"""The audit log: who changed what, when, before and after. Rows are only ever added;
the database itself refuses to change or delete them (see migration 0006)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from orderhub.store import tables as t

__all__ = ["AuditEntry", "AuditRepository"]


@dataclass(frozen=True)
class AuditEntry:
    """One change or reveal by a person or token."""

    id: int
    at: datetime
    actor: str
    via: str
    action: str
    target: str
    before: Any
    after: Any
    detail: str


class AuditRepository:
    """Append and read; there is deliberately no way to change an entry."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def add(
        self,
        *,
        at: datetime,
        actor: str,
        via: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
        detail: str = "",
    ) -> None:
        self.conn.execute(
            insert(t.audit_log).values(
                tenant=self.tenant,
                at=at,
                actor=actor[:100],
                via=via[:64],
                action=action[:64],
                target=target[:200],
                before=None if before is None else json.dumps(before, default=str),
                after=None if after is None else json.dumps(after, default=str),
                detail=detail,
            )
        )

    def count(self, action: str, target: str, *, since: datetime) -> int:
        """Entries of exactly this action and target since a moment."""
        c = t.audit_log.c
        query = select(func.count()).where(
            c.tenant == self.tenant, c.action == action, c.target == target, c.at >= since
        )
        return int(self.conn.execute(query).scalar_one())

    def entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Newest first; page with `before_id` (the last id of the previous page)."""
        query = select(t.audit_log).where(t.audit_log.c.tenant == self.tenant)
        if actor:
            query = query.where(t.audit_log.c.actor == actor)
        if action:
            query = query.where(t.audit_log.c.action.startswith(action, autoescape=True))
        if target:
            query = query.where(t.audit_log.c.target == target)
        if since is not None:
            query = query.where(t.audit_log.c.at >= since)
        if before_id is not None:
            query = query.where(t.audit_log.c.id < before_id)
        rows = self.conn.execute(query.order_by(t.audit_log.c.id.desc()).limit(limit))
        return [
            AuditEntry(
                id=int(r.id),
                at=r.at,
                actor=r.actor,
                via=r.via,
                action=r.action,
                target=r.target,
                before=None if r.before is None else json.loads(r.before),
                after=None if r.after is None else json.loads(r.after),
                detail=r.detail,
            )
            for r in rows
        ]
