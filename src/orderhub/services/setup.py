"""Applying a seller's configuration: shops, nodes, SKUs, listings and opening stock."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal

from orderhub.config import ErpConfig, HubConfig, NodeConfig, ShopConfig, TrackerConfig
from orderhub.services.config_file import open_file_secrets, write_node, write_shop
from orderhub.services.hub import Hub
from orderhub.services.pipeline import schedule_stock_push
from orderhub.store.books import ErpRecord
from orderhub.store.catalog import Listing, NodeRecord, ShopRecord, SkuRecord
from orderhub.store.parcels import TrackerRecord

__all__ = ["Applied", "apply_config", "erp_record", "put_node", "put_shop", "shop_record"]


def shop_record(shop: ShopConfig) -> ShopRecord:
    settings = dict(shop.settings)
    if shop.mapping:
        settings["mapping"] = shop.mapping
    return ShopRecord(
        code=shop.code,
        platform=shop.platform,
        name=shop.name,
        settings=settings,
        secrets=shop.secrets,
        nodes=tuple(shop.nodes),
        safety_stock=shop.safety_stock,
        sync_ratio=shop.sync_ratio,
        routing=shop.routing.model_dump(mode="json", exclude_defaults=True),
        customs=shop.customs.model_dump(mode="json", exclude_defaults=True),
    )


def node_record(node: NodeConfig) -> NodeRecord:
    return NodeRecord(
        code=node.code,
        platform=node.platform,
        kind=node.kind,
        name=node.name,
        priority=node.priority,
        settings=node.settings,
        secrets=node.secrets,
        location={
            "country": node.country,
            "province": node.province,
            "costs": {region: str(cost) for region, cost in node.costs.items()},
            "unlimited_stock": node.unlimited_stock,
            "skus": list(node.skus),
            "customs": node.customs.model_dump(mode="json", exclude_defaults=True),
            **({"pushes_in_flight": node.pushes_in_flight} if node.pushes_in_flight else {}),
        },
    )


def put_shop(hub: Hub, shop: ShopConfig, *, write_back: bool = False) -> None:
    """Add or change a shop; its connector is built once to prove the settings work.
    With `write_back`, the configuration file is changed too, before the database is."""
    record = shop_record(shop)
    hub.build_channel(record).close()
    hub.mapping(record)
    with hub.uow() as uow:
        uow.catalog.put_shop(record)
        if write_back:
            write_shop(hub, record)
        # Safety stock, ratio or nodes may have changed what the shop may show.
        skus = {listing.sku for listing in uow.catalog.listings(shop=record.code)}
        schedule_stock_push(uow, skus, window=hub.settings.stock_push_window)
        uow.commit()
    hub.forget_connectors()


def put_node(hub: Hub, node: NodeConfig, *, write_back: bool = False) -> None:
    """Add or change a node, as `put_shop` does a shop."""
    record = node_record(node)
    hub.build_node(record).close()
    with hub.uow() as uow:
        uow.catalog.put_node(record)
        if write_back:
            write_node(hub, record)
        uow.commit()
    hub.forget_connectors()


@dataclass(frozen=True)
class Applied:
    """What applying a configuration changed; all zero when it was already in force."""

    shops: int = 0
    nodes: int = 0
    skus: int = 0
    listings: int = 0
    opening_stock: int = 0
    erps: int = 0
    trackers: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.shops,
                self.nodes,
                self.skus,
                self.listings,
                self.opening_stock,
                self.erps,
                self.trackers,
            )
        )


def _same(a: object, b: object | None) -> bool:
    """Equal as stored: sequences and numbers compared by value, not by their type."""
    if b is None:
        return False

    def plain(value: object) -> str:
        def default(x: object) -> object:
            if isinstance(x, Decimal):
                return format(x.normalize(), "f")
            if isinstance(x, tuple | set | frozenset):
                return list(x)
            return str(x)

        return json.dumps(asdict(value), sort_keys=True, default=default)  # type: ignore[call-overload]

    return plain(a) == plain(b)


def erp_record(erp: ErpConfig) -> ErpRecord:
    return ErpRecord(
        code=erp.code,
        platform=erp.platform,
        name=erp.name,
        settings=erp.settings,
        secrets=erp.secrets,
        mapping=erp.mapping,
    )


def tracker_record(tracker: TrackerConfig) -> TrackerRecord:
    return TrackerRecord(
        code=tracker.code,
        platform=tracker.platform,
        name=tracker.name,
        settings=tracker.settings,
        secrets=tracker.secrets,
    )


def apply_config(hub: Hub, config: HubConfig) -> Applied:
    """Write what differs from the database in one transaction, and push stock only for
    what that changes; an unchanged file changes nothing. Opening stock only where none
    exists."""
    config = open_file_secrets(hub, config)
    shops = [shop_record(s) for s in config.shops]
    nodes = [node_record(n) for n in config.nodes]
    for shop in shops:
        hub.build_channel(shop).close()
        hub.mapping(shop)
    for node in nodes:
        hub.build_node(node).close()
    erp = erp_record(config.erp) if config.erp is not None else None
    if erp is not None:
        hub.build_erp(erp).close()
    trackers = [tracker_record(x) for x in config.trackers]
    for tracker in trackers:
        hub.build_tracker(tracker).close()
    with hub.uow() as uow:
        catalog = uow.catalog
        stored_nodes = {n.code: n for n in catalog.nodes()}
        stored_shops = {s.code: s for s in catalog.shops()}
        stored_skus = catalog.skus()
        stored_listings = {(x.shop, x.channel_sku): x for x in catalog.listings()}
        changed_nodes = [
            n for n in nodes if n.code not in stored_nodes or not _same(n, stored_nodes[n.code])
        ]
        changed_shops = [
            s for s in shops if s.code not in stored_shops or not _same(s, stored_shops[s.code])
        ]
        for node in changed_nodes:
            catalog.put_node(node)
        for shop in changed_shops:
            catalog.put_shop(shop)
        stored_trackers = {x.code: x for x in uow.parcels.trackers()}
        changed_trackers = [x for x in trackers if not _same(x, stored_trackers.get(x.code))]
        for tracker in changed_trackers:
            uow.parcels.put_tracker(tracker)
        erps = 0
        if erp is not None:
            stored_erp = {e.code: e for e in uow.books.erps()}.get(erp.code)
            if stored_erp is None or not _same(erp, stored_erp):
                uow.books.put_erp(erp)
                erps = 1
        push: set[str] = set()
        skus = 0
        for sku in config.skus:
            record = SkuRecord(
                sku=sku.sku,
                title=sku.title,
                safety_stock=sku.safety_stock,
                backorder_limit=sku.backorder_limit,
                low_stock_threshold=sku.low_stock_threshold,
                components=sku.components,
                cost=sku.cost,
                hs_code=sku.hs_code,
                customs_description=sku.customs_description,
                origin_country=sku.origin_country,
            )
            if sku.sku not in stored_skus or not _same(record, stored_skus[sku.sku]):
                catalog.put_sku(record)
                push.add(sku.sku)
                skus += 1
        listings = 0
        for listing in config.listings:
            stored = stored_listings.get((listing.shop, listing.channel_sku))
            wanted = (
                listing.sku,
                listing.multiplier,
                listing.sync_ratio,
                listing.safety_stock,
                listing.max_listed,
                listing.end_below,
            )
            if stored is not None and _same_listing(stored, wanted):
                continue
            catalog.put_listing(
                listing.shop,
                listing.channel_sku,
                listing.sku,
                multiplier=listing.multiplier,
                sync_ratio=listing.sync_ratio,
                safety_stock=listing.safety_stock,
                max_listed=listing.max_listed,
                end_below=listing.end_below,
            )
            push.add(listing.sku)
            if stored is not None:
                push.add(stored.sku)
            listings += 1
        opening = 0
        for level in config.stock:
            if uow.stock.level(level.node, level.sku) is None:
                uow.stock.adjust(
                    level.node,
                    level.sku,
                    level.on_hand,
                    kind="stocktake",
                    reason="opening stock from configuration",
                )
                push.add(level.sku)
                opening += 1
        if changed_shops or changed_nodes:
            # Safety stock, ratios or nodes serving a shop change what its listings show.
            push |= {x.sku for x in catalog.listings()}
        applied = Applied(
            len(changed_shops),
            len(changed_nodes),
            skus,
            listings,
            opening,
            erps,
            len(changed_trackers),
        )
        if not applied.changed:
            return applied
        listed = {x.sku for x in config.listings} | {x.sku for x in stored_listings.values()}
        schedule_stock_push(uow, push & listed, window=hub.settings.stock_push_window)
        uow.commit()
    hub.forget_connectors()
    return applied


def _same_listing(stored: Listing, wanted: tuple[object, ...]) -> bool:
    sku, multiplier, sync_ratio, safety_stock, max_listed, end_below = wanted
    ratio = None if sync_ratio is None else Decimal(str(sync_ratio)).normalize()
    stored_ratio = None if stored.sync_ratio is None else stored.sync_ratio.normalize()
    return (stored.sku, stored.multiplier, stored_ratio, stored.safety_stock) == (
        sku,
        multiplier,
        ratio,
        safety_stock,
    ) and (stored.max_listed, stored.end_below) == (max_listed, end_below)
