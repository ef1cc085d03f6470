"""Buyers across shops: their figures and tags, found by keyed hashes of what identifies
them. The hash key is the hub's secret (`Cipher.fingerprint`): without it a table of
phone numbers cannot be hashed to find anyone here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from orderhub.crypto import Cipher
from orderhub.domain.errors import NotFound
from orderhub.store import tables as t
from orderhub.store.ids import new_id

__all__ = ["BuyerRecord", "BuyerRepository"]


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
        k, b = t.buyer_keys.c, t.buyers.c
        rows = self.conn.execute(
            select(b.id)
            .join(t.buyer_keys, k.buyer_id == b.id)
            .where(k.tenant == self.tenant, k.key_hash.in_(list(hashes)))
            .distinct()
            .order_by(b.id)
        )
        return [row.id for row in rows]

    def create(self, at: datetime) -> str:
        buyer_id = new_id("b")
        self.conn.execute(
            insert(t.buyers).values(
                id=buyer_id, tenant=self.tenant, first_seen=at, last_seen=at, tags="[]"
            )
        )
        return buyer_id

    def attach(self, buyer_id: str, hashes: Sequence[str]) -> None:
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        for key_hash in hashes:
            self.conn.execute(
                dialect.insert(t.buyer_keys)
                .values(tenant=self.tenant, key_hash=key_hash, buyer_id=buyer_id)
                .on_conflict_do_nothing()
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
    ) -> None:
        b = t.buyers.c
        values: dict[str, object] = {
            "orders": b.orders + orders,
            "spend": b.spend + spend,
            "returns": b.returns + returns,
        }
        if seen is not None:
            values["last_seen"] = seen
        self.conn.execute(update(t.buyers).where(b.id == buyer_id).values(**values))

    def get(self, buyer_id: str) -> BuyerRecord:
        row = self.conn.execute(
            select(t.buyers).where(t.buyers.c.tenant == self.tenant, t.buyers.c.id == buyer_id)
        ).first()
        if row is None:
            raise NotFound("buyer", buyer_id)
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

    def link(self, order_id: str, buyer_id: str) -> None:
        self.conn.execute(
            update(t.orders).where(t.orders.c.id == order_id).values(buyer_id=buyer_id)
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
