"""Drop-ship suppliers with no API: purchase orders out as CSV/Excel, shipments back in.

The hub keeps each PO until a person exports it (`export_purchase_orders`), sends the
sheet to the supplier, and imports the sheet the supplier returns with `carrier/快递公司`
and `tracking_no/快递单号` filled in (`parse_shipment_file`). See `sheets.py` for the
columns and encodings and `supplier.py` for what the connector does without I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .consts import Column
from .sheets import ShipmentImport, export_purchase_orders, header, parse_shipment_file
from .supplier import FileSupplier

__all__ = [
    "Column",
    "FileSupplier",
    "ShipmentImport",
    "export_purchase_orders",
    "from_settings",
    "header",
    "parse_shipment_file",
]


def from_settings(settings: Mapping[str, Any]) -> FileSupplier:
    """Build the connector; a file supplier needs no settings."""
    return FileSupplier(settings)
