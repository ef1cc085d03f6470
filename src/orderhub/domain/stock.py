"""Stock arithmetic: what a listing may show, and why.

A listing shows what its shop's nodes can really ship: per node, available (on hand −
reserved) less safety stock; for a bundle, the fewest complete sets its components
make; times the sync ratio, rounded down; plus any presale allowance; in whole packs;
capped; and shown as 0 at or below the end-of-listing floor. Every step is kept, so a
seller can see how the number came about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "Ats",
    "AtsStep",
    "Level",
    "ListingRule",
    "available_to_sell",
    "expand_bundles",
    "explain_ats",
]


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


@dataclass(frozen=True)
class ListingRule:
    """The seller's settings that turn stock into the number a listing shows."""

    safety_stock: int = 0
    ratio: Decimal = Decimal("1")
    multiplier: int = 1
    cap: int | None = None
    floor: int = 0
    backorder: int = 0


@dataclass(frozen=True)
class AtsStep:
    """One step of the calculation, in words, with the running figure after it."""

    label: str
    value: int


@dataclass(frozen=True)
class Ats:
    """Available to sell on a listing, with the steps that produced it."""

    quantity: int
    steps: tuple[AtsStep, ...] = field(default=())
    presale: bool = False


def _sellable(levels: Sequence[Level], safety: int) -> int:
    return sum(max(0, level.available - safety) for level in levels)


def explain_ats(
    levels: Mapping[str, Sequence[Level]],
    rule: ListingRule,
    *,
    components: Mapping[str, int] | None = None,
) -> Ats:
    """Available to sell with its explanation.

    `levels` maps each SKU involved (the listing's SKU, or a bundle's components) to its
    levels at the nodes serving the shop; `components` is a bundle's recipe (SKU →
    units per bundle), None for a plain SKU.

    `explain_ats({"A": [Level("WH1", "A", 20, 3)]}, ListingRule(5, Decimal("0.6")))`
    has quantity 7: (20 on hand − 3 reserved − 5 safety) × 0.6 = 7.2, rounded down.
    """
    recipe = dict(components) if components else {sku: 1 for sku in levels}
    steps: list[AtsStep] = []
    sets: list[int] = []
    for sku, per_set in sorted(recipe.items()):
        rows = levels.get(sku, ())
        on_hand = sum(x.on_hand for x in rows)
        reserved = sum(x.reserved for x in rows)
        steps.append(AtsStep(f"{sku}: {on_hand} on hand − {reserved} reserved", on_hand - reserved))
        sellable = _sellable(rows, rule.safety_stock)
        if rule.safety_stock:
            steps.append(
                AtsStep(f"{sku}: less safety stock {rule.safety_stock} at each node", sellable)
            )
        if per_set != 1 or components:
            steps.append(AtsStep(f"{sku}: complete sets of {per_set}", sellable // per_set))
        sets.append(max(0, sellable) // per_set)
    units = min(sets) if sets else 0
    if components:
        steps.append(AtsStep("bundle: fewest complete sets over its components", units))
    value = math.floor(Decimal(units) * rule.ratio)
    if rule.ratio != 1:
        steps.append(AtsStep(f"× sync ratio {rule.ratio}, rounded down", value))
    presale = False
    if rule.backorder:
        oversold = -min(0, sum(x.available for rows in levels.values() for x in rows))
        allowance = max(0, rule.backorder - oversold)
        value += allowance
        presale = True
        steps.append(
            AtsStep(f"+ presale allowance {rule.backorder} less {oversold} presold", value)
        )
    if rule.multiplier > 1:
        value //= rule.multiplier
        steps.append(AtsStep(f"in packs of {rule.multiplier}", value))
    if rule.cap is not None and value > rule.cap:
        value = rule.cap
        steps.append(AtsStep(f"capped at {rule.cap}", value))
    if rule.floor and value <= rule.floor:
        value = 0
        steps.append(AtsStep(f"ended: at or below {rule.floor}", value))
    value = max(0, value)
    return Ats(quantity=value, steps=tuple(steps), presale=presale)


def available_to_sell(
    levels: Sequence[Level],
    *,
    safety_stock: int = 0,
    ratio: Decimal = Decimal("1"),
    multiplier: int = 1,
) -> int:
    """Units a plain listing may show: Σ(available − safety) over its nodes, × ratio,
    rounded down, in whole packs. Never negative.

    `available_to_sell([Level("WH1", "A", 20, 3)], safety_stock=5, ratio=Decimal("0.6"))`
    is 7.
    """
    by_sku: dict[str, list[Level]] = {}
    for level in levels:
        by_sku.setdefault(level.sku, []).append(level)
    rule = ListingRule(safety_stock=safety_stock, ratio=ratio, multiplier=multiplier)
    return explain_ats(by_sku, rule).quantity


def expand_bundles(
    quantities: Mapping[str, int], recipes: Mapping[str, Mapping[str, int]]
) -> dict[str, int]:
    """Units of each stocked SKU an order needs: bundles replaced by their components.

    `expand_bundles({"BOX": 2, "A": 1}, {"BOX": {"A": 1, "B": 3}})` is {"A": 3, "B": 6}.
    """
    needed: dict[str, int] = {}
    for sku, quantity in quantities.items():
        for part, per_set in (recipes.get(sku) or {sku: 1}).items():
            needed[part] = needed.get(part, 0) + per_set * quantity
    return needed
