"""A listing sold in packs: the shop sells "2 mugs" as one unit, the warehouse ships two.

Before this was modelled, a 2-pack reserved one mug, so the shop could sell twice the
stock it had.
"""

from __future__ import annotations

from collections.abc import Callable

from orderhub.config import ListingConfig
from orderhub.demo_stack import Stack
from orderhub.services.setup import apply_config
from support import wait_until


def test_a_two_pack_reserves_and_ships_two_and_is_confirmed_as_one(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(stock=10)
    shop = stack.shops["SHOP1"]
    shop.seed_product({"skus": ["MUG-2PACK"], "price": "35.00", "stock": 0})
    config = stack.hub_config.model_copy(
        update={
            "listings": [
                *stack.hub_config.listings,
                ListingConfig(shop="SHOP1", channel_sku="MUG-2PACK", sku="SKU-001", multiplier=2),
            ]
        }
    )
    apply_config(stack.hub, config)
    order = shop.place_order({"lines": [{"sku": "MUG-2PACK", "quantity": 3}]})

    wait_until(lambda: len(stack.qimen.orders()) == 1, what="the order at the warehouse")
    [code] = stack.qimen.orders()
    [line] = stack.qimen.order(code)["lines"]
    assert (line["item_code"], line["plan_qty"]) == ("SKU-001", 6)
    wait_until(
        lambda: bool(shop.fulfillments_for(order["id"])), what="the tracking number on the shop"
    )
    [fulfillment] = shop.fulfillments_for(order["id"])
    assert [item["quantity"] for item in fulfillment["line_items"]] == [3]
    with stack.hub.reader() as uow:
        level = uow.stock.level("WH1", "SKU-001")
    assert level is not None and level.on_hand == 4
    # Four mugs left: the 2-pack shows as two packs.
    wait_until(
        lambda: shop.inventory_by_sku().get("MUG-2PACK") == 2,
        what=lambda: f"listed {shop.inventory_by_sku()}",
    )
