"""The methods the shop answers, each taking param_json and returning `data`.

order.searchList: `update_time_start/_end` or `create_time_start/_end` (UNIX s), both
bounds inclusive by default (the docs say 开始/截止 and no more: UNCONFIRMED, setting
`end_inclusive`); one range may span at most `max_window_seconds` (UNCONFIRMED, default
one day); `page` from 0 and `size` 1..100 are required; `order_by` create_time (default)
or update_time, `order_asc` false (newest first) by default, ties broken by order id;
`combine_status` with one element; `after_sale_status_desc`. With `page_cap` set, a page
starting at or past that many results is refused and a page straddling it is cut.
`data{shop_order_list, page, size, total}`; there is no has_more.

order.batchDecrypt takes at most 50 `cipher_infos` (SDK doc) and decrypts a cipher only
for the order named in its `auth_id`; a mismatch is an item with `err_no` 300008
(our number). With `decrypt_quota` set, a call that would exceed it is refused
(50002, UNCONFIRMED).

product.listV2: `page` from 1, `size` 1..100, page*size ≤ 10000 (SDK doc);
`data{data, total, page, size}`; each product carries `sku_list` when
`product_list_with_skus` (UNCONFIRMED field; on by default). sku.list (`product_id`)
returns the SKUs as `data` itself, as the SDK types it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .catalog import product_view, sku_view, sorted_products
from .state import CARRIERS, DouyinState
from .views import shop_order_view
from .wire import BUSINESS_FAILED, INVALID_BIZ_PARAM, MISSING_BIZ_PARAM, DouyinFailure

__all__ = ["SearchSettings", "ShopMethods"]


def _need(message: str) -> DouyinFailure:
    return DouyinFailure(MISSING_BIZ_PARAM, "isv.parameter-missing", message)


def _bad(message: str) -> DouyinFailure:
    return DouyinFailure(INVALID_BIZ_PARAM, "isv.parameter-invalid", message)


def _int(params: Mapping[str, Any], key: str, *, required: bool = False) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise _need(f"{key}不能为空")
        return None
    if isinstance(value, bool):
        raise _bad(f"{key}格式不正确")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _bad(f"{key}格式不正确") from exc


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if value is None or value == "":
        raise _need(f"{key}不能为空")
    return str(value)


def _span(seconds: float) -> str:
    if seconds % 86400 == 0:
        return f"{int(seconds // 86400)}天"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}小时"
    return f"{int(seconds)}秒"


class SearchSettings:
    """The UNCONFIRMED search rules, changeable at run time."""

    def __init__(
        self,
        *,
        max_window_seconds: float | None,
        page_cap: int | None,
        end_inclusive: bool,
        decrypt_quota: int | None,
        product_list_with_skus: bool,
    ) -> None:
        self.max_window_seconds = max_window_seconds
        self.page_cap = page_cap
        self.end_inclusive = end_inclusive
        self.decrypt_quota = decrypt_quota
        self.product_list_with_skus = product_list_with_skus


class ShopMethods:
    """One shop's method handlers over its state."""

    def __init__(
        self, state: DouyinState, settings: SearchSettings, *, shop_id: int, shop_name: str
    ) -> None:
        self.state = state
        self.settings = settings
        self.shop_id = shop_id
        self.shop_name = shop_name
        self.search_hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.decrypt_calls = 0
        self.decrypted = 0
        self._requests: dict[str, dict[str, Any]] = {}

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        return {
            "order.searchList": self.search_list,
            "order.orderDetail": self.order_detail,
            "order.batchDecrypt": self.batch_decrypt,
            "order.logisticsCompanyList": self.company_list,
            "order.logisticsAdd": self.logistics_add,
            "order.logisticsAddMultiPack": self.logistics_add_multi_pack,
            "sku.syncStock": self.sync_stock,
            "sku.list": self.sku_list,
            "product.listV2": self.product_list,
        }

    def _view(self, order: Any) -> dict[str, Any]:
        return shop_order_view(order, shop_id=self.shop_id, shop_name=self.shop_name)

    def _range(self, params: Mapping[str, Any], name: str) -> tuple[int | None, int | None]:
        start, end = _int(params, f"{name}_start"), _int(params, f"{name}_end")
        if start is not None and end is not None and end < start:
            raise _bad(f"{name}_start不能大于{name}_end")
        limit = self.settings.max_window_seconds
        if limit is not None and start is not None:
            upper = end if end is not None else int(time.time())
            if upper - start > limit:
                raise _bad(f"查询时间跨度不能超过{_span(limit)}")
        return start, end

    def search_list(self, params: dict[str, Any]) -> dict[str, Any]:
        for hook in list(self.search_hooks):
            hook()
        page = _int(params, "page", required=True)
        size = _int(params, "size", required=True)
        assert page is not None and size is not None
        if page < 0:
            raise _bad("page不能小于0")
        if not 1 <= size <= 100:
            raise _bad("size需在1到100之间")
        update = self._range(params, "update_time")
        create = self._range(params, "create_time")
        order_by = str(params.get("order_by") or "create_time")
        if order_by not in ("create_time", "update_time"):
            raise _bad("order_by只支持create_time或update_time")
        ascending = params.get("order_asc") in (True, "true", 1, "1")
        statuses = self._statuses(params.get("combine_status"))
        after_sale = str(params.get("after_sale_status_desc") or "")
        with self.state.lock:
            found = self.state.search(
                ranges={"update_time": update, "create_time": create},
                end_inclusive=self.settings.end_inclusive,
                statuses=statuses,
                after_sale=after_sale,
            )
            found.sort(key=lambda o: (getattr(o, order_by), int(o.order_id)), reverse=not ascending)
            offset, stop = page * size, page * size + size
            cap = self.settings.page_cap
            if cap is not None:
                if offset >= cap:
                    raise _bad(f"查询结果最多翻到第{cap}条，请缩小查询时间范围")
                stop = min(stop, cap)
            rows = [self._view(o) for o in found[offset:stop]]
        return {"shop_order_list": rows, "page": page, "size": size, "total": len(found)}

    @staticmethod
    def _statuses(raw: Any) -> set[int] | None:
        if not raw:
            return None
        if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], Mapping):
            raise _bad("combine_status只支持一个元素")
        text = str(raw[0].get("order_status") or "")
        try:
            return {int(part) for part in text.split(",") if part.strip()} or None
        except ValueError as exc:
            raise _bad("combine_status.order_status格式不正确") from exc

    def order_detail(self, params: dict[str, Any]) -> dict[str, Any]:
        order_id = _text(params, "shop_order_id")
        with self.state.lock:
            order = self.state.orders.get(order_id)
            if order is None:
                raise DouyinFailure(BUSINESS_FAILED, "isv.business-failed", "订单不存在")
            return {"shop_order_detail": self._view(order)}

    def batch_decrypt(self, params: dict[str, Any]) -> dict[str, Any]:
        infos = params.get("cipher_infos")
        if not isinstance(infos, list) or not infos:
            raise _need("cipher_infos不能为空")
        if len(infos) > 50:
            raise _bad("cipher_infos最多支持50条")
        quota = self.settings.decrypt_quota
        with self._lock:
            if quota is not None and self.decrypted + len(infos) > quota:
                raise DouyinFailure(BUSINESS_FAILED, "isv.business-failed", "解密额度已用尽")
            self.decrypt_calls += 1
        results = []
        with self.state.lock:
            for info in infos:
                info = info if isinstance(info, Mapping) else {}
                results.append(self._decrypt_one(info))
        with self._lock:
            self.decrypted += sum(1 for r in results if r["err_no"] == 0)
        return {"decrypt_infos": results, "custom_err": {"err_code": 0, "err_msg": ""}}

    def _decrypt_one(self, info: Mapping[str, Any]) -> dict[str, Any]:
        auth_id, text = str(info.get("auth_id") or ""), str(info.get("cipher_text") or "")
        order = self.state.orders.get(auth_id)
        item: dict[str, Any] = {
            "auth_id": auth_id,
            "cipher_text": text,
            "decrypt_text": "",
            "err_no": 300008,
            "err_msg": "解密失败，密文与订单不匹配",
            "data_type": 0,
            "is_virtual_tel": False,
            "expire_time": 0,
            "phone_no_a": "",
            "phone_no_b": "",
        }
        if order is None:
            return item
        r = order.receiver
        clear = {"addr": (r.detail, 1), "name": (r.name, 2), "tel": (r.tel, 3)}
        for kind, ciphertext in order.ciphers.items():
            if ciphertext == text:
                item.update(decrypt_text=clear[kind][0], data_type=clear[kind][1])
                item.update(err_no=0, err_msg="")
        return item

    def company_list(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"id": i, "name": n, "code": c} for c, (i, n) in CARRIERS.items()]

    @staticmethod
    def _company(value: Any) -> str:
        code = str(value or "")
        if not code:
            raise _need("company_code不能为空")
        if code not in CARRIERS:
            raise _bad(f"物流公司编码{code}不存在")
        return code

    def logistics_add(self, params: dict[str, Any]) -> dict[str, Any]:
        order_id = _text(params, "order_id")
        company = self._company(params.get("company_code"))
        tracking = _text(params, "logistics_code")
        self.state.ship_all(order_id, company, tracking)
        return {}

    def logistics_add_multi_pack(self, params: dict[str, Any]) -> dict[str, Any]:
        order_id = _text(params, "order_id")
        request_id = str(params.get("request_id") or "")
        with self._lock:
            if request_id and request_id in self._requests:
                return self._requests[request_id]
        raw = params.get("pack_list")
        if not isinstance(raw, list) or not raw:
            raise _need("pack_list不能为空")
        packs = []
        for pack in raw:
            pack = pack if isinstance(pack, Mapping) else {}
            company = self._company(pack.get("company_code"))
            tracking = _text(pack, "logistics_code")
            info = pack.get("shipped_order_info")
            if not isinstance(info, list) or not info:
                raise _need("shipped_order_info不能为空")
            lines = []
            for item in info:
                item = item if isinstance(item, Mapping) else {}
                lines.append((_text(item, "shipped_order_id"), _int(item, "shipped_num") or 0))
            packs.append((company, tracking, lines))
        done = self.state.ship_packs(order_id, packs)
        data = {
            "pack_list": [
                {
                    "shipped_order_info": [
                        {"shipped_order_id": sid, "shipped_num": num, "shipped_item_ids": []}
                        for sid, num in p.lines
                    ],
                    "logistics_code": p.tracking_no,
                    "pack_id": p.pack_id,
                }
                for p in done
            ]
        }
        if request_id:
            with self._lock:
                self._requests[request_id] = data
        return data

    def sync_stock(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.catalog.sync_stock(params, int(time.time()))
        return {}

    def sku_list(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        product_id = _int(params, "product_id", required=True)
        with self.state.lock:
            product = self.state.catalog.products.get(product_id or 0)
            if product is None:
                raise DouyinFailure(BUSINESS_FAILED, "isv.business-failed", "商品不存在")
            return [sku_view(s) for s in product.skus]

    def product_list(self, params: dict[str, Any]) -> dict[str, Any]:
        page = _int(params, "page", required=True)
        size = _int(params, "size", required=True)
        assert page is not None and size is not None
        if page < 1 or not 1 <= size <= 100:
            raise _bad("page从1开始，size需在1到100之间")
        if page * size > 10000:
            raise _bad("page*size不能超过10000")
        status = _int(params, "status")
        with self.state.lock:
            products = sorted_products(list(self.state.catalog.products.values()))
            if status not in (None, 0):
                products = []
            rows = [
                product_view(p, with_skus=self.settings.product_list_with_skus)
                for p in products[(page - 1) * size : page * size]
            ]
            return {"data": rows, "total": len(products), "page": page, "size": size}
