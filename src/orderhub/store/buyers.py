"""Buyers across shops: their figures and tags, found by keyed hashes of what identifies
them. The hash key is the hub's secret (`Cipher.fingerprint`): without it a table of
phone numbers cannot be hashed to find anyone here."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from orderhub.crypto import Cipher
from orderhub.domain.errors import NotFound
from orderhub.store import tables as t
from orderhub.store.db import sent_together
from orderhub.store.driver import Query
from orderhub.store.ids import new_id
from orderhub.store.many_rows import ManyRows

__all__ = ["BuyerRecord", "BuyerRepository"]

# Statements run for every order, built once.
_k, _b = t.buyer_keys.c, t.buyers.c
_FIND = Query(
    select(_b.id)
    .join(t.buyer_keys, _k.buyer_id == _b.id)
    .where(_k.tenant == bindparam("tenant"), _k.key_hash.in_(bindparam("hashes", expanding=True)))
    .distinct()
    .order_by(_b.id)
)
_CREATE = ManyRows(insert(t.buyers))
_ATTACH = {
    "postgresql": ManyRows(postgresql.insert(t.buyer_keys).on_conflict_do_nothing()),
    "sqlite": ManyRows(sqlite.insert(t.buyer_keys).on_conflict_do_nothing()),
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
_KNOWN_KEYS = Query(
    select(_k.key_hash).where(
        _k.tenant == bindparam("tenant"), _k.key_hash.in_(bindparam("hashes", expanding=True))
    )
)


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
class _Adds:
    """What is added to one buyer's figures at commit."""

    orders: int = 0
    spend: Decimal = Decimal("0")
    returns: int = 0
    seen: datetime | None = None


_Held = tuple[dict[str, str], dict[str, _Adds], dict[str, BuyerRecord]]


@dataclass
class BuyerRepository:
    conn: Connection
    cipher: Cipher
    tenant: str
    recognised: dict[str, BuyerRecord] = field(default_factory=dict)
    """Buyers recognised in this unit of work, by order id (before the order is stored)."""
    _held_keys: dict[str, str] | None = None  # key hash → buyer, written at commit
    _held_adds: dict[str, _Adds] = field(default_factory=dict)
    _held_new: dict[str, BuyerRecord] = field(default_factory=dict)  # made, written at commit
    _unknown: set[str] = field(default_factory=set)  # key hashes read ahead and not found
    _keys: dict[str, str] = field(default_factory=dict)  # identifier → its key, hashed once
    # Writes the orders this unit of work added and holds, before orders are read here.
    before_orders: Callable[[], None] = lambda: None

    def hold(self) -> None:
        """Write new buyers, keys and figures at commit, in key and buyer order, instead
        of at once: a returning buyer's orders in two batches of two processes would
        otherwise lock the buyer's row and keys in different orders. Reads here add what
        is held."""
        if self._held_keys is None:
            self._held_keys = {}

    def held(self) -> _Held | None:
        if self._held_keys is None:
            return None
        adds = {b: replace(a) for b, a in self._held_adds.items()}
        return dict(self._held_keys), adds, dict(self._held_new)

    def restore(self, held: _Held | None) -> None:
        self._held_keys, self._held_adds, self._held_new = (None, {}, {}) if held is None else held

    def writes_held(self) -> int:
        """How many statements `write_held` would run that read nothing back."""
        return int(bool(self._held_new)) + int(bool(self._held_keys))

    def reads_when_written(self) -> bool:
        """Whether `write_held` reads rows back (a known buyer's figures added to)."""
        return bool(self._held_adds)

    def write_held(self) -> None:
        if not self._held_keys and not self._held_adds and not self._held_new:
            return
        keys, adds, made = self._held_keys or {}, self._held_adds, self._held_new
        self._held_keys, self._held_adds, self._held_new = {}, {}, {}
        with sent_together(self.conn):  # new buyers and their keys in one round trip
            if made:
                _CREATE.run(self.conn, [self._row(made[b]) for b in sorted(made)])
            if keys:
                rows = [
                    {"tenant": self.tenant, "key_hash": h, "buyer_id": keys[h]}
                    for h in sorted(keys)
                ]
                _ATTACH[self.conn.dialect.name].run(self.conn, rows)
        for buyer_id in sorted(adds):
            a = adds[buyer_id]
            self._add_now(buyer_id, orders=a.orders, spend=a.spend, returns=a.returns, seen=a.seen)

    def key(self, identifier: str) -> str:
        key = self._keys.get(identifier)
        if key is None:
            key = self._keys[identifier] = self.cipher.fingerprint(f"buyer|{identifier}")
        return key

    def find(self, hashes: Sequence[str]) -> list[str]:
        """The buyers holding any of these keys, oldest first."""
        if not hashes:
            return []
        found: list[str] = []
        if not self._unknown.issuperset(hashes):
            rows = _FIND.all(self.conn, {"tenant": self.tenant, "hashes": list(hashes)})
            found = [row.id for row in rows]
        for h in hashes:  # keys attached in this transaction, written at commit
            held = (self._held_keys or {}).get(h)
            if held is not None and held not in found:
                found.append(held)
        return found

    def read_ahead(self, hashes: Collection[str]) -> None:
        """Ask once, for a batch of orders, which of their keys any buyer holds: `find`
        answers for the others without a query until a buyer is given them."""
        if not hashes:
            return
        rows = _KNOWN_KEYS.all(self.conn, {"tenant": self.tenant, "hashes": sorted(hashes)})
        self._unknown = set(hashes) - {row.key_hash for row in rows}

    def create(
        self, at: datetime, *, orders: int = 0, spend: Decimal = Decimal("0")
    ) -> BuyerRecord:
        """A new buyer, first seen `at`, with these figures to start from."""
        found = BuyerRecord(new_id("b"), orders, spend, 0, (), at, at)
        if self._held_keys is not None:
            self._held_new[found.id] = found
        else:
            _CREATE.run(self.conn, [self._row(found)])
        return found

    def _row(self, buyer: BuyerRecord) -> dict[str, object]:
        return {
            "id": buyer.id,
            "tenant": self.tenant,
            "first_seen": buyer.first_seen,
            "last_seen": buyer.last_seen,
            "tags": "[]",
            "orders": buyer.orders,
            "spend": buyer.spend,
        }

    def attach(self, buyer_id: str, hashes: Sequence[str]) -> None:
        self._unknown.difference_update(hashes)
        if self._held_keys is not None:
            for h in hashes:
                self._held_keys.setdefault(h, buyer_id)
            return
        if hashes:
            _ATTACH[self.conn.dialect.name].run(
                self.conn,
                [{"tenant": self.tenant, "key_hash": h, "buyer_id": buyer_id} for h in hashes],
            )

    def merge(self, into: str, others: Sequence[str]) -> None:
        """One person seen as several buyers (a phone on one order, an e-mail and the
        phone on the next): their keys, orders and figures become one."""
        self.write_held()
        self.before_orders()
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
        if self._held_keys is not None:
            adds = self._held_adds.setdefault(buyer_id, _Adds())
            adds.orders, adds.spend, adds.returns = (
                adds.orders + orders,
                adds.spend + spend,
                adds.returns + returns,
            )
            if seen is not None:
                adds.seen = seen if adds.seen is None else max(adds.seen, seen)
            return self.get(buyer_id)
        return self._add_now(buyer_id, orders=orders, spend=spend, returns=returns, seen=seen)

    def _add_now(
        self,
        buyer_id: str,
        *,
        orders: int,
        spend: Decimal,
        returns: int,
        seen: datetime | None,
    ) -> BuyerRecord:
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
        found = self._held_new.get(buyer_id)
        if found is None:
            row = self.conn.execute(_GET, {"tenant": self.tenant, "buyer_id": buyer_id}).first()
            if row is None:
                raise NotFound("buyer", buyer_id)
            found = self._record(row)
        adds = self._held_adds.get(buyer_id)
        if adds is None:
            return found
        return replace(
            found,
            orders=found.orders + adds.orders,
            spend=found.spend + adds.spend,
            returns=found.returns + adds.returns,
            last_seen=adds.seen or found.last_seen,
        )

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
        self.before_orders()
        row = self.conn.execute(
            select(t.orders.c.buyer_id).where(t.orders.c.id == order_id)
        ).first()
        return self.get(row.buyer_id) if row is not None and row.buyer_id else None

    def orders_of(self, buyer_id: str) -> list[str]:
        self.before_orders()
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
