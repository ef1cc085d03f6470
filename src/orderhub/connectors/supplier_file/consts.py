"""The columns of the purchase-order sheet we send file suppliers and read back.

Each header is written as `english/中文` so both the seller and a Chinese supplier can
read it; reading accepts either half alone, in any order and letter case.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CSV_ENCODING",
    "EXPORT_COLUMNS",
    "HEADERS",
    "NOT_EXPORTED_REASON",
    "RETURNS_NOT_SUPPORTED",
    "Column",
]


class Column(StrEnum):
    """One column of the sheet, by its English name."""

    PO_NUMBER = "po_number"
    LINE_NO = "line_no"
    SKU = "sku"
    TITLE = "title"
    QUANTITY = "quantity"
    RECEIVER = "receiver"
    PHONE = "phone"
    COUNTRY = "country"
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    ADDRESS = "address"
    POSTCODE = "postcode"
    REMARK = "remark"
    CARRIER = "carrier"
    TRACKING_NO = "tracking_no"


HEADERS = MappingProxyType(
    {
        Column.PO_NUMBER: "采购单号",
        Column.LINE_NO: "行号",
        Column.SKU: "商品编码",
        Column.TITLE: "商品名称",
        Column.QUANTITY: "数量",
        Column.RECEIVER: "收件人",
        Column.PHONE: "电话",
        Column.COUNTRY: "国家",
        Column.PROVINCE: "省",
        Column.CITY: "市",
        Column.DISTRICT: "区",
        Column.ADDRESS: "地址",
        Column.POSTCODE: "邮编",
        Column.REMARK: "备注",
        Column.CARRIER: "快递公司",
        Column.TRACKING_NO: "快递单号",
    }
)
"""English column → its Chinese header half."""

EXPORT_COLUMNS = tuple(Column)
"""Column order of an export; the supplier fills the last two (carrier, tracking_no)."""

CSV_ENCODING = "utf-8-sig"
"""Exports carry a BOM so that Excel on a Chinese Windows opens them as UTF-8."""

NOT_EXPORTED_REASON = "file supplier: not exported yet"
RETURNS_NOT_SUPPORTED = "returns_not_supported"
