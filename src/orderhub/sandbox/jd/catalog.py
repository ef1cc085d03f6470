"""The shop's wares and SKUs: JD ids, the merchant code in `outerId`, price and stock.

A ware (`wareId`) groups SKUs (`skuId`); the merchant's own code is the SKU's `outerId`
(`outerSkuId` on order lines). Stock is set whole by `jingdong.stock.write.updateSkuStock`,
which takes a JD `skuId` only. The caller holds the shop lock.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .wire import JdFailure

__all__ = ["Catalog", "Sku", "price_of"]


@dataclass
class Sku:
    sku_id: int
    ware_id: int
    outer_id: str
    title: str
    price: Decimal
    stock: int
    modified: datetime


class Catalog:
    """SKUs by JD id and by merchant code."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.skus: dict[int, Sku] = {}
        self.by_code: dict[str, int] = {}
        self._next_ware = 10_020_000_000 + rng.randrange(10**6)
        self._next_sku = 100_050_000_000 + rng.randrange(10**6)

    def seed(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add SKUs; SKUs sharing an `item_id` share a ware (a numeric one is the wareId)."""
        out: list[dict[str, Any]] = []
        wares: dict[str, int] = {}
        staged: list[Sku] = []
        codes = set(self.by_code)
        for item in items:
            code = str(item["sku"])
            if code in codes:
                raise ValueError(f"merchant code {code} is already in the catalogue")
            codes.add(code)
            group = str(item.get("item_id") or "")
            if group.isdigit():
                ware_id = int(group)
            elif group in wares:
                ware_id = wares[group]
            else:
                self._next_ware += self.rng.randrange(1, 900)
                ware_id = self._next_ware
            if group:
                wares[group] = ware_id
            self._next_sku += self.rng.randrange(1, 90)
            staged.append(
                Sku(
                    sku_id=self._next_sku,
                    ware_id=ware_id,
                    outer_id=code,
                    title=str(item.get("title") or code),
                    price=price_of(item.get("price", "0.00")),
                    stock=int(item.get("stock", 0)),
                    modified=datetime.now(UTC).replace(microsecond=0),
                )
            )
        for sku in staged:
            self.skus[sku.sku_id] = sku
            self.by_code[sku.outer_id] = sku.sku_id
            out.append(
                {"sku": sku.outer_id, "sku_id": str(sku.sku_id), "ware_id": str(sku.ware_id)}
            )
        return out

    def by_merchant_code(self, code: str) -> Sku:
        sku_id = self.by_code.get(code)
        if sku_id is None:
            raise ValueError(f"merchant code {code} is not in the catalogue")
        return self.skus[sku_id]

    def set_stock(self, sku_id: int, quantity: int) -> Sku:
        sku = self.skus.get(sku_id)
        if sku is None:
            raise JdFailure("sku_not_found", f"skuId {sku_id} 不存在", f"sku {sku_id} not found")
        sku.stock = quantity
        sku.modified = datetime.now(UTC).replace(microsecond=0)
        return sku

    def listing(
        self,
        *,
        sku_ids: set[int] | None = None,
        ware_ids: set[int] | None = None,
        codes: set[str] | None = None,
    ) -> list[Sku]:
        """On-sale SKUs matching the filters, by skuId."""
        found = [
            sku
            for sku in self.skus.values()
            if (sku_ids is None or sku.sku_id in sku_ids)
            and (ware_ids is None or sku.ware_id in ware_ids)
            and (codes is None or sku.outer_id in codes)
        ]
        return sorted(found, key=lambda sku: sku.sku_id)

    def stock(self) -> dict[str, int]:
        return {sku.outer_id: sku.stock for sku in self.skus.values()}


def price_of(value: Any) -> Decimal:
    """A yuan amount from a string or number; ValueError when it is not one."""
    try:
        price = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"price {value!r} is not a decimal") from exc
    if not price.is_finite() or price < 0:
        raise ValueError(f"price {value!r} is not a non-negative amount")
    return price.quantize(Decimal("0.01"))
