"""Listings as a spreadsheet a person edits: written from the catalogue, read back checked.

A seller maps hundreds of a shop's codes at once in a spreadsheet, not one command at a
time. The first sheet holds one row per listing and per unmatched item; a person fills
in our SKU (and the multiplier of a pack) and imports it. Reading collects every problem
with its sheet, row and column, so one pass over the file fixes them all.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from orderhub.domain.errors import OrderhubError

__all__ = [
    "BUNDLES_SHEET",
    "HEADERS",
    "LISTINGS_SHEET",
    "MAX_MULTIPLIER",
    "SheetProblem",
    "SheetRefused",
    "SheetRow",
    "SheetRows",
    "read_sheet",
    "write_workbook",
]

LISTINGS_SHEET = "Listings"
BUNDLES_SHEET = "Bundles"
SHOP, CODE, TITLE, REFS, SKU, MULTIPLIER = (
    "shop",
    "merchant code",
    "title",
    "platform ids",
    "our SKU",
    "multiplier",
)
HEADERS = (SHOP, CODE, TITLE, REFS, SKU, MULTIPLIER)
_REQUIRED = (SHOP, CODE, SKU)
MAX_MULTIPLIER = 10_000  # what an order line's pack may be
MAX_CODE = 100  # what a listing's codes may hold
MAX_ROWS = 100_000
MAX_UNPACKED = 200_000_000  # bytes the workbook's parts may unpack to


@dataclass(frozen=True)
class SheetProblem:
    """One thing wrong in the file, where a person finds it."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"sheet {self.sheet!r}, row {self.row}"
        return (
            f"{where}, column {self.column}: {self.message}"
            if self.column
            else (f"{where}: {self.message}")
        )


class SheetRefused(OrderhubError):
    """The file cannot be imported as it is; nothing was changed."""

    def __init__(self, problems: Sequence[SheetProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f"; and {count - 5} more" if count > 5 else ""
        super().__init__(
            f"the spreadsheet has {count} problem{'s' if count != 1 else ''} and nothing "
            f"was changed: {shown}{more}"
        )


@dataclass(frozen=True)
class SheetRow:
    """One non-empty row of the listings sheet, its values as text (multiplier checked)."""

    row: int
    shop: str
    channel_sku: str
    sku: str
    multiplier: int


@dataclass(frozen=True)
class SheetRows:
    """The first sheet as read: its name, its rows, what is wrong with them alone, and
    how each column is named in a problem ("E (our SKU)")."""

    name: str
    rows: list[SheetRow]
    problems: list[SheetProblem]
    columns: dict[str, str]


def _writable(ws: Worksheet, values: Iterable[Any]) -> None:
    """Append a row, every text kept as text: a shop's title starting with `=` must not
    become a formula in the seller's spreadsheet."""
    ws.append(list(values))
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            cell.number_format = "@"


def write_workbook(
    rows: Iterable[tuple[str, str, str, str, str, int | None]],
    bundles: Iterable[tuple[str, str, str, int]],
) -> bytes:
    """The listings sheet (our SKU blank for unmatched items) and the bundles for
    reference, as .xlsx bytes."""
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = LISTINGS_SHEET
    sheet.append(list(HEADERS))
    for row in rows:
        _writable(sheet, row)
    sheet.freeze_panes = "A2"
    for index, width in enumerate((12, 24, 40, 28, 24, 11), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    parts = book.create_sheet(BUNDLES_SHEET)
    parts.append(["bundle SKU", "title", "component SKU", "units"])
    for bundle in bundles:
        _writable(parts, bundle)
    parts.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text(value: Any) -> str:
    """A cell as the text a person typed: 12345.0 is the code "12345"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _multiplier(value: Any) -> int | None:
    """A whole number from 1 to MAX_MULTIPLIER (blank is 1), or None when it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    if isinstance(value, bool):
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | str) and re.fullmatch(r"\d{1,6}(\.0*)?", str(value).strip()):
        number = int(float(value))
    return number if number is not None and 1 <= number <= MAX_MULTIPLIER else None


def _open(data: bytes) -> tuple[str, Iterator[tuple[Any, ...]]]:
    """The workbook's first sheet; a file that is not a workbook is one problem."""
    refused = SheetRefused([SheetProblem("", 0, "", "the file is not an .xlsx workbook")])
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise refused from None
    if unpacked > MAX_UNPACKED:
        raise SheetRefused([SheetProblem("", 0, "", "the workbook unpacks to too much data")])
    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise refused from None
    if not book.worksheets:
        raise refused
    sheet = book.worksheets[0]
    return sheet.title, sheet.iter_rows(values_only=True)


def read_sheet(data: bytes) -> SheetRows:
    """The first sheet's rows, and every problem the file alone shows (bad multipliers,
    empty or too long codes, a merchant code twice for one shop, missing columns)."""
    name, lines = _open(data)
    problems: list[SheetProblem] = []
    header = [_text(v).lower() for v in next(lines, ())]
    where = {label: header.index(label.lower()) for label in HEADERS if label.lower() in header}
    missing = [label for label in _REQUIRED if label not in where]
    if missing:
        problems += [
            SheetProblem(name, 1, label, "the column is missing from the first row")
            for label in missing
        ]
        return SheetRows(name, [], problems, {})
    columns = {label: f"{get_column_letter(i + 1)} ({label})" for label, i in where.items()}

    def column(label: str) -> str:
        return columns.get(label, label)

    rows: list[SheetRow] = []
    first: dict[tuple[str, str], int] = {}
    for number, cells in enumerate(lines, start=2):
        if number > MAX_ROWS + 1:
            problems.append(SheetProblem(name, number, "", f"more than {MAX_ROWS} rows"))
            break

        def cell(label: str, cells: tuple[Any, ...] = cells) -> Any:
            index = where.get(label)
            return cells[index] if index is not None and index < len(cells) else None

        shop, code, sku = _text(cell(SHOP)), _text(cell(CODE)), _text(cell(SKU))
        raw_multiplier = cell(MULTIPLIER)
        if not any(_text(v) for v in cells):
            continue
        if not shop:
            problems.append(SheetProblem(name, number, column(SHOP), "the shop is empty"))
        if not code:
            problems.append(SheetProblem(name, number, column(CODE), "the merchant code is empty"))
        elif len(code) > MAX_CODE:
            problems.append(
                SheetProblem(name, number, column(CODE), f"longer than {MAX_CODE} characters")
            )
        if len(sku) > MAX_CODE:
            problems.append(
                SheetProblem(name, number, column(SKU), f"longer than {MAX_CODE} characters")
            )
        multiplier = _multiplier(raw_multiplier)
        if multiplier is None:
            problems.append(
                SheetProblem(
                    name,
                    number,
                    column(MULTIPLIER),
                    f"{_text(raw_multiplier)!r} is not a whole number from 1 to {MAX_MULTIPLIER}",
                )
            )
        if shop and code:
            seen = first.setdefault((shop, code), number)
            if seen != number:
                problems.append(
                    SheetProblem(
                        name,
                        number,
                        column(CODE),
                        f"merchant code {code!r} of shop {shop!r} is also on row {seen}",
                    )
                )
        rows.append(SheetRow(number, shop, code, sku, multiplier or 1))
    return SheetRows(name, rows, problems, columns)
