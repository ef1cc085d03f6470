"""JD (京东 JOS, POP merchants) strings: methods, fields, states, carriers and codes.

Source: platform-apis.md §7 (rise-worlds/jos, JD's Java SDK request classes). Carrier
ids, the decrypt and SKU-listing method names and the throttling code are UNCONFIRMED
there, so the channel takes each as a setting with these defaults.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

__all__ = [
    "CARRIERS",
    "DECRYPT_METHOD",
    "DECRYPT_OK_CODE",
    "MAX_PAGE_SIZE",
    "MAX_WINDOW",
    "ORDER_FIELDS",
    "ORDER_STATES",
    "RATE_LIMITED_CODES",
    "RETRYABLE_CODES",
    "Method",
]

DECRYPT_METHOD = "jingdong.jos.order.oaid.decrypt"
"""The receiver-decrypt call (UNCONFIRMED name; the setting `decrypt_method`)."""
DECRYPT_OK_CODE = 200
"""`returnType.code` of a decrypt that succeeded (UNCONFIRMED)."""

MAX_WINDOW = timedelta(days=30)
"""`end_date - start_date` may not exceed a month."""
MAX_PAGE_SIZE = 100
RATE_LIMITED_CODES = frozenset({"66"})
RETRYABLE_CODES = frozenset({"1"})

ORDER_STATES = (
    "WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,WAIT_SELLER_DELIVERY,PAUSE,"
    "FINISHED_L,TRADE_CANCELED,LOCKED,POP_ORDER_PAUSE"
)
ORDER_FIELDS = (
    "orderId,venderId,orderType,orderTotalPrice,orderSellerPrice,orderPayment,freightPrice,"
    "sellerDiscount,orderState,orderRemark,venderRemark,orderStartTime,paymentConfirmTime,"
    "modified,waybill,logisticsId,refundStatus,consigneeInfo,itemInfoList"
)


class Method(StrEnum):
    SEARCH = "jingdong.pop.order.enSearch"
    GET = "jingdong.pop.order.enGet"
    SHIP = "jingdong.pop.order.shipment"
    STOCK = "jingdong.stock.write.updateSkuStock"
    SKUS = "jingdong.sku.read.searchSkuList"


CARRIERS = {
    "SF": "467",
    "YTO": "463",
    "ZTO": "1499",
    "STO": "470",
    "YUNDA": "2170",
    "EMS": "465",
    "JD": "2087",
}
"""The hub's carrier codes to JD `logiCoprId`s (UNCONFIRMED list; the setting `carriers`)."""
