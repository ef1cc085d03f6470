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
