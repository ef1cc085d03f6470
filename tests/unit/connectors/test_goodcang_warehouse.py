"""GoodCangWarehouse against the GoodCang emulator on loopback: the create_order it writes,
a repeated push finding the first order, cancels either way, paged stock, and polled
parcels as shipments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orderhub.connectors.base import (
    NodeConnector,
    OutboundLine,
    OutboundOrder,
    Rejected,
    ShipmentLine,
)
from orderhub.connectors.capabilities import CancelsByNodeId, PolledNode
from orderhub.connectors.goodcang import GoodCangWarehouse
from orderhub.sandbox.goodcang import GoodCangEmulator
from orderhub.sandbox.server import serve_in_thread


@pytest.fixture
def gc() -> GoodCangEmulator:
    emulator = GoodCangEmulator(seed=5)
    emulator.seed_products([{"sku": f"SKU-{n}", "stock": 10} for n in range(1, 4)])
    return emulator


@pytest.fixture
def wms(gc: GoodCangEmulator) -> Iterator[GoodCangWarehouse]:
    server = serve_in_thread(gc.app)
    warehouse = GoodCangWarehouse(gc.settings(server.url))
    yield warehouse
    warehouse.close()
    server.stop()


def outbound(code: str = "D-1", *lines: OutboundLine, **changes: Any) -> OutboundOrder:
    base = OutboundOrder(
        code=code,
        shop_code="SHOP1",
        platform="shopify",
        channel_order_id="1001",
        placed_at=datetime(2026, 12, 4, 2, 0, tzinfo=UTC),
        paid_at=None,
        currency="EUR",
        grand_total=Decimal("40"),
        shipping_fee=Decimal("0"),
        discount=Decimal("0"),
        receiver_name="Anna Schmidt",
        receiver_phone="+49301234567",
        country="DE",
        province="",
        city="Berlin",
        district="",
        address="Friedrichstraße 10, Hinterhaus, 3. Etage, bei Müller-Lüdenscheidt",
        postcode="10117",
        lines=lines
        or [
            OutboundLine(
                "1",
                "SKU-1",
                2,
                "Shirt",
                Decimal("20"),
                hs_code="6109100010",
                customs_description="Cotton T-shirt",
                declared_value=Decimal("12.5"),
                declared_currency="GBP",
            )
        ],
        email="anna@example.de",
        ioss_number="IM2760000001",
    )
    return OutboundOrder(**{**base.__dict__, **changes})


def test_it_is_a_polled_node_that_cancels_by_goodcangs_number(wms: GoodCangWarehouse) -> None:
    assert isinstance(wms, PolledNode) and isinstance(wms, CancelsByNodeId)
    node: NodeConnector = wms
    assert node.platform == "goodcang"


def test_create_sends_customs_tax_numbers_and_the_default_method(
    wms: GoodCangWarehouse, gc: GoodCangEmulator
) -> None:
    number = wms.create_outbound(outbound()).external_id
    sent = gc.order(number)
    assert sent["reference_no"] == "D-1" and sent["order_status"] == "W"
    assert sent["shipping_method"] == "DPD-CLASSIC" and sent["warehouse_code"] == "UKLH"
    assert sent["items"] == [
        {
            "product_sku": "SKU-1",
            "quantity": 2,
            "product_declared_value": "12.5",
            "hs_code": "6109100010",
        }
    ]
    assert sent["vat_change_info"] == {"ioss_number": "IM2760000001"}
    assert sent["consignee_state"] == "Berlin" and len(sent["consignee_address1"]) <= 50
    assert sent["consignee_address2"] and sent["consignee_email"] == "anna@example.de"
    other = wms.create_outbound(outbound("D-2", shipping_method="UPS-STANDARD")).external_id
    assert gc.order(other)["shipping_method"] == "UPS-STANDARD"


def test_a_repeated_push_gets_the_first_order_and_a_refusal_stays_a_refusal(
    wms: GoodCangWarehouse, gc: GoodCangEmulator
) -> None:
    first = wms.create_outbound(outbound()).external_id
    assert wms.create_outbound(outbound()).external_id == first
    assert gc.stats()["create_calls"] == 2 and gc.stats()["distinct_orders"] == 1
    with pytest.raises(Rejected) as refused:
        wms.create_outbound(outbound("D-9", OutboundLine("1", "NOPE", 1)))
    assert "NOPE" in refused.value.message and refused.value.code == "10103030"


def test_cancel_before_shipment_takes_and_after_it_is_an_answer(
    wms: GoodCangWarehouse, gc: GoodCangEmulator
) -> None:
    early = wms.create_outbound(outbound("D-1")).external_id
    assert wms.cancel_outbound_at(code="D-1", external_id=early, reason="buyer").cancelled
    assert wms.cancel_outbound_at(code="D-1", external_id=early, reason="buyer").cancelled
    late = wms.create_outbound(outbound("D-2")).external_id
    gc.ship(late)
    result = wms.cancel_outbound(code="D-2", reason="buyer")
    assert not result.cancelled and "不能取消" in result.reason


def test_inventory_reads_every_page(wms: GoodCangWarehouse, gc: GoodCangEmulator) -> None:
    gc.seed_products([{"sku": f"X-{n:03d}", "stock": n} for n in range(150)])
    wms.create_outbound(outbound())
    levels = wms.query_inventory(["SKU-1", "X-149", "MISSING"])
    assert [(x.sku, x.quantity, x.locked) for x in levels] == [
        ("SKU-1", 8, 2),
        ("X-149", 149, 0),
        ("MISSING", 0, 0),
    ]
    assert gc.stats()["calls"]["inventory/get_product_inventory"] == 2


def test_a_partial_then_full_shipment_polls_as_two_parcels(
    wms: GoodCangWarehouse, gc: GoodCangEmulator
) -> None:
    lines = [
        OutboundLine("1", "SKU-1", 2, hs_code="1", declared_value=Decimal("3")),
        OutboundLine("2", "SKU-2", 1, hs_code="2", declared_value=Decimal("4")),
    ]
    number = wms.create_outbound(outbound("D-1", *lines)).external_id
    assert wms.poll_events({"D-1": number}) == []
    gc.ship(number, [("TN-A", {"SKU-1": 2})])
    [partial] = wms.poll_events({"D-1": number})
    assert partial.shipment is not None and not partial.shipment.final
    assert partial.shipment.tracking_no == "TN-A" and partial.shipment.carrier == "DPD-CLASSIC"
    assert list(partial.shipment.lines) == [ShipmentLine("SKU-1", 2)]
    gc.ship(number, [("TN-B", {"SKU-2": 1})])
    both = wms.poll_events({"D-1": number})
    assert [(e.shipment.tracking_no, e.shipment.final) for e in both if e.shipment] == [
        ("TN-A", True),
        ("TN-B", True),
    ]
    stored = wms.parse_callback({}, _stored(both[1]))
    assert stored.shipment == both[1].shipment


def test_a_discarded_order_polls_as_cancelled(wms: GoodCangWarehouse, gc: GoodCangEmulator) -> None:
    number = wms.create_outbound(outbound()).external_id
    assert gc.cancel(number)
    [event] = wms.poll_events({"D-1": number})
    assert event.cancelled == "D-1"
    assert wms.parse_callback({}, _stored(event)).cancelled == "D-1"


def _stored(event: Any) -> bytes:
    import json

    return json.dumps(event.raw, sort_keys=True).encode()
