"""Seller rules: what each action does to an order, and how mistakes in rules are caught."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orderhub.domain.errors import InvalidRuleSet
from orderhub.domain.order import Address, Order, Remarks, Totals
from orderhub.domain.rules import (
    CompiledRules,
    Decision,
    Facts,
    RuleAction,
    RuleSet,
    combine,
    order_facts,
)
from support import make_order

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def rules(*specs: dict[str, Any], name: str = "checks") -> RuleSet:
    """A rule set of `specs`; each needs at least name, when and action."""
    return RuleSet(name=name, rules=[{"reason": f"because of {s['name']}", **s} for s in specs])


def decide(rule_set: RuleSet, order: Order, *, buyer_orders: int = 3) -> Decision:
    facts = order_facts(order, buyer_orders=buyer_orders, now=NOW)
    return rule_set.compile().evaluate(facts)


def to(province: str, *, total: str = "100.00", country: str = "CN") -> Order:
    return make_order(
        receiver=Address(name="李四", country=country, province=province, address1="人民路 1 号"),
        totals=Totals(items=Decimal(total), grand_total=Decimal(total)),
    )


BIG_WEST = {
    "name": "big-west",
    "when": "order.totals.grand_total > 2000 && order.receiver.province in ['新疆', '西藏']",
    "action": "hold",
}


# each action


def test_a_reject_rule_carries_its_code_and_reason_as_an_error() -> None:
    decision = decide(
        rules(
            {"name": "no-tibet", "when": "order.receiver.province == '西藏'", "action": "reject"}
        ),
        to("西藏"),
    )

    [hit] = decision.rejects
    assert (hit.rule, hit.code, hit.reason, hit.severity) == (
        "no-tibet",
        "rule:no-tibet",
        "because of no-tibet",
        "error",
    )
    assert decision.stops and not decision.holds and decision.route is None


def test_a_hold_rule_keeps_the_order_for_review_as_a_warning() -> None:
    decision = decide(rules(BIG_WEST), to("新疆", total="2500.00"))

    assert [(h.rule, h.severity) for h in decision.holds] == [("big-west", "warning")]
    assert decision.stops and not decision.rejects


def test_an_order_the_platform_tagged_as_risky_is_held_for_review() -> None:
    risky = {"name": "risky", "when": "'high-risk' in order.tags", "action": "hold"}
    flagged = make_order(tags=["vip", "high-risk"])

    assert [h.rule for h in decide(rules(risky), flagged).holds] == ["risky"]
    assert decide(rules(risky), make_order(tags=["vip"])).holds == []


def test_a_route_rule_names_its_node() -> None:
    west = {
        "name": "west",
        "when": "order.receiver.province in ['新疆', '西藏', '青海']",
        "action": "route",
        "node": "WH-WEST",
    }

    decision = decide(rules(west), to("青海"))

    assert decision.route is not None and decision.route.node == "WH-WEST"
    assert not decision.stops


def test_an_alert_rule_lets_the_order_go_on() -> None:
    alert = {"name": "watch", "when": "order.totals.grand_total > 50", "action": "alert"}

    decision = decide(rules(alert), to("浙江省"))

    assert [h.rule for h in decision.alerts] == ["watch"]
    assert not decision.stops


def test_no_merge_and_no_split_rules_set_their_flags_only_when_they_match() -> None:
    rule_set = rules(
        {"name": "apart", "when": "order.remarks.buyer.contains('分开发')", "action": "no_merge"},
        {"name": "whole", "when": "size(order.lines) > 1", "action": "no_split"},
    )
    asked_apart = make_order(remarks=Remarks(buyer="请分开发货"))
    two_lines = make_order(lines=[("SKU-1", 1), ("SKU-2", 1)])

    assert (decide(rule_set, asked_apart).no_merge, decide(rule_set, asked_apart).no_split) == (
        True,
        False,
    )
    assert (decide(rule_set, two_lines).no_merge, decide(rule_set, two_lines).no_split) == (
        False,
        True,
    )


# which rule wins


def test_the_first_matching_route_rule_wins_within_a_set_and_across_sets() -> None:
    first = rules(
        {"name": "xj", "when": "order.receiver.province == '新疆'", "action": "route", "node": "A"},
        {"name": "all", "when": "true", "action": "route", "node": "B"},
        name="a-routes",
    )
    later = rules(
        {"name": "other", "when": "true", "action": "route", "node": "C"}, name="b-routes"
    )
    facts = Facts(order_facts(to("新疆"), now=NOW))

    within = first.compile().evaluate(facts)
    across = CompiledRules((first.compile(), later.compile())).evaluate(facts)
    only_later = combine([Decision(), later.compile().evaluate(facts)])

    assert within.route is not None and within.route.node == "A"
    assert across.route is not None and (across.route.rule_set, across.route.node) == (
        "a-routes",
        "A",
    )
    assert only_later.route is not None and only_later.route.node == "C"


def test_decisions_of_several_sets_add_up_holds_and_flags() -> None:
    holds = rules(BIG_WEST, name="a")
    flags = rules({"name": "whole", "when": "true", "action": "no_split"}, name="b")
    facts = Facts(order_facts(to("西藏", total="3000"), now=NOW))

    decision = CompiledRules((holds.compile(), flags.compile())).evaluate(facts)

    assert [h.rule for h in decision.holds] == ["big-west"] and decision.no_split


def test_a_disabled_rule_never_matches() -> None:
    decision = decide(rules({**BIG_WEST, "enabled": False}), to("新疆", total="9999"))

    assert decision == Decision()


# mistakes in rules


def test_a_rule_that_does_not_parse_is_named_with_the_position_of_the_mistake() -> None:
    broken = rules(
        BIG_WEST, {"name": "typo", "when": "order.totals.grand_total >", "action": "hold"}
    )

    with pytest.raises(InvalidRuleSet) as caught:
        broken.compile()

    assert (caught.value.rule_set, caught.value.rule) == ("checks", "typo")
    assert caught.value.message.startswith("line 1, column 27: Syntax error")
    assert "\n" not in str(caught.value)


def test_a_rule_that_does_not_say_true_or_false_is_refused() -> None:
    with pytest.raises(InvalidRuleSet, match="gives int"):
        rules({"name": "sum", "when": "1 + 2", "action": "hold"}).compile()


def test_a_route_rule_without_a_node_and_a_hold_rule_with_one_are_refused() -> None:
    with pytest.raises(InvalidRuleSet, match="a route rule needs a node") as caught:
        rules({"name": "west", "when": "true", "action": "route"}).compile()
    assert caught.value.rule == "west"

    with pytest.raises(InvalidRuleSet, match="only route rules take a node"):
        rules({"name": "odd", "when": "true", "action": "hold", "node": "WH1"}).compile()


def test_two_rules_with_one_name_are_refused() -> None:
    with pytest.raises(InvalidRuleSet, match="same name"):
        rules(BIG_WEST, BIG_WEST).compile()


def test_a_missing_field_makes_the_rule_err_without_stopping_the_other_rules() -> None:
    rule_set = rules(
        {"name": "typo", "when": "order.receiver.provnce == '新疆'", "action": "hold"},
        BIG_WEST,
    )

    decision = decide(rule_set, to("新疆", total="2001"))

    [error] = decision.errors
    assert (error.rule, error.error) == ("typo", 'no field "provnce"')
    assert [h.rule for h in decision.holds] == ["big-west"]


def test_a_rule_that_fails_at_run_time_errs_instead_of_matching() -> None:
    decision = decide(
        rules({"name": "div", "when": "order.quantity / 0 > 1", "action": "reject"}), to("新疆")
    )

    assert not decision.rejects and [e.error for e in decision.errors] == ["divide by zero"]


# what sellers write


def test_amount_thresholds_compare_money_with_whole_numbers() -> None:
    rule_set = rules(BIG_WEST)

    assert decide(rule_set, to("新疆", total="2000.01")).holds
    assert not decide(rule_set, to("新疆", total="2000.00")).holds
    assert not decide(rule_set, to("广东省", total="5000.00")).holds


def test_first_time_buyers_are_those_with_no_previous_orders() -> None:
    first_big = {
        "name": "first-big",
        "when": "buyer.previous_orders == 0 && order.totals.grand_total > 1000",
        "action": "alert",
    }
    order = to("浙江省", total="1200")

    assert decide(rules(first_big), order, buyer_orders=0).alerts
    assert not decide(rules(first_big), order, buyer_orders=1).alerts


def test_remark_keywords_are_found_in_chinese_text() -> None:
    remark = {
        "name": "remark",
        "when": "order.remarks.buyer.matches('发票|改地址')",
        "action": "hold",
    }

    assert decide(rules(remark), make_order(remarks=Remarks(buyer="麻烦开发票，谢谢"))).holds
    assert decide(rules(remark), make_order(remarks=Remarks(buyer="我要改地址"))).holds
    assert not decide(rules(remark), make_order(remarks=Remarks(buyer="尽快发货"))).holds


def test_lines_and_times_can_be_tested() -> None:
    rule_set = rules(
        {
            "name": "sku",
            "when": "order.lines.exists(l, l.channel_sku == 'SKU-2')",
            "action": "hold",
        },
        {
            "name": "old",
            "when": "now - timestamp(order.placed_at) > duration('24h')",
            "action": "alert",
        },
    )

    decision = decide(rule_set, make_order(lines=[("SKU-1", 1), ("SKU-2", 3)]))

    assert [h.rule for h in decision.holds] == ["sku"]
    assert [h.rule for h in decision.alerts] == ["old"]  # placed 25 hours before NOW


def test_facts_are_plain_values_rules_can_read() -> None:
    facts = order_facts(
        make_order(lines=[("SKU-1", 2), ("SKU-2", 1)], price="9.90"), buyer_orders=4, now=NOW
    )

    order = facts["order"]
    assert order["totals"]["grand_total"] == pytest.approx(29.7)
    assert order["quantity"] == 3 and order["placed_at"] == "2026-11-01T08:00:00Z"
    assert order["lines"][0] == {
        "line_id": "1",
        "sku": None,
        "channel_sku": "SKU-1",
        "title": "SKU-1",
        "quantity": 2,
        "unit_price": 9.9,
        "node": None,
    }
    assert facts["buyer"] == {
        "previous_orders": 4,
        "orders": 0,
        "spend": 0.0,
        "returns": 0,
        "tags": [],
    }
    assert facts["now"] == NOW


def test_rule_defaults_and_unknown_fields() -> None:
    rule_set = rules({"name": "r", "when": "true", "action": "alert"})

    [rule] = rule_set.rules
    assert (rule.code, rule.severity, rule.enabled, rule.action) == (
        "rule:r",
        "warning",
        True,
        RuleAction.ALERT,
    )
    with pytest.raises(ValueError, match="Extra inputs"):
        rules({"name": "r", "when": "true", "action": "alert", "colour": "red"})
