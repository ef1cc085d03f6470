"""The rules page, as an admin uses it: a rule set that sends orders to 新疆 from the
western warehouse is written, a broken condition is shown beside its rule, the dry run
finds the past order it would have moved, and once in force a new order to 新疆 goes to
WH2; a viewer reads the rules but cannot change them."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.rules import put_rule_set
from support import wait_until

SKU = "SKU-001"
XINJIANG = {
    "first_name": "丽",
    "last_name": "阿",
    "address1": "天山区解放北路 1 号",
    "city": "乌鲁木齐市",
    "province": "新疆",
    "zip": "830000",
    "country_code": "CN",
    "phone": "13999990000",
}


def _node_of(stack: Stack, placed: dict[str, object]) -> str | None:
    rows = [r for r in queries.order_list(stack.hub) if r.channel_order_id == str(placed["id"])]
    return rows[0].node if rows else None


def test_a_rule_set_is_written_tried_on_past_orders_and_put_in_force(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(warehouses=2, stock_by_node={"WH1": {SKU: 50}, "WH2": {SKU: 50}})
    shop = stack.shops["SHOP1"]
    past = shop.place_order({"lines": [{"sku": SKU, "quantity": 1}], "shipping_address": XINJIANG})
    wait_until(lambda: _node_of(stack, past) == "WH1", what="the past order sent from WH1")

    sign_in(page, stack, person(stack, "lu", "admin"))
    page.locator("[data-test='menu-/rules']").click()
    page.locator("[data-test=new-rule-set]").fill("west")
    page.locator("[data-test=write-rule-set]").click()
    page.locator("[data-test=rule-name-0]").fill("xinjiang")
    page.locator("[data-test=rule-when-0]").fill("order.receiver.province ==")
    page.locator("[data-test=rule-action-0]").click()
    page.get_by_role("option", name="指定仓库").click()
    page.locator("[data-test=rule-node-0]").click()
    page.get_by_role("option", name="WH2").click()
    page.locator("[data-test=rule-reason-0]").fill("新疆从西部仓发货")
    page.locator("[data-test=save-rules]").click()
    expect(page.locator("[data-test=rule-error-0]")).to_be_visible()
    shot("rule-error")

    page.locator("[data-test=rule-when-0]").fill("order.receiver.province == '新疆'")
    page.locator("[data-test=save-rules]").click()
    expect(page.locator("[data-test=opened-status]")).to_have_text("草稿")
    page.locator("[data-test=dry-run]").click()
    report = page.locator("[data-test=dry-run-report]")
    expect(report).to_contain_text(str(past["name"]))  # the order it would have moved
    shot("dry-run")

    page.locator("[data-test=activate]").click()
    page.locator(".el-message-box .el-button--primary").click()  # confirm
    expect(page.locator("[data-test=opened-status]")).to_have_text("生效中")
    shot("in-force")

    new = shop.place_order({"lines": [{"sku": SKU, "quantity": 1}], "shipping_address": XINJIANG})
    elsewhere = shop.place_order({"lines": [{"sku": SKU, "quantity": 1}]})
    wait_until(lambda: _node_of(stack, new) == "WH2", what="the new 新疆 order sent from WH2")
    wait_until(lambda: _node_of(stack, elsewhere) == "WH1", what="the other order from WH1")


def test_a_viewer_reads_the_rules_but_cannot_change_them(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    put_rule_set(
        stack.hub,
        {
            "name": "invoices",
            "rules": [
                {
                    "name": "invoice",
                    "when": "order.remarks.buyer.contains('发票')",
                    "action": "hold",
                    "reason": "the buyer asks for an invoice",
                }
            ],
        },
    )
    sign_in(page, stack, person(stack, "gu", "viewer"))
    page.locator("[data-test='menu-/rules']").click()
    page.locator("[data-test=rule-sets]").get_by_text("invoices").click()
    expect(page.locator("[data-test=rules]")).to_contain_text("发票")
    expect(page.locator("[data-test=edit-rules]")).to_have_count(0)
    expect(page.locator("[data-test=activate]")).to_have_count(0)
    expect(page.locator("[data-test=write-rule-set]")).to_have_count(0)
    shot("viewer-rules")
