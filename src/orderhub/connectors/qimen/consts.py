"""The Qimen standard's own strings: method names, order types, statuses, codes.

Values follow the Qimen ERP↔WMS metadata (platform-apis.md §8). Failure codes inside
`<code>` are free-form per implementer; the ones below are what our emulator answers and
what the client treats as "try again" by default. Every set here can be overridden per
warehouse through settings.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CANCEL_REFUSED_CODES",
    "CONTENT_TYPE",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LOGISTICS_CODE",
    "DEFAULT_METHOD_PREFIX",
    "DEFAULT_PLATFORM_CODE",
    "DEFAULT_UTC_OFFSET",
    "FLAG_FAILURE",
    "FLAG_SUCCESS",
    "FORMAT",
    "GOOD_INVENTORY_TYPES",
    "HUB_FAILURE_CODE",
    "LOGISTICS_CODES",
    "MAX_BATCH_SIZE",
    "PLATFORM_CODES",
    "QUALITY_DEFECTIVE",
    "QUALITY_GOOD",
    "RATE_LIMIT_CODES",
    "RETRY_CODES",
    "SIGN_CHECK_FAILURE",
    "SIGN_METHOD",
    "SUCCESS_CODE",
    "TIME_FORMAT",
    "VERSION",
    "DeliveryStatus",
    "InventoryType",
    "Method",
    "OrderType",
    "ReturnOrderType",
]

DEFAULT_METHOD_PREFIX = "taobao.qimen."
FORMAT = "xml"
VERSION = "2.0"
SIGN_METHOD = "md5"
CONTENT_TYPE = "text/xml;charset=utf-8"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_UTC_OFFSET = "+08:00"

FLAG_SUCCESS = "success"
FLAG_FAILURE = "failure"
SUCCESS_CODE = "0"
HUB_FAILURE_CODE = "HUB_ERROR"

SIGN_CHECK_FAILURE = "sign-check-failure"

DEFAULT_BATCH_SIZE = 50
MAX_BATCH_SIZE = 500
"""Delivery orders per `deliveryorder.batchcreate`: no limit is published, so the size
is a node setting; 50 keeps one call's body near 100 KB."""

CANCEL_REFUSED_CODES = frozenset({"ORDER_SHIPPED"})
"""Codes with which a WMS refuses `order.cancel` because the parcel already left."""

RETRY_CODES = frozenset({"SYSTEM_BUSY", "SYSTEM_ERROR", "10"})
"""Failure codes that mean "our side is busy, send it again"; any `isp.*` code is too."""

RATE_LIMIT_CODES = frozenset({"7"})
"""TOP's "App Call Limited"; any `accesscontrol.*` sub-code means the same."""


class Method(StrEnum):
    """Method names without the gateway prefix; the gateway form is prefix + name."""

    DELIVERYORDER_CREATE = "deliveryorder.create"
    DELIVERYORDER_BATCHCREATE = "deliveryorder.batchcreate"
    DELIVERYORDER_CONFIRM = "deliveryorder.confirm"
    ORDER_CANCEL = "order.cancel"
    INVENTORY_QUERY = "inventory.query"
    STOCKCHANGE_REPORT = "stockchange.report"
    ENTRYORDER_CREATE = "entryorder.create"
    ENTRYORDER_CONFIRM = "entryorder.confirm"
    RETURNORDER_CREATE = "returnorder.create"
    RETURNORDER_CONFIRM = "returnorder.confirm"
    SINGLEITEM_SYNCHRONIZE = "singleitem.synchronize"


class OrderType(StrEnum):
    """Outbound order types of `deliveryorder.create`."""

    JYCK = "JYCK"  # 一般交易出库: an ordinary sale
    HHCK = "HHCK"  # 换货出库: an exchange
    BFCK = "BFCK"  # 补发出库: a re-send of missing goods
    QTCK = "QTCK"  # 其他出库: anything else


class ReturnOrderType(StrEnum):
    """Order types of `returnorder.create` / `returnorder.confirm`."""

    THRK = "THRK"  # 退货入库: a buyer's return
    HHRK = "HHRK"  # 换货入库: goods coming back for an exchange
    WTJTHRK = "WTJTHRK"  # 无头件退货入库: a parcel no order can be found for (confirm only)


class DeliveryStatus(StrEnum):
    """Statuses a WMS reports for a delivery order."""

    NEW = "NEW"  # received, not yet worked on
    ACCEPT = "ACCEPT"  # accepted by the warehouse
    PARTDELIVERED = "PARTDELIVERED"  # some packages left
    DELIVERED = "DELIVERED"  # everything left the warehouse
    EXCEPTION = "EXCEPTION"  # stuck, needs a person
    CANCELED = "CANCELED"  # stopped before shipping
    CLOSED = "CLOSED"  # closed without shipping
    REJECT = "REJECT"  # refused by the warehouse
    CANCELEDFAIL = "CANCELEDFAIL"  # a cancel came too late


class InventoryType(StrEnum):
    """Stock quality classes; only ZP (正品) is sellable."""

    ZP = "ZP"  # 正品: sellable
    CC = "CC"  # 残次: defective
    JS = "JS"  # 机损: damaged by handling
    XS = "XS"  # 箱损: damaged box
    ZT = "ZT"  # 在途: in transit


GOOD_INVENTORY_TYPES = frozenset({InventoryType.ZP.value})
"""Inventory types a returned unit can be sold again from; every other type is defective."""

QUALITY_GOOD = "good"
QUALITY_DEFECTIVE = "defective"
"""The two `ReturnLine.quality` values the hub understands."""

LOGISTICS_CODES = frozenset(
    {
        "SF",
        "EMS",
        "EYB",
        "ZJS",
        "YTO",
        "ZTO",
        "HTKY",
        "UC",
        "STO",
        "TTKDEX",
        "QFKD",
        "FAST",
        "POSTB",
        "GTO",
        "YUNDA",
        "JD",
        "DD",
        "AMAZON",
        "OTHER",
    }
)
DEFAULT_LOGISTICS_CODE = "OTHER"

DEFAULT_PLATFORM_CODE = "OTHER"
PLATFORM_CODES = MappingProxyType(
    {
        "taobao": "TB",
        "tmall": "TM",
        "jd": "JD",
        "pdd": "PDD",
        "pinduoduo": "PDD",
        "douyin": "DY",
        "amazon": "AMAZON",
        "shopify": "OTHER",
        "woocommerce": "OTHER",
    }
)
"""Hub platform name → Qimen `sourcePlatformCode`; PDD and DY are not in every WMS's list."""
