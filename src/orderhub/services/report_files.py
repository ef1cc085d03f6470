"""A report as a file: CSV (UTF-8 with a byte-order mark, so Excel reads Chinese right)
or an Excel workbook with one sheet, its header bold and its columns sized."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from orderhub.services.reports import Report

__all__ = ["report_csv", "report_xlsx"]


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return "yes" if value else ""
    return "" if value is None else value


def report_csv(report: Report) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(report.columns)
    for row in report.as_dict()["rows"]:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in report.columns])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def report_xlsx(report: Report) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = report.name[:31]
    sheet.append(report.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append([_cell(row.get(c)) for c in report.columns])
    for n, column in enumerate(report.columns, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = max(10, len(column) + 2)
    if report.start and report.end:
        sheet.append([])
        sheet.append([f"{report.start.isoformat()} – {report.end.isoformat()}"])
    for note in report.notes:
        sheet.append([note])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()
