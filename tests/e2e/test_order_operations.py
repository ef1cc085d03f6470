"""Merging, splitting and drop-ship suppliers over real HTTP, end to end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.suppliers import export_sheet, import_sheet
from support import CHINESE_RECEIVER, fill_in_supplier_sheet, wait_until


def hub_order(stack: Stack, shop: str, channel_order_id: Any) -> Any:
    with stack.hub.reader() as uow:
        return uow.orders.by_channel_ref(shop, str(channel_order_id))


def status_of(stack: Stack, placed: dict[str, Any]) -> str | None:
    order = hub_order(stack, "SHOP1", placed["id"])
    return None if order is None else str(order.status)


def test_two_orders_to_the_same_door_leave_as_one_parcel_and_confirm_separately(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(routing={"merge_window": 3.0})
    shop = stack.shops["SHOP1"]
    buyer = {"first_name": "三", "last_name": "张", "phone": "13812348000"}
    first = shop.place_order(
        {
            "lines": [{"sku": "SKU-001", "quantity": 1}],
            "customer": buyer,
            "shipping_address": CHINESE_RECEIVER,
        }
    )
    second = shop.place_order(
        {
            "lines": [{"sku": "SKU-002", "quantity": 2}],
            "customer": buyer,
            "shipping_address": CHINESE_RECEIVER,
        }
    )
    elsewhere = shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 1}]})
    for placed in (first, second, elsewhere):
        wait_until(
            lambda placed=placed: status_of(stack, placed) == "completed",
            what=f"order {placed['id']} to complete",
        )

    wms_orders = stack.qimen.orders()
    assert len(wms_orders) == 2
    a, b = hub_order(stack, "SHOP1", first["id"]), hub_order(stack, "SHOP1", second["id"])
    # Whichever order the hub saw first names the merged warehouse order.
    [merged] = [o for code, o in wms_orders.items() if code in (a.id, b.id)]
    assert sorted((x["item_code"], x["plan_qty"]) for x in merged["lines"]) == [
        ("SKU-001", 1),
        ("SKU-002", 2),
    ]
    # One parcel, one tracking number, but each shop order is confirmed on its own.
    assert a.fulfillments[0].tracking_no == b.fulfillments[0].tracking_no
    tracking = shop.stats()["tracking_numbers"]
    assert tracking[str(first["id"])] == tracking[str(second["id"])]
    assert len(shop.fulfillments_for(first["id"])) == 1
    assert len(shop.fulfillments_for(second["id"])) == 1
    merges = [
        t for o in (a, b) for t in queries.order_view(stack.hub, o.id).trace if t.stage == "merge"
    ]
    assert len(merges) == 1


def test_an_order_no_warehouse_can_ship_whole_is_split_and_confirmed_part_by_part(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        warehouses=2,
        routing={"split": True},
        stock_by_node={"WH1": {"SKU-001": 5}, "WH2": {"SKU-002": 5}},
    )
    stack.warehouses["WH2"].configure(ship_delay=1.5)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-002", "quantity": 1}]}
    )
    wait_until(
        lambda: status_of(stack, placed) == "partially_shipped",
        what="the first parcel to ship",
    )
    fulfillments = shop.fulfillments_for(placed["id"])
    wait_until(
        lambda: len(shop.fulfillments_for(placed["id"])) == 1,
        what="the first parcel confirmed to the shop",
    )
    wait_until(lambda: status_of(stack, placed) == "completed", what="the order to complete")
    order = hub_order(stack, "SHOP1", placed["id"])
    assert {line.node for line in order.lines} == {"WH1", "WH2"}
    assert [x["item_code"] for x in stack.warehouses["WH1"].orders()[f"{order.id}-1"]["lines"]] == [
        "SKU-001"
    ]
    assert [x["item_code"] for x in stack.warehouses["WH2"].orders()[f"{order.id}-2"]["lines"]] == [
        "SKU-002"
    ]
    fulfillments = shop.fulfillments_for(placed["id"])
    assert len(fulfillments) == 2
    shipped = sorted(
        (item["sku"], item["quantity"]) for f in fulfillments for item in f["line_items"]
    )
    assert shipped == [("SKU-001", 2), ("SKU-002", 1)]
    with stack.hub.reader() as uow:
        levels = {(lv.node, lv.sku): lv.on_hand for lv in uow.stock.levels()}
    assert levels[("WH1", "SKU-001")] == 3 and levels[("WH2", "SKU-002")] == 4


def test_a_drop_ship_order_becomes_a_purchase_order_and_its_tracking_reaches_the_shop(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        supplier=True,
        routing={
            "strategies": ["fixed_sku", "stock_first", "home_node"],
            "fixed_sku": {"SKU-003": "SUP1"},
        },
    )
    assert stack.supplier is not None
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 2}]})
    wait_until(lambda: status_of(stack, placed) == "completed", what="the drop-ship order")
    order = hub_order(stack, "SHOP1", placed["id"])
    po = stack.supplier.purchase_orders()[order.id]
    assert [(x["sku"], x["quantity"]) for x in po["lines"]] == [("SKU-003", 2)]
    assert stack.qimen.orders() == {}
    [parcel] = order.fulfillments
    assert parcel.node == "SUP1" and parcel.tracking_no
    assert shop.stats()["tracking_numbers"][str(placed["id"])] == [parcel.tracking_no]
    stages = [(t.stage, t.status) for t in queries.order_view(stack.hub, order.id).trace]
    assert ("acknowledge", "ok") in stages
    with stack.hub.reader() as uow:
        [record] = uow.dispatches.supplier_records()
    assert (record.node, record.pushed, record.acknowledged, record.shipped) == ("SUP1", 1, 1, 1)
    assert record.ack_seconds is not None and record.ship_seconds is not None


def test_a_supplier_without_an_api_gets_a_sheet_and_its_filled_in_sheet_ships_the_orders(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        file_supplier=True,
        routing={"strategies": ["fixed_sku", "stock_first"], "fixed_sku": {"SKU-003": "SUP-F"}},
    )
    shop = stack.shops["SHOP1"]
    placed = [shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 1}]}) for _ in range(3)]
    for p in placed:
        wait_until(lambda p=p: status_of(stack, p) == "pushed", what="purchase orders queued")
    ids = [hub_order(stack, "SHOP1", p["id"]).id for p in placed]

    sheet = export_sheet(stack.hub, "SUP-F")
    assert sorted(sheet.purchase_orders) == sorted(ids)
    assert export_sheet(stack.hub, "SUP-F").purchase_orders == []  # sent once only

    # The supplier ships two; the third row comes back without a tracking number.
    filled = fill_in_supplier_sheet(sheet.data, {ids[0]: "SF100000001", ids[1]: "SF100000002"})
    result = import_sheet(stack.hub, "SUP-F", filled, "shipped.xlsx")
    assert (result.parcels, sorted(result.orders)) == (2, sorted(ids[:2]))
    assert len(result.problems) == 1 and "tracking" in result.problems[0]
    assert import_sheet(stack.hub, "SUP-F", filled, "shipped.xlsx").duplicate

    for p, number in zip(placed[:2], ("SF100000001", "SF100000002"), strict=True):
        wait_until(lambda p=p: status_of(stack, p) == "completed", what="tracking to the shop")
        assert shop.stats()["tracking_numbers"][str(p["id"])] == [number]
    assert status_of(stack, placed[2]) == "pushed"
    [problem] = [e for e in queries.exception_list(stack.hub) if e.code == "bad_sheet_row"]
    assert problem.inbox_id == result.inbox_id

    # Cancelled after the sheet went out: the hub cannot call it back by itself.
    shop.cancel_order(placed[2]["id"])
    wait_until(
        lambda: any(e.code == "intercept_failed" for e in queries.exception_list(stack.hub)),
        what="the failed intercept",
    )
    assert status_of(stack, placed[2]) == "cancelling"
