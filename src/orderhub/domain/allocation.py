"""Routing: which node ships an order. Strategies are tried in order; the first that
places the order wins, and its reason goes into the order's trace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from orderhub.domain.order import Order

__all__ = [
    "Allocation",
    "FixedNode",
    "NodeOption",
    "RoutingStrategy",
    "StockFirst",
    "allocate",
]


@dataclass(frozen=True)
class NodeOption:
    """A node that may serve the order's shop, with what it has available now."""

    code: str
    priority: int = 0
    available: Mapping[str, int] = field(default_factory=dict)

    def can_ship(self, needed: Mapping[str, int]) -> bool:
        return all(self.available.get(sku, 0) >= qty for sku, qty in needed.items())


@dataclass(frozen=True)
class Allocation:
    """The chosen node and why, in words for the trace."""

    node: str
    strategy: str
    reason: str


class RoutingStrategy(Protocol):
    """Chooses a node for the whole order, or None when it has no opinion."""

    @property
    def name(self) -> str: ...

    def choose(
        self, order: Order, needed: Mapping[str, int], options: Sequence[NodeOption]
    ) -> Allocation | None: ...


@dataclass(frozen=True)
class StockFirst:
    """The highest-priority node that can ship every line right now."""

    name: str = "stock_first"

    def choose(
        self, order: Order, needed: Mapping[str, int], options: Sequence[NodeOption]
    ) -> Allocation | None:
        for option in sorted(options, key=lambda o: -o.priority):
            if option.can_ship(needed):
                return Allocation(option.code, self.name, f"{option.code} has every line in stock")
        return None


@dataclass(frozen=True)
class FixedNode:
    """Always the shop's home node, stock or not (reservation then decides)."""

    name: str = "fixed_node"

    def choose(
        self, order: Order, needed: Mapping[str, int], options: Sequence[NodeOption]
    ) -> Allocation | None:
        if not options:
            return None
        best = max(options, key=lambda o: o.priority)
        return Allocation(best.code, self.name, f"{best.code} is the shop's home node")


DEFAULT_STRATEGIES: tuple[RoutingStrategy, ...] = (StockFirst(), FixedNode())


def allocate(
    order: Order,
    options: Sequence[NodeOption],
    strategies: Sequence[RoutingStrategy] = DEFAULT_STRATEGIES,
    *,
    needed: Mapping[str, int] | None = None,
) -> Allocation | None:
    """First strategy that places the order wins; None when none can.

    `needed` is the stock the order takes (bundles expanded); by default its lines.
    """
    wanted = order.sku_quantities() if needed is None else needed
    for strategy in strategies:
        chosen = strategy.choose(order, wanted, options)
        if chosen is not None:
            for line in order.lines:
                line.node = chosen.node
            return chosen
    return None
