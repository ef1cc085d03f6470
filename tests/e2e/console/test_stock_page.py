"""The stock page and the dashboard's health panels, as a warehouse coordinator uses them:
the dashboard shows how fast orders reach the warehouse and how each connection fares;
a SKU's ledger explains its level; a stocktake file is previewed with its problems by
row, fixed, applied, and the new figure reaches the shop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.services.audit import list_entries
from support import wait_until

SKU = "SKU-001"


def test_a_coordinator_reads_the_ledger_and_applies_a_stocktake_the_shop_then_shows(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None], tmp_path: Path
) -> None:
    stack = make_stack(stock_by_node={"WH1": {SKU: 30}}, ship_delay=3600.0)
    shop = stack.shops["SHOP1"]
    shop.place_order({"lines": [{"sku": SKU, "quantity": 2}]})
    wait_until(lambda: len(stack.qimen.orders()) == 1, what="the order at the warehouse")
    wait_until(lambda: shop.inventory_by_sku().get(SKU) == 28, what="28 offered on the shop")

    sign_in(page, stack, person(stack, "zhou", "operator"))
    health = page.locator("[data-test=connection-health]")
    expect(health).to_contain_text("WH1")
    expect(page.locator("[data-test=error-rate-WH1]")).to_have_text("0.0%")
    shot("dashboard-health")

    page.locator("[data-test='menu-/stock']").click()
    page.locator(f"[data-test=ledger-WH1-{SKU}]").click()
    ledger = page.locator("[data-test=ledger]")
    expect(ledger).to_contain_text("下单占用")  # the order's reservation
    expect(ledger.locator("tbody tr")).to_have_count(2)  # and the first count before it
    shot("ledger")
    page.keyboard.press("Escape")

    wrong = tmp_path / "count-wrong.csv"
    wrong.write_text(f"仓库,SKU,数量\nWH1,{SKU},twenty\nWH9,{SKU},1\n", encoding="utf-8")
    page.locator("[data-test=stocktake-file]").set_input_files(str(wrong))
    page.locator("[data-test=stocktake-preview]").click()
    problems = page.locator("[data-test=stocktake-problems]")
    expect(problems).to_contain_text("twenty")
    expect(problems).to_contain_text("WH9")
    expect(page.locator("[data-test=stocktake-apply]")).to_be_disabled()
    shot("stocktake-problems")

    right = tmp_path / "count.csv"
    right.write_text(f"仓库,SKU,数量\nWH1,{SKU},20\n", encoding="utf-8")
    page.locator("[data-test=stocktake-file]").set_input_files(str(right))
    page.locator("[data-test=stocktake-preview]").click()
    lines = page.locator("[data-test=stocktake-lines]")
    expect(lines).to_contain_text("-10")  # 30 on hand, 20 counted
    shot("stocktake-preview")
    page.locator("[data-test=stocktake-apply]").click()

    # 20 on hand, 2 of them reserved for the order: the shop now offers 18.
    wait_until(lambda: shop.inventory_by_sku().get(SKU) == 18, what="18 offered on the shop")
    expect(page.locator("[data-test=levels]")).to_contain_text("20")
    [entry] = list_entries(stack.hub, action="stock.stocktake")
    assert entry.actor == "zhou"
    shot("stocktake-applied")


def test_a_viewer_reads_the_ledger_but_is_offered_no_stocktake(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(stock_by_node={"WH1": {SKU: 5}})
    sign_in(page, stack, person(stack, "wu", "viewer"))
    page.locator("[data-test='menu-/stock']").click()
    page.locator(f"[data-test=ledger-WH1-{SKU}]").click()
    expect(page.locator("[data-test=ledger]")).to_contain_text("5")
    expect(page.locator("[data-test=stocktake-file]")).to_have_count(0)
    shot("viewer-stock")
