"""京东云仓 (ECLP) strings: methods, status codes, carriers and platform sources.

Sources: peers-and-apis.md §5.3; JD's SDK request and response classes for the ECLP
methods; integrators' code reading ECLP's replies (see the emulator's docstring,
`orderhub.sandbox.eclp.emulator`). What they do not settle is a setting of the warehouse,
with the defaults here marked UNCONFIRMED.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CANCELLED_CODES",
    "CANCEL_OK_CODES",
    "DEFAULT_SHIPPER",
    "GOOD_STOCK",
    "ORDER_MARK",
    "OTHER_PLATFORM",
    "PLATFORM_SOURCES",
    "SHIPPED_CODES",
    "SHIPPERS",
    "STOCK_PAGE",
    "STOCK_SKU_PARAM",
    "Method",
]


class Method(StrEnum):
    ADD_ORDER = "jingdong.eclp.order.addOrder"
    CANCEL_ORDER = "jingdong.eclp.order.cancelOrder"
    QUERY_ORDER = "jingdong.eclp.order.queryOrder"
    QUERY_STOCK = "jingdong.eclp.stock.queryStock"


SHIPPED_CODES = frozenset({"10018", "10019"})
"""`soStatusCode`s meaning the order left the warehouse. Integrators read 10018 or 10019
so; which one is "shipped" and which "delivered" is UNCONFIRMED (setting `shipped_codes`)."""
CANCELLED_CODES = frozenset({"10028"})
"""取消成功, as integrators read it (setting `cancelled_codes`)."""
CANCEL_OK_CODES = frozenset({"1"})
"""`cancelorder_result.code` of a cancel that took; 2 is a refusal (setting
`cancel_ok_codes`)."""

DEFAULT_SHIPPER = "CYS0000010"
"""京东快递, addOrder's documented default carrier."""
SHIPPERS = {
    "CYS0000010": "JD",
    "CYS4398046511127": "YTO",
    "CYS4418046511108": "YUNDA",
    "CYS4418046511112": "ZTO",
    "CYS4418046511224": "EMS",
}
"""`shipperNo` → the hub's carrier code. Only CYS0000010 is documented; the rest are one
integrator's table, UNCONFIRMED (setting `shippers`, merged over these)."""

PLATFORM_SOURCES = {"jd": "1"}
"""The hub's platform → `salePlatformSource`. JD is 1 (a JD order must then carry
`salesPlatformOrderNo`); the other values differ between integrators, UNCONFIRMED
(setting `platform_sources`)."""
OTHER_PLATFORM = "6"
"""`salePlatformSource` 其他, for every platform the table above leaves out."""

ORDER_MARK = "0" * 50
"""`orderMark`: fifty flags, none set (the first `1` would mean cash on delivery)."""

GOOD_STOCK = "1"
"""`stockStatus` and `stockType` of sellable stock (UNCONFIRMED; settings `stock_status`
and `stock_type`)."""
STOCK_PAGE = 100
"""Rows asked per queryStock page (UNCONFIRMED cap)."""
STOCK_SKU_PARAM = "isvSku"
"""The queryStock parameter that picks an article by the merchant's code (UNCONFIRMED;
setting `stock_sku_param`)."""
