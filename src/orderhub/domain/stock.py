"""Stock arithmetic: what can be sold on a listing, given what the nodes hold."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Level", "available_to_sell"]


@dataclass(frozen=True)
class Level:
    """Stock of one SKU at one node."""

    node: str
    sku: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def available_to_sell(
    levels: Sequence[Level],
    *,
    safety_stock: int = 0,
    ratio: Decimal = Decimal("1"),
    multiplier: int = 1,
) -> int:
    """Units a listing may show: Σ(available − safety) over its nodes, × ratio, rounded down.

    `available_to_sell([Level("WH1", "A", 20, 3)], safety_stock=5, ratio=Decimal("0.6"))`
    is 7: (20 − 3 − 5) × 0.6 = 7.2, rounded down. A listing that sells packs of
    `multiplier` units shows whole packs only. Never negative.
    """
    sellable = sum(max(0, level.available - safety_stock) for level in levels)
    units = math.floor(Decimal(sellable) * ratio)
    return max(0, units // max(1, multiplier))
