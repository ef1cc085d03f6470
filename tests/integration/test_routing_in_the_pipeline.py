"""Routing decisions as the pipeline makes them, on both databases: presale, suppliers
that carry only some SKUs, and a person releasing an order a seller rule held."""

from __future__ import annotations

from typing import Any

from orderhub.config import HubConfig, NodeConfig, SkuConfig, StockConfig
from orderhub.domain.order import Order, OrderStatus
from orderhub.services.exceptions import resolve_exception
from orderhub.services.hub import Hub
from orderhub.services.pipeline import route
from orderhub.services.queries import exception_list
from orderhub.services.rules import activate_rule_set, put_rule_set
from orderhub.services.setup import apply_config
from support import make_order, offline_shop, offline_warehouse


def configure(hub: Hub, *, routing: dict[str, Any], stock: dict[tuple[str, str], int]) -> None:
    apply_config(
        hub,
        HubConfig(
            shops=[offline_shop(nodes=["WH1", "TEA"], routing=routing)],
            nodes=[
                offline_warehouse(priority=2),
                NodeConfig(
                    code="TEA",
                    platform="supplier_file",
                    kind="supplier",
                    priority=5,
                    unlimited_stock=True,
                    skus=["OOLONG"],
                ),
            ],
            skus=[
                SkuConfig(sku="MUG"),
                SkuConfig(sku="OOLONG"),
                SkuConfig(sku="PRE", backorder_limit=5),
            ],
            stock=[StockConfig(node=n, sku=s, on_hand=q) for (n, s), q in stock.items()],
        ),
    )


def routed(hub: Hub, order: Order) -> Order:
    order.id = f"o-{order.channel_order_id}"
    with hub.uow() as uow:
        route(uow, order, uow.catalog.shop("S1"), stock_window=60.0)
        uow.orders.add(order)
        uow.commit()
    with hub.reader() as uow:
        return uow.orders.get(order.id)


def test_a_supplier_without_stock_figures_ships_only_what_it_carries(hub: Hub) -> None:
    configure(hub, routing={"split": True}, stock={("WH1", "MUG"): 10})

    mug_and_tea = routed(hub, make_order(channel_order_id="1", lines=[("MUG", 1), ("OOLONG", 2)]))
    mug_only = routed(hub, make_order(channel_order_id="2", lines=[("MUG", 1)]))

    # The supplier ranks first but carries no mugs: the order is split, the mug from WH1.
    assert mug_and_tea.status is OrderStatus.RESERVED
    assert {line.sku: line.node for line in mug_and_tea.lines} == {"MUG": "WH1", "OOLONG": "TEA"}
    assert {line.node for line in mug_only.lines} == {"WH1"}
    with hub.reader() as uow:
        # Nothing is reserved at the supplier; the mugs are at WH1.
        assert {(x.node, x.sku): x.reserved for x in uow.stock.levels()} == {("WH1", "MUG"): 2}
        assert [d.node for d in uow.dispatches.of_order(mug_and_tea.id)] == ["TEA", "WH1"]


def test_a_presale_sku_is_reserved_at_a_node_that_never_had_any(hub: Hub) -> None:
    configure(hub, routing={}, stock={("WH1", "MUG"): 10})

    order = routed(hub, make_order(lines=[("PRE", 3)]))

    assert order.status is OrderStatus.RESERVED
    with hub.reader() as uow:
        [level] = uow.stock.levels(skus=["PRE"])
        trace = uow.orders.trace_of(order.id)
    assert (level.node, level.on_hand, level.reserved) == ("WH1", 0, 3)
    assert any("presale: PRE" in step.message for step in trace)


def test_an_order_a_seller_rule_held_goes_on_once_a_person_releases_it(hub: Hub) -> None:
    configure(hub, routing={}, stock={("WH1", "MUG"): 10})
    put_rule_set(
        hub,
        {
            "name": "review",
            "rules": [
                {
                    "name": "big",
                    "when": "order.quantity >= 5",
                    "action": "hold",
                    "reason": "five or more mugs: check with the buyer",
                }
            ],
        },
    )
    activate_rule_set(hub, "review")

    order = routed(hub, make_order(lines=[("MUG", 5)]))
    assert order.status is OrderStatus.HELD
    [held] = exception_list(hub)
    assert held.code == "rule:big"

    replayed = resolve_exception(hub, held.id, "release", note="the buyer confirmed")

    assert replayed.status == "reserved"
    with hub.reader() as uow:
        assert uow.orders.get(order.id).status is OrderStatus.RESERVED
