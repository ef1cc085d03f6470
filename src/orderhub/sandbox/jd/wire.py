"""JD JOS wire basics: signing, times, envelopes, error codes, carriers and order states.

Everything a handler needs to answer in JOS's own words lives here, so the numbers that
are not confirmed by a source sit in one place and can be overridden by settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from starlette.responses import Response

__all__ = [
    "DEFAULT_CARRIERS",
    "DEFAULT_ERROR_CODES",
    "DEFAULT_REFUND_CODES",
    "FINISHED",
    "LOCKED",
    "NO_TIME",
    "ORDER_STATES",
    "PAUSED",
    "STATE_REMARKS",
    "TRADE_CANCELED",
    "WAIT_GOODS_RECEIVE_CONFIRM",
    "WAIT_SELLER_STOCK_OUT",
    "JdFailure",
    "envelope_key",
    "error_body",
    "jd_sign",
    "json_response",
    "money",
    "parse_time",
    "wire_time",
    "zone_from_offset",
]

WAIT_SELLER_STOCK_OUT = "WAIT_SELLER_STOCK_OUT"
WAIT_GOODS_RECEIVE_CONFIRM = "WAIT_GOODS_RECEIVE_CONFIRM"
FINISHED = "FINISHED_L"
TRADE_CANCELED = "TRADE_CANCELED"
LOCKED = "LOCKED"
PAUSED = "POP_ORDER_PAUSE"

ORDER_STATES = frozenset(
    {
        WAIT_SELLER_STOCK_OUT,
        WAIT_GOODS_RECEIVE_CONFIRM,
        "WAIT_SELLER_DELIVERY",
        "PAUSE",
        FINISHED,
        TRADE_CANCELED,
        LOCKED,
        PAUSED,
    }
)
"""Values `order_state` accepts (platform-apis.md §7.2)."""

STATE_REMARKS: Mapping[str, str] = {
    WAIT_SELLER_STOCK_OUT: "等待出库",
    WAIT_GOODS_RECEIVE_CONFIRM: "等待确认收货",
    FINISHED: "完成",
    TRADE_CANCELED: "取消",
    LOCKED: "已锁定",
    PAUSED: "暂停",
}

NO_TIME = "0001-01-01 00:00:00"
"""What JOS sends for a time that has not happened (e.g. `orderEndTime` of an open order)."""

DEFAULT_CARRIERS: Mapping[str, str] = {
    "467": "顺丰快递",
    "463": "圆通快递",
    "1499": "中通速递",
    "2170": "韵达快递",
    "465": "邮政EMS",
    "470": "申通快递",
    "2087": "京东快递",
    "1274": "厂家自送",
}
"""`logiCoprId` → carrier name. UNCONFIRMED list (integration code, not JD's table)."""

SELF_DELIVERY = "1274"
"""厂家自送: the one carrier that needs no `logiNo`."""

DEFAULT_ERROR_CODES: Mapping[str, str] = {
    # error_response codes (strings, as JOS sends them)
    "service": "1",
    "missing_param": "3",
    "timestamp": "5",
    "version": "8",
    "signature": "14",
    "method": "15",
    "access_token": "19",
    "app_key": "21",
    "rate_limit": "66",
    "param": "67",
    "decrypt_cap": "10600001",
    "sku_not_found": "10200004",
    # numberCode / errorCode inside a method's own result
    "window": "10100002",
    "page": "10100003",
    "order_not_found": "10400001",
    "order_state": "10400014",
    "carrier": "10400020",
    "shipped": "10400021",
}
"""Error codes by role. 15, 19 and 21 are seen in JOS replies quoted by integrators; the
rest are UNCONFIRMED (10400014 is JD's code for a waybill change in the wrong state)."""

DEFAULT_REFUND_CODES: Mapping[str, str] = {"none": "0", "refunding": "1", "refunded": "2"}
"""Values of the order's refund field. UNCONFIRMED."""


class JdFailure(Exception):
    """A refusal in `error_response` (gateway and parameter errors)."""

    def __init__(self, role: str, zh_desc: str, en_desc: str) -> None:
        super().__init__(en_desc)
        self.role = role
        self.zh_desc = zh_desc
        self.en_desc = en_desc


def zone_from_offset(offset: str) -> timezone:
    """`+08:00` → a fixed zone."""
    sign = -1 if offset.startswith("-") else 1
    hours, _, minutes = offset.lstrip("+-").partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


def wire_time(moment: datetime | None, zone: timezone) -> str:
    """`yyyy-MM-dd HH:mm:ss` in the platform's zone; JOS's zero time for None."""
    if moment is None:
        return NO_TIME
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def parse_time(text: str, zone: timezone) -> datetime:
    """Read `yyyy-MM-dd HH:mm:ss` as a time in the platform's zone; ValueError otherwise."""
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)


def money(value: Decimal) -> str:
    """Yuan as JOS writes it: a decimal string with two places."""
    return str(value.quantize(Decimal("0.01")))


def jd_sign(params: Mapping[str, str], secret: str) -> str:
    """upper(hex(md5(secret + k1v1k2v2… (sorted keys, `sign` left out) + secret)))."""
    pieces = "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    return hashlib.md5(f"{secret}{pieces}{secret}".encode()).hexdigest().upper()


def envelope_key(method: str) -> str:
    """`jingdong.pop.order.enSearch` → `jingdong_pop_order_enSearch_responce` (JD's spelling)."""
    return method.replace(".", "_") + "_responce"


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """UTF-8 JSON with Chinese left as is, as JOS sends it."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(
        text, status_code=status, headers=headers, media_type="application/json;charset=utf-8"
    )


def error_body(code: str, zh_desc: str, en_desc: str) -> dict[str, Any]:
    """`{"error_response": {"code", "zh_desc", "en_desc"}}`."""
    return {"error_response": {"code": code, "zh_desc": zh_desc, "en_desc": en_desc}}
