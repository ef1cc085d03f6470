"""Supplier performance: how quickly a drop-ship supplier acknowledges and ships its
purchase orders, and how often they fail, folded into one score in 0..1.

Routing spreads orders in proportion to the score, as a seller would by hand: a supplier
that takes three days to ship gets fewer orders than one that ships the same day.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PerformanceTargets", "SupplierPerformance", "supplier_score"]


@dataclass(frozen=True)
class PerformanceTargets:
    """What good looks like; meeting a target scores full marks for it."""

    ack_seconds: float = 2 * 3600.0
    ship_seconds: float = 24 * 3600.0
    min_orders: int = 5


@dataclass(frozen=True)
class SupplierPerformance:
    """A supplier's recent purchase orders: how many, how fast, how many failed."""

    node: str
    pushed: int
    acknowledged: int
    shipped: int
    failed: int
    defective: int = 0
    ack_seconds: float | None = None
    ship_seconds: float | None = None

    @property
    def defect_rate(self) -> float:
        """Failed purchase orders and defective returns per order sent."""
        return min(1.0, (self.failed + self.defective) / self.pushed) if self.pushed else 0.0


def _speed(actual: float | None, target: float) -> float:
    """1 at or under the target, falling as target / actual beyond it."""
    if actual is None:
        return 0.5
    return 1.0 if actual <= target else target / actual


def supplier_score(
    performance: SupplierPerformance, targets: PerformanceTargets = PerformanceTargets()
) -> float | None:
    """Score in 0..1, or None while there are too few orders to judge.

    >>> supplier_score(SupplierPerformance("S1", 10, 10, 10, 0, 0, 3600, 12 * 3600))
    1.0
    >>> supplier_score(SupplierPerformance("S2", 10, 10, 10, 0, 0, 3600, 96 * 3600))
    0.625
    """
    if performance.pushed < targets.min_orders:
        return None
    speed = 0.5 * _speed(performance.ack_seconds, targets.ack_seconds) + 0.5 * _speed(
        performance.ship_seconds, targets.ship_seconds
    )
    return round(speed * (1.0 - performance.defect_rate), 4)
