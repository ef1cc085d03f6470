"""The POP calls the emulator answers, each a function of the shop and the parameters.

A refusal raises `PddError` with an `error_code`, a message and a sub code; the gateway
writes `{"error_response": …}`. The numbers are UNCONFIRMED (the reference names only
the field names), so they are constants here: 10000 bad parameter, 10001 missing one,
20004 signature, 10019 access token, 10031 timestamp, 70031 throttled, 50000 a failure
on the platform's side, 51002 a business refusal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from .state import REFUNDED, SHIPPED, WAITING, PddState

__all__ = ["COMPANIES", "METHODS", "PddError"]

BAD_PARAM, MISSING_PARAM, BUSINESS = 10000, 10001, 51002
MAX_SPAN_SECONDS = 30 * 60
MAX_PAGE_SIZE = 100

COMPANIES = [
    (44, "顺丰快递", "SF"),
    (85, "圆通快递", "YTO"),
    (115, "中通快递", "ZTO"),
    (1, "申通快递", "STO"),
    (121, "韵达快递", "YUNDA"),
    (118, "邮政EMS", "EMS"),
    (120, "京东快递", "JD"),
]
"""(logistics_id, name, code) as `pdd.logistics.companies.get` lists them; ids UNCONFIRMED."""


class PddError(Exception):
    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(msg)
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg


def _missing(name: str) -> PddError:
    return PddError(MISSING_PARAM, f"{name} is required", "isv.missing-parameter", name)


def _bad(name: str, why: str) -> PddError:
    return PddError(BAD_PARAM, f"{name}: {why}", "isv.invalid-parameter", name)


def _int(params: Mapping[str, str], name: str, default: int | None = None) -> int:
    text = str(params.get(name, "")).strip()
    if not text:
        if default is None:
            raise _missing(name)
        return default
    if not text.lstrip("-").isdigit() or len(text) > 20:
        raise _bad(name, f"{text!r} is not a number")
    return int(text)


def _order(shop: PddState, params: Mapping[str, str]) -> Any:
    order_sn = str(params.get("order_sn", "")).strip()
    if not order_sn:
        raise _missing("order_sn")
    order = shop.orders.get(order_sn)
    if order is None:
        raise PddError(BUSINESS, "订单不存在", "isv.order-not-exist", order_sn)
    return order


def increment_get(
    shop: PddState, params: Mapping[str, str], page_cap: int | None
) -> dict[str, Any]:
    """Orders updated in half an hour at most, in order of update, with the total."""
    start, end = _int(params, "start_updated_at"), _int(params, "end_updated_at")
    if end < start or end - start > MAX_SPAN_SECONDS:
        raise _bad("end_updated_at", "the span must be at most 30 minutes")
    page, size = _int(params, "page", 1), _int(params, "page_size", MAX_PAGE_SIZE)
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise _bad("page_size", f"page from 1, page_size 1..{MAX_PAGE_SIZE}")
    if page_cap is not None and (page - 1) * size >= page_cap:
        raise _bad("page", f"at most {page_cap} orders can be paged in one span")
    found = sorted(
        (o for o in shop.orders.values() if start <= int(o.updated_at.timestamp()) <= end),
        key=lambda o: (o.updated_at, o.order_sn),
        reverse=True,
    )
    rows = [o.view() for o in found[(page - 1) * size : page * size]]
    return {
        "total_count": len(found),
        "has_next": page < math.ceil(len(found) / size),
        "order_sn_list": rows,
    }


def information_get(shop: PddState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    return {"order_info": _order(shop, params).view()}


def decrypt_batch(shop: PddState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """Ciphertexts back to clear text, each for the order its `data_tag` names."""
    try:
        items = json.loads(str(params.get("data_list") or "[]"))
    except ValueError as exc:
        raise _bad("data_list", "is not JSON") from exc
    if not isinstance(items, list) or not items:
        raise _missing("data_list")
    found = []
    for item in items:
        order = shop.orders.get(str(item.get("data_tag", ""))) if isinstance(item, dict) else None
        cipher = str(item.get("encrypted_data", "")) if isinstance(item, dict) else ""
        clear = None
        if order is not None:
            for name, key in (("name", "name"), ("phone", "phone"), ("address", "address")):
                if cipher == order.cipher(name):
                    clear = order.receiver[key]
        if order is None or clear is None:
            raise PddError(BUSINESS, "解密失败", "isv.decrypt-failed", "cipher not of this order")
        shop.decrypted += 1
        found.append(
            {"data_tag": order.order_sn, "encrypted_data": cipher, "decrypted_data": clear}
        )
    return {"data_decrypt_list": found}


def companies_get(shop: PddState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    return {
        "logistics_companies": [
            {"id": cid, "logistics_company": name, "code": code, "available": 1}
            for cid, name, code in COMPANIES
        ]
    }


def online_send(shop: PddState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """The order's one tracking number (`redelivery_type` 2 changes it once shipped)."""
    order = _order(shop, params)
    logistics_id = _int(params, "logistics_id")
    if logistics_id not in {cid for cid, _, _ in COMPANIES}:
        raise PddError(BUSINESS, "快递公司不存在", "isv.logistics-not-exist", str(logistics_id))
    tracking = str(params.get("tracking_number", "")).strip()
    if not tracking:
        raise _missing("tracking_number")
    again = params.get("redelivery_type") == "2"
    if order.refund_status == REFUNDED:
        raise PddError(BUSINESS, "订单已退款", "isv.order-refunded", order.order_sn)
    if (order.order_status != WAITING) != again:
        raise PddError(BUSINESS, "订单状态不允许发货", "isv.order-status-error", order.order_sn)
    now = shop.clock()
    order.tracking_number, order.logistics_id = tracking, logistics_id
    order.order_status, order.shipping_time, order.updated_at = SHIPPED, now, now
    return {"is_success": True}


def quantity_update(shop: PddState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """`update_type` 1 sets the figure, 2 adds to it; by sku_id or outer_id."""
    goods = shop.goods.get(_int(params, "goods_id"))
    if goods is None:
        raise PddError(BUSINESS, "商品不存在", "isv.goods-not-exist", str(params.get("goods_id")))
    quantity, kind = _int(params, "quantity"), _int(params, "update_type", 1)
    sku_id, outer_id = str(params.get("sku_id", "")), str(params.get("outer_id", ""))
    code = next(
        (c for c, row in goods.skus.items() if str(row[0]) == sku_id or c == outer_id), None
    )
    if code is None:
        raise PddError(BUSINESS, "sku不存在", "isv.sku-not-exist", sku_id or outer_id)
    new = quantity if kind == 1 else goods.skus[code][1] + quantity
    if new < 0 or kind not in (1, 2):
        raise _bad("quantity", "the resulting quantity must not be negative")
    goods.skus[code][1] = new
    return {"is_success": True}


def goods_list(shop: PddState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    page, size = _int(params, "page", 1), _int(params, "page_size", 100)
    if page < 1 or not 1 <= size <= 100:
        raise _bad("page_size", "page from 1, page_size 1..100")
    goods = sorted(shop.goods.values(), key=lambda g: g.goods_id)
    return {
        "total_count": len(goods),
        "goods_list": [
            {
                "goods_id": g.goods_id,
                "goods_name": g.goods_name,
                "sku_list": [
                    {"sku_id": row[0], "outer_id": code, "sku_quantity": row[1]}
                    for code, row in g.skus.items()
                ],
            }
            for g in goods[(page - 1) * size : page * size]
        ],
    }


Method = Callable[[PddState, Mapping[str, str], "int | None"], dict[str, Any]]

METHODS: dict[str, tuple[str, Method]] = {
    "pdd.order.number.list.increment.get": ("order_sn_increment_get_response", increment_get),
    "pdd.order.information.get": ("order_info_get_response", information_get),
    "pdd.open.decrypt.batch": ("open_decrypt_batch_response", decrypt_batch),
    "pdd.logistics.companies.get": ("logistics_companies_get_response", companies_get),
    "pdd.logistics.online.send": ("logistics_online_send_response", online_send),
    "pdd.goods.quantity.update": ("goods_quantity_update_response", quantity_update),
    "pdd.goods.list.get": ("goods_list_get_response", goods_list),
}
