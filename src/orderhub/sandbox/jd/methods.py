"""The JOS methods this shop answers, from `360buy_param_json` to the reply body.

Each handler gets the business parameters and returns what goes inside
`{"<method>_responce": {"code": "0", ...}}`. Malformed parameters raise `JdFailure`
(→ `error_response`); business rules refused by a method are reported in that method's
own result object, as JOS does: `searchorderinfo_result.apiResult` / `orderDetailInfo.
apiResult` with `success: false`, `sopjosshipment_result` with `success: false`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .state import JdState, Refused
from .views import OrderView, sku_row
from .wire import ORDER_STATES as KNOWN_STATES
from .wire import SELF_DELIVERY, WAIT_SELLER_STOCK_OUT, JdFailure, parse_time

__all__ = ["MAX_PAGE_SIZE", "Methods", "Rules"]

MAX_PAGE_SIZE = 100
"""enSearch `page_size` cap (platform-apis.md §7.2)."""

Handler = Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]


@dataclass
class Rules:
    """Settings the handlers read; `page_cap` and `decrypt_cap` may change at run time."""

    zone: timezone
    max_window: timedelta
    page_cap: int | None
    decrypt_cap: int | None
    codes: Mapping[str, str]
    decrypt_ok_code: int


def _param_error(name: str, why: str) -> JdFailure:
    return JdFailure("param", f"参数 {name} 错误: {why}", f"invalid parameter {name}: {why}")


def _int(params: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name)
    if value is None or value == "":
        if default is None:
            raise _param_error(name, "required")
        return default
    if isinstance(value, bool):
        raise _param_error(name, "not a number")
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise _param_error(name, "not a number") from exc


def _words(value: Any) -> list[str]:
    """A comma list or a JSON list of strings."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _ids(value: Any, name: str) -> set[int] | None:
    words = _words(value)
    if not words:
        return None
    try:
        return {int(word) for word in words}
    except ValueError as exc:
        raise _param_error(name, "not a list of numbers") from exc


class Methods:
    """Handlers bound to one shop."""

    def __init__(
        self,
        state: JdState,
        view: OrderView,
        rules: Rules,
        hooks: list[Callable[[], object]],
    ) -> None:
        self.state = state
        self.view = view
        self.rules = rules
        self.hooks = hooks
        self.decrypted = 0

    def table(self, *, decrypt_method: str, sku_list_method: str) -> dict[str, Handler]:
        return {
            "jingdong.pop.order.enSearch": self.search,
            "jingdong.pop.order.enGet": self.get,
            "jingdong.pop.order.shipment": self.shipment,
            "jingdong.stock.write.updateSkuStock": self.update_stock,
            decrypt_method: self.decrypt,
            sku_list_method: self.sku_list,
        }

    def _api_result(self, refused: Refused | None = None) -> dict[str, Any]:
        if refused is None:
            return {
                "success": True,
                "englishErrCode": "success",
                "chineseErrCode": "成功",
                "numberCode": 0,
            }
        return {
            "success": False,
            "englishErrCode": refused.en,
            "chineseErrCode": refused.zh,
            "numberCode": int(self.rules.codes[refused.role]),
        }

    async def search(self, params: Mapping[str, Any]) -> dict[str, Any]:
        states = frozenset(_words(params.get("order_state")))
        if not states:
            raise _param_error("order_state", "required")
        if not states <= KNOWN_STATES:
            raise _param_error("order_state", ", ".join(sorted(states - KNOWN_STATES)))
        fields = _words(params.get("optional_fields"))
        if not fields:
            raise _param_error("optional_fields", "required")
        page = _int(params, "page")
        size = _int(params, "page_size")
        descending = _int(params, "sortType", 0) == 1
        by_created = _int(params, "dateType", 0) == 1
        try:
            start, end = self._window(params, states)
            if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
                raise Refused(
                    "page", "page从1开始, page_size不能超过100", "page from 1, page_size 1..100"
                )
            offset = (page - 1) * size
            cap = self.rules.page_cap
            if cap is not None and offset >= cap:
                raise Refused(
                    "page",
                    f"最多只能查询前{cap}条, 请缩小时间范围",
                    f"only the first {cap} results can be paged; narrow the time range",
                )
        except Refused as refused:
            return self._search_result([], 0, refused)
        for hook in list(self.hooks):
            await asyncio.to_thread(hook)
        with self.state.lock:
            found = self.state.search(
                states=states, start=start, end=end, by_created=by_created, descending=descending
            )
            reachable = found if cap is None else found[:cap]
            page_rows = reachable[offset : offset + size]
            rows = [self.view.order_info(order, fields) for order in page_rows]
        return self._search_result(rows, len(found))

    def _search_result(
        self, rows: list[dict[str, Any]], total: int, refused: Refused | None = None
    ) -> dict[str, Any]:
        return {
            "searchorderinfo_result": {
                "orderInfoList": rows,
                "orderTotal": total,
                "apiResult": self._api_result(refused),
            }
        }

    def _window(
        self, params: Mapping[str, Any], states: frozenset[str]
    ) -> tuple[datetime | None, datetime | None]:
        raw_start, raw_end = params.get("start_date"), params.get("end_date")
        if not raw_start and not raw_end and states == {WAIT_SELLER_STOCK_OUT}:
            return None, None
        times = []
        for name, raw in (("start_date", raw_start), ("end_date", raw_end)):
            if not raw:
                raise _param_error(name, "required unless order_state is WAIT_SELLER_STOCK_OUT")
            try:
                times.append(parse_time(str(raw), self.rules.zone))
            except ValueError as exc:
                raise _param_error(name, "format is yyyy-MM-dd HH:mm:ss") from exc
        start, end = times
        if end < start:
            raise Refused("window", "开始时间不能晚于结束时间", "start_date is after end_date")
        if end - start > self.rules.max_window:
            raise Refused(
                "window",
                "查询时间跨度不能超过一个月",
                "the span between start_date and end_date must not exceed one month",
            )
        return start, end

    async def get(self, params: Mapping[str, Any]) -> dict[str, Any]:
        order_id = str(_int(params, "order_id"))
        fields = _words(params.get("optional_fields"))
        if not fields:
            raise _param_error("optional_fields", "required")
        states = frozenset(_words(params.get("order_state")))
        with self.state.lock:
            order = self.state.visible(order_id)
            if order is None or (states and order.state not in states):
                refused = Refused("order_not_found", "订单不存在", f"order {order_id} not found")
                return {"orderDetailInfo": {"apiResult": self._api_result(refused)}}
            info = self.view.order_info(order, fields)
        return {"orderDetailInfo": {"orderInfo": info, "apiResult": self._api_result()}}

    async def shipment(self, params: Mapping[str, Any]) -> dict[str, Any]:
        order_id = str(_int(params, "orderId"))
        carrier = str(_int(params, "logiCoprId"))
        tracking = str(params.get("logiNo") or "").strip()
        if not tracking and carrier != SELF_DELIVERY:
            raise _param_error("logiNo", "required")
        try:
            self.state.ship(order_id, carrier, tracking)
        except Refused as refused:
            result = {
                "success": False,
                "chineseErrCode": refused.zh,
                "englishErrCode": refused.en,
                "errorCode": self.rules.codes[refused.role],
            }
        else:
            result = {
                "success": True,
                "chineseErrCode": "成功",
                "englishErrCode": "success",
                "errorCode": "",
            }
        return {"sopjosshipment_result": result}

    async def update_stock(self, params: Mapping[str, Any]) -> dict[str, Any]:
        sku_id = _int(params, "skuId")
        quantity = _int(params, "stockNum")
        if quantity < 0:
            raise _param_error("stockNum", "must not be negative")
        with self.state.lock:
            self.state.catalog.set_stock(sku_id, quantity)
        return {"success": True}

    async def sku_list(self, params: Mapping[str, Any]) -> dict[str, Any]:
        page = _int(params, "pageNo", 1)
        size = _int(params, "page_size", _int(params, "pageSize", 20))
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            raise _param_error("pageNo/page_size", "pageNo from 1, page_size 1..100")
        statuses = _ids(params.get("skuStatuValue"), "skuStatuValue")
        with self.state.lock:
            found = self.state.catalog.listing(
                sku_ids=_ids(params.get("skuId"), "skuId"),
                ware_ids=_ids(params.get("wareId"), "wareId"),
                codes=set(_words(params.get("outId"))) or None,
            )
            if statuses is not None and 1 not in statuses:
                found = []
            rows = [sku_row(sku) for sku in found[(page - 1) * size : page * size]]
        return {"page": {"data": rows, "pageNo": page, "pageSize": size, "totalItem": len(found)}}

    async def decrypt(self, params: Mapping[str, Any]) -> dict[str, Any]:
        request = params.get("getReceiverInfoListReqVO")
        entries = request.get("orderInfos") if isinstance(request, dict) else None
        if not isinstance(entries, list) or not entries:
            raise _param_error("getReceiverInfoListReqVO.orderInfos", "required")
        pairs: list[tuple[str, str]] = []
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("oaid"):
                raise _param_error("orderInfos", "each entry needs orderId and oaid")
            pairs.append((str(_int(entry, "orderId")), str(entry["oaid"])))
        with self.state.lock:
            cap = self.rules.decrypt_cap
            if cap is not None and self.decrypted + len(pairs) > cap:
                raise JdFailure("decrypt_cap", "解密次数已达上限", "decryption quota exhausted")
            data = []
            for order_id, token in pairs:
                order = self.state.visible(order_id)
                if order is None or token not in order.tokens.values():
                    raise _param_error("oaid", f"does not belong to order {order_id}")
                data.append(self.view.receiver_model(order, token))
            self.decrypted += len(data)
        return {
            "returnType": {
                "code": self.rules.decrypt_ok_code,
                "message": "success",
                "requestId": uuid.uuid4().hex,
                "data": data,
            }
        }
