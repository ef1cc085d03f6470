"""The mapping editor, as an admin uses it: a shop's orders fail to map because its times
come without a UTC offset; the admin changes the field's type, previews it on the stored
payloads, saves it as the next version and replays them, and the orders reach the
warehouse."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import wait_until


def test_change_a_mapping_field_preview_it_save_it_and_replay_the_orders(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    for _ in range(2):
        shop.place_order(
            {
                "lines": [{"sku": "SKU-001", "quantity": 1}],
                "raw_override": {"created_at": "2026-12-01 10:00:00"},
            }
        )
    wait_until(
        lambda: sum(e.field == "placed_at" for e in queries.exception_list(stack.hub)) == 2,
        what="two exceptions naming placed_at",
    )

    sign_in(page, stack, person(stack, "he", "admin"))
    page.locator("[data-test='menu-/connections']").click()
    page.locator("[data-test=mapping-SHOP1]").click()
    expect(page.locator("[data-test=mapping-version]")).to_contain_text("0")
    page.locator("[data-test=type-placed_at]").click()
    page.get_by_role("option", name="china_time", exact=True).click()
    page.locator("[data-test=mapping-preview]").click()
    expect(page.locator("[data-test=preview-counts]")).to_contain_text(
        "修改前失败 2 个，修改后失败 0 个"
    )
    expect(page.locator("[data-test=mapping-payloads]")).to_contain_text("2026-12-01T02:00:00")
    shot("mapping-preview")
    assert stack.qimen.orders() == {}  # a preview changes nothing

    page.locator("[data-test=mapping-save]").click()
    expect(page.locator("[data-test=mapping-version]")).to_contain_text("1")
    page.locator("[data-test=mapping-replay]").click()
    expect(page.locator("[data-test=replay-result]")).to_contain_text("成功 2 个")
    shot("mapping-replayed")
    wait_until(lambda: len(stack.qimen.orders()) == 2, what="both orders at the warehouse")
