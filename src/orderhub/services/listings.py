"""A shop's own catalogue matched to ours by merchant code, so listings need no typing.

Sellers give each platform SKU their own code (Taobao `outer_id`, JD `outerId`,
Pinduoduo `outer_id`, Douyin `code`, Shopify's variant SKU). A code that is one of our
SKUs becomes a listing of the shop, and its stock is pushed there; a code the hub does
not know is listed for a person to map or add.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orderhub.connectors.base import ChannelItem
from orderhub.services.hub import Hub
from orderhub.services.pipeline import schedule_stock_push

__all__ = ["ListingsPulled", "pull_listings"]


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
    items = hub.channel(shop).list_items()
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
        if result.created:
            schedule_stock_push(uow, set(result.created), window=hub.settings.stock_push_window)
        uow.commit()
    return result
