"""A store's SKUs and their stock: which product or variation a SKU is, and setting its count.

WooCommerce keeps stock on a simple product or on each variation of a variable product
(`manage_stock`, `stock_quantity`); `GET /products?sku=` finds products only, never
variations, so a SKU not found that way is looked for by walking the catalogue (each
variable product's `/variations`). What is found is cached per SKU; a cached id the store
no longer knows (404) is looked up again once. A SKU the store does not sell is refused
without walking the catalogue again for `rewalk_after` seconds, so one wrong listing does
not read a large store on every stock push.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..base import ChannelItem, Rejected
from .client import Listing, WooClient
from .consts import MAX_PER_PAGE, PLATFORM

__all__ = ["Catalog", "Listed"]

Json = dict[str, Any]


@dataclass(frozen=True)
class Listed:
    """Where one SKU's stock lives: a product, or a variation of one."""

    product_id: int
    variation_id: int | None = None

    @property
    def ref(self) -> str:
        """ "93" for a product, "22/23" for a variation."""
        if self.variation_id is None:
            return str(self.product_id)
        return f"{self.product_id}/{self.variation_id}"


def _variation_title(product: Json, variation: Json) -> str:
    options = [
        str(a.get("option"))
        for a in variation.get("attributes") or []
        if isinstance(a, dict) and a.get("option")
    ]
    name = str(product.get("name") or "")
    return f"{name} – {', '.join(options)}" if options else name


class Catalog:
    """The store's sellable SKUs, read through one client."""

    def __init__(
        self,
        api: WooClient,
        *,
        rewalk_after: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self._by_sku: dict[str, Listed] = {}
        self._rewalk_after = rewalk_after
        self._clock = clock
        self._walked_at: float | None = None

    def _pages(self, fetch: Callable[[Mapping[str, Any]], Listing]) -> Iterator[Json]:
        page = 1
        while True:
            listing = fetch({"per_page": MAX_PER_PAGE, "page": page})
            yield from listing.items
            if page >= listing.total_pages or not listing.items:
                return
            page += 1

    def items(self) -> list[ChannelItem]:
        """Every product and variation with a SKU; refreshes the SKU cache."""
        found: list[ChannelItem] = []
        by_sku: dict[str, Listed] = {}
        for product in self._pages(self.api.list_products):
            pid = int(product["id"])
            if product.get("sku"):
                listed = Listed(pid)
                by_sku.setdefault(str(product["sku"]), listed)
                found.append(ChannelItem(str(product["sku"]), str(product.get("name")), listed.ref))
            if product.get("type") != "variable":
                continue
            for variation in self._pages(partial(self.api.list_variations, pid)):
                if variation.get("sku"):
                    listed = Listed(pid, int(variation["id"]))
                    by_sku.setdefault(str(variation["sku"]), listed)
                    title = _variation_title(product, variation)
                    found.append(ChannelItem(str(variation["sku"]), title, listed.ref))
        self._by_sku = by_sku
        self._walked_at = self._clock()
        return found

    def where(self, sku: str) -> Listed:
        """The product or variation selling `sku`; Rejected when the store has none."""
        if sku in self._by_sku:
            return self._by_sku[sku]
        for product in self.api.list_products({"sku": sku, "per_page": MAX_PER_PAGE}).items:
            if str(product.get("sku")) == sku:
                self._by_sku[sku] = Listed(int(product["id"]))
                return self._by_sku[sku]
        walked = self._walked_at
        if walked is None or self._clock() - walked >= self._rewalk_after:
            self.items()
        if sku not in self._by_sku:
            raise Rejected(
                f"No {PLATFORM} product or variation has SKU {sku!r}.", code="unknown_sku"
            )
        return self._by_sku[sku]

    def set_stock(self, sku: str, available: int) -> None:
        """Show `available` units of `sku`, switching stock management on for it."""
        cached = sku in self._by_sku
        where = self.where(sku)
        try:
            self._put(where, available)
        except Rejected as exc:
            if not cached or exc.status_code != 404:
                raise
            self._by_sku.pop(sku, None)
            fresh = self.where(sku)
            if fresh == where:
                raise
            self._put(fresh, available)

    def _put(self, where: Listed, available: int) -> None:
        quantity = max(available, 0)
        if where.variation_id is None:
            self.api.set_product_stock(where.product_id, quantity)
        else:
            self.api.set_variation_stock(where.product_id, where.variation_id, quantity)
