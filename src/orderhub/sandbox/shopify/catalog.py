"""Products, variants, inventory items, locations and inventory levels of the emulated shop.

A variant carries `sku`, `price` and `inventory_item_id`; stock lives in inventory
levels keyed by (inventory item, location), and the variant's `inventory_quantity`
is the sum over locations, as the REST Product resource reports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from orderhub.sandbox.shopify.common import (
    Json,
    gid,
    iso,
    money,
    not_found,
    to_decimal,
    unprocessable,
)

__all__ = ["Catalog"]


def _handle(title: str) -> str:
    slug = re.sub(r"[^a-z0-9\u4e00-\u9fff]+", "-", title.lower()).strip("-")
    return slug or "product"


class Catalog:
    """The shop's catalog and stock; callers hold the shop lock around every call."""

    def __init__(self, *, shop_id: int, next_id: Callable[[], int], now: Callable[[], datetime]):
        self.shop_id = shop_id
        self._next_id = next_id
        self._now = now
        self.products: dict[int, Json] = {}
        self.variants: dict[int, tuple[Json, Json]] = {}
        self.variant_by_sku: dict[str, int] = {}
        self.inventory_items: dict[int, Json] = {}
        self.variant_by_item: dict[int, Json] = {}
        self.levels: dict[tuple[int, int], Json] = {}
        self.locations: dict[int, Json] = {}
        self.primary_location = self.add_location("Main warehouse")

    def add_location(self, name: str) -> Json:
        """A new active location; items are stocked there only once stock is set there."""
        location_id = self._next_id()
        stamp = iso(self._now())
        location: Json = {
            "id": location_id,
            "name": name,
            "address1": "150 Elgin Street",
            "address2": "8th floor",
            "city": "Ottawa",
            "zip": "K2P 1L4",
            "province": "Ontario",
            "country": "CA",
            "phone": "",
            "created_at": stamp,
            "updated_at": stamp,
            "country_code": "CA",
            "country_name": "Canada",
            "province_code": "ON",
            "legacy": False,
            "active": True,
            "admin_graphql_api_id": gid("Location", location_id),
            "localized_country_name": "Canada",
            "localized_province_name": "Ontario",
            "shop_id": self.shop_id,
        }
        self.locations[location_id] = location
        return location

    def create_product(self, body: Mapping[str, Any]) -> Json:
        """A product with variants, inventory items and initial stock at the primary location."""
        title = str(body.get("title") or "").strip()
        if not title:
            raise unprocessable("title", "can't be blank")
        product_id = self._next_id()
        stamp = iso(self._now())
        raw_variants = list(body.get("variants") or [{}])
        variants: list[Json] = []
        for position, raw in enumerate(raw_variants, start=1):
            variants.append(self._variant(product_id, position, raw, stamp))
        product: Json = {
            "id": product_id,
            "title": title,
            "body_html": body.get("body_html"),
            "vendor": body.get("vendor") or "orderhub sandbox",
            "product_type": body.get("product_type") or "",
            "created_at": stamp,
            "handle": body.get("handle") or _handle(title),
            "updated_at": stamp,
            "published_at": stamp,
            "template_suffix": None,
            "published_scope": "web",
            "tags": str(body.get("tags") or ""),
            "status": body.get("status") or "active",
            "admin_graphql_api_id": gid("Product", product_id),
            "variants": variants,
            "options": [
                {
                    "id": self._next_id(),
                    "product_id": product_id,
                    "name": "Title",
                    "position": 1,
                    "values": [v["title"] for v in variants],
                }
            ],
            "images": [],
            "image": None,
        }
        self.products[product_id] = product
        for variant in variants:
            self.variants[variant["id"]] = (variant, product)
            if variant["sku"]:
                self.variant_by_sku.setdefault(variant["sku"], variant["id"])
        return product

    def _variant(self, product_id: int, position: int, raw: Mapping[str, Any], stamp: str) -> Json:
        variant_id = self._next_id()
        item_id = self._next_id()
        sku = str(raw.get("sku") or "")
        title = str(raw.get("title") or raw.get("option1") or "Default Title")
        grams = int(raw.get("grams", 0) or 0)
        variant: Json = {
            "id": variant_id,
            "product_id": product_id,
            "title": title,
            "price": money(to_decimal(raw.get("price", "0.00"), "variants")),
            "position": position,
            "inventory_policy": raw.get("inventory_policy") or "deny",
            "compare_at_price": raw.get("compare_at_price"),
            "option1": title,
            "option2": None,
            "option3": None,
            "created_at": stamp,
            "updated_at": stamp,
            "taxable": bool(raw.get("taxable", True)),
            "barcode": raw.get("barcode"),
            "fulfillment_service": "manual",
            "grams": grams,
            "inventory_management": raw.get("inventory_management", "shopify"),
            "requires_shipping": bool(raw.get("requires_shipping", True)),
            "sku": sku,
            "weight": grams / 1000,
            "weight_unit": "kg",
            "inventory_item_id": item_id,
            "inventory_quantity": 0,
            "old_inventory_quantity": 0,
            "admin_graphql_api_id": gid("ProductVariant", variant_id),
            "image_id": None,
        }
        self.inventory_items[item_id] = {
            "id": item_id,
            "sku": sku,
            "created_at": stamp,
            "updated_at": stamp,
            "requires_shipping": variant["requires_shipping"],
            "cost": None,
            "country_code_of_origin": None,
            "province_code_of_origin": None,
            "harmonized_system_code": None,
            "tracked": variant["inventory_management"] == "shopify",
            "country_harmonized_system_codes": [],
            "admin_graphql_api_id": gid("InventoryItem", item_id),
        }
        self.variant_by_item[item_id] = variant
        self.set_level(
            self.primary_location["id"], item_id, int(raw.get("inventory_quantity", 0) or 0)
        )
        return variant

    def delete_product(self, product_id: int) -> Json:
        """Remove a product with its variants, their inventory items and their stock."""
        product = self.products.pop(product_id, None)
        if product is None:
            raise not_found()
        for variant in product["variants"]:
            self.variants.pop(variant["id"], None)
            if self.variant_by_sku.get(variant["sku"]) == variant["id"]:
                del self.variant_by_sku[variant["sku"]]
            item_id = variant["inventory_item_id"]
            self.inventory_items.pop(item_id, None)
            self.variant_by_item.pop(item_id, None)
            for key in [key for key in self.levels if key[0] == item_id]:
                del self.levels[key]
        return product

    def variant(self, variant_id: int) -> tuple[Json, Json] | None:
        """(variant, product) for a variant id, or None."""
        return self.variants.get(variant_id)

    def set_level(self, location_id: int, item_id: int, available: int) -> Json:
        """Set stock of an item at a location, connecting the two first if needed."""
        if item_id not in self.inventory_items or location_id not in self.locations:
            raise not_found()
        level = self.levels.get((item_id, location_id))
        stamp = iso(self._now())
        if level is None:
            level = {
                "inventory_item_id": item_id,
                "location_id": location_id,
                "available": 0,
                "updated_at": stamp,
                "admin_graphql_api_id": (
                    f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"
                ),
            }
            self.levels[(item_id, location_id)] = level
        level["available"] = available
        level["updated_at"] = stamp
        self._sync_variant(item_id)
        return level

    def adjust(self, item_id: int, delta: int, location_id: int | None = None) -> Json:
        """Change stock by `delta` (the primary location unless given); an order decrements it."""
        location = self.primary_location["id"] if location_id is None else location_id
        level = self.levels.get((item_id, location))
        if level is None and location_id is not None:
            raise unprocessable("base", "Inventory item is not stocked at the location.")
        current = int(level["available"]) if level else 0
        return self.set_level(location, item_id, current + delta)

    def _sync_variant(self, item_id: int) -> None:
        variant = self.variant_by_item.get(item_id)
        if variant is None:
            return
        total = sum(lv["available"] for (i, _), lv in self.levels.items() if i == item_id)
        variant["old_inventory_quantity"] = variant["inventory_quantity"]
        variant["inventory_quantity"] = total

    def levels_for(self, item_ids: set[int] | None, location_ids: set[int] | None) -> list[Json]:
        """Inventory levels filtered by item and location ids, like GET inventory_levels.json."""
        return [
            level
            for (item_id, location_id), level in self.levels.items()
            if (item_ids is None or item_id in item_ids)
            and (location_ids is None or location_id in location_ids)
        ]

    def stock_by_sku(self) -> dict[str, int]:
        """Available units per SKU, summed over locations."""
        result: dict[str, int] = {}
        for (item_id, _), level in self.levels.items():
            sku = self.inventory_items[item_id]["sku"]
            if sku:
                result[sku] = result.get(sku, 0) + int(level["available"])
        return result
