from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from orderhub.domain.allocation import (
    DEFAULT_STRATEGIES,
    FixedNode,
    FixedSku,
    HomeNode,
    LineNeed,
    LowestCost,
    Nearest,
    NodeOption,
    Presale,
    Region,
    RoutingConfig,
    RoutingRequest,
    Rule,
    Split,
    StockFirst,
    SupplierScore,
    allocate,
    build_strategies,
    plan_split,
    stable_unit,
)


def make_request(
    lines: list[tuple[str, dict[str, int]]] | None = None,
    options: list[NodeOption] | None = None,
    *,
    order_id: str = "o1",
    country: str = "CN",
    province: str = "浙江",
    split_allowed: bool = False,
    rule_node: str | None = None,
    presale_skus: frozenset[str] = frozenset(),
) -> RoutingRequest:
    return RoutingRequest(
        order_id,
        country,
        province,
        lines=[LineNeed(lid, needs) for lid, needs in (lines or [("L1", {"A": 1})])],
        options=options if options is not None else [NodeOption("WH1", available={"A": 9})],
        split_allowed=split_allowed,
        rule_node=rule_node,
        presale_skus=presale_skus,
    )


# rule


def test_a_seller_rule_routes_to_its_node_even_without_stock() -> None:
    request = make_request(options=[NodeOption("WH1"), NodeOption("WH2")], rule_node="WH2")
    chosen = Rule().choose(request)
    assert chosen is not None and chosen.node == "WH2" and "WH2" in chosen.reason


def test_a_rule_naming_a_node_that_does_not_serve_the_shop_is_ignored() -> None:
    assert Rule().choose(make_request(rule_node="WH9")) is None
    assert Rule().choose(make_request()) is None


# presale


def test_an_order_with_a_presale_sku_goes_to_the_presale_node() -> None:
    options = [NodeOption("WH1", 9, {"A": 9}), NodeOption("PRE")]
    chosen = Presale("PRE").choose(make_request(options=options, presale_skus=frozenset({"A"})))
    assert chosen is not None and chosen.node == "PRE" and "A" in chosen.reason


def test_presale_passes_without_presale_skus_or_a_presale_node() -> None:
    options = [NodeOption("WH1"), NodeOption("PRE")]
    assert Presale("PRE").choose(make_request(options=options)) is None
    assert Presale(None).choose(make_request(options=options, presale_skus=frozenset("A"))) is None
    assert Presale("GONE").choose(make_request(presale_skus=frozenset("A"))) is None


# fixed_sku

TWO_NODES = [NodeOption("WH1"), NodeOption("WH2")]


def test_skus_bound_to_one_node_go_there_whatever_its_stock() -> None:
    request = make_request([("L1", {"A": 1}), ("L2", {"B": 5})], TWO_NODES)
    chosen = FixedSku({"A": "WH2", "B": "WH2"}).choose(request)
    assert chosen is not None and chosen.parts == {"WH2": ("L1", "L2")}
    assert chosen.reason == "A → WH2; B → WH2"


def test_skus_bound_to_different_nodes_split_the_order_only_when_allowed() -> None:
    lines = [("L1", {"A": 1}), ("L2", {"B": 1})]
    table = {"A": "WH1", "B": "WH2"}
    split = FixedSku(table).choose(make_request(lines, TWO_NODES, split_allowed=True))
    assert split is not None and split.parts == {"WH1": ("L1",), "WH2": ("L2",)}
    assert FixedSku(table).choose(make_request(lines, TWO_NODES)) is None
    capped = make_request(lines, TWO_NODES, split_allowed=True)
    assert FixedSku(table, max_parts=1).choose(capped) is None


def test_fixed_sku_passes_on_an_unbound_sku_a_divided_line_or_a_foreign_node() -> None:
    assert (
        FixedSku({"A": "WH1"}).choose(make_request([("L1", {"A": 1, "B": 1})], TWO_NODES)) is None
    )
    bundle = make_request([("L1", {"A": 1, "B": 1})], TWO_NODES, split_allowed=True)
    assert FixedSku({"A": "WH1", "B": "WH2"}).choose(bundle) is None
    assert FixedSku({"A": "WH9"}).choose(make_request(options=TWO_NODES)) is None


# region

WEST_EAST = [
    NodeOption("WH-E", 9, {"A": 9}, province="浙江"),
    NodeOption("WH-W", 1, {"A": 9}, province="陕西"),
    NodeOption("WH-US", 1, {"A": 9}, country="US"),
]


def test_a_region_table_routes_by_the_normalised_ship_to_province() -> None:
    region = Region({"新疆": "WH-W", "浙江省": "WH-E"})
    chosen = region.choose(make_request(options=WEST_EAST, province="新疆维吾尔自治区"))
    assert chosen is not None and chosen.node == "WH-W"
    assert f"{chosen.strategy}: {chosen.reason}" == "region: 新疆 → WH-W"
    east = region.choose(make_request(options=WEST_EAST, province="浙江"))
    assert east is not None and east.node == "WH-E"


def test_a_region_table_falls_back_to_the_country() -> None:
    region = Region({"us": "WH-US", "CA": "WH-E"})
    chosen = region.choose(make_request(options=WEST_EAST, country="US", province="CA"))
    assert chosen is not None and chosen.node == "WH-US"


def test_region_passes_when_its_node_cannot_ship_or_does_not_serve_the_shop() -> None:
    short = make_request([("L1", {"A": 10})], WEST_EAST, province="新疆")
    assert Region({"新疆": "WH-W"}).choose(short) is None
    assert Region({"新疆": "WH-X"}).choose(make_request(options=WEST_EAST, province="新疆")) is None
    assert Region({"新疆": "WH-W"}).choose(make_request(options=WEST_EAST, province="西藏")) is None


# stock_first


def test_stock_first_takes_the_highest_priority_node_with_everything_ties_by_code() -> None:
    options = [
        NodeOption("WH3", 9, {"A": 1}),
        NodeOption("WH2", 5, {"A": 5}),
        NodeOption("WH1", 5, {"A": 5}),
    ]
    chosen = StockFirst().choose(make_request([("L1", {"A": 2})], options))
    assert chosen is not None and chosen.node == "WH1"
    assert StockFirst().choose(make_request([("L1", {"A": 6})], options)) is None


# nearest


def test_nearest_picks_the_closest_node_that_can_ship_and_names_the_distance() -> None:
    chosen = Nearest().choose(make_request(options=WEST_EAST, province="新疆维吾尔自治区"))
    assert chosen is not None and chosen.node == "WH-W"
    assert "km from 新疆" in chosen.reason
    only_east = [NodeOption("WH-W", 1, {}, province="陕西"), WEST_EAST[0]]
    chosen = Nearest().choose(make_request(options=only_east, province="新疆"))
    assert chosen is not None and chosen.node == "WH-E"


def test_nearest_ranks_an_unknown_place_last_and_passes_when_nothing_can_be_measured() -> None:
    options = [NodeOption("WH-?", 9, {"A": 9}), NodeOption("WH-E", 1, {"A": 9}, province="浙江")]
    chosen = Nearest().choose(make_request(options=options, province="新疆"))
    assert chosen is not None and chosen.node == "WH-E"
    assert Nearest().choose(make_request(options=options[:1], province="新疆")) is None
    assert Nearest().choose(make_request(options=options, country="ZZ", province="")) is None


# lowest_cost


def test_lowest_cost_compares_the_rate_to_the_ship_to_falling_back_to_the_default() -> None:
    options = [
        NodeOption("WH1", 9, {"A": 9}, costs={"浙江省": Decimal("12"), "*": Decimal("5")}),
        NodeOption("WH2", 1, {"A": 9}, costs={"*": Decimal("8")}),
        NodeOption("WH3", 1, {}, costs={"*": Decimal("1")}),
    ]
    chosen = LowestCost().choose(make_request(options=options, province="浙江"))
    assert chosen is not None and chosen.node == "WH2" and "8" in chosen.reason
    abroad = LowestCost().choose(make_request(options=options, country="US", province=""))
    assert abroad is not None and abroad.node == "WH1" and "5" in abroad.reason


def test_lowest_cost_ranks_nodes_without_a_rate_last_and_passes_when_none_has_one() -> None:
    options = [
        NodeOption("WH1", 9, {"A": 9}),
        NodeOption("WH2", 1, {"A": 9}, costs={"浙江": Decimal(3)}),
    ]
    chosen = LowestCost().choose(make_request(options=options))
    assert chosen is not None and chosen.node == "WH2"
    assert LowestCost().choose(make_request(options=options[:1])) is None


# supplier_score


def shares(options: list[NodeOption], n: int = 10_000, *, weighted: bool = True) -> Counter[str]:
    strategy = SupplierScore(weighted)
    counts: Counter[str] = Counter()
    for i in range(n):
        chosen = strategy.choose(make_request(options=options, order_id=f"order-{i}"))
        assert chosen is not None and chosen.node is not None
        counts[chosen.node] += 1
    return counts


def supplier(code: str, score: float | None) -> NodeOption:
    return NodeOption(code, kind="supplier", score=score, unlimited=True)


def test_a_slow_supplier_gets_orders_in_proportion_to_its_score() -> None:
    counts = shares([supplier("FAST", 1.0), supplier("SLOW", 0.2), supplier("NEW", None)])
    assert counts["FAST"] / 10_000 == pytest.approx(1.0 / 1.7, abs=0.02)
    assert counts["SLOW"] / 10_000 == pytest.approx(0.2 / 1.7, abs=0.02)
    assert counts["NEW"] / 10_000 == pytest.approx(0.5 / 1.7, abs=0.02)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0.05, 1.0), min_size=1, max_size=4))
def test_supplier_shares_follow_the_scores(scores: list[float]) -> None:
    options = [supplier(f"S{i}", s) for i, s in enumerate(scores)]
    counts = shares(options)
    for i, score in enumerate(scores):
        assert counts[f"S{i}"] / 10_000 == pytest.approx(score / sum(scores), abs=0.03)


def test_a_supplier_scored_zero_gets_no_orders_unless_it_is_the_only_one() -> None:
    assert shares([supplier("GOOD", 0.4), supplier("BAD", 0.0)], 2_000)["BAD"] == 0
    assert shares([supplier("BAD", 0.0)], 100)["BAD"] == 100


def test_without_weighting_suppliers_share_equally() -> None:
    counts = shares([supplier("A", 1.0), supplier("B", 0.1)], weighted=False)
    assert counts["B"] / 10_000 == pytest.approx(0.5, abs=0.02)


def test_supplier_score_only_considers_suppliers_that_can_ship_and_is_repeatable() -> None:
    options = [
        NodeOption("WH1", 9, {"A": 9}),
        NodeOption("SUP1", kind="supplier", score=1.0, available={}),
        supplier("SUP2", 0.1),
    ]
    for i in range(50):
        request = make_request(options=options, order_id=f"o{i}")
        first, again = SupplierScore().choose(request), SupplierScore().choose(request)
        assert first is not None and first.node == "SUP2" and first == again
    assert SupplierScore().choose(make_request(options=options[:2])) is None
    assert 0 <= stable_unit("x") < 1 and stable_unit("x") == stable_unit("x")


# split

LINES = [("L1", {"A": 2}), ("L2", {"B": 1}), ("L3", {"C": 1})]
STORES = [NodeOption("WH1", 5, {"A": 5}), NodeOption("WH2", 1, {"B": 1, "C": 1})]


def test_split_covers_the_order_with_as_few_nodes_as_it_can() -> None:
    chosen = Split().choose(make_request(LINES, STORES, split_allowed=True))
    assert chosen is not None and chosen.is_split
    assert chosen.parts == {"WH2": ("L2", "L3"), "WH1": ("L1",)}
    assert chosen.reason == "WH2 ships L2, L3; WH1 ships L1"


def test_split_deducts_each_line_from_the_stock_of_the_node_that_takes_it() -> None:
    lines = [("L1", {"A": 3}), ("L2", {"A": 3})]
    options = [NodeOption("WH1", 9, {"A": 4}), NodeOption("WH2", 1, {"A": 3})]
    chosen = Split().choose(make_request(lines, options, split_allowed=True))
    assert chosen is not None and chosen.parts == {"WH1": ("L1",), "WH2": ("L2",)}


def test_split_passes_when_not_allowed_too_many_parts_or_a_line_fits_nowhere() -> None:
    assert Split().choose(make_request(LINES, STORES)) is None
    assert Split(max_parts=1).choose(make_request(LINES, STORES, split_allowed=True)) is None
    too_big = make_request([*LINES, ("L4", {"D": 1})], STORES, split_allowed=True)
    assert Split().choose(too_big) is None


stock = st.dictionaries(st.sampled_from("ABCD"), st.integers(0, 4), max_size=4)


@settings(max_examples=300)
@given(
    needs=st.lists(
        st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 3), min_size=1, max_size=2),
        min_size=1,
        max_size=6,
    ),
    stocks=st.lists(stock, min_size=1, max_size=5),
    max_parts=st.integers(1, 4),
)
def test_a_split_never_overfills_a_node_nor_exceeds_max_parts(
    needs: list[dict[str, int]], stocks: list[dict[str, int]], max_parts: int
) -> None:
    lines = [LineNeed(f"L{i}", need) for i, need in enumerate(needs)]
    options = [NodeOption(f"WH{i}", i % 2, available) for i, available in enumerate(stocks)]
    parts = plan_split(lines, options, max_parts)
    if parts is None:
        return
    assert len(parts) <= max_parts
    assigned = [lid for ids in parts.values() for lid in ids]
    assert sorted(assigned) == sorted(line.line_id for line in lines)
    by_id = {line.line_id: line.needs for line in lines}
    by_code = {option.code: option for option in options}
    for node, ids in parts.items():
        taken: Counter[str] = Counter()
        for lid in ids:
            taken.update(by_id[lid])
        assert by_code[node].can_ship(taken)


# home_node


def test_the_home_node_is_the_highest_priority_one_whatever_its_stock() -> None:
    options = [NodeOption("WH2", 5), NodeOption("WH1", 5), NodeOption("WH0", 1, {"A": 9})]
    chosen = HomeNode().choose(make_request(options=options))
    assert chosen is not None and (chosen.node, chosen.strategy) == ("WH1", "home_node")
    assert HomeNode().choose(make_request(options=[])) is None
    assert FixedNode is HomeNode


# configuration


def test_the_default_routing_is_rule_stock_first_split_home_node() -> None:
    assert [s.name for s in DEFAULT_STRATEGIES] == ["rule", "stock_first", "split", "home_node"]
    assert [s.name for s in build_strategies(RoutingConfig())] == [
        "rule",
        "stock_first",
        "split",
        "home_node",
    ]


def test_a_shop_config_compiles_to_its_strategies_in_order() -> None:
    config = RoutingConfig.model_validate(
        {
            "strategies": ["presale", "fixed_sku", "region", "lowest_cost", "split"],
            "fixed_sku": {"A": "WH1"},
            "regions": {"新疆维吾尔自治区": "WH-W", "us": "WH-US"},
            "split": True,
            "max_parts": 2,
            "presale_node": "PRE",
            "merge_window": 30,
        }
    )
    assert config.regions == {"新疆": "WH-W", "US": "WH-US"}
    assert build_strategies(config) == (
        Presale("PRE"),
        FixedSku({"A": "WH1"}, 2),
        Region({"新疆": "WH-W", "US": "WH-US"}),
        LowestCost(),
        Split(2),
    )


def test_an_unknown_strategy_name_is_rejected_with_the_known_names() -> None:
    with pytest.raises(ValidationError, match="unknown routing strategy 'cheapest'; known: rule"):
        RoutingConfig(strategies=["stock_first", "cheapest"])
    with pytest.raises(ValueError, match="unknown routing strategy 'cheapest'"):
        build_strategies(RoutingConfig.model_construct(strategies=["cheapest"]))
    with pytest.raises(ValidationError, match="listed twice: split"):
        RoutingConfig(strategies=["split", "split"])


def test_a_routing_config_rejects_unknown_fields_and_conflicting_regions() -> None:
    with pytest.raises(ValidationError, match="extra"):
        RoutingConfig.model_validate({"strategy": ["rule"]})
    with pytest.raises(ValidationError, match="already routed elsewhere"):
        RoutingConfig(regions={"上海": "WH1", "上海市": "WH2"})


def test_strategies_are_tried_in_the_configured_order() -> None:
    config = RoutingConfig(strategies=["region", "nearest", "home_node"], regions={"浙江": "WH-W"})
    request = make_request(options=WEST_EAST, province="浙江省")
    chosen = allocate(request, build_strategies(config))
    assert chosen is not None and chosen.strategy == "region" and chosen.node == "WH-W"
    short = make_request([("L1", {"A": 10})], WEST_EAST, province="浙江省")
    chosen = allocate(short, build_strategies(config))
    assert chosen is not None and chosen.strategy == "home_node" and chosen.node == "WH-E"
