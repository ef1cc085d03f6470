"""The TOP calls the emulator answers, each a function of the shop and the parameters.

A refusal raises `TopError` with TOP's code, sub code and message; the gateway writes
it as `{"error_response": …}`. Business refusals are code 15 with an `isv.*` sub code,
bad arguments code 40 (missing) or 41 (invalid).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .state import BEIJING, ShopState, Trade, top_time

__all__ = ["CARRIERS", "METHODS", "TopError"]

CARRIERS = frozenset({"SF", "YTO", "ZTO", "STO", "YUNDA", "EMS", "JD", "POSTB", "JTSD", "DBKD"})
"""`company_code`s `taobao.logistics.companies.get` would list (a subset)."""

MAX_SPAN_SECONDS = 24 * 3600
DEFAULT_PAGE_SIZE = 40
MAX_PAGE_SIZE = 100


class TopError(Exception):
    """A refusal in TOP's words."""

    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(msg)
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg


def _business(sub_code: str, message: str) -> TopError:
    return TopError(15, "Remote service error", sub_code, message)


def _missing(name: str) -> TopError:
    return TopError(
        40, "Missing required arguments", "isv.missing-parameter", f"{name} is required"
    )


def _invalid(name: str, why: str) -> TopError:
    return TopError(41, "Invalid arguments", "isv.invalid-parameter", f"{name}: {why}")


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise _missing(name)
    return value


def _int(params: Mapping[str, str], name: str, default: int | None = None) -> int:
    text = params.get(name, "").strip()
    if not text:
        if default is None:
            raise _missing(name)
        return default
    if not text.lstrip("-").isdigit() or len(text) > 20:
        raise _invalid(name, f"{text!r} is not a number")
    return int(text)


def _time(params: Mapping[str, str], name: str) -> datetime:
    text = _required(params, name)
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise _invalid(name, f"{text!r} is not yyyy-MM-dd HH:mm:ss") from exc


def _fields(params: Mapping[str, str]) -> set[str]:
    return {f.strip() for f in _required(params, "fields").split(",") if f.strip()}


def _trade(shop: ShopState, params: Mapping[str, str]) -> Trade:
    tid = _int(params, "tid")
    trade = shop.trades.get(tid)
    if trade is None:
        raise TopError(
            15, "Remote service error", "isv.trade-not-exist", f"trade {tid} does not exist"
        )
    return trade


def increment_get(
    shop: ShopState, params: Mapping[str, str], page_cap: int | None
) -> dict[str, Any]:
    """`taobao.trades.sold.increment.get`: trades modified in a day at most, newest first."""
    wanted = _fields(params)
    start, end = _time(params, "start_modified"), _time(params, "end_modified")
    if end < start:
        raise _invalid("end_modified", "must not be before start_modified")
    if (end - start).total_seconds() > MAX_SPAN_SECONDS:
        raise _invalid("end_modified", "start_modified and end_modified must be within one day")
    page_no = _int(params, "page_no", 1)
    size = _int(params, "page_size", DEFAULT_PAGE_SIZE)
    if page_no < 1:
        raise _invalid("page_no", "must be 1 or more")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _invalid("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    if page_cap is not None and (page_no - 1) * size >= page_cap:
        raise _invalid("page_no", f"at most {page_cap} trades can be paged in one span")
    # TOP writes times to the second, so the window is compared at that precision.
    low, high = start.replace(microsecond=0), end.replace(microsecond=0)
    found = sorted(
        (t for t in shop.trades.values() if low <= t.modified.replace(microsecond=0) <= high),
        key=lambda t: (t.modified, t.tid),
        reverse=True,
    )
    page = found[(page_no - 1) * size : page_no * size]
    answer: dict[str, Any] = {
        "total_results": len(found),
        "trades": {"trade": [_only(t.view(include_oaid=False), wanted) for t in page]},
    }
    if params.get("use_has_next", "").lower() == "true":
        answer["has_next"] = page_no < math.ceil(len(found) / size)
    return answer


def _only(view: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
    return {key: value for key, value in view.items() if key in wanted}


def fullinfo_get(shop: ShopState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """`taobao.trade.fullinfo.get`: one trade with the fields asked for."""
    wanted = _fields(params)
    trade = _trade(shop, params)
    include_oaid = params.get("include_oaid", "").lower() == "true"
    return {"trade": _only(trade.view(include_oaid=include_oaid), wanted | {"oaid"})}


def offline_send(shop: ShopState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """`taobao.logistics.offline.send`: the whole trade, or the sub-orders in `sub_tid`."""
    trade = _trade(shop, params)
    tracking = _required(params, "out_sid")
    company = _required(params, "company_code")
    if company not in CARRIERS:
        raise _business("isv.logistics-company-not-exist", f"company_code {company} does not exist")
    if trade.status not in ("WAIT_SELLER_SEND_GOODS", "SELLER_CONSIGNED_PART"):
        raise _business(
            "isv.logistics-offline-service-error",
            f"trade {trade.tid} in status {trade.status} cannot be consigned",
        )
    chosen = trade.orders
    if params.get("is_split") == "1":
        oids = {int(x) for x in _required(params, "sub_tid").split(",") if x.strip().isdigit()}
        chosen = [o for o in trade.orders if o.oid in oids]
        if len(chosen) != len(oids):
            raise _invalid("sub_tid", "names a sub-order that is not in the trade")
    open_ones = [o for o in chosen if o.consign_time is None and o.refund_status != "SUCCESS"]
    if not open_ones:
        raise _business(
            "isv.logistics-offline-service-error", "the sub-orders have already been consigned"
        )
    now = shop.clock()
    for order in open_ones:
        order.invoice_no, order.logistics_company = tracking, company
        order.consign_time, order.status = now, "WAIT_BUYER_CONFIRM_GOODS"
    live = [o for o in trade.orders if o.refund_status != "SUCCESS"]
    done = all(o.consign_time is not None for o in live)
    trade.status = "WAIT_BUYER_CONFIRM_GOODS" if done else "SELLER_CONSIGNED_PART"
    trade.consign_time = trade.consign_time or now
    trade.modified = now
    return {"shipping": {"is_success": True}}


def quantity_update(shop: ShopState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """`taobao.item.quantity.update`: type 1 sets the figure, type 2 adds to it."""
    num_iid = _int(params, "num_iid")
    item = shop.items.get(num_iid)
    if item is None:
        raise TopError(
            15, "Remote service error", "isv.item-not-exist", f"item {num_iid} does not exist"
        )
    quantity = _int(params, "quantity")
    kind = _int(params, "type", 1)
    sku_id, outer_id = params.get("sku_id", ""), params.get("outer_id", "")
    code = next(
        (c for c, (sid, _, _) in item.skus.items() if str(sid) == sku_id or c == outer_id), None
    )
    if code is None:
        raise _business("isv.sku-not-exist", f"item {num_iid} has no sku {sku_id or outer_id}")
    sid, current, price = item.skus[code]
    new = quantity if kind == 1 else current + quantity
    if new < 0 or kind not in (1, 2):
        raise _invalid("quantity", "the resulting quantity must not be negative")
    item.skus[code] = (sid, new, price)
    modified = top_time(shop.clock())
    return {
        "item": {
            "num_iid": num_iid,
            "num": sum(q for _, q, _ in item.skus.values()),
            "modified": modified,
            "skus": {"sku": [{"sku_id": sid, "quantity": new, "modified": modified}]},
        }
    }


def onsale_get(shop: ShopState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """`taobao.items.onsale.get`: items with their SKUs and merchant codes, paged."""
    page_no, size = _int(params, "page_no", 1), _int(params, "page_size", 40)
    if not 1 <= size <= 200 or page_no < 1:
        raise _invalid("page_size", "must be between 1 and 200")
    items = sorted(shop.items.values(), key=lambda i: i.num_iid)
    page = items[(page_no - 1) * size : page_no * size]
    return {
        "total_results": len(items),
        "items": {
            "item": [
                {
                    "num_iid": item.num_iid,
                    "title": item.title,
                    "outer_id": item.outer_id,
                    "num": sum(q for _, q, _ in item.skus.values()),
                    "skus": {
                        "sku": [
                            {
                                "sku_id": sid,
                                "outer_id": code,
                                "quantity": qty,
                                "price": f"{price:.2f}",
                            }
                            for code, (sid, qty, price) in item.skus.items()
                        ]
                    },
                }
                for item in page
            ]
        },
    }


def oaid_decrypt(shop: ShopState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """`top.oaid.decrypt`: the clear receiver behind each (tid, oaid) asked for."""
    try:
        queries = json.loads(_required(params, "query_list"))
    except ValueError as exc:
        raise _invalid("query_list", "is not JSON") from exc
    if not isinstance(queries, list) or not queries:
        raise _invalid("query_list", "must be a non-empty list")
    found = []
    for query in queries:
        tid = int(str(query.get("tid", "0"))) if isinstance(query, dict) else 0
        trade = shop.trades.get(tid)
        if trade is None or query.get("oaid") != trade.oaid:
            raise _business("isv.oaid-decrypt-failed", f"oaid does not belong to trade {tid}")
        shop.decrypted += 1
        found.append({"tid": str(tid), "oaid": trade.oaid, **trade.receiver})
    return {"receiver_list": {"receiver": found}}


Method = Callable[[ShopState, Mapping[str, str], "int | None"], dict[str, Any]]

METHODS: dict[str, Method] = {
    "taobao.trades.sold.increment.get": increment_get,
    "taobao.trade.fullinfo.get": fullinfo_get,
    "taobao.logistics.offline.send": offline_send,
    "taobao.item.quantity.update": quantity_update,
    "taobao.items.onsale.get": onsale_get,
    "top.oaid.decrypt": oaid_decrypt,
}
