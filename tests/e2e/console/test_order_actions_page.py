"""Acting on an order from its page: an operator holds an order waiting for its parcel
to be merged, lets it go, corrects the address, sends it from the other warehouse and
finally cancels it; a viewer sees the order but no action."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.audit import list_entries
from support import wait_until

SKU = "SKU-001"


def _order_id(stack: Stack, placed: dict[str, object]) -> str:
    rows = [r for r in queries.order_list(stack.hub) if r.channel_order_id == str(placed["id"])]
    return rows[0].id if rows else ""


def _do(page: Page, action: str, reason: str) -> None:
    page.locator(f"[data-test=action-{action}]").click()
    page.locator("[data-test=action-reason]").fill(reason)
    page.locator("[data-test=action-confirm]").click()


def test_an_operator_holds_releases_readdresses_moves_and_cancels_an_order(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(
        warehouses=2,
        routing={"merge_window": 120.0},
        stock_by_node={"WH1": {SKU: 10}, "WH2": {SKU: 10}},
    )
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": SKU, "quantity": 1}]})
    wait_until(lambda: bool(_order_id(stack, placed)), what="the order in the hub")
    order_id = _order_id(stack, placed)
    wait_until(
        lambda: queries.order_view(stack.hub, order_id).status == "reserved",
        what="the order reserved, waiting for its parcel to be merged",
    )

    sign_in(page, stack, person(stack, "yang", "operator"))
    page.goto(f"{stack.api.url}/#/orders/{order_id}")
    status = page.locator("[data-test=status]")
    expect(status).to_have_text("已预占")
    shot("order-reserved")

    _do(page, "hold", "买家要求暂缓发货")
    expect(status).to_have_text("挂起")
    shot("order-held")
    _do(page, "release", "买家确认可以发货")
    expect(status).to_have_text("已预占")

    page.locator("[data-test=action-address]").click()
    page.locator("[data-test=address-address1]").fill("西湖区文三路 478 号")
    page.locator("[data-test=action-reason]").fill("买家来电改地址")
    shot("order-address")
    page.locator("[data-test=action-confirm]").click()
    expect(page.locator("[data-test=trace]")).to_contain_text("receiver.address1")

    first = queries.order_view(stack.hub, order_id).node
    other = "WH2" if first == "WH1" else "WH1"
    page.locator("[data-test=action-route]").click()
    page.locator("[data-test=route-node]").click()
    page.get_by_role("option", name=other).click()
    page.locator("[data-test=action-reason]").fill("离买家更近")
    page.locator("[data-test=action-confirm]").click()
    wait_until(lambda: queries.order_view(stack.hub, order_id).node == other, what=f"at {other}")
    shot("order-moved")

    _do(page, "cancel", "买家取消")
    expect(status).to_have_text("已取消")
    shot("order-cancelled")
    with stack.hub.reader() as uow:
        levels = {x.node: x for x in uow.stock.levels(skus=[SKU])}
    assert levels[first].reserved == 0 and levels[other].reserved == 0
    done = {e.action for e in list_entries(stack.hub, actor="yang")}
    assert {
        "POST /api/v1/orders/{order_id}/hold",
        "POST /api/v1/orders/{order_id}/release",
        "PUT /api/v1/orders/{order_id}/address",
        "POST /api/v1/orders/{order_id}/route",
        "POST /api/v1/orders/{order_id}/cancel",
    } <= done


def test_a_viewer_sees_an_order_but_no_action(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(routing={"merge_window": 120.0})
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": SKU, "quantity": 1}]})
    wait_until(lambda: bool(_order_id(stack, placed)), what="the order in the hub")
    sign_in(page, stack, person(stack, "xu", "viewer"))
    page.goto(f"{stack.api.url}/#/orders/{_order_id(stack, placed)}")
    expect(page.locator("[data-test=status]")).to_be_visible()
    expect(page.locator("[data-test=order-actions]")).to_have_count(0)
    shot("viewer-order")


def test_an_order_already_at_its_warehouse_is_sent_from_the_other_one(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(
        warehouses=2, ship_delay=3600.0, stock_by_node={"WH1": {SKU: 10}, "WH2": {SKU: 10}}
    )
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": SKU, "quantity": 1}]})
    wait_until(lambda: bool(_order_id(stack, placed)), what="the order in the hub")
    order_id = _order_id(stack, placed)
    wait_until(
        lambda: queries.order_view(stack.hub, order_id).status == "pushed",
        what="the order at its warehouse",
    )
    first = str(queries.order_view(stack.hub, order_id).node)
    other = "WH2" if first == "WH1" else "WH1"

    sign_in(page, stack, person(stack, "yang", "operator"))
    page.goto(f"{stack.api.url}/#/orders/{order_id}")
    expect(page.locator("[data-test=action-hold]")).to_have_count(0)
    page.locator("[data-test=action-route]").click()
    expect(page.locator("[data-test=route-hint]")).to_contain_text("拦截")
    page.locator("[data-test=route-node]").click()
    page.get_by_role("option", name=other).click()
    page.locator("[data-test=action-reason]").fill("原仓缺货")
    shot("order-pushed-route")
    page.locator("[data-test=action-confirm]").click()

    wait_until(lambda: len(stack.warehouses[other].orders()) == 1, what=f"the order at {other}")
    [stopped] = stack.warehouses[first].orders().values()
    assert stopped["status"] == "CANCELED"
    page.reload()
    expect(page.locator("[data-test=trace]")).to_contain_text(f"sent from {other} instead")
