"""The console in a real browser: people sign in and run their day on the hub's API.

Each journey runs on a hub with its emulated Shopify shop and Qimen warehouse behind it.
The console can do nothing the API would refuse the same person: the menus and buttons
follow their permissions, and their shop scope follows them into every list.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.sandbox.server import serve_in_thread
from orderhub.sandbox.taobao import TaobaoEmulator
from orderhub.services import queries
from orderhub.services.audit import list_entries
from orderhub.services.pipeline import JOB_STOCK_PUSH
from orderhub.services.switches import syncs
from support import wait_until


def _syncs_stock(stack: Stack, shop: str) -> bool:
    with stack.hub.reader() as uow:
        return syncs(uow.catalog.shop(shop), "stock")


def _no_stock_push_waiting(stack: Stack) -> bool:
    depth, _ = queries.queue_stats(stack.hub)
    return not any(
        kind == JOB_STOCK_PUSH and status in ("pending", "running") and n
        for (kind, status), n in depth.items()
    )


def test_signing_in_shows_the_dashboard_filling_as_orders_arrive(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    sign_in(page, stack, person(stack, "wang", "owner"))
    expect(page.locator("[data-test=who]")).to_contain_text("wang")
    expect(page.locator("[data-test=orders-today]")).to_have_text("0")
    shop = stack.shops["SHOP1"]
    for _ in range(5):
        shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    expect(page.locator("[data-test=orders-today]")).to_have_text("5", timeout=30_000)
    shot("dashboard")


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    person(stack, "li", "operator")
    for _ in range(5):
        sign_in(page, stack, "li", "not the password")
        expect(page.locator("[data-test=error]")).to_be_visible()
    sign_in(page, stack, "li")
    expect(page.locator("[data-test=error]")).to_contain_text("locked")
    shot("locked")
    assert page.context.cookies() == [] or all(
        c["name"] != "orderhub_session" for c in page.context.cookies()
    )


def test_a_held_order_is_mapped_and_replayed_and_reaches_the_warehouse(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    shop.seed_product({"title": "Blue mug", "skus": ["MUG-BLUE"], "price": "19.90"})
    shop.place_order({"lines": [{"sku": "MUG-BLUE", "quantity": 1}]})
    wait_until(lambda: bool(queries.exception_list(stack.hub)), what="the order to be held")

    sign_in(page, stack, person(stack, "zhao", "operator"))
    page.locator("[data-test='menu-/exceptions']").click()
    group = page.locator("[data-test=group-unknown_sku]")
    expect(group).to_contain_text("未知 SKU")
    expect(group.locator("[data-test=hint]")).to_contain_text("映射到我们的 SKU")
    expect(group.locator("[data-test=map-sku]")).to_have_text("映射 SKU")
    shot("exceptions")
    group.locator("[data-test=map-from]").fill("MUG-BLUE")
    group.locator("[data-test=map-to]").fill("SKU-001")
    group.locator("[data-test=map-sku]").click()
    expect(page.get_by_text("没有未处理的异常")).to_be_visible()
    wait_until(lambda: len(stack.qimen.orders()) == 1, what="the order at the warehouse")
    [wms] = stack.qimen.orders().values()
    assert [(x["item_code"], x["plan_qty"]) for x in wms["lines"]] == [("SKU-001", 1)]
    [entry] = list_entries(stack.hub, action="POST /api/v1/exceptions/resolve")
    assert entry.actor == "zhao" and entry.after["body"]["skus"] == {"MUG-BLUE": "SKU-001"}


def test_a_reveal_is_offered_only_to_those_allowed_and_is_audited(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(ship_delay=3600.0)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: bool(queries.order_list(stack.hub)), what="the order in the hub")
    [row] = queries.order_list(stack.hub)
    clear_name = queries.order_view(stack.hub, row.id, reveal=True).receiver.name

    sign_in(page, stack, person(stack, "chen", "viewer"))
    page.goto(f"{stack.api.url}/#/orders/{row.id}")
    expect(page.locator("[data-test=receiver-name]")).not_to_have_text(clear_name)
    expect(page.locator("[data-test=reveal]")).to_have_count(0)
    shot("order-masked")
    page.locator("[data-test=sign-out]").click()

    sign_in(page, stack, person(stack, "boss", "owner"))
    page.goto(f"{stack.api.url}/#/orders/{row.id}")
    page.locator("[data-test=reveal]").click()
    expect(page.locator("[data-test=receiver-name]")).to_have_text(clear_name)
    expect(page.locator("[data-test=trace]")).to_contain_text("push")
    shot("order-revealed")
    [entry] = list_entries(stack.hub, action="pii.reveal")
    assert entry.actor == "boss" and entry.target == f"order:{row.id}"
    assert str(placed["id"]) == row.channel_order_id


def test_a_person_limited_to_one_shop_never_sees_another_shops_orders(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack(shops=2)
    first, second = stack.shops["SHOP1"], stack.shops["SHOP2"]
    mine = first.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    theirs = second.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: len(queries.order_list(stack.hub)) == 2, what="both orders in the hub")

    sign_in(page, stack, person(stack, "sun", "operator", shops=("SHOP1",)))
    page.locator("[data-test='menu-/orders']").click()
    table = page.locator("[data-test=orders]")
    expect(table.locator(f"[data-test=order-{mine['id']}]")).to_be_visible()
    expect(table.locator(f"[data-test=order-{theirs['id']}]")).to_have_count(0)
    shot("orders-one-shop")
    other = queries.order_list(stack.hub, shop="SHOP2")[0].id
    page.goto(f"{stack.api.url}/#/orders/{other}")
    expect(page.locator("[data-test=error]")).to_contain_text(re.compile("no order|not found"))


def test_the_language_switches_to_english_and_back(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    sign_in(page, stack, person(stack, "zhou", "viewer"))
    expect(page.locator("[data-test='menu-/orders']")).to_have_text("订单")
    page.locator("[data-test=language]").click()
    page.get_by_role("option", name="English").click()
    expect(page.locator("[data-test='menu-/orders']")).to_have_text("Orders")
    shot("english")
    page.reload()
    expect(page.locator("[data-test='menu-/orders']")).to_have_text("Orders")
    page.locator("[data-test=language]").click()
    page.get_by_role("option", name="中文").click()
    expect(page.locator("[data-test='menu-/orders']")).to_have_text("订单")


def test_an_operator_adjusts_stock_but_sees_no_people_and_a_viewer_cannot_act(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    sign_in(page, stack, person(stack, "liu", "operator"))
    expect(page.locator("[data-test='menu-/stock']")).to_be_visible()
    expect(page.locator("[data-test='menu-/people']")).to_have_count(0)
    page.goto(f"{stack.api.url}/#/people")
    expect(page.locator("[data-test=error]")).to_contain_text("may not")
    shot("operator-no-people")

    page.goto(f"{stack.api.url}/#/stock")
    expect(page.locator("[data-test=levels]")).to_contain_text("SKU-001")
    before = {(x["node"], x["sku"]): x["on_hand"] for x in queries.stock_view(stack.hub)["levels"]}
    page.locator("[data-test=adjust-node]").fill("WH1")
    page.locator("[data-test=adjust-sku]").fill("SKU-001")
    page.locator("[data-test=adjust-delta]").fill("-3")
    page.locator("[data-test=adjust-reason]").fill("two broken in the stocktake, one lost")
    page.locator("[data-test=adjust]").click()
    wait_until(
        lambda: (
            queries.stock_view(stack.hub, sku="SKU-001")["levels"][0]["on_hand"]
            == before[("WH1", "SKU-001")] - 3
        ),
        what="the adjustment in the ledger",
    )
    shot("stock")
    [entry] = list_entries(stack.hub, action="POST /api/v1/stock/adjustments")
    assert entry.actor == "liu" and entry.after["body"]["reason"].startswith("two broken")
    page.locator("[data-test=sign-out]").click()

    sign_in(page, stack, person(stack, "he", "viewer"))
    page.goto(f"{stack.api.url}/#/stock")
    expect(page.locator("[data-test=levels]")).to_contain_text("SKU-001")
    expect(page.locator("[data-test=adjust]")).to_have_count(0)


def test_an_owner_adds_a_person_who_can_then_sign_in(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    sign_in(page, stack, person(stack, "boss", "owner"))
    page.locator("[data-test='menu-/people']").click()
    page.locator("[data-test=new-name]").fill("xu")
    page.locator("[data-test=new-shops]").fill("SHOP1")
    page.locator("[data-test=add-person]").click()
    made = page.locator("[data-test=made]")
    expect(made).to_contain_text("xu:")
    expect(page.locator("[data-test=users]")).to_contain_text("SHOP1")
    shot("people")
    password = made.inner_text().rsplit("xu:", 1)[1].strip()
    page.locator("[data-test=sign-out]").click()
    sign_in(page, stack, "xu", password)
    expect(page.locator("[data-test=who]")).to_contain_text("xu · operator")
    expect(page.locator("[data-test='menu-/audit']")).to_have_count(0)
    page.goto(f"{stack.api.url}/#/audit")
    expect(page.locator("[data-test=error]")).to_contain_text("may not")


def test_a_shop_is_added_from_a_template_tested_and_its_stock_reaches_the_platform(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    taobao = TaobaoEmulator("tb9-app-key", "tb9-secret", "TB9-session")
    taobao.seed_items([{"sku": "SKU-001", "stock": 0, "price": "19.90"}])
    server = serve_in_thread(taobao.app)
    try:
        sign_in(page, stack, person(stack, "gao", "admin"))
        page.locator("[data-test='menu-/connections']").click()

        def add_taobao_shop(secret: str) -> None:
            page.locator("[data-test=add-connection]").click()
            page.locator("[data-test=template]").click()
            page.get_by_role("option", name="淘宝 / 天猫 (TOP)").click()
            page.locator("[data-test=field-code]").fill("TB9")
            page.locator("[data-test=field-name]").fill("天猫旗舰店")
            page.locator("[data-test=field-nodes]").click()
            page.get_by_role("option", name="WH1").click()
            page.locator("[data-test=field-base_url]").fill(server.url)
            page.locator("[data-test=field-app_key]").fill("tb9-app-key")
            page.locator("[data-test=field-app_secret]").fill(secret)
            page.locator("[data-test=field-session]").fill("TB9-session")
            shot("add-shop")
            page.locator("[data-test=save-connection]").click()

        add_taobao_shop("a wrong secret")
        result = page.locator("[data-test=result-TB9]")
        expect(result).to_contain_text(re.compile("signature", re.I), timeout=30_000)
        add_taobao_shop("tb9-secret")
        expect(result).to_contain_text("taobao answered", timeout=30_000)
        stock_switch = page.locator("[data-test=sync-TB9-stock]")
        stock_switch.click()  # off, while the items are read
        wait_until(lambda: not _syncs_stock(stack, "TB9"), what="stock sync switched off")
        page.locator("[data-test=items-TB9]").click()
        expect(result).to_contain_text("1")
        wait_until(lambda: _no_stock_push_waiting(stack), what="the stock push job run")
        assert taobao.stock().get("SKU-001") == 0  # switched off: nothing was pushed
        shot("connections")
        stock_switch.click()  # on: the figure goes out at once
        wait_until(
            lambda: taobao.stock().get("SKU-001") == 100,
            what=lambda: f"stock on Taobao: {taobao.stock()}",
        )
        changed, created = list_entries(stack.hub, action="shop.")
        assert (created.action, changed.action) == ("shop.create", "shop.change")
        assert changed.actor == "gao" and changed.after["credentials"]["app_secret"] == "changed"
        assert "tb9-secret" not in str(list_entries(stack.hub))
    finally:
        server.stop()
