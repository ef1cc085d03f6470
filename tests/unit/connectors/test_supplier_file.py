"""File suppliers: PO sheets out, filled sheets back in, in every encoding a supplier uses."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from orderhub.connectors.base import (
    OutboundLine,
    OutboundOrder,
    Rejected,
    ReturnOrder,
    ShipmentLine,
)
from orderhub.connectors.registry import node_connector
from orderhub.connectors.supplier_file import (
    FileSupplier,
    export_purchase_orders,
    parse_shipment_file,
)

CARRIER_COL, TRACKING_COL = "carrier/快递公司", "tracking_no/快递单号"


def make_order(code: str = "PO-1", lines: list[tuple[str, int]] | None = None) -> OutboundOrder:
    return OutboundOrder(
        code=code,
        shop_code="shop-1",
        platform="tmall",
        channel_order_id=f"TM-{code}",
        placed_at=datetime(2024, 6, 1, tzinfo=UTC),
        paid_at=None,
        currency="CNY",
        grand_total=Decimal("20"),
        shipping_fee=Decimal("0"),
        discount=Decimal("0"),
        receiver_name="王小明",
        receiver_phone="013900000000",
        country="CN",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address="文三路 1 号, 3 楼",
        postcode="310000",
        lines=[
            OutboundLine(str(n), sku, qty, f"商品 {sku}", Decimal("9.90"))
            for n, (sku, qty) in enumerate(lines or [("SKU-1", 2)], start=1)
        ],
        seller_remark="易碎",
    )


def make_return(code: str = "RT-1") -> ReturnOrder:
    order = make_order()
    return ReturnOrder(
        code=code,
        original_code=order.code,
        shop_code=order.shop_code,
        channel_order_id=order.channel_order_id,
        sender_name=order.receiver_name,
        sender_phone=order.receiver_phone,
        country=order.country,
        province=order.province,
        city=order.city,
        address=order.address,
        lines=order.lines,
    )


def fill_csv(data: bytes, tracking: dict[int, tuple[str, str]]) -> list[list[str]]:
    """The exported CSV as rows, with (carrier, tracking) filled into data row i (0-based)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    for index, (carrier, number) in tracking.items():
        rows[index + 1][header.index(CARRIER_COL)] = carrier
        rows[index + 1][header.index(TRACKING_COL)] = number
    return rows


def to_csv(rows: list[list[str]], encoding: str) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def test_the_export_has_one_row_per_line_under_bilingual_headers() -> None:
    data = export_purchase_orders(
        [make_order("PO-1", [("SKU-1", 2), ("SKU-2", 1)]), make_order("PO-2")], "csv"
    )
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["po_number/采购单号"], r["sku/商品编码"], r["quantity/数量"]) for r in rows] == [
        ("PO-1", "SKU-1", "2"),
        ("PO-1", "SKU-2", "1"),
        ("PO-2", "SKU-1", "2"),
    ]
    first = rows[0]
    assert first["receiver/收件人"] == "王小明"
    assert first["phone/电话"] == "013900000000"
    assert (first["province/省"], first["city/市"], first["district/区"]) == (
        "浙江省",
        "杭州市",
        "西湖区",
    )
    assert first["address/地址"] == "文三路 1 号, 3 楼"
    assert first["remark/备注"] == "易碎"
    assert first[CARRIER_COL] == first[TRACKING_COL] == ""


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_a_filled_csv_comes_back_as_shipments_in_any_encoding(encoding: str) -> None:
    exported = export_purchase_orders([make_order("PO-1", [("SKU-1", 2), ("SKU-2", 1)])], "csv")
    rows = fill_csv(exported, {0: ("顺丰", "SF1000000000001"), 1: ("顺丰", "SF1000000000001")})

    shipments, problems = parse_shipment_file(to_csv(rows, encoding), "回单.csv")

    assert problems == []
    [shipment] = shipments
    assert (shipment.code, shipment.carrier, shipment.tracking_no) == (
        "PO-1",
        "顺丰",
        "SF1000000000001",
    )
    assert list(shipment.lines) == [ShipmentLine("SKU-1", 2, "1"), ShipmentLine("SKU-2", 1, "2")]
    assert shipment.final and shipment.confirm_id == "PO-1:SF1000000000001"


def test_an_xlsx_round_trip_keeps_digits_and_splits_parcels_by_tracking_number() -> None:
    exported = export_purchase_orders([make_order("PO-1", [("SKU-1", 2), ("SKU-2", 1)])], "xlsx")
    book = load_workbook(io.BytesIO(exported))
    sheet = book.active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=header.index("phone/电话") + 1).value == "013900000000"
    carrier = header.index(CARRIER_COL) + 1
    tracking = header.index(TRACKING_COL) + 1
    sheet.cell(row=2, column=carrier, value="YTO")
    sheet.cell(row=2, column=tracking, value="YT2000000000001")
    sheet.cell(row=3, column=carrier, value="ZTO")
    sheet.cell(row=3, column=tracking, value=73100000000001)  # typed as a number
    filled = io.BytesIO()
    book.save(filled)

    shipments, problems = parse_shipment_file(filled.getvalue(), "filled.xlsx")

    assert problems == []
    assert [(s.carrier, s.tracking_no, [x.sku for x in s.lines]) for s in shipments] == [
        ("YTO", "YT2000000000001", ["SKU-1"]),
        ("ZTO", "73100000000001", ["SKU-2"]),
    ]


def test_rows_without_tracking_are_reported_by_row_number_and_keep_the_po_open() -> None:
    exported = export_purchase_orders(
        [make_order("PO-1", [("SKU-1", 2), ("SKU-2", 1)]), make_order("PO-2")], "csv"
    )
    rows = fill_csv(exported, {0: ("SF", "SF1"), 2: ("SF", "7.31E+13")})
    rows.insert(2, ["", "", ""])  # a blank line the supplier left: skipped, still counted

    shipments, problems = parse_shipment_file(to_csv(rows, "utf-8"), "back.csv")

    assert problems == [
        "row 4: no tracking number",
        "row 5: tracking number 7.31E+13 was turned into a number by Excel; "
        "format the column as text and type it again",
    ]
    [shipment] = shipments
    assert (shipment.code, shipment.tracking_no, shipment.final) == ("PO-1", "SF1", False)


def test_headers_in_either_language_alone_are_understood() -> None:
    data = "采购单号,商品编码,数量,快递公司,快递单号\nPO-9,SKU-9,3,EMS,1100000000001\n"
    shipments, problems = parse_shipment_file(data.encode("gbk"), "po.csv")
    assert problems == []
    assert [(s.code, s.carrier, list(s.lines)) for s in shipments] == [
        ("PO-9", "EMS", [ShipmentLine("SKU-9", 3, None)])
    ]


def test_a_sheet_without_a_tracking_column_is_refused_as_a_whole() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["po_number", "sku", "quantity", "carrier"])
    sheet.append(["PO-1", "SKU-1", 1, "SF"])
    data = io.BytesIO()
    book.save(data)
    with pytest.raises(ValueError, match="tracking_no/快递单号"):
        parse_shipment_file(data.getvalue(), "x.xlsx")


def test_the_file_supplier_does_no_io_and_takes_no_callbacks_or_returns() -> None:
    supplier = node_connector("supplier_file", {})
    assert isinstance(supplier, FileSupplier)
    assert supplier.create_outbound(make_order("PO-7")).external_id == "PO-7"
    result = supplier.cancel_outbound(code="PO-7", reason="buyer cancelled")
    assert (result.cancelled, result.reason) == (True, "file supplier: not exported yet")
    assert supplier.query_inventory(["SKU-1"]) == []
    assert not supplier.verify_callback({}, b"{}")
    with pytest.raises(ValueError):
        supplier.parse_callback({}, b"{}")
    with pytest.raises(Rejected) as caught:
        supplier.create_return(make_return())
    assert caught.value.code == "returns_not_supported"
