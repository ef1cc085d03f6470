"""Finding orders in the console by what a person has in hand: a product or a parcel."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import wait_until


def test_orders_are_found_by_sku_and_by_tracking_number(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    mug = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    cup = shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})
    wait_until(lambda: stack.summary()["completed"] == 2, what="both orders shipped")
    [cup_row] = [r for r in queries.order_list(stack.hub) if r.channel_order_id == str(cup["id"])]
    [parcel] = queries.order_view(stack.hub, cup_row.id).fulfillments

    sign_in(page, stack, person(stack, "wu", "viewer"))
    page.locator("[data-test='menu-/orders']").click()
    table = page.locator("[data-test=orders]")
    expect(table.locator(f"[data-test=order-{mug['id']}]")).to_be_visible()
    page.locator("[data-test=sku]").fill("SKU-002")
    page.locator("[data-test=find]").click()
    expect(table.locator(f"[data-test=order-{mug['id']}]")).to_have_count(0)
    expect(table.locator(f"[data-test=order-{cup['id']}]")).to_be_visible()
    shot("orders-by-sku")

    page.locator("[data-test=sku]").fill("")
    page.locator("[data-test=tracking]").fill(parcel.tracking_no)
    page.locator("[data-test=find]").click()
    expect(table.locator(f"[data-test=order-{cup['id']}]")).to_be_visible()
    expect(table.locator(f"[data-test=order-{mug['id']}]")).to_have_count(0)


def test_an_order_is_found_by_the_last_four_digits_of_the_receivers_phone(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    address = {
        "first_name": "芳",
        "last_name": "李",
        "address1": "建国路 88 号",
        "city": "北京市",
        "province": "北京市",
        "zip": "100022",
        "country_code": "CN",
    }
    hers = shop.place_order(
        {
            "lines": [{"sku": "SKU-001", "quantity": 1}],
            "shipping_address": {**address, "phone": "13700005678"},
        }
    )
    other = shop.place_order(
        {
            "lines": [{"sku": "SKU-001", "quantity": 1}],
            "shipping_address": {**address, "phone": "13700001111"},
        }
    )
    wait_until(lambda: stack.summary()["received"] == 2, what="both orders in the hub")

    sign_in(page, stack, person(stack, "zheng", "operator"))
    page.locator("[data-test='menu-/orders']").click()
    page.locator("[data-test=phone]").fill("5678")
    page.locator("[data-test=find]").click()
    table = page.locator("[data-test=orders]")
    expect(table.locator(f"[data-test=order-{hers['id']}]")).to_be_visible()
    expect(table.locator(f"[data-test=order-{other['id']}]")).to_have_count(0)
    shot("orders-by-phone")
