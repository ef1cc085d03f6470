"""Purchase orders out to a CSV/Excel sheet, and shipments back in from the filled sheet.

Pure functions over bytes: the hub decides when to export, stores the file, and hands
back whatever the supplier returns. One row per PO line; the supplier fills in
`carrier/快递公司` and `tracking_no/快递单号` and sends the sheet back.

Reading accepts CSV in UTF-8 (with or without BOM) or GBK/GB18030 (what Excel on a
Chinese Windows saves), and `.xlsx`. Rows are numbered as a spreadsheet shows them
(the header is row 1), so "row 7: no tracking number" points at the row to fix.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..base import OutboundOrder, ShipmentConfirmed, ShipmentLine
from .consts import CSV_ENCODING, EXPORT_COLUMNS, HEADERS, Column

__all__ = [
    "ShipmentImport",
    "export_purchase_orders",
    "header",
    "parse_shipment_file",
]

SheetFormat = Literal["csv", "xlsx"]

_XLSX_MAGIC = b"PK\x03\x04"
_SCIENTIFIC = re.compile(r"^\d+(?:\.\d+)?[eE]\+\d+$")
_NEEDED = (Column.PO_NUMBER, Column.SKU, Column.QUANTITY, Column.CARRIER, Column.TRACKING_NO)


class ShipmentImport(NamedTuple):
    """What a returned sheet says shipped, and the rows a person must look at."""

    shipments: list[ShipmentConfirmed]
    problems: list[str]


def header(column: Column) -> str:
    """The header cell of a column: `po_number/采购单号`."""
    return f"{column.value}/{HEADERS[column]}"


def _rows(order: OutboundOrder) -> Iterator[list[str]]:
    for line in order.lines:
        values = {
            Column.PO_NUMBER: order.code,
            Column.LINE_NO: line.line_no,
            Column.SKU: line.sku,
            Column.TITLE: line.title,
            Column.QUANTITY: str(line.quantity),
            Column.RECEIVER: order.receiver_name,
            Column.PHONE: order.receiver_phone,
            Column.COUNTRY: order.country,
            Column.PROVINCE: order.province,
            Column.CITY: order.city,
            Column.DISTRICT: order.district,
            Column.ADDRESS: order.address,
            Column.POSTCODE: order.postcode,
            Column.REMARK: " / ".join(r for r in (order.seller_remark, order.buyer_remark) if r),
            Column.CARRIER: "",
            Column.TRACKING_NO: "",
        }
        yield [values[column] for column in EXPORT_COLUMNS]


def export_purchase_orders(orders: Sequence[OutboundOrder], fmt: SheetFormat) -> bytes:
    """A sheet with one row per PO line, headers in English and Chinese.

    CSV is UTF-8 with a BOM; in xlsx every cell is text, so phone numbers, postcodes and
    the tracking numbers the supplier types in keep their digits.
    """
    headers = [header(column) for column in EXPORT_COLUMNS]
    rows = [row for order in orders for row in _rows(order)]
    if fmt == "csv":
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(rows)
        return text.getvalue().encode(CSV_ENCODING)
    if fmt == "xlsx":
        return _xlsx(headers, rows)
    raise ValueError(f"unknown sheet format {fmt!r}; use csv or xlsx")


def _xlsx(headers: list[str], rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "purchase orders"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for index, _ in enumerate(EXPORT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 18
    # Text format on the data cells keeps digits as typed (no 1.39E+10 for a phone).
    for cells in sheet.iter_rows(min_row=2, max_row=len(rows) + 1):
        for cell in cells:
            cell.number_format = "@"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValueError("the CSV file is neither UTF-8 nor GBK text") from exc


def _cell(value: Any) -> str:
    """A cell as text; whole-number floats (Excel's numbers) lose their `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


def _read_rows(data: bytes, filename: str) -> list[list[str]]:
    if filename.lower().endswith((".xlsx", ".xlsm")) or data.startswith(_XLSX_MAGIC):
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zip, XML and key errors alike
            raise ValueError(f"{filename} is not a readable xlsx workbook ({exc})") from exc
        try:
            sheet = book.active
            if sheet is None:
                raise ValueError(f"{filename} has no worksheet")
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    text = _decode(data)
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]


def _column_of(title: str) -> Column | None:
    names = {part.strip().lower() for part in re.split(r"[/／]", title) if part.strip()}
    for column in Column:
        if column.value in names or HEADERS[column] in names:
            return column
    return None


def _locate(headers: Iterable[str]) -> dict[Column, int]:
    found: dict[Column, int] = {}
    for index, title in enumerate(headers):
        column = _column_of(title)
        if column is not None and column not in found:
            found[column] = index
    missing = [header(c) for c in _NEEDED if c not in found]
    if missing:
        raise ValueError(f"the sheet has no {', '.join(missing)} column")
    return found


@dataclass
class _Parcel:
    po_number: str
    carrier: str
    tracking_no: str
    lines: list[ShipmentLine]


def parse_shipment_file(data: bytes, filename: str) -> ShipmentImport:
    """Shipments from a sheet the supplier filled in, plus one problem per unusable row.

    Rows of one PO with the same tracking number are one parcel; a PO with several
    tracking numbers becomes several shipments. A shipment is `final` when every row of
    its PO in the sheet was usable, so a PO with a problem row stays open. Blank rows are
    skipped; a sheet without the needed columns raises ValueError.
    """
    rows = _read_rows(data, filename)
    start = next((i for i, row in enumerate(rows) if any(row)), None)
    if start is None:
        raise ValueError(f"{filename} is empty")
    columns = _locate(rows[start])
    parcels: dict[tuple[str, str], _Parcel] = {}
    problems: list[str] = []
    troubled: set[str] = set()

    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        if not any(row):
            continue
        cells = {c: row[i].strip() if i < len(row) else "" for c, i in columns.items()}
        po_number = cells[Column.PO_NUMBER]
        problem = _problem(cells)
        if problem:
            problems.append(f"row {number}: {problem}")
            if po_number:
                troubled.add(po_number)
            continue
        tracking_no = cells[Column.TRACKING_NO]
        line_no = cells.get(Column.LINE_NO) or None
        line = ShipmentLine(cells[Column.SKU], int(cells[Column.QUANTITY]), line_no)
        key = (po_number, tracking_no)
        if key not in parcels:
            parcels[key] = _Parcel(po_number, cells[Column.CARRIER], tracking_no, [])
        parcels[key].lines.append(line)
    shipments = [
        ShipmentConfirmed(
            code=p.po_number,
            carrier=p.carrier,
            tracking_no=p.tracking_no,
            lines=p.lines,
            confirm_id=f"{p.po_number}:{p.tracking_no}",
            final=p.po_number not in troubled,
        )
        for p in parcels.values()
    ]
    return ShipmentImport(shipments, problems)


def _problem(values: Mapping[Column, str]) -> str:
    """Why a row cannot become a shipment line, or "" when it can."""
    if not values[Column.PO_NUMBER]:
        return "no PO number"
    tracking_no = values[Column.TRACKING_NO]
    if not tracking_no:
        return "no tracking number"
    if _SCIENTIFIC.match(tracking_no):
        return (
            f"tracking number {tracking_no} was turned into a number by Excel; "
            "format the column as text and type it again"
        )
    if not values[Column.CARRIER]:
        return "no carrier"
    if not values[Column.SKU]:
        return "no SKU"
    quantity = values[Column.QUANTITY]
    if not quantity.isdigit() or int(quantity) <= 0:
        return f"quantity {quantity!r} is not a positive whole number"
    return ""
