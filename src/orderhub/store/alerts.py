"""Alerts as rows: raised (counted per key), taken into a digest, marked sent.

A row is open until a digest takes it (`digest_id` set) and sent once the digest went
out. Raising a key that has an open row adds to its count; raising a key whose row was
taken or sent within the de-duplication window only counts, it does not alert again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from orderhub.domain.alerts import Alert
from orderhub.store import tables as t

__all__ = ["AlertRecord", "AlertRepository"]


@dataclass(frozen=True)
class AlertRecord:
    """One alert as stored, with how often it arose and whether it went out."""

    id: int
    kind: str
    key: str
    message: str
    severity: str
    data: dict[str, Any]
    count: int
    first_at: datetime
    last_at: datetime
    sent_at: datetime | None
    digest_id: str | None
    sent_via: str = ""

    def alert(self) -> Alert:
        return Alert(
            self.kind,
            self.key,
            self.message,
            self.severity,
            self.data,
            self.count,
            self.first_at,
            self.last_at,
        )


class AlertRepository:
    """The alerts of one seller."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant
        # Occurrences held back to commit (see `hold`), added up per key.
        self._held: dict[str, tuple[Alert, datetime, timedelta]] | None = None

    @property
    def holding(self) -> bool:
        return self._held is not None

    def hold(self) -> None:
        """Record occurrences at commit, in key order, instead of at once: many orders
        held for the same reason add to one alert row, which batches in several
        processes would otherwise lock in different orders."""
        if self._held is None:
            self._held = {}

    def held(self) -> dict[str, tuple[Alert, datetime, timedelta]] | None:
        return None if self._held is None else dict(self._held)

    def restore(self, held: dict[str, tuple[Alert, datetime, timedelta]] | None) -> None:
        self._held = held

    def write_held(self) -> None:
        if self._held:
            held, self._held = self._held, {}
            for key in sorted(held):
                alert, now, window = held[key]
                self._raise_now(alert, now=now, window=window)

    def raise_(self, alert: Alert, *, now: datetime, window: timedelta) -> bool:
        """Record one occurrence; True when it opened a new alert (one that will be sent).
        Held back (see `hold`), it is recorded at commit and this says False."""
        if self._held is None:
            return self._raise_now(alert, now=now, window=window)
        earlier = self._held.get(alert.key)
        if earlier is not None:
            alert = replace(earlier[0], count=earlier[0].count + alert.count)
        self._held[alert.key] = (alert, now, window)
        return False

    def _raise_now(self, alert: Alert, *, now: datetime, window: timedelta) -> bool:
        c = t.alerts.c
        mine = (c.tenant == self.tenant, c.key == alert.key)
        bump = {"count": c["count"] + alert.count, "last_at": now}
        if self.conn.execute(
            update(t.alerts).where(*mine, c.digest_id.is_(None)).values(**bump)
        ).rowcount:
            return False
        if self.conn.execute(
            update(t.alerts)
            .where(*mine, c.digest_id.is_not(None), c.first_at >= now - window)
            .values(**bump)
        ).rowcount:
            return False
        module = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        insert = module.insert(t.alerts).values(
            tenant=self.tenant,
            kind=alert.kind,
            key=alert.key,
            message=alert.message,
            severity=alert.severity,
            data=json.dumps(alert.data, ensure_ascii=False, default=str),
            count=alert.count,
            first_at=now,
            last_at=now,
        )
        # A concurrent transaction may have opened the same key meanwhile: add to it.
        upsert = insert.on_conflict_do_update(
            index_elements=["tenant", "key"],
            index_where=text("digest_id IS NULL"),
            set_={"count": t.alerts.c["count"] + insert.excluded["count"], "last_at": now},
        ).returning(t.alerts.c["count"])
        return bool(self.conn.execute(upsert).scalar_one() == alert.count)

    def take(self, digest_id: str) -> int:
        """Close every open alert into this digest; how many were taken."""
        c = t.alerts.c
        return int(
            self.conn.execute(
                update(t.alerts)
                .where(c.tenant == self.tenant, c.digest_id.is_(None))
                .values(digest_id=digest_id)
            ).rowcount
        )

    def oldest_open(self) -> datetime | None:
        """When the oldest alert not yet taken into a digest was first raised."""
        c = t.alerts.c
        value = self.conn.execute(
            select(func.min(c.first_at)).where(c.tenant == self.tenant, c.digest_id.is_(None))
        ).scalar()
        if value is None:
            return None
        return t.UtcDateTime().process_result_value(value, self.conn.dialect)

    def unsent(self, *, limit: int = 10_000) -> list[AlertRecord]:
        """Alerts taken into a digest and not yet sent, oldest first."""
        c = t.alerts.c
        return self._select(c.digest_id.is_not(None), c.sent_at.is_(None), limit=limit, asc=True)

    def mark_sent(self, ids: Sequence[int], *, at: datetime, via: str = "") -> None:
        """Sent at `at` through the channels named in `via` ("log, webhook, email")."""
        c = t.alerts.c
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            self.conn.execute(
                update(t.alerts)
                .where(c.id.in_(chunk))  # ids read for this seller: by id alone, one by one
                .values(sent_at=at, sent_via=via[:100])
            )

    def search(
        self, *, kind: str | None = None, unsent: bool = False, limit: int = 100
    ) -> list[AlertRecord]:
        """Newest first."""
        c = t.alerts.c
        conditions: list[ColumnElement[bool]] = []
        if kind:
            conditions.append(c.kind == kind)
        if unsent:
            conditions.append(c.sent_at.is_(None))
        return self._select(*conditions, limit=limit, asc=False)

    def _select(self, *conditions: ColumnElement[bool], limit: int, asc: bool) -> list[AlertRecord]:
        c = t.alerts.c
        order = (c.first_at, c.id) if asc else (c.last_at.desc(), c.id.desc())
        rows = self.conn.execute(
            select(t.alerts)
            .where(c.tenant == self.tenant, *conditions)
            .order_by(*order)
            .limit(limit)
        )
        return [
            AlertRecord(
                id=r.id,
                kind=r.kind,
                key=r.key,
                message=r.message,
                severity=r.severity,
                data=json.loads(r.data),
                count=r._mapping["count"],
                first_at=r.first_at,
                last_at=r.last_at,
                sent_at=r.sent_at,
                digest_id=r.digest_id,
                sent_via=r.sent_via,
            )
            for r in rows
        ]
