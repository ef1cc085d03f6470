"""A parcel is written down from what its locked dispatch said: the dispatch is not
read again, and the order keeps its lines and its buyer's details as they were."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from orderhub.connectors.base import ShipmentConfirmed, ShipmentLine
from orderhub.domain.order import OrderStatus
from orderhub.jobs.worker import Worker
from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.services.ingest import JOB_INBOX, receive_payload
from orderhub.services.setup import apply_config
from orderhub.services.shipping import apply_shipment
from support import make_hub, one_warehouse_catalogue

SHOP, NODE = "S1", "WH1"


def two_line_order() -> dict[str, Any]:
    """A real Shopify order of two units of SKU-A and one of SKU-B."""
    emulator = ShopifyEmulator(shop_domain="x.myshopify.com")
    try:
        lines = [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}]
        return emulator.place_order({"lines": lines})
    finally:
        emulator.close()


def test_a_parcel_in_two_parts_ships_the_order_without_reading_its_dispatch_again(
    database_url: str,
) -> None:
    hub = make_hub(database_url)
    try:
        apply_config(hub, one_warehouse_catalogue(SHOP, NODE, {"SKU-A": 5, "SKU-B": 5}))
        receive_payload(hub, SHOP, two_line_order(), source="import")
        Worker(hub, kinds=[JOB_INBOX]).run_until_idle(timeout=30)
        with hub.reader() as uow:
            (order_id,) = uow.orders.ids_by_status("reserved")
            (dispatch,) = uow.dispatches.of_order(order_id)
            before = uow.orders.get(order_id)
        lines = {x.sku: x for x in dispatch.lines}
        asked: list[str] = []

        def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            asked.append(" ".join(statement.split()))

        def ship(n: int, parcel: list[ShipmentLine], final: bool) -> list[str]:
            asked.clear()
            event.listen(hub.db.engine, "before_cursor_execute", note)
            try:
                with hub.uow() as uow:
                    apply_shipment(
                        uow,
                        NODE,
                        ShipmentConfirmed(
                            code=dispatch.id,
                            carrier="SF",
                            tracking_no=f"SF{n}",
                            lines=parcel,
                            confirm_id=f"C{n}",
                            final=final,
                        ),
                    )
                    uow.commit()
            finally:
                event.remove(hub.db.engine, "before_cursor_execute", note)
            return list(asked)

        first = ship(1, [ShipmentLine("SKU-A", 2, lines["SKU-A"].line_no)], final=False)
        with hub.reader() as uow:
            assert uow.orders.get(order_id).status is OrderStatus.PARTIALLY_SHIPPED
            assert uow.dispatches.of_order(order_id)[0].status != "shipped"
        second = ship(2, [ShipmentLine("SKU-B", 1, lines["SKU-B"].line_no)], final=False)

        for statements in (first, second):
            reads = [s for s in statements if s.startswith("SELECT") and "FROM dispatches" in s]
            assert len(reads) == 1  # the locked read; whether all has left is known from it
            assert not [s for s in statements if s.startswith("DELETE FROM order_lines")]
            assert not [s for s in statements if "FROM stock_levels" in s]
        with hub.reader() as uow:
            after = uow.orders.get(order_id)
            assert after.status is OrderStatus.SHIPPED
            assert [(x.sku, x.quantity) for x in after.lines] == [
                (x.sku, x.quantity) for x in before.lines
            ]
            assert after.receiver == before.receiver and after.buyer == before.buyer
            assert [f.tracking_no for f in after.fulfillments] == ["SF1", "SF2"]
            (shipped,) = uow.dispatches.of_order(order_id)
            assert shipped.status == "shipped"
            assert {x.sku: x.shipped for x in shipped.lines} == {"SKU-A": 2, "SKU-B": 1}
            levels = uow.stock.levels(skus=["SKU-A", "SKU-B"], nodes=[NODE])
            assert [(x.sku, x.on_hand, x.reserved) for x in levels] == [
                ("SKU-A", 3, 0),
                ("SKU-B", 4, 0),
            ]
            assert uow.stock.ledger_mismatches() == []
    finally:
        hub.close()
