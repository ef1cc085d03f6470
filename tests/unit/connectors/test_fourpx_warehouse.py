"""FourpxWarehouse against the 4PX emulator: the create it writes, the same ref_no sent
twice, cancels, stock, and how polled rows become parcels and cancellations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orderhub.connectors.base import NodeConnector, OutboundLine, OutboundOrder
from orderhub.connectors.capabilities import PolledNode
from orderhub.connectors.fourpx import FourpxWarehouse
from orderhub.sandbox.fourpx import FourpxEmulator
from orderhub.sandbox.server import serve_in_thread


@pytest.fixture
def pair() -> Iterator[tuple[FourpxEmulator, FourpxWarehouse]]:
    emulator = FourpxEmulator(seed=5)
    emulator.seed_skus([{"sku": "MUG", "stock": 10}, {"sku": "TEA", "stock": 5}])
    server = serve_in_thread(emulator.app)
    wms = FourpxWarehouse(emulator.settings(server.url))
    try:
        yield emulator, wms
    finally:
        wms.close()
        server.stop()


def order(code: str, country: str = "US", *, hs_code: str = "", method: str = "") -> OutboundOrder:
    line = OutboundLine(
        line_no="1",
        sku="MUG",
        quantity=2,
        unit_price=Decimal("12.5"),
        hs_code=hs_code,
        customs_description="Ceramic mug" if hs_code else "",
        declared_value=Decimal("9") if hs_code else Decimal("0"),
        declared_currency="USD" if hs_code else "",
        origin_country="CN" if hs_code else "",
    )
    return OutboundOrder(
        code=code,
        shop_code="SHOP1",
        platform="amazon",
        channel_order_id="111-2",
        placed_at=datetime(2026, 12, 4, tzinfo=UTC),
        paid_at=None,
        currency="USD",
        grand_total=Decimal("25"),
        shipping_fee=Decimal("0"),
        discount=Decimal("0"),
        receiver_name="Ann Lee",
        receiver_phone="+1 213 555 0100",
        country=country,
        province="ON" if country == "CA" else "CA",
        city="Toronto" if country == "CA" else "Los Angeles",
        district="",
        address="200 Spring Street",
        postcode="90012",
        lines=[line] if hs_code else [line, OutboundLine(line_no="2", sku="TEA", quantity=1)],
        email="ann@example.com",
        shipping_method=method,
        ioss_number="",
        vat_number="",
    )


def test_it_is_a_polled_node(pair: tuple[FourpxEmulator, FourpxWarehouse]) -> None:
    _, wms = pair
    connector: NodeConnector = wms
    assert isinstance(connector, PolledNode)


def test_create_twice_with_one_ref_no_makes_one_consignment(
    pair: tuple[FourpxEmulator, FourpxWarehouse],
) -> None:
    emulator, wms = pair
    first = wms.create_outbound(order("o-1"))
    again = wms.create_outbound(order("o-1"))
    assert first == again and first.external_id.startswith("OC")
    stored = emulator.order("o-1")
    assert (stored["sales_no"], stored["body"]["sales_platform"]) == ("111-2", "AM")
    assert stored["logistics_product_code"] == "F152" and stored["first_name"] == "Ann Lee"
    assert emulator.stats()["distinct_orders"] == 1


def test_a_parcel_abroad_declares_customs_and_its_own_shipping_method(
    pair: tuple[FourpxEmulator, FourpxWarehouse],
) -> None:
    emulator, wms = pair
    wms.create_outbound(order("o-2", "CA", hs_code="691200", method="F3"))
    stored = emulator.order("o-2")
    assert stored["logistics_product_code"] == "F3"
    assert stored["lines"][0] == {
        "sku": "MUG",
        "quantity": 2,
        "unit_price": "12.50",
        "hs_code": "691200",
        "declare_name_en": "Ceramic mug",
        "declare_value": "9.00",
        "declare_currency": "USD",
        "origin_country": "CN",
    }


def test_parcels_are_polled_one_by_one_and_the_last_is_final(
    pair: tuple[FourpxEmulator, FourpxWarehouse],
) -> None:
    emulator, wms = pair
    number = wms.create_outbound(order("o-3")).external_id
    assert wms.poll_events({"o-3": number}) == []
    emulator.ship(number, lines={"MUG": 2}, shipping_no="T1")
    [first] = wms.poll_events({"o-3": number})
    assert first.shipment is not None and not first.shipment.final
    assert [(x.sku, x.quantity) for x in first.shipment.lines] == [("MUG", 2)]
    emulator.ship(number, shipping_no="T2")
    events = wms.poll_events({"o-3": number})
    assert [(e.shipment.tracking_no, e.shipment.final) for e in events if e.shipment] == [
        ("T1", False),
        ("T2", True),
    ]
    again = wms.parse_callback({}, json.dumps(events[1].raw).encode())
    assert again.shipment == events[1].shipment


def test_cancel_before_and_after_shipment_and_stock(
    pair: tuple[FourpxEmulator, FourpxWarehouse],
) -> None:
    emulator, wms = pair
    wms.create_outbound(order("o-4"))
    assert wms.cancel_outbound(code="o-4", reason="buyer").cancelled
    assert wms.cancel_outbound(code="o-4", reason="buyer").cancelled
    [event] = wms.poll_events({"o-4": ""})
    assert event.cancelled == "o-4"
    number = wms.create_outbound(order("o-5")).external_id
    emulator.ship(number)
    refused = wms.cancel_outbound(code="o-5", reason="buyer")
    assert not refused.cancelled and "签出" in refused.reason
    levels = {x.sku: (x.quantity, x.locked) for x in wms.query_inventory(["MUG", "TEA", "NONE"])}
    assert levels == {"MUG": (8, 0), "TEA": (4, 0), "NONE": (0, 0)}
