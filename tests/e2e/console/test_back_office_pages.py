"""Suppliers, returns and alerts in the console: a coordinator sends a supplier without
an API its purchase orders as a sheet, imports the sheet it fills in, and the tracking
numbers reach the shop; a viewer reads the pages without the actions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.audit import list_entries
from support import fill_in_supplier_sheet, wait_until

ROUTING = {"strategies": ["fixed_sku", "stock_first"], "fixed_sku": {"SKU-003": "SUP-F"}}


def _status(stack: Stack, placed: dict[str, object]) -> str:
    rows = [r for r in queries.order_list(stack.hub) if r.channel_order_id == str(placed["id"])]
    return rows[0].status if rows else ""


def test_a_supplier_sheet_goes_out_and_comes_back_from_the_console(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None], tmp_path: Path
) -> None:
    stack = make_stack(file_supplier=True, routing=ROUTING)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 1}]})
    wait_until(lambda: _status(stack, placed) == "pushed", what="the purchase order queued")
    [order] = [r for r in queries.order_list(stack.hub) if r.channel_order_id == str(placed["id"])]

    sign_in(page, stack, person(stack, "feng", "operator"))
    page.locator("[data-test='menu-/suppliers']").click()
    page.locator("[data-test=supplier-node]").fill("SUP-F")
    with page.expect_download() as download:
        page.locator("[data-test=export-sheet]").click()
    sheet = Path(download.value.path()).read_bytes()
    shot("suppliers-exported")

    filled = tmp_path / "shipped.xlsx"
    filled.write_bytes(fill_in_supplier_sheet(sheet, {order.id: "SF200000001"}))
    page.locator("[data-test=shipments-file]").set_input_files(str(filled))
    page.locator("[data-test=import-sheet]").click()
    expect(page.locator("[data-test=import-result]")).to_contain_text("1 个包裹")
    shot("suppliers-imported")

    wait_until(lambda: _status(stack, placed) == "completed", what="tracking to the shop")
    assert shop.stats()["tracking_numbers"][str(placed["id"])] == ["SF200000001"]
    actions = {e.action for e in list_entries(stack.hub) if e.actor == "feng"}
    assert {
        "POST /api/v1/suppliers/{node}/sheet",
        "POST /api/v1/suppliers/{node}/shipments",
    } <= actions

    page.locator("[data-test='menu-/returns']").click()
    expect(page.locator("[data-test=returns]")).to_be_visible()
    page.locator("[data-test='menu-/alerts']").click()
    expect(page.locator("[data-test=alerts]")).to_be_visible()
    shot("alerts")


def test_a_viewer_sees_the_suppliers_but_cannot_send_or_import_a_sheet(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(file_supplier=True, routing=ROUTING)
    sign_in(page, stack, person(stack, "chu", "viewer"))
    page.locator("[data-test='menu-/suppliers']").click()
    expect(page.locator("[data-test=suppliers]")).to_be_visible()
    expect(page.locator("[data-test=export-sheet]")).to_have_count(0)
    expect(page.locator("[data-test=shipments-file]")).to_have_count(0)
    shot("viewer-suppliers")
