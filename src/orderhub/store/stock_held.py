"""Stock level changes a transaction holds back and writes at commit, in one order.

A worker batch of many orders would otherwise lock hot levels one by one in the order
its orders came, and two batches in different processes could each hold a level the
other waits for. Written together in (node, SKU) order, they queue instead, and only for
the moment of the commit. A reservation among them is written with a condition: if
another transaction took the stock since it was read, nothing is written and
`StockMoved` says so, for the caller to run its work again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection, Integer, bindparam, or_, update

from orderhub.domain.stock import Level
from orderhub.store import tables as t
from orderhub.store.many_rows import ManyRows

__all__ = ["CHANGE_LEVEL", "HeldLevels", "StockMoved"]

_LEVEL = t.stock_levels.c
CHANGE_LEVEL = (
    update(t.stock_levels)
    .where(
        _LEVEL.tenant == bindparam("t"),
        _LEVEL.node == bindparam("n"),
        _LEVEL.sku == bindparam("s"),
    )
    .values(
        on_hand=_LEVEL.on_hand + bindparam("dh"),
        reserved=_LEVEL.reserved + bindparam("dr"),
        updated_at=bindparam("now"),
    )
)
# Reservations only while what is left stays within what may be sold (presale SKUs:
# down to −allow); other changes (`checked` 0) always.
_CHANGE_HELD = ManyRows(
    CHANGE_LEVEL.where(
        or_(
            bindparam("checked", type_=Integer) == 0,
            _LEVEL.on_hand
            + bindparam("dh")
            - _LEVEL.reserved
            - bindparam("dr")
            + bindparam("allow")
            >= 0,
        )
    )
)


class StockMoved(Exception):
    """Held-back reservations no longer fit: another transaction took the stock since
    it was read. Nothing was written; the caller runs its work again."""


@dataclass
class _Change:
    """One level's held changes; `checked` when a reservation is among them, with the
    smallest presale allowance of those reservations."""

    on_hand: int = 0
    reserved: int = 0
    checked: bool = False
    allow: int = 0


class HeldLevels:
    """The level changes of one transaction, by (node, SKU)."""

    def __init__(self, changes: dict[tuple[str, str], _Change] | None = None) -> None:
        self._changes = changes or {}

    def change(self, node: str, sku: str, *, on_hand: int, reserved: int) -> None:
        held = self._changes.setdefault((node, sku), _Change())
        held.on_hand += on_hand
        held.reserved += reserved

    def reserve(self, node: str, sku: str, *, backorder: int) -> None:
        """Mark the level's changes as holding a reservation, to be checked when written."""
        held = self._changes.setdefault((node, sku), _Change())
        held.allow = min(held.allow, backorder) if held.checked else backorder
        held.checked = True

    def on(self, level: Level) -> Level:
        """The level as this transaction sees it: as read, plus what it holds."""
        held = self._changes.get((level.node, level.sku))
        if held is None:
            return level
        return Level(
            level.node, level.sku, level.on_hand + held.on_hand, level.reserved + held.reserved
        )

    def copy(self) -> HeldLevels:
        return HeldLevels({key: replace(change) for key, change in self._changes.items()})

    def write(self, conn: Connection, tenant: str) -> None:
        """Every level in one statement, run for each in (node, SKU) order. Each level
        held is a row, so a row not written is a reservation that no longer fits."""
        if not self._changes:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "t": tenant,
                "n": node,
                "s": sku,
                "dh": held.on_hand,
                "dr": held.reserved,
                "now": now,
                "checked": int(held.checked),
                "allow": held.allow,
            }
            for (node, sku), held in sorted(self._changes.items())
        ]
        written = _CHANGE_HELD.run(conn, rows)
        if written != len(rows):
            raise StockMoved(
                f"{len(rows) - written} of {len(rows)} levels changed since they were read: "
                "a reservation no longer fits"
            )
