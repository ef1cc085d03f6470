"""Listings' stock on a Shopify shop: which inventory item a SKU is, and many figures set
in calls of up to 250 through GraphQL's inventorySetQuantities.

Shopify refuses a whole inventorySetQuantities call when any one figure is wrong (an
unknown inventory item, an item not stocked at the location), naming each wrong figure
by its index. The refused figures are taken out and the rest sent again, so one bad
listing fails alone. REST's inventory_levels/set would stock an item at a new location;
inventorySetQuantities does not, so such a listing fails with Shopify's
ITEM_NOT_STOCKED_AT_LOCATION until the item is stocked there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from orderhub.connectors.base import ConnectorError, Rejected
from orderhub.connectors.shopify.client import QuantityRefusal, ShopifyClient
from orderhub.connectors.shopify.consts import INVALID_INVENTORY_ITEM

__all__ = ["InventoryItems", "set_stocks"]

Figure = tuple[str, int, int]  # channel SKU, inventory item id, available


def unknown_sku(sku: str) -> Rejected:
    """The shop has no variant with this SKU."""
    return Rejected(f"No Shopify variant has SKU {sku!r}.", code="unknown_sku")


class InventoryItems:
    """Each SKU's inventory item, read from the shop's products and kept until a miss."""

    def __init__(self, api: ShopifyClient) -> None:
        self.api = api
        self._by_sku: dict[str, int] = {}

    def cached(self, sku: str) -> bool:
        return sku in self._by_sku

    def known(self, skus: Iterable[str]) -> dict[str, int]:
        """The cached inventory item of each of these SKUs, without reading anything."""
        return {sku: self._by_sku[sku] for sku in skus if sku in self._by_sku}

    def forget(self, sku: str) -> None:
        self._by_sku.pop(sku, None)

    def get(self, sku: str) -> int:
        """The SKU's inventory item; the catalog is read again when the SKU is not known."""
        found, _ = self.find([sku])
        if sku not in found:
            raise unknown_sku(sku)
        return found[sku]

    def find(self, skus: Iterable[str], *, reread: bool = False) -> tuple[dict[str, int], bool]:
        """The inventory item of each SKU the shop has, and whether the catalog was read
        for it: once, when `reread` or when a SKU is not known yet."""
        wanted = list(skus)
        read = reread or any(sku not in self._by_sku for sku in wanted)
        if read:
            self._by_sku = self._read()
        return {sku: self._by_sku[sku] for sku in wanted if sku in self._by_sku}, read

    def _read(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for product in self.api.each_product("id,variants"):
            for variant in product.get("variants") or []:
                if variant.get("sku") and variant.get("inventory_item_id"):
                    found.setdefault(str(variant["sku"]), int(variant["inventory_item_id"]))
        return found


class _Push:
    """One `set_stocks`: the figures refused so far, and whether the catalog was read."""

    def __init__(self, items: InventoryItems, location_id: int, read: bool) -> None:
        self.items = items
        self.location_id = location_id
        self.read = read
        self.failed: dict[str, ConnectorError] = {}

    def send(self, figures: Sequence[tuple[str, int]]) -> None:
        """Set these (SKU, available) figures with the inventory items known now; send
        again without the refused ones until Shopify takes them all."""
        ids = self.items.known(sku for sku, _ in figures)
        self.failed.update({sku: unknown_sku(sku) for sku, _ in figures if sku not in ids})
        chunk = [(sku, ids[sku], quantity) for sku, quantity in figures if sku in ids]
        while chunk:
            refusals = self.items.api.set_inventory_quantities(
                location_id=self.location_id, levels=[(item, qty) for _, item, qty in chunk]
            )
            if not refusals:
                return
            chunk = self._without_refused(chunk, refusals)

    def _without_refused(
        self, chunk: list[Figure], refusals: list[QuantityRefusal]
    ) -> list[Figure]:
        about: dict[int, QuantityRefusal] = {}
        for refusal in refusals:
            if refusal.index is None or not 0 <= refusal.index < len(chunk):
                raise Rejected(
                    f"Shopify refused the stock update: {refusal.message}",
                    code=refusal.code,
                    status_code=200,
                )
            about.setdefault(refusal.index, refusal)
        stale = [chunk[i][0] for i, r in about.items() if r.code == INVALID_INVENTORY_ITEM]
        fresh: dict[str, int] = {}
        reread = bool(stale) and not self.read
        if reread:
            fresh, self.read = self.items.find(stale, reread=True)
        kept: list[Figure] = []
        for index, (sku, item, quantity) in enumerate(chunk):
            refused = about.get(index)
            if refused is None:
                kept.append((sku, item, quantity))
            elif reread and refused.code == INVALID_INVENTORY_ITEM and sku not in fresh:
                self.failed[sku] = unknown_sku(sku)
            elif reread and fresh.get(sku, item) != item:
                kept.append((sku, fresh[sku], quantity))
            else:
                message = f"Shopify refused the stock of {sku!r}: {refused.message}"
                self.failed[sku] = Rejected(message, code=refused.code, status_code=200)
        return kept


def set_stocks(
    items: InventoryItems,
    *,
    location_id: int,
    figures: Sequence[tuple[str, int]],
    batch: int,
) -> dict[str, ConnectorError]:
    """Show each (channel SKU, available) figure at the location, `batch` a call; the
    SKUs not shown, each with why. A SKU given twice shows its last figure.

    SKUs not known yet cost one read of the catalog between them; a SKU the shop does not
    have fails alone. A cached inventory item Shopify no longer knows is read again once
    per call (as `set_stock` does) and its figure sent with the fresh id. A call failing
    as a whole (RateLimited, Unavailable, a Rejected not about one figure) raises."""
    wanted = dict(figures)
    if not wanted:
        return {}
    _, read = items.find(wanted)
    push = _Push(items, location_id, read)
    ordered = list(wanted.items())
    size = max(1, batch)
    for start in range(0, len(ordered), size):
        push.send(ordered[start : start + size])
    return push.failed
