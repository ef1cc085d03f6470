"""4PX 递四方 as an overseas fulfilment node, over real HTTP on SQLite and PostgreSQL: a
US order pushed once and shipped in two parcels, a Canadian order held for customs until
its SKU is declared, a push whose answer was lost, cancellations, and the warehouse's
stock read into the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.exceptions import replay_exception
from orderhub.services.inventory import Difference, reconcile_node
from orderhub.services.node_polls import PollResult, poll_node
from orderhub.services.setup import apply_config
from support import wait_until

NODE = "4PX-US1"
SKUS = [f"SKU-{n:03d}" for n in range(1, 4)]


def address(country: str) -> dict[str, str]:
    places = {
        "US": ("United States", "Los Angeles", "California", "CA", "90012"),
        "CA": ("Canada", "Toronto", "Ontario", "ON", "M5V 2T6"),
    }
    name, city, province, code, postcode = places[country]
    return {
        "first_name": "Ann",
        "last_name": "Lee",
        "name": "Ann Lee",
        "address1": "200 Spring Street",
        "city": city,
        "province": province,
        "province_code": code,
        "zip": postcode,
        "country": name,
        "country_code": country,
        "phone": "+1 213 555 0100",
    }


def fourpx_stack(make_stack: Callable[..., Stack]) -> Stack:
    """A Shopify shop served by WH1 (empty) and 4PX-US1 (ten of each SKU)."""
    stack = make_stack(fourpx=True, stock_by_node={NODE: {sku: 10 for sku in SKUS}})
    assert stack.fourpx is not None
    return stack


def place(stack: Stack, lines: list[tuple[str, int]], country: str = "US") -> dict[str, Any]:
    spec = {
        "lines": [{"sku": sku, "quantity": n} for sku, n in lines],
        "shipping_address": address(country),
    }
    placed: dict[str, Any] = stack.shops["SHOP1"].place_order(spec)
    return placed


def hub_order(stack: Stack, placed: dict[str, Any]) -> Any:
    with stack.hub.reader() as uow:
        return uow.orders.by_channel_ref("SHOP1", str(placed["id"]))


def status_of(stack: Stack, placed: dict[str, Any]) -> str | None:
    order = hub_order(stack, placed)
    return None if order is None else str(order.status)


def pushed(stack: Stack, placed: dict[str, Any]) -> tuple[str, str]:
    """Wait until 4PX has the order: (our code, consignment_no)."""
    wait_until(lambda: status_of(stack, placed) == "pushed", what="the order at 4PX")
    code = hub_order(stack, placed).id
    with stack.hub.reader() as uow:
        dispatch = uow.dispatches.get(code)
    assert dispatch is not None and dispatch.node == NODE and dispatch.external_id
    return code, dispatch.external_id


def level(stack: Stack, sku: str) -> tuple[int, int]:
    with stack.hub.reader() as uow:
        [found] = uow.stock.levels(nodes=[NODE], skus=[sku])
    return found.on_hand, found.reserved


def test_a_us_order_is_pushed_once_and_shipped_in_two_parcels(
    make_stack: Callable[..., Stack],
) -> None:
    stack = fourpx_stack(make_stack)
    fourpx = stack.fourpx
    assert fourpx is not None
    placed = place(stack, [("SKU-001", 2), ("SKU-002", 1)])
    code, number = pushed(stack, placed)
    stored = fourpx.order(number)
    assert stored["ref_no"] == code and stored["status"] == "S"
    assert stored["logistics_product_code"] == "F152" and stored["country"] == "US"
    assert [(x["sku"], x["quantity"]) for x in stored["lines"]] == [("SKU-001", 2), ("SKU-002", 1)]
    assert "hs_code" not in stored["lines"][0]  # domestic: nothing declared
    assert fourpx.stats()["create_calls"] == 1

    first = fourpx.ship(number, lines={"SKU-001": 2}, shipping_no="9400100000000000000001")
    assert poll_node(stack.hub, NODE).stored == 1
    wait_until(lambda: status_of(stack, placed) == "partially_shipped", what="the first parcel")
    second = fourpx.ship(number, shipping_no="9400100000000000000002")
    assert poll_node(stack.hub, NODE) == PollResult(asked=1, events=2, stored=1)
    wait_until(
        lambda: status_of(stack, placed) in ("shipped", "completed"), what="the second parcel"
    )
    order = hub_order(stack, placed)
    parcels = {
        (f.tracking_no, tuple((x.sku, x.quantity) for x in f.lines)) for f in order.fulfillments
    }
    assert parcels == {(first, (("SKU-001", 2),)), (second, (("SKU-002", 1),))}
    assert all(f.carrier == "4PX" and f.node == NODE for f in order.fulfillments)
    wait_until(
        lambda: (
            sorted(stack.shops["SHOP1"].stats()["tracking_numbers"].get(str(placed["id"]), []))
            == sorted([first, second])
        ),
        what="both tracking numbers at the shop",
    )
    assert poll_node(stack.hub, NODE) == PollResult(asked=0, events=0, stored=0)
    assert level(stack, "SKU-001") == (8, 0) and level(stack, "SKU-002") == (9, 0)


def test_a_canadian_order_without_an_hs_code_waits_for_customs_then_goes_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = fourpx_stack(make_stack)
    fourpx = stack.fourpx
    assert fourpx is not None
    placed = place(stack, [("SKU-002", 1)], country="CA")
    wait_until(lambda: status_of(stack, placed) == "held", what="the customs hold")
    problems = queries.exception_list(stack.hub, code="missing_customs")
    assert any(p.field == "lines[0].hs_code" for p in problems)
    assert fourpx.stats()["calls"].get("fu.wms.outbound.create", 0) == 0

    for sku in stack.hub_config.skus:
        if sku.sku == "SKU-002":
            sku.hs_code, sku.customs_description, sku.origin_country = "691200", "Ceramic mug", "CN"
    apply_config(stack.hub, stack.hub_config)
    replay_exception(stack.hub, problems[0].id)
    _, number = pushed(stack, placed)
    stored = fourpx.order(number)
    assert stored["country"] == "CA" and stored["logistics_product_code"] == "F152"
    [line] = stored["lines"]
    assert (line["hs_code"], line["declare_name_en"], line["origin_country"]) == (
        "691200",
        "Ceramic mug",
        "CN",
    )
    assert float(line["declare_value"]) > 0
    assert fourpx.stats()["create_calls"] == 1


def test_a_push_whose_answer_was_lost_finds_its_consignment_by_ref_no(
    make_stack: Callable[..., Stack],
) -> None:
    stack = fourpx_stack(make_stack)
    fourpx = stack.fourpx
    assert fourpx is not None
    fourpx.lose_answers("fu.wms.outbound.create", 1)
    placed = place(stack, [("SKU-003", 2)])
    code, number = pushed(stack, placed)
    stats = fourpx.stats()
    assert stats["create_calls"] == 2 and stats["distinct_orders"] == 1
    assert stats["refusals"] == {"ref_no_used": 1}
    assert fourpx.order(code)["consignment_no"] == number
    assert fourpx.stock()["SKU-003"] == {"on_hand": 10, "available": 8, "pending": 2}


def test_a_cancellation_before_shipment_is_accepted_and_after_it_the_parcel_counts(
    make_stack: Callable[..., Stack],
) -> None:
    stack = fourpx_stack(make_stack)
    fourpx, shop = stack.fourpx, stack.shops["SHOP1"]
    assert fourpx is not None
    early = place(stack, [("SKU-001", 2)])
    _, early_no = pushed(stack, early)
    shop.cancel_order(early["id"])
    wait_until(lambda: status_of(stack, early) == "cancelled", what="4PX to stop it")
    assert fourpx.order(early_no)["status"] == "X"
    assert fourpx.stock()["SKU-001"]["available"] == 10
    assert level(stack, "SKU-001") == (10, 0)

    late = place(stack, [("SKU-003", 1)])
    late_code, late_no = pushed(stack, late)
    tracking = fourpx.ship(late_no)
    shop.cancel_order(late["id"])
    wait_until(
        lambda: any(e.code == "intercept_failed" for e in queries.exception_list(stack.hub)),
        what="4PX's refusal",
    )
    assert poll_node(stack.hub, NODE).stored == 1
    wait_until(lambda: status_of(stack, late) in ("shipped", "completed"), what="the shipment")
    with stack.hub.reader() as uow:
        [parcel] = uow.orders.get(late_code).fulfillments
    assert parcel.tracking_no == tracking


def test_reconciliation_reads_the_warehouse_stock_into_the_ledger(
    make_stack: Callable[..., Stack],
) -> None:
    stack = fourpx_stack(make_stack)
    assert stack.fourpx is not None
    stack.fourpx.set_stock("SKU-002", 7)
    stack.fourpx.set_stock("SKU-003", 12)
    found = reconcile_node(stack.hub, NODE)
    assert sorted(found, key=lambda d: d.sku) == [
        Difference(NODE, "SKU-002", 10, 7),
        Difference(NODE, "SKU-003", 10, 12),
    ]
    assert [level(stack, sku)[0] for sku in SKUS] == [10, 7, 12]
    assert reconcile_node(stack.hub, NODE) == []
