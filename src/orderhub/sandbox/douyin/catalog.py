"""The shop's products and SKUs: seeding, `sku.syncStock`, and the listing calls' shapes.

Douyin keeps the merchant's SKU code in `code` (商家编码); `sku_id` and `product_id` are
the platform's 19-digit ids. `out_sku_id` is a separate numeric "external sku id" that is
0 unless a seed sets it. Orders do not move stock here: `stock()` shows what seeding and
`sku.syncStock` set, so a test reads exactly what the hub pushed.

Nothing here locks; `DouyinState` holds the lock around every call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .wire import (
    BUSINESS_FAILED,
    INVALID_BIZ_PARAM,
    INVALID_PARAM,
    MISSING_BIZ_PARAM,
    DouyinFailure,
)

__all__ = ["Catalog", "Product", "Sku", "fen", "yuan"]

PRODUCT_BASE = 3_580_000_000_000_000_000
SKU_BASE = 1_760_000_000_000_000_000
PICTURE = "https://p3-aio.ecombdimg.com/obj/ecom-shop-material/sandbox.jpeg"


def fen(price: Any) -> int:
    """ "19.90" → 1990; ValueError for anything that is not a non-negative yuan amount."""
    try:
        amount = Decimal(str(price))
    except InvalidOperation as exc:
        raise ValueError(f"price {price!r} is not an amount") from exc
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"price {price!r} must be yuan with at most two decimals")
    return int(amount * 100)


def yuan(amount: int) -> str:
    """1990 → "19.90"."""
    return f"{Decimal(amount) / 100:.2f}"


@dataclass
class Sku:
    """One SKU: the platform's ids, the merchant's code, price in fen and stock."""

    sku_id: int
    product_id: int
    code: str
    spec: str
    price: int
    stock: int
    create_time: int
    out_sku_id: int = 0


@dataclass
class Product:
    """A product (商品) on sale, with its SKUs."""

    product_id: int
    name: str
    create_time: int
    update_time: int
    skus: list[Sku] = field(default_factory=list)


def _biz_invalid(message: str) -> DouyinFailure:
    return DouyinFailure(INVALID_BIZ_PARAM, "isv.parameter-invalid", message)


def _int(params: Mapping[str, Any], key: str) -> int | None:
    value = params.get(key)
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool):
        raise _biz_invalid(f"{key}格式不正确")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _biz_invalid(f"{key}格式不正确") from exc


class Catalog:
    """Products by id, SKUs by id, and the idempotency ids of incremental updates."""

    def __init__(self) -> None:
        self.products: dict[int, Product] = {}
        self.skus: dict[int, Sku] = {}
        self._groups: dict[str, int] = {}
        self._idempotent: set[str] = set()

    def by_code(self, code: str) -> Sku | None:
        """The SKU carrying merchant code `code`, if any."""
        return next((s for s in self.skus.values() if s.code == code), None)

    def seed(self, items: Iterable[Mapping[str, Any]], now: int) -> list[dict[str, Any]]:
        """Add SKUs; items with the same `item_id` share a product. Known codes are kept."""
        added = []
        for item in items:
            code = str(item["sku"])
            sku = self.by_code(code)
            if sku is None:
                sku = self._add(item, code, now)
            added.append({"sku": code, "product_id": sku.product_id, "sku_id": sku.sku_id})
        return added

    def _add(self, item: Mapping[str, Any], code: str, now: int) -> Sku:
        group = str(item.get("item_id") or f"code:{code}")
        product_id = self._groups.get(group)
        if product_id is None:
            given = str(item.get("item_id") or "")
            product_id = int(given) if given.isdigit() else PRODUCT_BASE + len(self.products) + 1
            self._groups[group] = product_id
            title = str(item.get("title") or f"沙箱商品 {code}")
            self.products[product_id] = Product(product_id, title, now, now)
        product = self.products[product_id]
        sku = Sku(
            sku_id=SKU_BASE + len(self.skus) + 1,
            product_id=product_id,
            code=code,
            spec=str(item.get("spec") or item.get("title") or code),
            price=fen(item.get("price", "19.90")),
            stock=int(item.get("stock", 0)),
            create_time=now,
            out_sku_id=int(item.get("out_sku_id", 0)),
        )
        product.skus.append(sku)
        self.skus[sku.sku_id] = sku
        return sku

    def stock(self) -> dict[str, int]:
        """Stock by merchant code."""
        return {s.code: s.stock for s in self.skus.values()}

    def find(self, params: Mapping[str, Any]) -> Sku:
        """The SKU a `sku.syncStock` call names by sku_id, code or out_sku_id."""
        sku_id, out_sku_id = _int(params, "sku_id"), _int(params, "out_sku_id")
        product_id = _int(params, "product_id")
        code = str(params.get("code") or "")
        if sku_id is not None:
            candidates = [s for s in (self.skus.get(sku_id),) if s is not None]
        elif code:
            candidates = [s for s in self.skus.values() if s.code == code]
        elif out_sku_id is not None:
            candidates = [s for s in self.skus.values() if s.out_sku_id == out_sku_id]
        else:
            raise DouyinFailure(
                MISSING_BIZ_PARAM, "isv.parameter-missing", "sku_id、code、out_sku_id不能同时为空"
            )
        if product_id is not None:
            candidates = [s for s in candidates if s.product_id == product_id]
        if not candidates:
            raise DouyinFailure(BUSINESS_FAILED, "isv.business-failed", "sku不存在")
        if len(candidates) > 1:
            raise _biz_invalid("商家编码对应多个sku，请传入product_id")
        return candidates[0]

    def sync_stock(self, params: Mapping[str, Any], now: int) -> Sku:
        """Apply one `sku.syncStock`: the full figure, or a delta with an idempotent_id."""
        raw = params.get("stock_num")
        if raw is None:
            raise DouyinFailure(MISSING_BIZ_PARAM, "isv.parameter-missing", "stock_num不能为空")
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise _biz_invalid("stock_num格式不正确")
        try:
            number = int(raw)
        except ValueError as exc:
            raise _biz_invalid("stock_num格式不正确") from exc
        incremental = params.get("incremental") in (True, "true")
        sku = self.find(params)
        if not incremental:
            if number < 0:
                raise _biz_invalid("stock_num不能小于0")
            sku.stock = number
        else:
            key = str(params.get("idempotent_id") or "")
            if not key:
                raise DouyinFailure(
                    MISSING_BIZ_PARAM, "isv.parameter-missing", "增量更新时idempotent_id必填"
                )
            if key in self._idempotent:
                raise DouyinFailure(INVALID_PARAM, "isv.idempotent-id-existed", "幂等ID重复")
            if sku.stock + number < 0:
                raise DouyinFailure(BUSINESS_FAILED, "isv.business-failed", "库存不足，扣减失败")
            self._idempotent.add(key)
            sku.stock += number
        self.products[sku.product_id].update_time = now
        return sku


def sku_view(sku: Sku) -> dict[str, Any]:
    """A SKU as `sku.list` sends it (and `product.listV2` in its `sku_list`)."""
    return {
        "id": sku.sku_id,
        "open_user_id": 0,
        "out_sku_id": sku.out_sku_id,
        "product_id": sku.product_id,
        "product_id_str": str(sku.product_id),
        "spec_detail_id1": sku.sku_id % 10**9,
        "spec_detail_id2": 0,
        "spec_detail_id3": 0,
        "spec_detail_name1": sku.spec,
        "spec_detail_name2": "",
        "spec_detail_name3": "",
        "price": sku.price,
        "settlement_price": 0,
        "spec_id": sku.product_id % 10**9,
        "create_time": sku.create_time,
        "code": sku.code,
        "sku_type": 0,
        "supplier_id": "",
        "stock_num": sku.stock,
        "prehold_stock_num": 0,
        "prom_stock_num": 0,
        "step_stock_num": 0,
        "prehold_step_stock_num": 0,
        "prom_step_stock_num": 0,
        "stock_map": {},
        "prehold_stock_map": {},
        "normal_stock_num": sku.stock,
        "channel_stock_num": 0,
        "sell_properties": [{"value_spec_detail_id": sku.sku_id % 10**9, "value_name": sku.spec}],
    }


def product_view(product: Product, *, with_skus: bool) -> dict[str, Any]:
    """A product as `product.listV2` sends it; prices in fen."""
    prices = [s.price for s in product.skus] or [0]
    view: dict[str, Any] = {
        "product_id": product.product_id,
        "status": 0,
        "check_status": 3,
        "market_price": max(prices),
        "discount_price": min(prices),
        "img": PICTURE,
        "name": product.name,
        "pay_type": 1,
        "product_type": 0,
        "spec_id": product.product_id % 10**9,
        "cos_ratio": 0,
        "create_time": product.create_time,
        "update_time": product.update_time,
        "out_product_id": 0,
        "description": "",
        "mobile": "",
        "extra": "",
        "recommend_remark": "",
        "category_detail": {
            "first_cid": 20000,
            "second_cid": 20001,
            "third_cid": 20002,
            "fourth_cid": 0,
            "first_cname": "沙箱",
            "second_cname": "沙箱",
            "third_cname": "沙箱",
            "fourth_cname": "",
        },
        "outer_product_id": "",
        "is_package_product": False,
        "package_product_list": [],
        "sub_product_list": [],
    }
    if with_skus:
        view["sku_list"] = [sku_view(s) for s in product.skus]
    return view


def sorted_products(products: Sequence[Product]) -> list[Product]:
    """Newest first, as the shop's back office lists them."""
    return sorted(products, key=lambda p: (-p.create_time, -p.product_id))
