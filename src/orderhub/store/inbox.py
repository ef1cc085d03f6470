"""Raw inbound payloads, stored verbatim before anything tries to read them.

Bodies carry names, phones and addresses, so they are encrypted at rest with the same
keys as the orders' personal data, and decrypted only in memory when read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from orderhub.crypto import Cipher
from orderhub.domain.errors import NotFound
from orderhub.domain.order import Order
from orderhub.store import tables as t
from orderhub.store.db import JOBS_CHANNEL, notice
from orderhub.store.driver import Query
from orderhub.store.ids import new_id
from orderhub.store.many_rows import ManyRows
from orderhub.store.outbox import OutboxRepository
from orderhub.store.text import storable

__all__ = ["InboxItem", "InboxRepository"]

# Statements run for every payload, built once.
_i = t.inbox.c
# SQLite counts a row its insert skipped as not changed; psycopg may not, so PostgreSQL
# reads the new id back.
_ADD_PG = postgresql.insert(t.inbox).on_conflict_do_nothing().returning(_i.id)
_ADD_SQLITE = ManyRows(sqlite.insert(t.inbox).on_conflict_do_nothing())
_q = t.outbox_jobs.c
_JOB_COLUMNS = (
    "tenant",
    "kind",
    "payload",
    "idempotency_key",
    "coalesce_key",
    "order_id",
    "status",
    "attempts",
    "max_attempts",
    "run_at",
    "created_at",
)
_ITEM_COLUMNS = (
    "id",
    "tenant",
    "shop",
    "source",
    "topic",
    "dedup_key",
    "headers",
    "body",
    "status",
    "error",
    "received_at",
)
# PostgreSQL: the payload, the job that takes it in (only if the payload is new) and the
# word to every worker, in one statement: on a connection without a transaction of its
# own, one round trip instead of five.
_stored = (
    postgresql.insert(t.inbox)
    .values({name: bindparam(f"item_{name}", type_=_i[name].type) for name in _ITEM_COLUMNS})
    .on_conflict_do_nothing()
    .returning(_i.id)
    .cte("stored")
)
_queued = (
    postgresql.insert(t.outbox_jobs)
    .from_select(
        list(_JOB_COLUMNS),
        select(
            *(bindparam(f"job_{name}", type_=_q[name].type) for name in _JOB_COLUMNS)
        ).select_from(_stored),
    )
    .on_conflict_do_nothing()
    .returning(_q.kind)
    .cte("queued")
)
_ADD_AND_QUEUE_PG = Query(
    select(
        _stored.c.id,
        select(func.pg_notify(JOBS_CHANNEL, bindparam("notice")))
        .select_from(_queued)
        .limit(1)
        .scalar_subquery(),
    )
)
_FIRST_COPY = select(_i.id).where(
    _i.tenant == bindparam("tenant"), _i.dedup_key == bindparam("dedup_key")
)
_GET = Query(select(t.inbox).where(_i.id == bindparam("item_id"), _i.tenant == bindparam("tenant")))
# By id alone, the seller checked on the rows read: given the seller too, SQLite may read
# the seller's whole inbox through its (tenant, dedup_key) index to find a few ids.
_GET_MANY = Query(select(t.inbox).where(_i.id.in_(bindparam("ids", expanding=True))))
_MARK = ManyRows(
    update(t.inbox)
    .where(_i.id == bindparam("item_id"))
    .values(status=bindparam("status"), order_id=bindparam("order_id"), error=bindparam("error"))
)


def _context(item_id: str) -> bytes:
    """Binds an encrypted body to its row: a body copied to another row will not open."""
    return f"inbox:{item_id}".encode()


@dataclass(frozen=True)
class InboxItem:
    """One stored payload: where it came from and the bytes exactly as received."""

    id: str
    shop: str
    source: str
    topic: str
    dedup_key: str
    headers: dict[str, str]
    body: bytes
    status: str
    order_id: str | None
    error: str | None
    received_at: datetime


class InboxRepository:
    """Every payload a channel or node sent us, de-duplicated by its delivery key."""

    def __init__(self, conn: Connection, cipher: Cipher, tenant: str) -> None:
        self.conn = conn
        self.cipher = cipher
        self.tenant = tenant
        self._ahead: dict[str, InboxItem] = {}
        self.mapped: dict[str, tuple[Any, Order]] = {}
        """Raw body and order mapped from an item read ahead, for the job that takes it."""
        # Marks are written together, before the inbox is read again or at commit: a
        # batch of payloads makes one statement, not one per payload.
        self._marks: dict[str, dict[str, Any]] = {}

    def writes_held(self) -> int:
        """How many statements `flush` would run."""
        return int(bool(self._marks))

    def flush(self) -> None:
        """Write the marks made since the last flush."""
        if self._marks:
            rows, self._marks = list(self._marks.values()), {}
            _MARK.run(self.conn, rows)

    def discard(self) -> None:
        self._marks = {}

    def add(
        self,
        *,
        shop: str,
        source: str,
        topic: str,
        dedup_key: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        status: str = "pending",
        error: str | None = None,
    ) -> tuple[str, bool]:
        """Store a payload; (id, True) when new, (id of the first copy, False) when seen."""
        self.flush()
        item_id = new_id("i")
        row = self._row(item_id, shop, source, topic, dedup_key, body, headers, status, error)
        if self.conn.dialect.name == "postgresql":
            new = self.conn.execute(_ADD_PG, row).first() is not None
        else:
            new = _ADD_SQLITE.run(self.conn, [row]) == 1
        if new:
            return item_id, True
        existing = self.conn.execute(
            _FIRST_COPY, {"tenant": self.tenant, "dedup_key": dedup_key}
        ).scalar_one()
        return str(existing), False

    def _row(
        self,
        item_id: str,
        shop: str,
        source: str,
        topic: str,
        dedup_key: str,
        body: bytes,
        headers: Mapping[str, str] | None,
        status: str,
        error: str | None,
    ) -> dict[str, Any]:
        return {
            "id": item_id,
            "tenant": self.tenant,
            "shop": shop,
            "source": source,
            "topic": storable(topic),
            "dedup_key": dedup_key,
            "headers": json.dumps(dict(headers or {})),
            "body": self.cipher.seal(body, context=_context(item_id)),
            "status": status,
            "error": storable(error) if error else error,
            "received_at": datetime.now(UTC),
        }

    def add_and_queue(
        self,
        outbox: OutboxRepository,
        *,
        kind: str,
        shop: str,
        source: str,
        topic: str,
        dedup_key: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[str, bool]:
        """Store a payload and, when it is new, queue the `kind` job that takes it in;
        (id, True) when new, (id of the first copy, False) when seen."""
        if self.conn.dialect.name != "postgresql":
            item_id, new = self.add(
                shop=shop,
                source=source,
                topic=topic,
                dedup_key=dedup_key,
                body=body,
                headers=headers,
            )
            if new:
                outbox.add(kind, {"inbox_id": item_id}, key=f"inbox:{item_id}")
            return item_id, new
        self.flush()
        item_id = new_id("i")
        job = outbox.row(kind, {"inbox_id": item_id}, key=f"inbox:{item_id}")
        row = self._row(item_id, shop, source, topic, dedup_key, body, headers, "pending", None)
        params = {f"item_{k}": v for k, v in row.items()}
        params.update({f"job_{k}": v for k, v in job.items()})
        params["notice"] = notice({kind: job["run_at"]})
        stored = _ADD_AND_QUEUE_PG.first(self.conn, params)
        if stored is None:
            existing = self.conn.execute(
                _FIRST_COPY, {"tenant": self.tenant, "dedup_key": dedup_key}
            ).scalar_one()
            return str(existing), False
        outbox.written_elsewhere(kind, job["run_at"])
        return item_id, True

    def read_ahead(self, item_ids: Sequence[str]) -> list[InboxItem]:
        """Read these items in one query; each `get` of one of them then takes it from
        here, once (a second `get`, or one after `mark`, reads the row again)."""
        if not item_ids:
            return []
        rows = _GET_MANY.all(self.conn, {"ids": sorted(set(item_ids))})
        items = [self._item(row) for row in rows if row.tenant == self.tenant]
        self._ahead.update((item.id, item) for item in items)
        return items

    def get(self, item_id: str) -> InboxItem:
        item = self._ahead.pop(item_id, None)
        if item is not None:
            return item
        self.flush()
        row = _GET.first(self.conn, {"item_id": item_id, "tenant": self.tenant})
        if row is None:
            raise NotFound("inbox item", item_id)
        return self._item(row)

    def _item(self, row: Any) -> InboxItem:
        return InboxItem(
            id=row.id,
            shop=row.shop,
            source=row.source,
            topic=row.topic,
            dedup_key=row.dedup_key,
            headers=json.loads(row.headers),
            body=self.cipher.unseal(bytes(row.body), context=_context(row.id)),
            status=row.status,
            order_id=row.order_id,
            error=row.error,
            received_at=row.received_at,
        )

    def mark(
        self, item_id: str, status: str, *, order_id: str | None = None, error: str | None = None
    ) -> None:
        self._ahead.pop(item_id, None)
        self.mapped.pop(item_id, None)
        self._marks[item_id] = {
            "item_id": item_id,
            "status": status,
            "order_id": order_id,
            "error": storable(error) if error else error,
        }

    def recent(
        self, shop: str, *, limit: int, failed_only: bool = False, skip_topics: Iterable[str] = ()
    ) -> list[str]:
        """Ids of the shop's latest stored payloads (of the failed ones only), newest first."""
        self.flush()
        c = t.inbox.c
        query = select(c.id).where(
            c.tenant == self.tenant, c.shop == shop, c.topic.not_in(sorted(skip_topics))
        )
        if failed_only:
            query = query.where(c.status == "failed")
        rows = self.conn.execute(query.order_by(c.received_at.desc(), c.id.desc()).limit(limit))
        return [row[0] for row in rows]

    def ignored(self, shop: str, reason: str) -> list[str]:
        """Ids of the shop's payloads kept but not acted on for this reason, oldest first."""
        self.flush()
        c = t.inbox.c
        rows = self.conn.execute(
            select(c.id)
            .where(c.tenant == self.tenant, c.shop == shop, c.status == "ignored")
            .where(c.error == reason)
            .order_by(c.received_at, c.id)
        )
        return [row[0] for row in rows]

    def count_by_status(self) -> dict[str, int]:
        from sqlalchemy import func

        self.flush()
        rows = self.conn.execute(
            select(t.inbox.c.status, func.count())
            .where(t.inbox.c.tenant == self.tenant)
            .group_by(t.inbox.c.status)
        )
        return {status: n for status, n in rows.all()}
