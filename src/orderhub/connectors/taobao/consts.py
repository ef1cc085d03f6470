"""Taobao/Tmall Open Platform (TOP) strings: methods, fields, statuses and error codes.

Source: platform-apis.md §4 (bububa/opentaobao metadata for trades.sold.increment.get,
trade.fullinfo.get, logistics.offline.send, item.quantity.update; the TOP error table).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

__all__ = [
    "API_VERSION",
    "CARRIERS",
    "DECRYPT_SCENE",
    "DEFAULT_PAGE_SIZE",
    "GATEWAY_PATH",
    "MAX_PAGE_SIZE",
    "MAX_WINDOW",
    "RATE_LIMITED_CODES",
    "RETRYABLE_CODES",
    "SIGN_METHODS",
    "TRADE_FIELDS",
    "Method",
]

GATEWAY_PATH = "/router/rest"
API_VERSION = "2.0"
SIGN_METHODS = frozenset({"md5", "hmac", "hmac-sha256"})

MAX_WINDOW = timedelta(days=1)
"""`end_modified - start_modified` may not exceed a day."""
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 100


class Method(StrEnum):
    """The TOP calls the channel makes."""

    TRADES_INCREMENT = "taobao.trades.sold.increment.get"
    TRADE_FULLINFO = "taobao.trade.fullinfo.get"
    OFFLINE_SEND = "taobao.logistics.offline.send"
    ITEM_QUANTITY = "taobao.item.quantity.update"
    ITEMS_ONSALE = "taobao.items.onsale.get"
    OAID_DECRYPT = "top.oaid.decrypt"
    BILLS = "taobao.bill.bills.get"
    BILL_ACCOUNTS = "taobao.bill.accounts.get"


DECRYPT_SCENE = "1001"
"""`top.oaid.decrypt`'s scene for printing and shipping (UNCONFIRMED; setting `decrypt_scene`)."""

INCREMENT_FIELDS = "tid,modified"
TRADE_FIELDS = ",".join(
    [
        "tid", "status", "type", "created", "pay_time", "modified", "consign_time",
        "payment", "total_fee", "post_fee", "discount_fee", "adjust_fee",
        "buyer_nick", "buyer_open_uid", "buyer_message", "seller_memo",
        "receiver_name", "receiver_country", "receiver_state", "receiver_city",
        "receiver_district", "receiver_town", "receiver_address", "receiver_zip",
        "receiver_mobile", "receiver_phone", "oaid", "orders",
    ]
)  # fmt: skip

ITEM_FIELDS = "num_iid,title,outer_id,sku"

RATE_LIMITED_CODES = frozenset({"7"})
"""App Call Limited; the message says how many seconds the ban lasts."""
RETRYABLE_CODES = frozenset({"10"})
"""Service Currently Unavailable; `isp.*` sub codes are the platform failing too."""

CARRIERS = {
    "SF": "SF",
    "YTO": "YTO",
    "ZTO": "ZTO",
    "STO": "STO",
    "YUNDA": "YUNDA",
    "EMS": "EMS",
    "JD": "JD",
    "POSTB": "POSTB",
    "JTSD": "JTSD",
    "DBKD": "DBKD",
}
"""The hub's carrier codes (as warehouses report them) to TOP `company_code`s."""

BILL_FIELDS = "bid,account_id,trade_id,order_id,amount,total_amount,pay_time,biz_time,status"
BILL_PAGE_SIZE = 100
"""`taobao.bill.bills.get` pages hold 40 to 100 lines."""
ACCOUNT_KINDS = {2: "charge", 3: "fee", 4: "fee", 5: "fee"}
"""`account_type`: 2 the trade's money, 3 commission, 4 service fee, 5 points; 1 (a virtual
account) and 6 (other) are kept as `other`."""
BILL_AMOUNT_UNITS = {"fen": 100, "yuan": 1}
"""Bill amounts are whole numbers in fen (UNCONFIRMED; setting `bill_amount_unit`)."""
