"""The declarative Shopify mapping on payloads the Shopify emulator produces."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jmespath
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderhub.connectors.expressions import compile_expression
from orderhub.connectors.registry import UnknownPlatform, order_mapping
from orderhub.domain.errors import InvalidOrder, Problem
from orderhub.domain.validation import check_order
from orderhub.sandbox.shopify import ShopifyEmulator

Json = dict[str, Any]

RECEIVER = {
    "first_name": "三",
    "last_name": "张",
    "address1": "西湖区文三路100号",
    "address2": "3栋201室",
    "city": "杭州市",
    "province": "Zhejiang",
    "zip": "310012",
    "country": "China",
    "country_code": "cn",
    "phone": "+86 13812348000",
}


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopifyEmulator]:
    emulator = ShopifyEmulator(seed=7, utc_offset_minutes=-240)
    emulator.seed_product(
        {
            "title": "Mug",
            "variants": [
                {"sku": "MUG-BLUE", "price": "19.90", "stock": 50},
                {"sku": "MUG-RED", "price": "5.50", "stock": 50},
            ],
        }
    )
    yield emulator
    emulator.close()


def place(shop: ShopifyEmulator, **spec: Any) -> Json:
    """A raw Shopify order as the shop's API returns it: two mugs, shipping, a discount
    code, tax and a Chinese receiver, unless `spec` says otherwise."""
    values: Json = {
        "lines": [{"sku": "MUG-BLUE", "quantity": 2}, {"sku": "MUG-RED", "quantity": 1}],
        "customer": {"name": "张三", "phone": "+86 13812348000", "email": "zs@example.cn"},
        "shipping_address": RECEIVER,
        "shipping": "9.90",
        "discount_codes": [{"code": "TEN", "amount": "10.00", "type": "fixed_amount"}],
        "tax_lines": [{"price": "3.00", "rate": 0.06, "title": "VAT"}],
        "note": "请周末送货",
        "tags": "VIP, gift",
    }
    values.update(spec)
    return shop.place_order(values)


def problems_of(raw: Any, **overrides: Any) -> list[Problem]:
    with pytest.raises(InvalidOrder) as caught:
        order_mapping("shopify", overrides or None).map(raw, shop="SHOP1")
    return caught.value.problems


def test_a_shopify_order_maps_to_the_canonical_order(shop: ShopifyEmulator) -> None:
    raw = place(shop)

    order = order_mapping("shopify").map(raw, shop="SHOP1")

    assert (order.shop, order.platform) == ("SHOP1", "shopify")
    assert order.channel_order_id == str(raw["id"]) and order.order_no == raw["name"]
    assert order.channel_status == "paid" and order.currency == "USD"
    # The shop is at UTC-4: 18:00 there is 22:00 UTC.
    created = datetime.fromisoformat(raw["created_at"])
    assert order.placed_at == created and order.placed_at.tzinfo == UTC
    assert order.paid_at is not None and order.paid_at.utcoffset() == UTC.utcoffset(None)
    totals = order.totals
    assert (totals.items, totals.shipping, totals.discount, totals.tax) == (
        Decimal("45.30"),
        Decimal("9.90"),
        Decimal("10.00"),
        Decimal("3.00"),
    )
    assert totals.grand_total == Decimal(raw["total_price"]) == Decimal("48.20")
    assert all(isinstance(v, Decimal) for v in totals.model_dump().values())
    r = order.receiver
    assert (r.name, r.phone, r.country, r.city, r.postcode) == (
        "张三",
        "+86 13812348000",
        "CN",
        "杭州市",
        "310012",
    )
    assert (r.address1, r.address2) == ("西湖区文三路100号", "3栋201室")
    assert order.buyer.email == "zs@example.cn" and order.remarks.buyer == "请周末送货"
    assert [(x.line_id, x.channel_sku, x.quantity, x.unit_price) for x in order.lines] == [
        (str(item["id"]), item["sku"], item["quantity"], Decimal(item["price"]))
        for item in raw["line_items"]
    ]
    assert order.lines[0].title == "Mug - MUG-BLUE"
    assert check_order(order) == []


def test_a_cancelled_paid_order_maps_as_cancelled_and_an_unpaid_one_has_no_payment_time(
    shop: ShopifyEmulator,
) -> None:
    paid = place(shop)
    cancelled = shop.cancel_order(paid["id"])
    unpaid = place(shop, financial_status="pending")
    mapping = order_mapping("shopify")

    assert cancelled["financial_status"] == "paid"
    assert mapping.map(cancelled, shop="SHOP1").channel_status == "cancelled"
    pending = mapping.map(unpaid, shop="SHOP1")
    assert pending.channel_status == "unpaid" and pending.paid_at is None


def test_with_taxes_included_the_tax_adds_nothing_to_the_total(shop: ShopifyEmulator) -> None:
    raw = place(shop, taxes_included=True, discount_codes=[], shipping="0.00")

    order = order_mapping("shopify").map(raw, shop="SHOP1")

    assert order.totals.tax == Decimal("0")
    assert order.totals.grand_total == order.totals.items == Decimal("45.30")
    assert check_order(order) == []


def test_the_shops_comma_separated_tags_become_a_list(shop: ShopifyEmulator) -> None:
    assert order_mapping("shopify").map(place(shop), shop="SHOP1").tags == ["VIP", "gift"]
    untagged = order_mapping("shopify").map(place(shop, tags=""), shop="SHOP1")
    assert untagged.tags == []


def test_a_shop_override_changes_one_field_and_nothing_else(shop: ShopifyEmulator) -> None:
    raw = place(shop)
    overrides = {"fields": {"remarks.seller": {"path": "tags"}}}

    plain = order_mapping("shopify").map(raw, shop="SHOP1")
    custom = order_mapping("shopify", overrides).map(raw, shop="SHOP1")

    assert plain.remarks.seller == "" and custom.remarks.seller == "VIP, gift"
    assert custom.model_dump(exclude={"remarks"}) == plain.model_dump(exclude={"remarks"})
    # The platform's own mapping is left as it was for every other shop.
    assert order_mapping("shopify").map(raw, shop="SHOP1").remarks.seller == ""


def test_an_override_may_read_a_line_field_from_elsewhere(shop: ShopifyEmulator) -> None:
    raw = place(shop)
    overrides = {"lines": {"fields": {"channel_sku": {"path": "title"}}}}

    order = order_mapping("shopify", overrides).map(raw, shop="SHOP1")

    assert [x.channel_sku for x in order.lines] == ["Mug", "Mug"]
    assert [x.quantity for x in order.lines] == [2, 1]


def test_unreadable_values_are_listed_together_with_their_field(shop: ShopifyEmulator) -> None:
    raw = copy.deepcopy(place(shop))
    raw["line_items"][1]["quantity"] = "two"
    raw["created_at"] = "yesterday"

    problems = {p.field: p for p in problems_of(raw)}

    assert set(problems) == {"placed_at", "lines[1].quantity"}
    assert "'yesterday' is not a date and time" in problems["placed_at"].message
    assert "two" in problems["lines[1].quantity"].message
    assert all(p.code == "unreadable_field" for p in problems.values())
    assert all("Traceback" not in p.message for p in problems.values())


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"created_at": "2026-11-23T18:00:00"}, "placed_at", "has no UTC offset"),
        ({"total_price": "forty"}, "totals.grand_total", "'forty' is not an amount"),
        ({"total_price": "NaN"}, "totals.grand_total", "finite number"),
        ({"currency": None}, "currency", "is missing"),
    ],
)
def test_an_order_field_that_cannot_be_read_names_the_field(
    shop: ShopifyEmulator, change: Json, field: str, words: str
) -> None:
    raw = {**place(shop), **change}

    [problem] = problems_of(raw)

    assert problem.field == field and words in problem.message


@pytest.mark.parametrize(
    ("quantity", "words"),
    [(2.5, "2.5 is not a whole number"), (True, "a yes/no value is not a number")],
)
def test_a_line_quantity_that_is_not_a_whole_number_names_the_line(
    shop: ShopifyEmulator, quantity: Any, words: str
) -> None:
    raw = copy.deepcopy(place(shop))
    raw["line_items"][0]["quantity"] = quantity

    [problem] = problems_of(raw)

    assert problem.field == "lines[0].quantity" and words in problem.message


def test_a_payload_without_an_order_id_is_refused_rather_than_filed_as_null(
    shop: ShopifyEmulator,
) -> None:
    raw = place(shop)
    del raw["id"]

    problems = problems_of(raw)

    assert [p.field for p in problems] == ["channel_order_id"]


def test_a_price_with_too_many_decimals_names_the_line(shop: ShopifyEmulator) -> None:
    raw = copy.deepcopy(place(shop))
    raw["line_items"][0]["price"] = "19.901234567"

    [problem] = problems_of(raw)

    assert (problem.field, problem.message) == (
        "lines[0].unit_price",
        "has too many decimal places",
    )


@pytest.mark.parametrize("raw", [[{"id": 1}], "an order", 42, None])
def test_a_payload_that_is_not_an_object_is_a_problem_not_a_crash(raw: Any) -> None:
    [problem] = problems_of(raw)

    assert problem.code == "malformed_payload"
    assert problem.message == "the payload is not a JSON object"


def test_line_items_that_are_not_a_list_are_a_problem(shop: ShopifyEmulator) -> None:
    raw = {**place(shop), "line_items": {"sku": "MUG-BLUE"}}

    [problem] = problems_of(raw)

    assert (problem.field, problem.message) == ("lines", "the order lines are not a list")


def test_a_platform_without_a_mapping_is_named_in_the_error() -> None:
    with pytest.raises(UnknownPlatform, match=r"'tiktok'.*shopify"):
        order_mapping("tiktok")


_KEYS = st.sampled_from(["a", "b", "line_items", "_x"])
_RAW = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda children: st.lists(children, max_size=2) | st.dictionaries(_KEYS, children, max_size=3),
    max_leaves=12,
)


_PATHS = st.lists(_KEYS, min_size=1, max_size=4).map(".".join)


@given(_RAW, st.lists(_PATHS, min_size=1, max_size=3).map(" || ".join))
@example({"a": 0, "b": 1}, "a || b")  # 0 is true to JMESPath
@example({"a": False, "b": []}, "a || b")  # none true: the last one's value
@example({"a": {"b": ""}, "b": {}}, "a.b || b || a")
def test_a_plain_path_reads_what_jmespath_reads(raw: object, expression: str) -> None:
    assert compile_expression(expression).search(raw) == jmespath.search(expression, raw)
