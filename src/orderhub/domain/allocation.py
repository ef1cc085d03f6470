"""Routing strategies (分仓/分单): which node ships an order, configurable per shop.

A shop lists strategy names in order (`RoutingConfig.strategies`); `build_strategies`
compiles them once and `allocate` asks each in turn until one places the order. With
the default ``rule → stock_first → split → home_node`` an order goes to the node a seller
rule names, else to the best node that has everything, else (when the shop allows it)
to as few nodes as cover it, else to the home node to wait for stock.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orderhub.domain.geo import distance_km, locate, normalise_province, region_key
from orderhub.domain.routing import (
    Allocation,
    LineNeed,
    NodeOption,
    RoutingRequest,
    RoutingStrategy,
    add_needs,
    allocate,
)

__all__ = [
    "DEFAULT_STRATEGIES",
    "DEFAULT_STRATEGY_NAMES",
    "STRATEGY_NAMES",
    "Allocation",
    "FixedNode",
    "FixedSku",
    "HomeNode",
    "LineNeed",
    "LowestCost",
    "Nearest",
    "NodeOption",
    "Presale",
    "Region",
    "RoutingConfig",
    "RoutingRequest",
    "RoutingStrategy",
    "Rule",
    "Split",
    "StockFirst",
    "SupplierScore",
    "add_needs",
    "allocate",
    "build_strategies",
    "cost_to",
    "plan_split",
    "stable_unit",
]


def _ranked(options: Sequence[NodeOption]) -> list[NodeOption]:
    """Highest priority first, ties by code."""
    return sorted(options, key=lambda o: (-o.priority, o.code))


def _shippable(request: RoutingRequest) -> list[NodeOption]:
    """The nodes that can ship the whole order now, highest priority first."""
    needed = request.needed()
    return [o for o in _ranked(request.options) if o.can_ship(needed)]


def _destination(request: RoutingRequest) -> str:
    return normalise_province(request.province) or request.country.strip().upper()


def _is_country(key: str) -> bool:
    return len(key) == 2 and key.isascii() and key.isalpha() and key.isupper()


def _region_lookup(keys: Collection[str], country: str, province: str) -> str | None:
    """The key (normalised by `region_key`) that matches the ship-to: province, else country."""
    short = normalise_province(province)
    if short and not _is_country(short) and short in keys:
        return short
    code = country.strip().upper()
    return code if code and code in keys else None


@dataclass(frozen=True)
class Rule:
    """The node a seller rule named, when it serves the shop; stock is not checked."""

    name = "rule"

    def choose(self, request: RoutingRequest) -> Allocation | None:
        option = request.option(request.rule_node)
        if option is None:
            return None
        return Allocation.whole(option.code, request, self.name, f"seller rule → {option.code}")


@dataclass(frozen=True)
class Presale:
    """Orders with a presale SKU go to the presale node, where presale stock is booked."""

    node: str | None = None
    name = "presale"

    def choose(self, request: RoutingRequest) -> Allocation | None:
        if self.node is None or not request.presale_skus or request.option(self.node) is None:
            return None
        skus = ", ".join(sorted(request.presale_skus))
        return Allocation.whole(self.node, request, self.name, f"presale {skus} → {self.node}")


@dataclass(frozen=True)
class FixedSku:
    """SKUs bound to a node (`{"A": "WH1"}`): the order goes where its SKUs live.

    Stock is not checked (the reservation decides). Lines bound to different nodes make
    a split, when the order may be split; an unbound SKU, or a line whose SKUs live at
    different nodes (a line is never split), leaves the order to the next strategy.
    """

    table: Mapping[str, str] = field(default_factory=dict)
    max_parts: int = 3
    name = "fixed_sku"

    def choose(self, request: RoutingRequest) -> Allocation | None:
        parts: dict[str, list[str]] = {}
        free: list[str] = []
        for line in request.lines:
            nodes = {self.table.get(sku) for sku in line.needs}
            if None in nodes or len(nodes) > 1:
                return None
            if not nodes:
                free.append(line.line_id)  # takes no stock: rides with the first part
                continue
            parts.setdefault(str(nodes.pop()), []).append(line.line_id)
        if not parts or any(request.option(node) is None for node in parts):
            return None
        if len(parts) > 1 and (not request.split_allowed or len(parts) > self.max_parts):
            return None
        first = min(parts)
        parts[first] = [*parts[first], *free]
        skus = sorted(request.needed())
        reason = "; ".join(f"{sku} → {self.table[sku]}" for sku in skus)
        return Allocation({n: tuple(ids) for n, ids in sorted(parts.items())}, self.name, reason)


@dataclass(frozen=True)
class Region:
    """A node per destination (`{"新疆": "WH-W", "US": "WH-US"}`), if it can ship the order.

    The ship-to province is looked up first, then the country. Keys are normalised, so
    "新疆维吾尔自治区" and "新疆" are one key.
    """

    table: Mapping[str, str] = field(default_factory=dict)
    name = "region"

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", {region_key(k): v for k, v in self.table.items()})

    def choose(self, request: RoutingRequest) -> Allocation | None:
        key = _region_lookup(self.table, request.country, request.province)
        option = request.option(self.table[key]) if key is not None else None
        if option is None or not option.can_ship(request.needed()):
            return None
        return Allocation.whole(option.code, request, self.name, f"{key} → {option.code}")


@dataclass(frozen=True)
class StockFirst:
    """The highest-priority node that can ship every line now (ties by code)."""

    name = "stock_first"

    def choose(self, request: RoutingRequest) -> Allocation | None:
        for option in _shippable(request):
            reason = f"{option.code} has every line in stock"
            return Allocation.whole(option.code, request, self.name, reason)
        return None


@dataclass(frozen=True)
class Nearest:
    """Of the nodes that can ship everything, the one nearest the ship-to.

    Distances run between province capitals (country capitals abroad); a node whose
    place we do not know ranks last, and when nothing can be measured the strategy passes.
    """

    name = "nearest"

    def choose(self, request: RoutingRequest) -> Allocation | None:
        target = locate(request.country, request.province)
        if target is None:
            return None
        best: tuple[float, NodeOption] | None = None
        for option in _shippable(request):
            origin = locate(option.country, option.province)
            km = math.inf if origin is None else distance_km(origin, target)
            if best is None or km < best[0]:
                best = (km, option)
        if best is None or math.isinf(best[0]):
            return None
        km, option = best
        reason = f"{option.code} is {km:,.0f} km from {_destination(request)}"
        return Allocation.whole(option.code, request, self.name, reason)


def cost_to(option: NodeOption, country: str, province: str) -> tuple[str, Decimal] | None:
    """The node's shipping cost to the ship-to and the key it came from: province, else
    country, else "*"; None when the node has no rate for it."""
    costs = {k if k == "*" else region_key(k): v for k, v in option.costs.items()}
    key = _region_lookup(costs, country, province) or ("*" if "*" in costs else None)
    return None if key is None else (key, costs[key])


@dataclass(frozen=True)
class LowestCost:
    """Of the nodes that can ship everything, the cheapest to the ship-to.

    Ties go to priority then code; a node without a rate for the destination ranks last,
    and when no node has one the strategy passes.
    """

    name = "lowest_cost"

    def choose(self, request: RoutingRequest) -> Allocation | None:
        best: tuple[Decimal, str, NodeOption] | None = None
        for option in _shippable(request):
            found = cost_to(option, request.country, request.province)
            if found is not None and (best is None or found[1] < best[0]):
                best = (found[1], found[0], option)
        if best is None:
            return None
        cost, key, option = best
        where = "elsewhere (default rate)" if key == "*" else key
        reason = f"{option.code} ships to {where} for {cost}"
        return Allocation.whole(option.code, request, self.name, reason)


def stable_unit(order_id: str) -> float:
    """A number in [0, 1) fixed by the order id, so a re-run routes the same way."""
    digest = hashlib.blake2b(order_id.encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / 2**53


@dataclass(frozen=True)
class SupplierScore:
    """Spreads orders over the suppliers that can ship them, in proportion to score.

    A supplier scored 0.2 gets about a fifth of the orders of one scored 1.0; no history
    counts as 0.5; a score of 0 gets nothing while another supplier scores above 0. With
    `weighted` off every supplier gets an equal share. The pick is a stable hash of the
    order id laid over the cumulative weights: weights (S1 1.0, S2 0.5, S3 0.2), unit 0.8
    → 0.8 × 1.7 = 1.36 falls in S2's band [1.0, 1.5).
    """

    weighted: bool = True
    name = "supplier_score"

    def weight(self, option: NodeOption) -> float:
        """The supplier's share of the spread: its score clamped to 0..1, or 0.5."""
        if not self.weighted:
            return 1.0
        score = 0.5 if option.score is None else option.score
        return min(1.0, max(0.0, score)) if math.isfinite(score) else 0.0

    def choose(self, request: RoutingRequest) -> Allocation | None:
        needed = request.needed()
        suppliers = sorted(
            (o for o in request.options if o.kind == "supplier" and o.can_ship(needed)),
            key=lambda o: o.code,
        )
        if not suppliers:
            return None
        weights = [self.weight(o) for o in suppliers]
        if not any(weights):  # nobody scored above 0: share equally
            weights = [1.0] * len(suppliers)
        bands = list(accumulate(weights))
        index = bisect_right(bands, stable_unit(request.order_id) * bands[-1])
        if index >= len(suppliers):  # float rounding at the very top: the last real band
            index = max(i for i, w in enumerate(weights) if w > 0)
        option = suppliers[index]
        reason = f"{option.code} takes {weights[index] / bands[-1]:.0%} of orders by score"
        return Allocation.whole(option.code, request, self.name, reason)


def plan_split(
    lines: Sequence[LineNeed], options: Sequence[NodeOption], max_parts: int
) -> dict[str, tuple[str, ...]] | None:
    """Cover the lines with few nodes; None if more than `max_parts` or a line fits nowhere.

    Greedy: take the node that can ship the most remaining lines from its stock (lines
    packed in order, each deducted in full; ties by priority then code), repeat. WH1
    {A: 5} and WH2 {B: 1, C: 1} for lines A×2, B×1, C×1 → {WH2: (B, C), WH1: (A,)}.
    """
    remaining = list(lines)
    unused = _ranked(options)
    parts: dict[str, tuple[str, ...]] = {}
    while remaining:
        if len(parts) >= max_parts:
            return None
        best: tuple[NodeOption, list[LineNeed]] | None = None
        for option in unused:
            packed = _pack(option, remaining)
            if packed and (best is None or len(packed) > len(best[1])):
                best = (option, packed)
        if best is None:
            return None
        option, packed = best
        parts[option.code] = tuple(line.line_id for line in packed)
        unused.remove(option)
        remaining = [line for line in remaining if line not in packed]
    return parts


def _pack(option: NodeOption, lines: Sequence[LineNeed]) -> list[LineNeed]:
    """The lines, in order, that the node can ship together from its stock."""
    stock = dict(option.available)
    packed: list[LineNeed] = []
    for line in lines:
        if option.unlimited or all(stock.get(sku, 0) >= q for sku, q in line.needs.items()):
            for sku, qty in line.needs.items():
                stock[sku] = stock.get(sku, 0) - qty
            packed.append(line)
    return packed


@dataclass(frozen=True)
class Split:
    """When the order may be split: as few nodes as cover it, at most `max_parts`."""

    max_parts: int = 3
    name = "split"

    def choose(self, request: RoutingRequest) -> Allocation | None:
        if not request.split_allowed or not request.lines:
            return None
        parts = plan_split(request.lines, request.options, self.max_parts)
        if parts is None:
            return None
        reason = "; ".join(f"{node} ships {', '.join(ids)}" for node, ids in parts.items())
        return Allocation(parts, self.name, reason)


@dataclass(frozen=True)
class HomeNode:
    """The shop's highest-priority node, stock or not: the reservation then holds the
    order as out of stock until stock arrives.

    A supplier is never the home of SKUs it does not list: stock for them will never
    arrive there.
    """

    name = "home_node"

    def choose(self, request: RoutingRequest) -> Allocation | None:
        needed = request.needed()
        candidates = [
            o
            for o in request.options
            if o.kind != "supplier" or all(sku in o.available for sku in needed)
        ]
        if not candidates:
            return None
        best = _ranked(candidates)[0]
        return Allocation.whole(best.code, request, self.name, f"{best.code} is the home node")


FixedNode = HomeNode  # the name before strategies were configurable

_FACTORIES: dict[str, Callable[[RoutingConfig], RoutingStrategy]] = {
    "rule": lambda c: Rule(),
    "presale": lambda c: Presale(c.presale_node),
    "fixed_sku": lambda c: FixedSku(dict(c.fixed_sku), c.max_parts),
    "region": lambda c: Region(dict(c.regions)),
    "stock_first": lambda c: StockFirst(),
    "nearest": lambda c: Nearest(),
    "lowest_cost": lambda c: LowestCost(),
    "supplier_score": lambda c: SupplierScore(c.supplier_weighting),
    "split": lambda c: Split(c.max_parts),
    "home_node": lambda c: HomeNode(),
}
STRATEGY_NAMES: tuple[str, ...] = tuple(_FACTORIES)
DEFAULT_STRATEGY_NAMES: tuple[str, ...] = ("rule", "stock_first", "split", "home_node")


def _check_names(names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in _FACTORIES]
    if unknown:
        raise ValueError(
            f"unknown routing strategy {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(STRATEGY_NAMES)}"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"routing strategy listed twice: {', '.join(repeated)}")


class RoutingConfig(BaseModel):
    """A shop's routing, as written under the shop's `routing:` in the config file.

    `split` lets the caller split orders (it sets `RoutingRequest.split_allowed`);
    `merge_window` (seconds) is for merging orders before routing and is only carried.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategies: list[str] = Field(default_factory=lambda: list(DEFAULT_STRATEGY_NAMES))
    fixed_sku: dict[str, str] = Field(default_factory=dict)
    regions: dict[str, str] = Field(default_factory=dict)
    split: bool = False
    max_parts: int = Field(default=3, ge=1)
    supplier_weighting: bool = True
    merge_window: float = Field(default=0.0, ge=0)
    presale_node: str | None = None

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, names: list[str]) -> list[str]:
        _check_names(names)
        return names

    @field_validator("regions")
    @classmethod
    def _normalised_regions(cls, regions: dict[str, str]) -> dict[str, str]:
        normalised: dict[str, str] = {}
        for key, node in regions.items():
            short = region_key(key)
            if normalised.get(short, node) != node:
                raise ValueError(f"region {key!r} is {short!r}, already routed elsewhere")
            normalised[short] = node
        return normalised


def build_strategies(config: RoutingConfig) -> tuple[RoutingStrategy, ...]:
    """The shop's strategies, in its order; compile once per config and reuse."""
    _check_names(config.strategies)
    return tuple(_FACTORIES[name](config) for name in config.strategies)


DEFAULT_STRATEGIES: tuple[RoutingStrategy, ...] = build_strategies(RoutingConfig())
