"""Stock to the shops: each listing shows what its shop's nodes can really ship."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from orderhub.connectors.base import ChannelConnector, ConnectorError
from orderhub.connectors.capabilities import sets_stock_in_batches
from orderhub.domain.stock import Ats, Level, ListingRule, explain_ats
from orderhub.services.hub import Hub
from orderhub.services.pipeline import queue_stock_push
from orderhub.services.switches import enabled, syncs
from orderhub.store.catalog import Listing, NodeRecord, ShopRecord, SkuRecord
from orderhub.store.outbox import Job

__all__ = [
    "listing_ats",
    "listing_ats_view",
    "listing_rule",
    "push_sku_stock",
    "push_stock",
    "unlimited_offer",
]


SHOPS_AT_ONCE = 8  # shops told of a tick's stock side by side


def unlimited_offer(
    all_nodes: Sequence[NodeRecord], serving: Sequence[str], skus: Sequence[str]
) -> set[tuple[str, str]]:
    """(node, SKU) pairs served by a node marked `unlimited_stock` that carries the SKU
    (every SKU when it lists none): their stock is not counted but offered."""
    pairs = set()
    for node in all_nodes:
        if node.code in serving and node.location.get("unlimited_stock"):
            carries = set(node.location.get("skus") or skus)
            pairs |= {(node.code, sku) for sku in skus if sku in carries}
    return pairs


def listing_rule(
    hub: Hub, listing: Listing, shop: ShopRecord, sku: SkuRecord | None
) -> ListingRule:
    """The settings in force for a listing: the most specific one given wins.

    Safety stock: the listing's, else the SKU's, else the shop's (when above 0), else the
    hub's default. Sync ratio: the listing's, else the shop's. Presale allowance: the SKU's.
    """
    safety = next(
        (
            value
            for value in (
                listing.safety_stock,
                sku.safety_stock if sku else None,
                shop.safety_stock or None,
            )
            if value is not None
        ),
        hub.settings.default_safety_stock,
    )
    return ListingRule(
        safety_stock=safety,
        ratio=listing.sync_ratio if listing.sync_ratio is not None else shop.sync_ratio,
        multiplier=listing.multiplier,
        cap=listing.max_listed,
        floor=listing.end_below,
        backorder=sku.backorder_limit if sku and not sku.components else 0,
    )


def listing_ats(hub: Hub, listing: Listing) -> Ats:
    """Available to sell on one listing right now, with how it was computed."""
    return _figure(hub, listing)[0]


def _figure(hub: Hub, listing: Listing) -> tuple[Ats, int]:
    """The listing's figure and the ledger position it was computed from (read first,
    so a change that lands meanwhile carries a higher position and wins)."""
    with hub.reader() as uow:
        shop = uow.catalog.shop(listing.shop)
        sku = uow.catalog.skus([listing.sku]).get(listing.sku)
        recipe = dict(sku.components) if sku and sku.components else None
        switched_on = {n.code for n in uow.catalog.nodes() if enabled(n)}
        nodes = [code for code in (shop.nodes or sorted(switched_on)) if code in switched_on]
        wanted = sorted(recipe) if recipe else [listing.sku]
        version = uow.stock.version(wanted)
        rows = uow.stock.levels(skus=wanted, nodes=nodes)
        unlimited = unlimited_offer(uow.catalog.nodes(), nodes, wanted)
    levels: dict[str, list[Level]] = {s: [] for s in wanted}
    for level in rows:
        if (level.node, level.sku) not in unlimited:
            levels[level.sku].append(level)
    # A supplier with no stock feed offers a set figure of what it carries.
    figure = hub.settings.unlimited_stock_listed
    for node, offered in sorted(unlimited):
        levels[offered].append(Level(node, offered, figure, 0))
    ats = explain_ats(levels, listing_rule(hub, listing, shop, sku), components=recipe)
    return ats, version


def listing_ats_view(hub: Hub, listing_id: int) -> dict[str, object]:
    """A listing's figure and its explanation, for the API and the CLI."""
    with hub.reader() as uow:
        listing = uow.catalog.listing(listing_id)
    ats = listing_ats(hub, listing)
    return {
        "listing_id": listing.id,
        "shop": listing.shop,
        "channel_sku": listing.channel_sku,
        "sku": listing.sku,
        "available_to_sell": ats.quantity,
        "presale": ats.presale,
        "last_pushed": listing.pushed_quantity,
        "steps": [{"step": step.label, "value": step.value} for step in ats.steps],
    }


def push_stock(hub: Hub, jobs: Sequence[Job]) -> dict[int, ConnectorError]:
    """Push the current figure of every listing of these jobs' SKUs to its shop; the
    jobs whose SKU a shop was not told of, each with the first failure.

    The stock lane claims every push due at one tick together (`schedule_stock_push`), so
    a shop that takes many figures in one call (`SetsStockInBatches`) is called once per
    window whatever the number of SKUs that changed, and the others once per listing.
    Shops are told side by side: a slow one holds up none of the others.
    The last value wins: a figure is read when the push runs, and a push that finishes
    after a newer one was recorded is followed by one more with the current figure.
    Every listing is tried; a failed one fails only the jobs of its SKU.
    """
    skus = sorted({str(job.payload["sku"]) for job in jobs})
    with hub.reader() as uow:
        listings = uow.catalog.listings(skus=skus)
        shops = {shop.code: shop for shop in uow.catalog.shops()}
    by_shop: dict[str, list[tuple[Listing, int, int]]] = {}
    for listing in listings:
        if listing.shop in shops and syncs(shops[listing.shop], "stock"):
            ats, version = _figure(hub, listing)
            by_shop.setdefault(listing.shop, []).append((listing, ats.quantity, version))
    failed: dict[str, ConnectorError] = {}
    shown: list[tuple[Listing, int, int]] = []

    def tell(code: str) -> dict[str, ConnectorError]:
        figures = [(listing.channel_sku, quantity) for listing, quantity, _ in by_shop[code]]
        return _tell_shop(hub.channel(shops[code]), figures)

    codes = sorted(by_shop)
    if len(codes) > 1:
        with ThreadPoolExecutor(min(SHOPS_AT_ONCE, len(codes)), "stock-shop") as pool:
            answers = dict(zip(codes, pool.map(tell, codes), strict=True))
    else:
        answers = {code: tell(code) for code in codes}
    for code in codes:
        refused = answers[code]
        for figure in by_shop[code]:
            error = refused.get(figure[0].channel_sku)
            if error is None:
                shown.append(figure)
            else:
                failed.setdefault(figure[0].sku, error)
    if shown:
        with hub.uow() as uow:
            stale = {
                listing.sku
                for listing, quantity, version in shown
                if not uow.catalog.mark_pushed(listing.id, version=version, quantity=quantity)
            }
            for sku in sorted(stale):
                queue_stock_push(uow, sku, window=hub.settings.stock_push_window)
            uow.commit()
    return {
        job.id: failed[str(job.payload["sku"])] for job in jobs if str(job.payload["sku"]) in failed
    }


def _tell_shop(
    channel: ChannelConnector, figures: Sequence[tuple[str, int]]
) -> dict[str, ConnectorError]:
    """Show these (channel SKU, available) figures on one shop: in calls of the shop's
    batch size where it takes many at once, else one call each. The figures not shown,
    each with why."""
    refused: dict[str, ConnectorError] = {}
    if sets_stock_in_batches(channel):
        size = max(1, channel.stock_batch)
        for start in range(0, len(figures), size):
            chunk = figures[start : start + size]
            try:
                refused.update(channel.set_stocks(chunk))
            except ConnectorError as exc:
                refused.update({channel_sku: exc for channel_sku, _ in chunk})
        return refused
    for channel_sku, available in figures:
        try:
            channel.set_stock(channel_sku=channel_sku, available=available)
        except ConnectorError as exc:
            refused[channel_sku] = exc
    return refused


def push_sku_stock(hub: Hub, job: Job) -> None:
    """One SKU's push run on its own (a retry, a command): as `push_stock`, raising the
    failure so that the job is tried again."""
    failure = push_stock(hub, [job]).get(job.id)
    if failure is not None:
        raise failure
