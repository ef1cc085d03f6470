from __future__ import annotations

from decimal import Decimal

from orderhub.domain.customs import (
    NodeCustoms,
    ShopCustoms,
    check_customs,
    crosses_border,
    fill_customs,
    is_latin,
    shipping_method_for,
)
from orderhub.domain.order import Address, Order
from support import make_order

CATALOGUE = {"SKU-1": ("6109100010", "Cotton T-shirt", "CN")}


def _to_germany() -> Order:
    order = make_order(lines=[("SKU-1", 2)], currency="EUR")
    order.lines[0].sku = "SKU-1"
    order.receiver = Address(
        name="Jürgen Müller",
        phone="+49 30 1234567",
        country="DE",
        city="Berlin",
        address1="Friedrichstraße 12",
        postcode="10117",
    )
    return order


def _fields(order: Order, customs: NodeCustoms) -> list[str]:
    return [p.field for p in check_customs(order, node="UK1", line_ids=["1"], customs=customs)]


def test_a_parcel_leaving_its_country_declares_customs_unless_the_node_says_otherwise() -> None:
    order = _to_germany()
    assert crosses_border(order, "GB", NodeCustoms())
    assert not crosses_border(order, "DE", NodeCustoms())
    # A domestic WMS sends no customs fields unless the node asks for them.
    assert not crosses_border(order, "GB", NodeCustoms(), overseas=False)
    assert crosses_border(order, "GB", NodeCustoms(required="auto"), overseas=False)
    assert crosses_border(order, "DE", NodeCustoms(required="always"))
    assert not crosses_border(order, "GB", NodeCustoms(required="never"))


def test_every_missing_customs_field_is_named_before_the_push() -> None:
    order = _to_germany()
    order.lines[0].unit_price = Decimal("0")
    assert _fields(order, NodeCustoms()) == [
        "lines[0].hs_code",
        "lines[0].customs_description",
        "lines[0].declared_value",
        "customs.ioss_number",
    ]


def test_the_catalogue_and_the_shop_complete_the_declaration() -> None:
    order = _to_germany()
    fill_customs(order, skus=CATALOGUE, shop=ShopCustoms(ioss_number="IM2760000001"))
    assert (order.lines[0].hs_code, order.lines[0].origin_country) == ("6109100010", "CN")
    assert order.customs.ioss_number == "IM2760000001"
    assert _fields(order, NodeCustoms()) == []


def test_a_catalogue_correction_replaces_what_an_earlier_try_filled_in() -> None:
    order = _to_germany()
    fill_customs(order, skus={"SKU-1": ("0000", "Shirt", "")}, shop=ShopCustoms())
    fill_customs(order, skus=CATALOGUE, shop=ShopCustoms())
    assert order.lines[0].hs_code == "6109100010"


def test_the_uk_needs_the_sellers_vat_number_there() -> None:
    order = _to_germany()
    order.receiver.country = "GB"
    fill_customs(order, skus=CATALOGUE, shop=ShopCustoms(vat_numbers={"GB": "GB123456789"}))
    assert order.customs.vat_number == "GB123456789"
    assert _fields(order, NodeCustoms()) == []
    order.customs.vat_number = ""
    assert _fields(order, NodeCustoms()) == ["customs.vat_number"]


def test_a_receiver_in_chinese_needs_a_latin_one_which_a_person_adds() -> None:
    order = make_order()
    order.lines[0].sku = "SKU-1"
    fill_customs(order, skus=CATALOGUE, shop=ShopCustoms())
    assert _fields(order, NodeCustoms(required="always")) == [
        "receiver.name",
        "receiver.address1",
        "receiver.city",
    ]
    for name, value in (("name", "Zhang San"), ("address1", "100 Wensan Rd"), ("city", "Hangzhou")):
        order.set_receiver(f"latin.{name}", value)
    assert order.receiver.name == "张三"
    assert order.receiver_latin is not None and order.receiver_latin.postcode == "310000"
    assert _fields(order, NodeCustoms(required="always")) == []


def test_a_node_with_a_table_of_shipping_methods_must_cover_the_destination() -> None:
    methods = NodeCustoms(shipping_methods={"DE": "DHL-PAKET", "FR": "COLISSIMO"})
    assert shipping_method_for(methods, "de") == "DHL-PAKET"
    assert shipping_method_for(NodeCustoms(), "DE") == ""
    order = _to_germany()
    fill_customs(order, skus=CATALOGUE, shop=ShopCustoms(ioss_number="IM2760000001"))
    order.receiver.country = "AT"
    assert _fields(order, methods) == ["receiver.country"]
    with_default = NodeCustoms(shipping_methods={"*": "STANDARD"})
    assert _fields(order, with_default) == []


def test_latin_script_allows_accents_and_refuses_other_scripts() -> None:
    assert is_latin("Zoë Dupré, 12 Rue de l'Église")
    assert not is_latin("张三")
    assert not is_latin("Иван")
