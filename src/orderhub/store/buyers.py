"""Buyers across shops: their figures and tags, found by keyed hashes of what identifies
them. The hash key is the hub's secret (`Cipher.fingerprint`): without it a table of
phone numbers cannot be hashed to find anyone here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from orderhub.crypto import Cipher
from orderhub.domain.errors import NotFound
from orderhub.store import tables as t
from orderhub.store.ids import new_id

__all__ = ["BuyerRecord", "BuyerRepository"]

# Statements run for every order, built once.
_k, _b = t.buyer_keys.c, t.buyers.c
_FIND = (
    select(_b.id)
    .join(t.buyer_keys, _k.buyer_id == _b.id)
    .where(_k.tenant == bindparam("tenant"), _k.key_hash.in_(bindparam("hashes", expanding=True)))
    .distinct()
    .order_by(_b.id)
)
_CREATE = insert(t.buyers)
_ATTACH = {
    "postgresql": postgresql.insert(t.buyer_keys).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(t.buyer_keys).on_conflict_do_nothing(),
}
_ADD = update(t.buyers).where(_b.id == bindparam("buyer_id"))
_ADD_COUNTS = _ADD.values(
    orders=_b.orders + bindparam("add_orders"),
    spend=_b.spend + bindparam("add_spend"),
    returns=_b.returns + bindparam("add_returns"),
)
_ADD_COUNTS_SEEN = _ADD_COUNTS.values(last_seen=bindparam("seen")).returning(*t.buyers.c)
_ADD_COUNTS = _ADD_COUNTS.returning(*t.buyers.c)
_GET = select(t.buyers).where(_b.tenant == bindparam("tenant"), _b.id == bindparam("buyer_id"))


@dataclass(frozen=True)
class BuyerRecord:
    """What the hub knows of a buyer: counts, spend and tags; never who they are."""

    id: str
    orders: int
    spend: Decimal
    returns: int
    tags: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    erased_at: datetime | None = None

    @property
    def facts(self) -> dict[str, object]:
        """As rules see the buyer."""
        return {
            "id": self.id,
            "orders": self.orders,
            "spend": float(self.spend),
            "returns": self.returns,
            "tags": list(self.tags),
        }


@dataclass
class BuyerRepository:
    conn: Connection
    cipher: Cipher
    tenant: str
    recognised: dict[str, BuyerRecord] = field(default_factory=dict)
    """Buyers recognised in this unit of work, by order id (before the order is stored)."""

    def key(self, identifier: str) -> str:
        return self.cipher.fingerprint(f"buyer|{identifier}")

    def find(self, hashes: Sequence[str]) -> list[str]:
        """The buyers holding any of these keys, oldest first."""
        if not hashes:
            return []
        rows = self.conn.execute(_FIND, {"tenant": self.tenant, "hashes": list(hashes)})
        return [row.id for row in rows]

    def create(
        self, at: datetime, *, orders: int = 0, spend: Decimal = Decimal("0")
    ) -> BuyerRecord:
        """A new buyer, first seen `at`, with these figures to start from."""
        found = BuyerRecord(new_id("b"), orders, spend, 0, (), at, at)
        self.conn.execute(
            _CREATE,
            {
                "id": found.id,
                "tenant": self.tenant,
                "first_seen": at,
                "last_seen": at,
                "tags": "[]",
                "orders": orders,
                "spend": spend,
            },
        )
        return found

    def attach(self, buyer_id: str, hashes: Sequence[str]) -> None:
        if hashes:
            self.conn.execute(
                _ATTACH[self.conn.dialect.name],
                [{"tenant": self.tenant, "key_hash": h, "buyer_id": buyer_id} for h in hashes],
            )

    def merge(self, into: str, others: Sequence[str]) -> None:
        """One person seen as several buyers (a phone on one order, an e-mail and the
        phone on the next): their keys, orders and figures become one."""
        for other in others:
            found = self.get(other)
            k = t.buyer_keys.c
            self.conn.execute(update(t.buyer_keys).where(k.buyer_id == other).values(buyer_id=into))
            o = t.orders.c
            self.conn.execute(
                update(t.orders)
                .where(o.tenant == self.tenant, o.buyer_id == other)
                .values(buyer_id=into)
            )
            self.add(into, orders=found.orders, spend=found.spend, returns=found.returns)
            keep = self.get(into)
            self.set_tags(into, sorted(set(keep.tags) | set(found.tags)))
            self.conn.execute(delete(t.buyers).where(t.buyers.c.id == other))

    def add(
        self,
        buyer_id: str,
        *,
        orders: int = 0,
        spend: Decimal = Decimal("0"),
        returns: int = 0,
        seen: datetime | None = None,
    ) -> BuyerRecord:
        """Add to the buyer's figures; the buyer as it is now."""
        values: dict[str, object] = {
            "buyer_id": buyer_id,
            "add_orders": orders,
            "add_spend": spend,
            "add_returns": returns,
        }
        if seen is not None:
            values["seen"] = seen
        row = self.conn.execute(_ADD_COUNTS if seen is None else _ADD_COUNTS_SEEN, values).first()
        if row is None:
            raise NotFound("buyer", buyer_id)
        return self._record(row)

    def get(self, buyer_id: str) -> BuyerRecord:
        row = self.conn.execute(_GET, {"tenant": self.tenant, "buyer_id": buyer_id}).first()
        if row is None:
            raise NotFound("buyer", buyer_id)
        return self._record(row)

    @staticmethod
    def _record(row: Any) -> BuyerRecord:
        return BuyerRecord(
            id=row.id,
            orders=row.orders,
            spend=Decimal(row.spend),
            returns=row.returns,
            tags=tuple(json.loads(row.tags)),
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            erased_at=row.erased_at,
        )

    def set_tags(self, buyer_id: str, tags: Sequence[str]) -> None:
        self.conn.execute(
            update(t.buyers)
            .where(t.buyers.c.id == buyer_id)
            .values(tags=json.dumps(list(tags), ensure_ascii=False))
        )

    def of_order(self, order_id: str) -> BuyerRecord | None:
        if order_id in self.recognised:
            return self.recognised[order_id]
        row = self.conn.execute(
            select(t.orders.c.buyer_id).where(t.orders.c.id == order_id)
        ).first()
        return self.get(row.buyer_id) if row is not None and row.buyer_id else None

    def orders_of(self, buyer_id: str) -> list[str]:
        o = t.orders.c
        rows = self.conn.execute(
            select(o.id).where(o.tenant == self.tenant, o.buyer_id == buyer_id).order_by(o.id)
        )
        return [row.id for row in rows]

    def forget(self, buyer_id: str) -> None:
        """Erased: the keys that recognise the buyer go; the figures stay, unnamed."""
        self.conn.execute(delete(t.buyer_keys).where(t.buyer_keys.c.buyer_id == buyer_id))
        self.conn.execute(
            update(t.buyers)
            .where(t.buyers.c.id == buyer_id)
            .values(erased_at=datetime.now(UTC), tags="[]")
        )
