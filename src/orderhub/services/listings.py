"""A shop's own catalogue matched to ours by merchant code, so listings need no typing.

Sellers give each platform SKU their own code (Taobao `outer_id`, JD `outerId`,
Pinduoduo `outer_id`, Douyin `code`, Shopify's variant SKU). A code that is one of our
SKUs becomes a listing of the shop, and its stock is pushed there; a code the hub does
not know is kept, with the item's title and platform ids, for a person to map or add:
each pull refreshes what the shop sells, and a mapped item leaves the unmatched list.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from orderhub.connectors.base import ChannelItem
from orderhub.services.hub import Hub
from orderhub.services.pipeline import schedule_stock_push
from orderhub.store.items import ShopItem

__all__ = ["MAX_CODE", "ListingsPulled", "pull_listings", "unmatched_items"]

MAX_CODE = 100
"""The longest merchant code a listing can hold."""


@dataclass(frozen=True)
class ListingsPulled:
    """What the shop sells: already listed, listed now, and not ours."""

    shop: str
    listed: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    unmatched: list[ChannelItem] = field(default_factory=list)


def pull_listings(hub: Hub, shop_code: str) -> ListingsPulled:
    """Read the shop's SKUs from the platform and list every one whose code is ours."""
    with hub.reader() as uow:
        shop = uow.catalog.shop(shop_code)
    items = [i for i in hub.channel(shop).list_items() if 0 < len(i.channel_sku) <= MAX_CODE]
    codes = sorted({item.channel_sku for item in items})
    result = ListingsPulled(shop_code)
    with hub.uow() as uow:
        existing = uow.catalog.listing_map(shop_code, codes)
        ours = uow.catalog.known_skus(codes)
        seen: set[str] = set()
        for item in items:
            code = item.channel_sku
            if code in seen:
                continue
            seen.add(code)
            if code in existing:
                result.listed.append(code)
            elif code in ours:
                uow.catalog.put_listing(shop_code, code, code)
                result.created.append(code)
            else:
                result.unmatched.append(item)
        uow.items.replace(
            shop_code, [(i.channel_sku, i.title, i.platform_ref) for i in _unique(items)]
        )
        if result.created:
            schedule_stock_push(uow, set(result.created), window=hub.settings.stock_push_window)
        uow.commit()
    return result


def _unique(items: list[ChannelItem]) -> list[ChannelItem]:
    """The first item of each merchant code."""
    first: dict[str, ChannelItem] = {}
    for item in items:
        first.setdefault(item.channel_sku, item)
    return list(first.values())


def unmatched_items(hub: Hub, shops: Collection[str] | None = None) -> list[ShopItem]:
    """Items the last pull of each shop (of `shops`, or all) found that no listing maps."""
    with hub.reader() as uow:
        return uow.items.items(shops=shops, unmatched=True)
