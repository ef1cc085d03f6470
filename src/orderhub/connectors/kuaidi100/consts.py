"""快递100 strings: endpoints, answer codes, states, and carrier codes.

Source: peers-and-apis.md §5.6 (kuaidi100-api demos).
"""

from __future__ import annotations

from orderhub.connectors.tracking import ParcelStatus

__all__ = ["ACK", "CARRIERS", "DUPLICATE", "QUERY_PATH", "STATES", "SUBSCRIBE_PATH"]

SUBSCRIBE_PATH = "/poll"
QUERY_PATH = "/poll/query.do"
DUPLICATE = "501"
"""`returnCode` of a subscription already in place: the parcel is followed, as asked."""
ACK = {"result": True, "returnCode": "200", "message": "成功"}
"""The only answer 快递100 takes as received; anything else is pushed again."""

STATES = {
    "0": ParcelStatus.IN_TRANSIT,  # 在途
    "1": ParcelStatus.IN_TRANSIT,  # 揽收: picked up
    "2": ParcelStatus.EXCEPTION,  # 疑难: a problem the carrier could not solve
    "3": ParcelStatus.DELIVERED,  # 签收
    "4": ParcelStatus.RETURNED,  # 退签: signed for by the sender, back
    "5": ParcelStatus.OUT_FOR_DELIVERY,  # 派件
    "6": ParcelStatus.RETURNED,  # 退回: on its way back
    "7": ParcelStatus.IN_TRANSIT,  # 转投: passed to another carrier
    "8": ParcelStatus.IN_TRANSIT,  # 清关: customs
    "14": ParcelStatus.EXCEPTION,  # 拒签: refused by the buyer
}
"""`state` to the hub's parcel status; an unknown state reads as in transit."""

CARRIERS = {
    "SF": "shunfeng",
    "YTO": "yuantong",
    "ZTO": "zhongtong",
    "STO": "shentong",
    "YUNDA": "yunda",
    "EMS": "ems",
    "JD": "jd",
    "POSTB": "youzhengguonei",
    "JTSD": "jtexpress",
    "DBKD": "debangkuaidi",
    "DHL": "dhl",
    "UPS": "ups",
    "FEDEX": "fedex",
    "USPS": "usps",
}
"""The hub's carrier codes (the warehouses') to 快递100 `company` codes; the setting
`carriers` adds to and overrides it."""
