"""Douyin Shop (抖店) open API strings: methods, codes, carriers, statuses.

Source: platform-apis.md §6 and §11 (zsmhub/doudian-sdk, generated from the official
docs; the base error table as SDKs copy it, whose numbers are UNCONFIRMED).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

__all__ = [
    "CARRIERS",
    "DEFAULT_WINDOW",
    "MAX_PAGE_SIZE",
    "RATE_LIMITED_CODES",
    "RETRYABLE_CODES",
    "SUCCESS",
    "Method",
]

SUCCESS = 10000
MAX_PAGE_SIZE = 100
DEFAULT_WINDOW = timedelta(days=1)
"""The longest `update_time` span one search may cover: UNCONFIRMED, a setting."""

RATE_LIMITED_CODES = frozenset({"60000", "isv.traffic-limited"})
RETRYABLE_CODES = frozenset({"20000", "dop.service-error"})


class Method(StrEnum):
    SEARCH = "order.searchList"
    DETAIL = "order.orderDetail"
    SHIP = "order.logisticsAdd"
    SHIP_PACKS = "order.logisticsAddMultiPack"
    STOCK = "sku.syncStock"
    PRODUCTS = "product.listV2"
    DECRYPT = "order.batchDecrypt"


CARRIERS = {
    "SF": "shunfeng",
    "YTO": "yuantong",
    "ZTO": "zhongtong",
    "STO": "shentong",
    "YUNDA": "yunda",
    "EMS": "ems",
    "JD": "jd",
}
"""The hub's carrier codes (as warehouses report them) to Douyin `company_code`s."""
