"""Stock levels per (node, SKU) and the ledger every change is written to.

The ledger is the record: an order's reservation is the sum of its ledger rows, and a
level always equals the sum of the ledger rows of its (node, SKU). Reservation is one
conditional UPDATE, so two orders racing for the last unit cannot both win, on SQLite
or PostgreSQL, however many processes run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from orderhub.domain.stock import Level
from orderhub.store import tables as t
from orderhub.store.driver import Query
from orderhub.store.many_rows import ManyRows
from orderhub.store.stock_held import CHANGE_LEVEL, HeldLevels

__all__ = ["LedgerEntry", "StockRepository"]


@dataclass(frozen=True)
class LedgerEntry:
    """One movement of a SKU's stock at a node, with the on-hand balance right after it."""

    id: int
    at: datetime
    kind: str
    on_hand_delta: int
    reserved_delta: int
    order_id: str | None
    reason: str
    on_hand_after: int
    reserved_after: int


_LEVEL = t.stock_levels.c
_LEDGER_C = t.stock_ledger.c
# The whole reservation is this one conditional UPDATE: it changes the row only while
# enough is available, so concurrent reservations can never take more than there is.
_RESERVE = Query(
    update(t.stock_levels)
    .where(
        _LEVEL.tenant == bindparam("t"),
        _LEVEL.node == bindparam("n"),
        _LEVEL.sku == bindparam("s"),
        _LEVEL.on_hand - _LEVEL.reserved + bindparam("allow") >= bindparam("q"),
    )
    .values(reserved=_LEVEL.reserved + bindparam("q"), updated_at=bindparam("now"))
)
_CHANGE_LEVEL = Query(CHANGE_LEVEL)
_LEVEL_ONE = select(_LEVEL.node, _LEVEL.sku, _LEVEL.on_hand, _LEVEL.reserved).where(
    _LEVEL.tenant == bindparam("t"), _LEVEL.node == bindparam("n"), _LEVEL.sku == bindparam("s")
)
_LEDGER = ManyRows(insert(t.stock_ledger))  # no id read back: ledger rows are written unread
# An order's ledger rows, summed here: grouped in SQL, SQLite would read them through the
# (tenant, node, sku) index, in the group's order, which reads the seller's whole ledger.
_HELD_BY_ORDER = select(_LEDGER_C.node, _LEDGER_C.sku, _LEDGER_C.reserved_delta).where(
    _LEDGER_C.tenant == bindparam("t"), _LEDGER_C.order_id == bindparam("o")
)


_LEVELS_AT = Query(
    select(_LEVEL.node, _LEVEL.sku, _LEVEL.on_hand, _LEVEL.reserved)
    .where(
        _LEVEL.tenant == bindparam("t"),
        _LEVEL.sku.in_(bindparam("skus", expanding=True)),
        _LEVEL.node.in_(bindparam("nodes", expanding=True)),
    )
    .order_by(_LEVEL.sku, _LEVEL.node)
)


class StockRepository:
    """Stock levels and their ledger for one seller."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant
        # Ledger rows are written together, before the ledger is read or at commit.
        self._ledger_rows: list[dict[str, object]] = []
        # Levels change at once, unless held back (see `hold_levels`): then every read
        # through this repository adds what is held, and commit writes it.
        self._held: HeldLevels | None = None
        # While held, what was read stays as read: nothing in this transaction writes a
        # level before commit, and commit checks each reservation against the row then.
        self._read: dict[tuple[str, str], Level | None] = {}

    def hold_levels(self) -> None:
        """Hold level changes back and write them at commit, in (node, SKU) order (see
        `HeldLevels`); reservations are checked against the level read plus what is
        held, and again when written."""
        if self._held is None:
            self._held = HeldLevels()

    def write_levels(self) -> None:
        """Write the held level changes; `StockMoved` if a reservation no longer fits."""
        if self._held is not None:
            held, self._held = self._held, HeldLevels()
            self._read = {}
            held.write(self.conn, self.tenant)

    def held_levels(self) -> HeldLevels | None:
        """A copy of the held changes, to go back to if a savepoint is rolled back."""
        return None if self._held is None else self._held.copy()

    def restore_levels(self, held: HeldLevels | None) -> None:
        self._held = held
        if held is None:
            self._read = {}

    def writes_held(self) -> int:
        """How many statements `flush` would run."""
        return int(bool(self._ledger_rows))

    def flush(self) -> None:
        """Write the ledger rows held back since the last flush."""
        if self._ledger_rows:
            rows, self._ledger_rows = self._ledger_rows, []
            _LEDGER.run(self.conn, rows)

    def discard(self) -> None:
        self._ledger_rows = []

    def _record(
        self,
        node: str,
        sku: str,
        kind: str,
        *,
        on_hand: int = 0,
        reserved: int = 0,
        order_id: str | None = None,
        reason: str = "",
        apply: bool = True,
    ) -> None:
        """Change the level (unless already done) and write the ledger row for it."""
        now = datetime.now(UTC)
        if apply and self._held is not None:
            self._held.change(node, sku, on_hand=on_hand, reserved=reserved)
        elif apply:
            _CHANGE_LEVEL.run(
                self.conn,
                {"t": self.tenant, "n": node, "s": sku, "dh": on_hand, "dr": reserved, "now": now},
            )
        self._ledger_rows.append(
            {
                "tenant": self.tenant,
                "node": node,
                "sku": sku,
                "kind": kind,
                "on_hand_delta": on_hand,
                "reserved_delta": reserved,
                "order_id": order_id,
                "reason": reason,
                "at": now,
            }
        )

    def reserve(
        self, node: str, sku: str, quantity: int, *, order_id: str, backorder: int = 0
    ) -> bool:
        """Reserve `quantity` if that much is available (presale SKUs: down to −`backorder`);
        False, and nothing changed, if not."""
        if self._held is not None:
            needed, allow = {sku: quantity}, {sku: backorder}
            return not self._reserve_all_held(node, needed, order_id=order_id, backorder=allow)
        changed = _RESERVE.run(
            self.conn,
            {
                "t": self.tenant,
                "n": node,
                "s": sku,
                "q": quantity,
                "allow": backorder,
                "now": datetime.now(UTC),
            },
        )
        if changed != 1:
            if backorder <= 0 or self.level(node, sku) is not None:
                return False
            # Sold ahead of stock at a node that never had any: the level starts at zero.
            self._ensure(node, sku)
            return self.reserve(node, sku, quantity, order_id=order_id, backorder=backorder)
        self._record(node, sku, "reservation", reserved=quantity, order_id=order_id, apply=False)
        return True

    def reserve_all(
        self,
        node: str,
        needed: dict[str, int],
        *,
        order_id: str,
        backorder: dict[str, int] | None = None,
    ) -> list[str]:
        """Reserve every SKU or none; returns the SKUs that were short (empty on success)."""
        allow = backorder or {}
        if self._held is not None:
            return self._reserve_all_held(node, needed, order_id=order_id, backorder=allow)
        if len(needed) == 1:
            ((sku, quantity),) = needed.items()
            ok = self.reserve(node, sku, quantity, order_id=order_id, backorder=allow.get(sku, 0))
            return [] if ok else [sku]
        self.flush()  # so that a rollback below undoes exactly what the buffer holds
        savepoint = self.conn.begin_nested()
        short = [
            sku
            for sku in sorted(needed)
            if not self.reserve(
                node, sku, needed[sku], order_id=order_id, backorder=allow.get(sku, 0)
            )
        ]
        if short:
            savepoint.rollback()
            self.discard()  # their levels were rolled back too
        else:
            savepoint.commit()
        return short

    def _reserve_all_held(
        self, node: str, needed: dict[str, int], *, order_id: str, backorder: dict[str, int]
    ) -> list[str]:
        """Nothing is written before commit: every level is read at once and checked
        first, then every SKU is held (and checked again when written)."""
        skus = sorted(needed)
        read = {level.sku: level for level in self.levels(skus=skus, nodes=[node])}
        short = []
        for sku in skus:
            level, allow = read.get(sku), backorder.get(sku, 0)
            left = allow if level is None else level.on_hand - level.reserved + allow
            if left < needed[sku]:
                short.append(sku)
        if short:
            return short
        assert self._held is not None
        for sku in skus:
            if sku not in read:  # sold ahead of stock at a node that never had any
                self._ensure(node, sku)
            self._held.reserve(node, sku, backorder=backorder.get(sku, 0))
            self._record(node, sku, "reservation", reserved=needed[sku], order_id=order_id)
        return []

    def held_by(self, order_id: str) -> list[tuple[str, str, int]]:
        """(node, sku, quantity) the order holds in reservation right now."""
        self.flush()
        held: dict[tuple[str, str], int] = {}
        for r in self.conn.execute(_HELD_BY_ORDER, {"o": order_id, "t": self.tenant}):
            held[(r.node, r.sku)] = held.get((r.node, r.sku), 0) + int(r.reserved_delta)
        return [(node, sku, n) for (node, sku), n in sorted(held.items()) if n > 0]

    def release(self, order_id: str, *, reason: str = "") -> list[tuple[str, str]]:
        """Give back everything the order holds; the (node, sku) pairs touched."""
        touched = []
        for node, sku, quantity in self.held_by(order_id):
            self._record(node, sku, "release", reserved=-quantity, order_id=order_id, reason=reason)
            touched.append((node, sku))
        return touched

    def consume(self, order_id: str, shipped: dict[str, int], *, node: str) -> list[str]:
        """Turn reservations into shipped stock: on hand and reserved both go down."""
        held = {sku: qty for n, sku, qty in self.held_by(order_id) if n == node}
        for sku, quantity in sorted(shipped.items()):
            from_reserved = min(quantity, held.get(sku, 0))
            if sku not in held:  # a reservation has its level; shipped unreserved may not
                self._ensure(node, sku)
            self._record(
                node, sku, "shipment", on_hand=-quantity, reserved=-from_reserved, order_id=order_id
            )
        return sorted(shipped)

    def adjust(
        self, node: str, sku: str, delta: int, *, kind: str = "adjustment", reason: str = ""
    ) -> None:
        """Change on-hand stock by `delta` (creating the level if new)."""
        self._ensure(node, sku)
        self._record(node, sku, kind, on_hand=delta, reason=reason)

    def set_on_hand(self, node: str, sku: str, on_hand: int, *, reason: str = "") -> int:
        """Set on-hand stock to a counted figure; the difference goes to the ledger."""
        current = self.level(node, sku)
        delta = on_hand - (current.on_hand if current else 0)
        if current is None or delta:
            self.adjust(node, sku, delta, kind="stocktake", reason=reason)
        return delta

    def _ensure(self, node: str, sku: str) -> None:
        if self.level(node, sku) is None:
            self._read.pop((node, sku), None)
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

    def _with_held(self, level: Level) -> Level:
        return level if self._held is None else self._held.on(level)

    def level(self, node: str, sku: str) -> Level | None:
        row = self.conn.execute(_LEVEL_ONE, {"t": self.tenant, "n": node, "s": sku}).first()
        if row is None:
            return None
        return self._with_held(Level(row.node, row.sku, row.on_hand, row.reserved))

    def levels(
        self, *, skus: Iterable[str] | None = None, nodes: Iterable[str] | None = None
    ) -> list[Level]:
        if skus is not None and nodes is not None:  # routing asks this for every order
            return self._levels_at(sorted(set(skus)), sorted(set(nodes)))
        query = select(_LEVEL.node, _LEVEL.sku, _LEVEL.on_hand, _LEVEL.reserved).where(
            _LEVEL.tenant == self.tenant
        )
        if skus is not None:
            query = query.where(_LEVEL.sku.in_(list(skus)))
        if nodes is not None:
            query = query.where(_LEVEL.node.in_(list(nodes)))
        rows = self.conn.execute(query.order_by(_LEVEL.sku, _LEVEL.node))
        return [self._with_held(Level(r.node, r.sku, r.on_hand, r.reserved)) for r in rows]

    def read_ahead(self, skus: Iterable[str], nodes: Iterable[str]) -> None:
        """While levels are held, read these SKUs' levels at these nodes in one query, so
        that a batch's orders, which mostly ask for different SKUs, do not each ask."""
        wanted_skus, wanted_nodes = sorted(set(skus)), sorted(set(nodes))
        if self._held is not None and wanted_skus and wanted_nodes:
            self._levels_at(wanted_skus, wanted_nodes)

    def _levels_at(self, skus: list[str], nodes: list[str]) -> list[Level]:
        """These SKUs' levels at these nodes, by SKU then node; while levels are held,
        each is read once per transaction (a batch's orders share their SKUs)."""
        pairs = [(node, sku) for sku in skus for node in nodes]
        if self._held is None or any(pair not in self._read for pair in pairs):
            rows = _LEVELS_AT.all(self.conn, {"t": self.tenant, "skus": skus, "nodes": nodes})
            read = {(r.node, r.sku): Level(r.node, r.sku, r.on_hand, r.reserved) for r in rows}
            if self._held is None:
                return [read[pair] for pair in pairs if pair in read]
            self._read.update({pair: read.get(pair) for pair in pairs})
        return [self._held.on(level) for pair in pairs if (level := self._read[pair]) is not None]

    def below_threshold(self, *, limit: int = 50) -> list[tuple[Level, int]]:
        """Levels whose available stock is at or below their SKU's low-stock threshold,
        lowest first, with the threshold (one join, however many levels there are)."""
        self.write_levels()
        sku = t.skus.c
        available = _LEVEL.on_hand - _LEVEL.reserved
        rows = self.conn.execute(
            select(
                _LEVEL.node, _LEVEL.sku, _LEVEL.on_hand, _LEVEL.reserved, sku.low_stock_threshold
            )
            .join(t.skus, (sku.tenant == _LEVEL.tenant) & (sku.sku == _LEVEL.sku))
            .where(
                _LEVEL.tenant == self.tenant,
                sku.low_stock_threshold.is_not(None),
                available <= sku.low_stock_threshold,
            )
            .order_by(available, _LEVEL.sku, _LEVEL.node)
            .limit(limit)
        )
        return [
            (Level(r.node, r.sku, r.on_hand, r.reserved), int(r.low_stock_threshold)) for r in rows
        ]

    def version(self, skus: Iterable[str]) -> int:
        """The ledger's position for these SKUs: it grows with every change of their stock."""
        self.flush()
        value = self.conn.execute(
            select(func.max(_LEDGER_C.id)).where(
                _LEDGER_C.tenant == self.tenant, _LEDGER_C.sku.in_(list(skus))
            )
        ).scalar()
        return int(value or 0)

    def ledger(
        self, node: str, sku: str, *, before_id: int | None = None, limit: int = 50
    ) -> list[LedgerEntry]:
        """Newest first, `limit` rows older than `before_id`; each row's balance is the
        level now less every row written after it (one sum, however long the ledger)."""
        self.flush()
        mine = [_LEDGER_C.tenant == self.tenant, _LEDGER_C.node == node, _LEDGER_C.sku == sku]
        query = select(t.stock_ledger).where(*mine)
        if before_id is not None:
            query = query.where(_LEDGER_C.id < before_id)
        rows = self.conn.execute(query.order_by(_LEDGER_C.id.desc()).limit(limit)).all()
        if not rows:
            return []
        newer = self.conn.execute(
            select(
                func.coalesce(func.sum(_LEDGER_C.on_hand_delta), 0),
                func.coalesce(func.sum(_LEDGER_C.reserved_delta), 0),
            ).where(*mine, _LEDGER_C.id > rows[0].id)
        ).one()
        level = self.level(node, sku)
        on_hand = (level.on_hand if level else 0) - int(newer[0])
        reserved = (level.reserved if level else 0) - int(newer[1])
        entries = []
        for r in rows:
            entries.append(
                LedgerEntry(
                    r.id,
                    r.at,
                    r.kind,
                    r.on_hand_delta,
                    r.reserved_delta,
                    r.order_id,
                    r.reason,
                    on_hand,
                    reserved,
                )
            )
            on_hand -= r.on_hand_delta
            reserved -= r.reserved_delta
        return entries

    def shipped_since(self, since: datetime) -> dict[tuple[str, str], int]:
        """Units shipped per (node, SKU) since a moment, from the ledger."""
        self.flush()
        rows = self.conn.execute(
            select(_LEDGER_C.node, _LEDGER_C.sku, func.sum(-_LEDGER_C.on_hand_delta))
            .where(
                _LEDGER_C.tenant == self.tenant,
                _LEDGER_C.kind == "shipment",
                _LEDGER_C.at >= since,
            )
            .group_by(_LEDGER_C.node, _LEDGER_C.sku)
        )
        return {(node, sku): int(units) for node, sku, units in rows.all()}

    def ledger_mismatches(self) -> list[tuple[str, str, int, int, int, int]]:
        """(node, sku, on_hand, ledger on_hand, reserved, ledger reserved) that disagree."""
        self.write_levels()
        self.flush()
        sums = (
            select(
                _LEDGER_C.node,
                _LEDGER_C.sku,
                func.coalesce(func.sum(_LEDGER_C.on_hand_delta), 0).label("on_hand"),
                func.coalesce(func.sum(_LEDGER_C.reserved_delta), 0).label("reserved"),
            )
            .where(_LEDGER_C.tenant == self.tenant)
            .group_by(_LEDGER_C.node, _LEDGER_C.sku)
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
