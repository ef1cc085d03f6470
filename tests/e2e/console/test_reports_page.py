"""Reports in the console: a finance person reads the sales of the last 30 days by SKU,
sees the chart and the table agree with the shop's orders, and downloads it as Excel; the
menu does not offer reports to a viewer."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import wait_until


def test_finance_reads_sales_by_sku_and_downloads_them(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(ship_delay=3600)
    shop = stack.shops["SHOP1"]
    shop.place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-002", "quantity": 1}]}
    )
    shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 3}]})
    wait_until(
        lambda: len([o for o in queries.order_list(stack.hub) if o.status == "pushed"]) == 2,
        what="both orders at the warehouse",
    )
    sign_in(page, stack, person(stack, "qian", "finance"))
    page.locator("[data-test='menu-/reports']").click()
    expect(page.locator("[data-test=report-rows]")).to_contain_text("119.40")
    shot("reports-sales-by-day")

    page.locator("[data-test=report-by]").click()
    page.get_by_role("option", name="按 SKU").click()
    page.get_by_role("option", name="按日").click()
    page.keyboard.press("Escape")
    rows = page.locator("[data-test=report-rows] .el-table__body tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("SKU-001")
    expect(rows.nth(0)).to_contain_text("5")
    expect(page.locator("[data-test=report-chart] canvas")).to_have_count(1)
    shot("reports-sales-by-sku")

    with page.expect_download() as download:
        page.locator("[data-test=report-xlsx] button").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    units = {
        row[header.index("sku")]: row[header.index("units")]
        for row in sheet.iter_rows(min_row=2, max_row=3, values_only=True)
    }
    assert units == {"SKU-001": 5, "SKU-002": 1}


def test_a_viewer_is_not_offered_reports(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    sign_in(page, stack, person(stack, "zhao", "viewer"))
    expect(page.locator("[data-test='menu-/orders']")).to_be_visible()
    expect(page.locator("[data-test='menu-/reports']")).to_have_count(0)
    shot("viewer-menu")
