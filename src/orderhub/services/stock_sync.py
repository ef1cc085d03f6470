"""Stock to the shops: each listing shows what its shop's nodes can really ship."""

from __future__ import annotations

from orderhub.connectors.base import ConnectorError
from orderhub.domain.stock import available_to_sell
from orderhub.services.hub import Hub
from orderhub.services.pipeline import JOB_STOCK_PUSH
from orderhub.store.catalog import Listing
from orderhub.store.outbox import Job

__all__ = ["listing_ats", "push_sku_stock"]


def listing_ats(hub: Hub, listing: Listing) -> int:
    """Available to sell on one listing, right now."""
    with hub.uow() as uow:
        shop = uow.catalog.shop(listing.shop)
        nodes = list(shop.nodes) or [n.code for n in uow.catalog.nodes()]
        levels = uow.stock.levels(skus=[listing.sku], nodes=nodes)
    return available_to_sell(
        levels, safety_stock=shop.safety_stock, ratio=shop.sync_ratio,
        multiplier=listing.multiplier,
    )  # fmt: skip


def push_sku_stock(hub: Hub, job: Job) -> None:
    """Push the current figure of every listing of a SKU to its shop.

    The last value wins: a figure is read when the push runs, and a push that finishes
    after a newer one was recorded is followed by one more with the current figure.
    Every listing is tried; the first failure is raised afterwards so the job retries.
    """
    sku = str(job.payload["sku"])
    with hub.uow() as uow:
        listings = uow.catalog.listings(skus=[sku])
    failure: ConnectorError | None = None
    stale = False
    for listing in listings:
        quantity = listing_ats(hub, listing)
        with hub.uow() as uow:
            shop = uow.catalog.shop(listing.shop)
        try:
            hub.channel(shop).set_stock(channel_sku=listing.channel_sku, available=quantity)
        except ConnectorError as exc:
            failure = failure or exc
            continue
        with hub.uow() as uow:
            stale |= not uow.catalog.mark_pushed(
                listing.id, version=listing.change_version, quantity=quantity
            )
            uow.commit()
    if stale:
        with hub.uow() as uow:
            uow.outbox.add(JOB_STOCK_PUSH, {"sku": sku}, coalesce_key=f"stock:{uow.tenant}:{sku}")
            uow.commit()
    if failure is not None:
        raise failure
