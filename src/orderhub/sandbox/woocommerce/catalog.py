"""The emulated store's products and variations, and their stock.

A simple product keeps its own stock; a variable product's stock is on each variation
(`_products.md`, `_product-variations.md`). With `manage_stock` on, `stock_status`
follows the count (`instock` above zero, else `outofstock`, backorders being off).
`GET /products?sku=` matches products only, never variations, as in WooCommerce.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from .wire import Json, WooError, invalid_param, money, parse_amount, site_dates

__all__ = ["Catalog", "Stocked"]


@dataclass
class Stocked:
    """A product or variation: what the API shows and where its stock is."""

    id: int
    product_id: int  # itself for a product, its parent for a variation
    data: Json = field(default_factory=dict)

    @property
    def is_variation(self) -> bool:
        return self.id != self.product_id


def _stock_status(item: Json) -> str:
    if not item.get("manage_stock"):
        return str(item.get("stock_status") or "instock")
    return "instock" if int(item.get("stock_quantity") or 0) > 0 else "outofstock"


class Catalog:
    """Products and variations by id, with a SKU index; the caller holds the lock."""

    def __init__(
        self,
        *,
        next_id: Callable[[], int],
        now: Callable[[], datetime],
        offset: timezone,
        base_url: Callable[[], str],
    ) -> None:
        self._next_id = next_id
        self._now = now
        self._offset = offset
        self._base_url = base_url
        self.items: dict[int, Stocked] = {}
        self._order = itertools.count(1)

    # building

    def _dates(self) -> Json:
        local, gmt = site_dates(self._now(), self._offset)
        return {"date_modified": local, "date_modified_gmt": gmt}

    def add_product(self, spec: Mapping[str, Any]) -> Json:
        """A simple product, or a variable one when `spec` has `variations`."""
        pid = self._next_id()
        local, gmt = site_dates(self._now(), self._offset)
        variations = list(spec.get("variations") or [])
        price = parse_amount(spec.get("regular_price", spec.get("price", "19.90")), "price")
        product: Json = {
            "id": pid,
            "name": str(spec.get("name") or spec.get("title") or f"Item {pid}"),
            "slug": f"item-{pid}",
            "type": "variable" if variations else "simple",
            "status": "publish",
            "date_created": local,
            "date_created_gmt": gmt,
            "date_modified": local,
            "date_modified_gmt": gmt,
            "sku": "" if variations else str(spec.get("sku") or ""),
            "price": money(price),
            "regular_price": money(price),
            "sale_price": "",
            "manage_stock": not variations and spec.get("stock") is not None,
            "stock_quantity": None
            if variations or spec.get("stock") is None
            else int(spec["stock"]),
            "backorders": "no",
            "attributes": [],
            "variations": [],
            "menu_order": next(self._order),
        }
        product["stock_status"] = _stock_status(product)
        self.items[pid] = Stocked(pid, pid, product)
        for variation in variations:
            self.add_variation(pid, variation, price)
        return self.product(pid)

    def add_variation(self, product_id: int, spec: Mapping[str, Any], price: Decimal) -> Json:
        vid = self._next_id()
        local, gmt = site_dates(self._now(), self._offset)
        own = parse_amount(spec.get("regular_price", spec.get("price", price)), "price")
        options = spec.get("attributes") or {"Option": spec.get("option") or spec.get("sku")}
        variation: Json = {
            "id": vid,
            "date_created": local,
            "date_created_gmt": gmt,
            "date_modified": local,
            "date_modified_gmt": gmt,
            "sku": str(spec.get("sku") or ""),
            "price": money(own),
            "regular_price": money(own),
            "sale_price": "",
            "manage_stock": spec.get("stock") is not None,
            "stock_quantity": None if spec.get("stock") is None else int(spec["stock"]),
            "backorders": "no",
            "attributes": [{"id": 0, "name": k, "option": str(v)} for k, v in options.items()],
            "menu_order": next(self._order),
        }
        variation["stock_status"] = _stock_status(variation)
        self.items[vid] = Stocked(vid, product_id, variation)
        self.items[product_id].data["variations"].append(vid)
        return self.variation(product_id, vid)

    # reading

    def _links(self, item: Stocked) -> Json:
        root = f"{self._base_url()}/wp-json/wc/v3/products"
        if item.is_variation:
            own = f"{root}/{item.product_id}/variations"
            return {
                "self": [{"href": f"{own}/{item.id}"}],
                "collection": [{"href": own}],
                "up": [{"href": f"{root}/{item.product_id}"}],
            }
        return {"self": [{"href": f"{root}/{item.id}"}], "collection": [{"href": root}]}

    def product(self, product_id: int) -> Json:
        item = self.items.get(product_id)
        if item is None or item.is_variation:
            raise WooError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return {**copy.deepcopy(item.data), "_links": self._links(item)}

    def variation(self, product_id: int, variation_id: int) -> Json:
        item = self.items.get(variation_id)
        if item is None or not item.is_variation or item.product_id != product_id:
            raise WooError(404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
        return {**copy.deepcopy(item.data), "_links": self._links(item)}

    def products(self) -> list[Json]:
        """Every product, newest first (WooCommerce's default `orderby=date&order=desc`)."""
        found = [i for i in self.items.values() if not i.is_variation]
        return [self.product(i.id) for i in sorted(found, key=lambda i: -i.id)]

    def variations(self, product_id: int) -> list[Json]:
        self.product(product_id)
        ids = self.items[product_id].data["variations"]
        return [self.variation(product_id, vid) for vid in ids]

    def by_sku(self, sku: str) -> Stocked | None:
        """The product or variation with this SKU (the API never shows a variation here)."""
        return next((i for i in self.items.values() if sku and i.data.get("sku") == sku), None)

    def stock(self) -> dict[str, int]:
        """Units per SKU, for what the store shows."""
        return {
            str(i.data["sku"]): int(i.data.get("stock_quantity") or 0)
            for i in self.items.values()
            if i.data.get("sku") and i.data.get("manage_stock")
        }

    # changing

    def update(self, item: Stocked, changes: Mapping[str, Any]) -> None:
        """Apply a PUT body to a product or variation (stock, price, SKU, name)."""
        data = item.data
        if "stock_quantity" in changes and changes["stock_quantity"] is not None:
            value = changes["stock_quantity"]
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise invalid_param("stock_quantity", "stock_quantity is not of type integer.")
            try:
                data["stock_quantity"] = int(str(value))
            except ValueError as exc:
                raise invalid_param(
                    "stock_quantity", "stock_quantity is not of type integer."
                ) from exc
        if "manage_stock" in changes:
            data["manage_stock"] = bool(changes["manage_stock"])
        for key in ("regular_price", "price"):
            if key in changes:
                data["regular_price"] = data["price"] = money(parse_amount(changes[key], key))
        if "sku" in changes:
            sku = str(changes["sku"] or "")
            other = self.by_sku(sku)
            if other is not None and other is not item:
                raise WooError(
                    400,
                    "product_invalid_sku",
                    "Invalid or duplicated SKU.",
                    resource_id=item.id,
                    unique_sku=sku,
                )
            data["sku"] = sku
        if "name" in changes and not item.is_variation:
            data["name"] = str(changes["name"])
        data["stock_status"] = _stock_status(data)
        data.update(self._dates())

    def adjust(self, product_id: int, variation_id: int, delta: int) -> None:
        """Change a managed stock by `delta` (an order paid, cancelled or restocked)."""
        item = self.items.get(variation_id or product_id)
        if item is None or not item.data.get("manage_stock"):
            return
        item.data["stock_quantity"] = int(item.data.get("stock_quantity") or 0) + delta
        item.data["stock_status"] = _stock_status(item.data)
        item.data.update(self._dates())
