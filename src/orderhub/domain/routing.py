"""Routing vocabulary: what a strategy is asked (`RoutingRequest`), what it answers
(`Allocation`), and `allocate`, which asks strategies in order until one answers.

A strategy answers None when it has no opinion (the order is not its kind, or it cannot
place it); the next one is asked. The first answer wins and its reason goes into the
order's trace, e.g. ``region: 新疆 → WH-W``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

__all__ = [
    "Allocation",
    "LineNeed",
    "NodeOption",
    "RoutingRequest",
    "RoutingStrategy",
    "add_needs",
    "allocate",
]


def add_needs(needs: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Quantities per SKU, added together: [{"A": 2}, {"A": 1, "B": 1}] → {"A": 3, "B": 1}."""
    total: dict[str, int] = {}
    for need in needs:
        for sku, qty in need.items():
            total[sku] = total.get(sku, 0) + qty
    return total


@dataclass(frozen=True)
class NodeOption:
    """A node that may serve the order's shop: what it has now and where it ships from.

    `available` already includes any presale allowance. `costs` is the shipping cost by
    destination region (province or ISO country; "*" for anywhere else). A supplier with
    no stock feed is `unlimited` and can ship anything.
    """

    code: str
    priority: int = 0
    available: Mapping[str, int] = field(default_factory=dict)
    kind: str = "warehouse"
    country: str = ""
    province: str = ""
    costs: Mapping[str, Decimal] = field(default_factory=dict)
    score: float | None = None
    unlimited: bool = False

    def can_ship(self, needed: Mapping[str, int]) -> bool:
        """Whether it has every SKU in the quantity needed."""
        return self.unlimited or all(
            self.available.get(sku, 0) >= qty for sku, qty in needed.items()
        )


@dataclass(frozen=True)
class LineNeed:
    """The stock one order line takes, bundles expanded: a line of 2 × (A+B) → {A: 2, B: 2}."""

    line_id: str
    needs: Mapping[str, int]


@dataclass(frozen=True)
class RoutingRequest:
    """Everything a strategy may look at: the ship-to, the lines and the candidate nodes.

    `rule_node` is set when a seller rule said "route to this node"; `presale_skus` are
    the order's SKUs that are sold before they are in stock.
    """

    order_id: str
    country: str
    province: str
    lines: Sequence[LineNeed]
    options: Sequence[NodeOption]
    split_allowed: bool = False
    rule_node: str | None = None
    presale_skus: frozenset[str] = frozenset()

    def needed(self) -> dict[str, int]:
        """The stock the whole order takes, all lines added together."""
        return add_needs(line.needs for line in self.lines)

    def option(self, code: str | None) -> NodeOption | None:
        """The candidate node with this code, if it serves the shop."""
        return next((o for o in self.options if o.code == code), None)

    def line_ids(self) -> tuple[str, ...]:
        return tuple(line.line_id for line in self.lines)


@dataclass(frozen=True)
class Allocation:
    """Which node ships which lines, the strategy that decided and why in plain words.

    `parts` has one entry unless the order is split: {"WH1": ("L1", "L2")} or
    {"WH1": ("L1",), "WH2": ("L2",)}.
    """

    parts: Mapping[str, tuple[str, ...]]
    strategy: str
    reason: str

    @classmethod
    def whole(cls, node: str, request: RoutingRequest, strategy: str, reason: str) -> Allocation:
        """Every line of the order to one node."""
        return cls({node: request.line_ids()}, strategy, reason)

    @property
    def node(self) -> str | None:
        """The node when the order is not split, else None."""
        return next(iter(self.parts)) if len(self.parts) == 1 else None

    @property
    def is_split(self) -> bool:
        return len(self.parts) > 1

    @property
    def line_nodes(self) -> dict[str, str]:
        """Line id → node, for setting each line's node."""
        return {line: node for node, lines in self.parts.items() for line in lines}


class RoutingStrategy(Protocol):
    """Places an order (`Allocation`) or answers None to let the next strategy try."""

    @property
    def name(self) -> str: ...

    def choose(self, request: RoutingRequest) -> Allocation | None: ...


def allocate(request: RoutingRequest, strategies: Sequence[RoutingStrategy]) -> Allocation | None:
    """The first strategy's answer that is not None; None when every strategy passes.

    Changes nothing: the caller sets each line's node from `Allocation.parts`.
    """
    for strategy in strategies:
        chosen = strategy.choose(request)
        if chosen is not None:
            return chosen
    return None
