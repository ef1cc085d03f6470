"""Stock to the shops: each listing shows what its shop's nodes can really ship."""

from __future__ import annotations

from orderhub.domain.stock import available_to_sell
from orderhub.services.hub import Hub
from orderhub.services.pipeline import JOB_STOCK_PUSH
from orderhub.store.outbox import Job

__all__ = ["listing_ats", "push_listing_stock"]


def listing_ats(hub: Hub, listing_id: int) -> tuple[int, int]:
    """(available to sell, change version) of one listing, right now."""
    with hub.uow() as uow:
        listing = uow.catalog.listing(listing_id)
        shop = uow.catalog.shop(listing.shop)
        nodes = list(shop.nodes) or [n.code for n in uow.catalog.nodes()]
        levels = uow.stock.levels(skus=[listing.sku], nodes=nodes)
    quantity = available_to_sell(
        levels,
        safety_stock=shop.safety_stock,
        ratio=shop.sync_ratio,
        multiplier=listing.multiplier,
    )
    return quantity, listing.change_version


def push_listing_stock(hub: Hub, job: Job) -> None:
    """Push the current figure (the last value wins; a stale figure is never recorded)."""
    listing_id = int(job.payload["listing_id"])
    with hub.uow() as uow:
        listing = uow.catalog.listing(listing_id)
        shop = uow.catalog.shop(listing.shop)
    quantity, version = listing_ats(hub, listing_id)
    hub.channel(shop).set_stock(channel_sku=listing.channel_sku, available=quantity)
    with hub.uow() as uow:
        if not uow.catalog.mark_pushed(listing_id, version=version, quantity=quantity):
            # A newer figure was pushed while ours was in flight and ours may have landed
            # after it: push the current figure once more so the shop ends on it.
            uow.outbox.add(
                JOB_STOCK_PUSH,
                {"listing_id": listing_id},
                coalesce_key=f"stock:{uow.tenant}:{listing_id}",
            )
        uow.commit()
