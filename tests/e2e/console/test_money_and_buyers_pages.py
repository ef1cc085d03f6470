"""Money, buyers and the ERP in the console: a finance person reconciles a shop's day and
settles the payment that never came; an admin finds a buyer by an order, tags them VIP
and erases their data on request; the ERP's connection is tested from its card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.audit import list_entries
from orderhub.services.buyers import buyer_of, find_buyer
from support import order_status, wait_until


def test_finance_reconciles_a_day_and_settles_the_missing_payment(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(ship_delay=0.05)
    shop = stack.shops["SHOP1"]
    paid = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    missing = shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 2}]})
    for placed in (paid, missing):
        wait_until(lambda p=placed: order_status(stack, p["id"]) == "completed", what="shipped")
    [line] = [x for x in shop.statement() if x["source_order_id"] == missing["id"]]
    shop.drop_statement_line(line["id"])
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()

    sign_in(page, stack, person(stack, "qian", "finance"))
    page.locator("[data-test='menu-/finance']").click()
    picker = page.locator(".el-date-editor input")
    picker.fill(day)
    picker.press("Enter")
    page.locator("[data-test=reconcile]").click()
    card = page.locator("[data-test=differences-card]")
    expect(card).to_contain_text("已发货未收款")
    expect(card).to_contain_text(str(missing["id"]))
    expect(page.locator("[data-test=reconciled-days]")).to_contain_text(day)
    expect(page.locator("[data-test=open-differences]")).to_contain_text("1")
    expect(page.locator("[data-test=differences]")).to_contain_text("待处理")
    shot("finance-difference")

    page.locator("[data-test=difference-note]").fill("Shopify paid it in the next payout")
    page.locator("[data-test=settle-difference]").click()
    expect(page.locator("[data-test=differences]")).to_contain_text("已处理")
    expect(page.locator("[data-test=open-differences]")).to_contain_text("0")
    settled = [e for e in list_entries(stack.hub) if e.action == "finance.resolve"]
    assert [(e.actor, e.detail) for e in settled] == [
        ("qian", "Shopify paid it in the next payout")
    ]


def test_an_admin_tags_a_buyer_found_by_an_order_and_erases_their_data(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(ship_delay=3600)
    shop = stack.shops["SHOP1"]
    first = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(
        lambda: order_status(stack, first["id"]) == "pushed", what="the order at the warehouse"
    )
    buyer_id = find_buyer(stack.hub, order=str(first["id"])).id

    sign_in(page, stack, person(stack, "wu", "admin"))
    page.locator("[data-test='menu-/buyers']").click()
    page.locator("[data-test=buyer-order]").fill(str(first["id"]))
    page.locator("[data-test=find-buyer]").click()
    expect(page.locator("[data-test=buyer-orders]")).to_have_text("1")
    page.locator("[data-test=buyer-new-tag]").fill("vip")
    page.locator("[data-test=buyer-add-tag]").click()
    expect(page.locator("[data-test=buyer-tags]")).to_contain_text("vip")
    shot("buyer-tagged")

    page.locator("[data-test=buyer-reason]").fill("the buyer asked by e-mail, ticket 88")
    page.locator("[data-test=buyer-erase]").click()
    page.locator(".el-message-box .el-button--primary").click()
    expect(page.locator("[data-test=buyer-erased]")).to_be_visible()
    assert buyer_of(stack.hub, buyer_id).erased_at is not None
    erased = [e for e in list_entries(stack.hub) if e.action == "buyer.erase"]
    assert [e.actor for e in erased] == ["wu"]
    shot("buyer-erased")


def test_the_erp_connection_is_tested_from_its_card(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(erp=True, ship_delay=3600)
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(
        lambda: order_status(stack, placed["id"]) == "pushed", what="the order at the warehouse"
    )
    assert stack.erp is not None
    wait_until(lambda: len(stack.erp.bills("SAL_SaleOrder")) == 1, what="the sale booked")

    sign_in(page, stack, person(stack, "wu", "admin"))
    page.locator("[data-test='menu-/connections']").click()
    expect(page.locator("[data-test=erps]")).to_contain_text("k3cloud")
    expect(page.locator("[data-test=documents-ERP]")).to_contain_text("已记账 1")
    page.locator("[data-test=test-ERP]").click()
    expect(page.locator("[data-test=result-ERP]")).to_contain_text("signed in")
    shot("connections-erp")


def test_an_orders_parcel_shows_its_scans_and_the_buyers_link(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(tracking=True, ship_delay=0.05)
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: order_status(stack, placed["id"]) == "completed", what="shipped")
    order_id = queries.find_order_id(stack.hub, str(placed["id"]))
    [fulfillment] = queries.order_view(stack.hub, order_id).fulfillments
    assert stack.tracker is not None
    wait_until(lambda: fulfillment.tracking_no in stack.tracker.parcels, what="subscribed")
    stack.tracker.scan(fulfillment.tracking_no, "0", "快件到达【杭州转运中心】", area="杭州市")
    stack.tracker.scan(fulfillment.tracking_no, "3", "已签收，签收人：本人", area="上海市")

    sign_in(page, stack, person(stack, "zhou", "viewer"))
    page.goto(f"{stack.api.url}/#/orders/{order_id}")
    card = page.locator("[data-test=parcel]")
    expect(card).to_contain_text(fulfillment.tracking_no)
    expect(page.locator("[data-test=parcel-status]")).to_have_text("已签收")
    expect(card).to_contain_text("快件到达【杭州转运中心】")
    link = page.locator("[data-test=buyer-link]").get_attribute("href")
    assert link is not None and link.startswith(f"{stack.api.url}/t/")
    shot("order-parcel")
