from __future__ import annotations

from decimal import Decimal

from orderhub.domain.allocation import (
    DEFAULT_STRATEGIES,
    LineNeed,
    NodeOption,
    RoutingRequest,
    allocate,
)
from orderhub.domain.masking import mask_email, mask_name, mask_phone
from orderhub.domain.stock import Level, available_to_sell


def test_available_to_sell_subtracts_reserved_and_safety_then_applies_ratio() -> None:
    levels = [Level("WH1", "A", 20, 3)]
    assert available_to_sell(levels, safety_stock=5, ratio=Decimal("0.6")) == 7


def test_available_to_sell_never_goes_negative_and_sums_nodes() -> None:
    levels = [Level("WH1", "A", 2, 2), Level("WH2", "A", 10, 1)]
    assert available_to_sell(levels, safety_stock=3) == 6
    assert available_to_sell([Level("WH1", "A", 1, 5)]) == 0


def test_a_listing_of_packs_shows_whole_packs() -> None:
    assert available_to_sell([Level("WH1", "A", 11, 0)], multiplier=5) == 2


def test_stock_first_prefers_the_node_that_can_ship_everything() -> None:
    request = RoutingRequest(
        "o1",
        "CN",
        "浙江",
        lines=[LineNeed("L1", {"A": 2}), LineNeed("L2", {"B": 1})],
        options=[
            NodeOption("WH1", priority=10, available={"A": 5}),
            NodeOption("WH2", priority=1, available={"A": 2, "B": 1}),
        ],
    )
    chosen = allocate(request, DEFAULT_STRATEGIES)
    assert chosen is not None and chosen.parts == {"WH2": ("L1", "L2")}


def test_without_stock_anywhere_the_home_node_is_chosen_and_reservation_decides() -> None:
    request = RoutingRequest(
        "o1",
        "CN",
        "浙江",
        lines=[LineNeed("L1", {"A": 2})],
        options=[NodeOption("WH1", 5, {}), NodeOption("WH2", 1, {})],
    )
    chosen = allocate(request, DEFAULT_STRATEGIES)
    assert chosen is not None and (chosen.node, chosen.strategy) == ("WH1", "home_node")


def test_personal_data_is_masked_as_sellers_expect() -> None:
    assert mask_name("张三") == "张*"
    assert mask_phone("13812348000") == "138****8000"
    assert mask_email("alice@example.com") == "a***@example.com"
