from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest

from orderhub.domain.geo import PROVINCE_CAPITALS, distance_km, locate, normalise_province
from orderhub.domain.routing import (
    Allocation,
    LineNeed,
    NodeOption,
    RoutingRequest,
    allocate,
)


def make_request(
    lines: list[tuple[str, dict[str, int]]] | None = None,
    options: list[NodeOption] | None = None,
) -> RoutingRequest:
    return RoutingRequest(
        "o1",
        "CN",
        "浙江",
        lines=[LineNeed(lid, needs) for lid, needs in (lines or [("L1", {"A": 1})])],
        options=options or [NodeOption("WH1")],
    )


@dataclass(frozen=True)
class Fixed:
    """A strategy that always answers the same, for testing the order of asking."""

    name: str
    node: str | None

    def choose(self, request: RoutingRequest) -> Allocation | None:
        if self.node is None:
            return None
        return Allocation.whole(self.node, request, self.name, "fixed")


def test_a_request_needs_all_its_lines_added_together() -> None:
    request = make_request([("L1", {"A": 2, "B": 2}), ("L2", {"A": 1})])
    assert request.needed() == {"A": 3, "B": 2}


def test_a_node_ships_only_what_it_has_unless_its_stock_is_unlimited() -> None:
    node = NodeOption("WH1", available={"A": 3})
    assert node.can_ship({"A": 3})
    assert not node.can_ship({"A": 4})
    assert not node.can_ship({"B": 1})
    assert NodeOption("SUP", kind="supplier", unlimited=True).can_ship({"B": 1000})


def test_a_whole_order_allocation_names_its_node_and_a_split_names_none() -> None:
    whole = Allocation({"WH1": ("L1", "L2")}, "s", "r")
    split = Allocation({"WH1": ("L1",), "WH2": ("L2",)}, "s", "r")
    assert (whole.node, whole.is_split) == ("WH1", False)
    assert (split.node, split.is_split) == (None, True)
    assert split.line_nodes == {"L1": "WH1", "L2": "WH2"}


def test_the_first_strategy_that_answers_wins() -> None:
    strategies = [Fixed("a", None), Fixed("b", "WH2"), Fixed("c", "WH1")]
    chosen = allocate(make_request(options=[NodeOption("WH1"), NodeOption("WH2")]), strategies)
    assert chosen is not None and (chosen.strategy, chosen.node) == ("b", "WH2")


def test_when_every_strategy_passes_the_order_is_not_placed() -> None:
    assert allocate(make_request(), [Fixed("a", None)]) is None
    assert allocate(make_request(), []) is None


def test_allocate_changes_nothing_it_is_given() -> None:
    request = make_request([("L1", {"A": 1})], [NodeOption("WH1", available={"A": 5})])
    before = copy.deepcopy(request)
    allocate(request, [Fixed("a", "WH1")])
    assert request == before


@pytest.mark.parametrize(
    ("given", "short"),
    [
        ("新疆维吾尔自治区", "新疆"),
        ("上海市", "上海"),
        ("浙江省", "浙江"),
        ("广西壮族自治区", "广西"),
        ("宁夏回族自治区", "宁夏"),
        ("内蒙古自治区", "内蒙古"),
        ("西藏自治区", "西藏"),
        ("香港特别行政区", "香港"),
        (" 北京 ", "北京"),
        ("Zhejiang", "浙江"),
        ("Inner Mongolia", "内蒙古"),
        ("guangdong sheng", "广东"),
        ("California", "California"),
    ],
)
def test_province_names_are_compared_in_their_short_form(given: str, short: str) -> None:
    assert normalise_province(given) == short


def test_there_are_34_provincial_level_divisions_each_normalised_to_itself() -> None:
    assert len(PROVINCE_CAPITALS) == 34
    assert all(normalise_province(name) == name for name in PROVINCE_CAPITALS)


def test_distances_run_between_capitals_in_kilometres() -> None:
    shanghai, beijing = locate("CN", "上海市"), locate("CN", "北京")
    assert shanghai is not None and beijing is not None
    assert 1050 < distance_km(shanghai, beijing) < 1090
    assert distance_km(shanghai, shanghai) == 0


def test_abroad_the_country_locates_the_place_and_an_unknown_place_is_none() -> None:
    assert locate("US", "California") == locate("US", "")
    assert locate("HK", "") == locate("CN", "香港")
    assert locate("CN", "") is None
    assert locate("ZZ", "Nowhere") is None
