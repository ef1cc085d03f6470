"""谷仓 (GoodCang) UK as a fulfilment node, over real HTTP on SQLite and PostgreSQL: a
German buyer's order checked for customs before anything is sent, pushed once however
often the push runs, shipped in two parcels found by polling, cancelled, and the
warehouse's stock read into the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderhub.demo_goodcang import GOODCANG_METHOD, GOODCANG_NODE
from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.dispatch import JOB_NODE_PUSH
from orderhub.services.exceptions import resolve_exception
from orderhub.services.inventory import Difference, reconcile_node
from orderhub.services.node_polls import poll_node
from orderhub.services.setup import apply_config
from support import wait_until

NODE = GOODCANG_NODE
SKUS = [f"SKU-{n:03d}" for n in range(1, 4)]
BERLIN = {
    "first_name": "Anna",
    "last_name": "Schmidt",
    "address1": "Friedrichstraße 10",
    "city": "Berlin",
    "province": "Berlin",
    "zip": "10117",
    "country": "Germany",
    "country_code": "DE",
    "phone": "+49301234567",
}


def gc_stack(make_stack: Callable[..., Stack], *, customs: bool = True) -> Stack:
    """A Shopify shop served by WH1 (empty) and GC-UK1 (ten of each SKU); with `customs`
    the SKUs declare HS codes and the shop its IOSS number."""
    stack = make_stack(goodcang=True, stock_by_node={NODE: {sku: 10 for sku in SKUS}})
    assert stack.goodcang is not None
    if customs:
        declare(stack)
    return stack


def declare(stack: Stack) -> None:
    """Configuration applied again, as `orderhub config apply` does: HS codes and English
    descriptions on the SKUs, the seller's IOSS number on the shop."""
    config = stack.hub_config.model_copy(deep=True)
    for sku in config.skus:
        sku.hs_code, sku.customs_description = "6109100010", "Cotton T-shirt"
    for shop in config.shops:
        shop.customs = shop.customs.model_copy(update={"ioss_number": "IM2760000001"})
    apply_config(stack.hub, config)


def hub_order(stack: Stack, placed: dict[str, Any]) -> Any:
    with stack.hub.reader() as uow:
        return uow.orders.by_channel_ref("SHOP1", str(placed["id"]))


def status_of(stack: Stack, placed: dict[str, Any]) -> str | None:
    order = hub_order(stack, placed)
    return None if order is None else str(order.status)


def place(stack: Stack, *lines: tuple[str, int]) -> dict[str, Any]:
    return stack.shops["SHOP1"].place_order(
        {
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            "customer": {"name": "Anna Schmidt"},
            "shipping_address": BERLIN,
        }
    )


def pushed(stack: Stack, *lines: tuple[str, int]) -> tuple[dict[str, Any], str, str]:
    """Place a Berlin order and wait until GoodCang has it: (placed, code, order_code)."""
    placed = place(stack, *lines)
    wait_until(lambda: status_of(stack, placed) == "pushed", what="the order at GoodCang")
    code = hub_order(stack, placed).id
    with stack.hub.reader() as uow:
        dispatch = uow.dispatches.get(code)
    assert dispatch is not None and dispatch.node == NODE and dispatch.external_id
    return placed, code, dispatch.external_id


def dispatch_status(stack: Stack, code: str) -> str | None:
    with stack.hub.reader() as uow:
        dispatch = uow.dispatches.get(code)
    return None if dispatch is None else dispatch.status


def level(stack: Stack, sku: str) -> tuple[int, int]:
    with stack.hub.reader() as uow:
        [found] = uow.stock.levels(nodes=[NODE], skus=[sku])
    return found.on_hand, found.reserved


def test_an_order_without_hs_codes_is_held_before_the_push_and_sent_once_fixed(
    make_stack: Callable[..., Stack],
) -> None:
    stack = gc_stack(make_stack, customs=False)
    gc = stack.goodcang
    assert gc is not None
    placed = place(stack, ("SKU-001", 2))
    wait_until(lambda: status_of(stack, placed) == "held", what="the customs hold")
    problems = queries.exception_list(stack.hub, code="missing_customs")
    assert "lines[0].hs_code" in {p.field for p in problems}
    assert gc.stats()["create_calls"] == 0 and gc.stats()["create_refused"] == 0

    declare(stack)
    resolve_exception(stack.hub, problems[0].id, "retry")
    wait_until(lambda: status_of(stack, placed) == "pushed", what="the push after the fix")
    code = hub_order(stack, placed).id
    sent = gc.order(code)
    assert sent["items"][0]["hs_code"] == "6109100010"
    assert sent["vat_change_info"] == {"ioss_number": "IM2760000001"}
    assert (sent["shipping_method"], sent["consignee_country_code"]) == (GOODCANG_METHOD, "DE")
    assert gc.stats()["create_calls"] == 1 and gc.stats()["create_refused"] == 0


def test_a_push_repeated_after_a_lost_answer_finds_the_first_outbound(
    make_stack: Callable[..., Stack],
) -> None:
    stack = gc_stack(make_stack)
    gc = stack.goodcang
    assert gc is not None
    _, code, number = pushed(stack, ("SKU-001", 1))
    # The worker died after GoodCang took the order, before the hub recorded it: the push
    # runs again, GoodCang refuses the reference, the connector reads the order back.
    with stack.hub.uow() as uow:
        uow.dispatches.mark(code, "pending")
        uow.outbox.add(JOB_NODE_PUSH, {"dispatch_id": code}, key=f"push:{code}:again")
        uow.commit()
    wait_until(lambda: gc.stats()["create_calls"] == 2, what="the second push")
    wait_until(lambda: dispatch_status(stack, code) == "pushed", what="the push recorded")
    assert gc.stats()["distinct_orders"] == 1 and gc.stats()["create_refused"] == 1
    with stack.hub.reader() as uow:
        again = uow.dispatches.get(code)
    assert again is not None and again.external_id == number


def test_two_parcels_ship_the_order_partly_then_wholly_with_both_tracking_numbers(
    make_stack: Callable[..., Stack],
) -> None:
    stack = gc_stack(make_stack)
    gc, shop = stack.goodcang, stack.shops["SHOP1"]
    assert gc is not None
    placed, _, number = pushed(stack, ("SKU-001", 2), ("SKU-002", 1))
    gc.ship(number, [("TN-A", {"SKU-001": 2})])
    assert poll_node(stack.hub, NODE).stored == 1
    wait_until(lambda: status_of(stack, placed) == "partially_shipped", what="the first parcel")
    gc.ship(number, [("TN-B", {"SKU-002": 1})])
    assert poll_node(stack.hub, NODE).stored == 1
    wait_until(
        lambda: status_of(stack, placed) in ("shipped", "completed"), what="the second parcel"
    )
    order = hub_order(stack, placed)
    assert sorted(f.tracking_no for f in order.fulfillments) == ["TN-A", "TN-B"]
    assert {f.carrier for f in order.fulfillments} == {GOODCANG_METHOD}
    wait_until(
        lambda: (
            sorted(shop.stats()["tracking_numbers"].get(str(placed["id"]), [])) == ["TN-A", "TN-B"]
        ),
        what="both numbers at the shop",
    )
    assert poll_node(stack.hub, NODE).asked == 0
    assert level(stack, "SKU-001") == (8, 0) and level(stack, "SKU-002") == (9, 0)


def test_a_cancellation_before_shipment_discards_the_goodcang_order(
    make_stack: Callable[..., Stack],
) -> None:
    stack = gc_stack(make_stack)
    gc = stack.goodcang
    assert gc is not None
    placed, _, number = pushed(stack, ("SKU-003", 2))
    stack.shops["SHOP1"].cancel_order(placed["id"])
    wait_until(lambda: status_of(stack, placed) == "cancelled", what="GoodCang to discard it")
    assert gc.order(number)["order_status"] == "X"
    assert gc.stock()["SKU-003"]["sellable"] == 10
    assert level(stack, "SKU-003") == (10, 0)


def test_reconciliation_reads_the_warehouse_stock_into_the_ledger(
    make_stack: Callable[..., Stack],
) -> None:
    stack = gc_stack(make_stack)
    assert stack.goodcang is not None
    stack.goodcang.set_stock("SKU-002", 7)
    stack.goodcang.set_stock("SKU-003", 12)
    found = reconcile_node(stack.hub, NODE)
    assert sorted(found, key=lambda d: d.sku) == [
        Difference(NODE, "SKU-002", 10, 7),
        Difference(NODE, "SKU-003", 10, 12),
    ]
    assert [level(stack, sku)[0] for sku in SKUS] == [10, 7, 12]
    assert reconcile_node(stack.hub, NODE) == []
