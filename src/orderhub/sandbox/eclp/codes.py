"""ECLP's own numbers: order status codes, carriers (承运商), error codes and limits.

Everything a handler answers with that is not confirmed by a source sits here, so each
can be replaced by an emulator setting. What integrators' code confirms: `10028` is
"cancelled" and `10029` "cancel failed" in `orderStatusList`; `10018` and `10019` are read
as "left the warehouse" (one integrator takes either, another only 10019); the carrier
`CYS0000010` is 京东快递 and addOrder's default `shipperNo`; `cancelorder_result.code`
is 1 when the cancel took and 2 when it did not.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "DEFAULT_ERROR_CODES",
    "DEFAULT_SHIPPER",
    "DEFAULT_SHIPPERS",
    "DEFAULT_STATUSES",
    "LIMITS",
    "ORDER_MARK_LENGTH",
]

DEFAULT_STATUSES: Mapping[str, tuple[str, str]] = {
    "created": ("10010", "创建"),
    "packed": ("10017", "已打包"),
    "shipped": ("10018", "已发货"),
    "delivered": ("10019", "妥投"),
    "cancelled": ("10028", "取消成功"),
    "cancel_failed": ("10029", "取消失败"),
}
"""Role → (`soStatusCode`, `soStatusName`). 10028 and 10029 are confirmed; the names and
10010/10017/10018/10019's exact meanings are UNCONFIRMED (setting `statuses`)."""

DEFAULT_SHIPPER = "CYS0000010"
"""京东快递: addOrder's documented default `shipperNo`."""

DEFAULT_SHIPPERS: Mapping[str, str] = {
    "CYS0000010": "京东快递",
    "CYS4398046511127": "圆通速递",
    "CYS4418046511108": "韵达快递",
    "CYS4418046511112": "中通快递",
    "CYS4418046511224": "EMS",
}
"""`shipperNo` → `shipperName`. Only CYS0000010 is documented; the rest come from one
integrator's table and are UNCONFIRMED (setting `shippers`)."""

DEFAULT_ERROR_CODES: Mapping[str, str] = {
    "eclp_param": "10100001",
    "unknown_isv_source": "10100002",
    "unknown_department": "10100003",
    "unknown_shop": "10100004",
    "unknown_warehouse": "10100005",
    "unknown_shipper": "10100006",
    "unknown_goods": "10100007",
    "stock_short": "10100008",
    "order_not_found": "10100009",
}
"""`error_response.code` by role for ECLP's business refusals. All UNCONFIRMED (setting
`error_codes`); the gateway's own codes are JOS's (see `orderhub.sandbox.jd.wire`)."""

LIMITS: Mapping[str, int] = {
    "isvUUID": 125,
    "consigneeName": 20,
    "consigneeMobile": 30,
    "consigneePhone": 30,
    "consigneeAddress": 100,
    "salesPlatformOrderNo": 200,
    "isvGoodsNo": 50,
    "orderLine": 50,
}
"""Longest values addOrder takes, as its parameter documentation states them (a longer
`sellerNote` is cut to 200 characters instead, as documented)."""

ORDER_MARK_LENGTH = 50
"""`orderMark` is fifty flag characters; the first `1` marks cash on delivery."""
