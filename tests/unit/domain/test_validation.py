from __future__ import annotations

from decimal import Decimal

from orderhub.domain.order import Address, ChannelStatus, Totals
from orderhub.domain.validation import check_order, resolve_skus
from support import make_order


def codes(order_problems: list) -> set[str]:  # type: ignore[type-arg]
    return {p.code for p in order_problems}


def test_a_complete_paid_order_has_no_problems() -> None:
    assert check_order(make_order()) == []


def test_an_order_without_shipping_address_is_reported_in_plain_words() -> None:
    problems = check_order(make_order(receiver=Address()))
    assert [p.message for p in problems] == ["the order has no shipping address"]


def test_missing_phone_and_bad_country_are_each_reported() -> None:
    order = make_order()
    order.receiver.phone = ""
    order.receiver.country = "China"
    assert codes(check_order(order)) == {"missing_phone", "invalid_country"}


def test_line_without_sku_and_zero_quantity_are_problems() -> None:
    order = make_order(lines=[("", 1), ("SKU-2", 0)])
    order.totals = Totals(items=Decimal("10.00"), grand_total=Decimal("10.00"))
    assert {"line_without_sku", "bad_quantity"} <= codes(check_order(order))


def test_amounts_that_do_not_add_up_are_held() -> None:
    order = make_order(lines=[("SKU-1", 2)], price="10.00")
    order.totals = Totals(
        items=Decimal("20.00"), shipping=Decimal("5"), grand_total=Decimal("20.00")
    )
    problems = check_order(order)
    assert [p.field for p in problems] == ["totals.grand_total"]


def test_unpaid_orders_wait_rather_than_fail() -> None:
    problems = check_order(make_order(channel_status=ChannelStatus.UNPAID))
    assert [(p.code, p.severity) for p in problems] == [("not_paid", "hold")]


def test_channel_skus_resolve_through_listings_or_directly() -> None:
    order = make_order(lines=[("SHOP-A", 1), ("SKU-2", 1), ("NOPE", 1)])
    problems = resolve_skus(order, listings={"SHOP-A": "SKU-1"}, known_skus={"SKU-1", "SKU-2"})
    assert [line.sku for line in order.lines] == ["SKU-1", "SKU-2", None]
    assert [p.field for p in problems] == ["lines[2].channel_sku"]


def test_a_street_the_platform_withheld_is_one_problem_that_says_why() -> None:
    order = make_order()
    order.receiver.name = order.receiver.phone = order.receiver.address1 = ""
    order.address_withheld = "the platform sends it only with a token"
    assert [(p.code, p.message) for p in check_order(order)] == [
        (
            "missing_address",
            "the street address is missing: the platform sends it only with a token",
        )
    ]
    order.receiver.address1, order.receiver.name = "12 Pine St", "Ava"  # a person set it
    assert codes(check_order(order)) == {"missing_phone"}
