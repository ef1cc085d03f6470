"""Applying a seller's configuration: shops, nodes, SKUs, listings and opening stock."""

from __future__ import annotations

from orderhub.config import HubConfig, NodeConfig, ShopConfig
from orderhub.services.hub import Hub
from orderhub.services.pipeline import schedule_stock_push
from orderhub.store.catalog import NodeRecord, ShopRecord, SkuRecord

__all__ = ["apply_config", "put_node", "put_shop", "shop_record"]


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
        },
    )


def put_shop(hub: Hub, shop: ShopConfig) -> None:
    """Add or change a shop; its connector is built once to prove the settings work."""
    record = shop_record(shop)
    hub.build_channel(record).close()
    hub.mapping(record)
    with hub.uow() as uow:
        uow.catalog.put_shop(record)
        # Safety stock, ratio or nodes may have changed what the shop may show.
        skus = {listing.sku for listing in uow.catalog.listings(shop=record.code)}
        schedule_stock_push(uow, skus, window=hub.settings.stock_push_window)
        uow.commit()
    hub.forget_connectors()


def put_node(hub: Hub, node: NodeConfig) -> None:
    record = node_record(node)
    hub.build_node(record).close()
    with hub.uow() as uow:
        uow.catalog.put_node(record)
        uow.commit()
    hub.forget_connectors()


def apply_config(hub: Hub, config: HubConfig) -> None:
    """Write the whole file in one transaction; opening stock only where none exists."""
    shops = [shop_record(s) for s in config.shops]
    nodes = [node_record(n) for n in config.nodes]
    for record in shops:
        hub.build_channel(record).close()
        hub.mapping(record)
    for node in nodes:
        hub.build_node(node).close()
    with hub.uow() as uow:
        for node in nodes:
            uow.catalog.put_node(node)
        for record in shops:
            uow.catalog.put_shop(record)
        for sku in config.skus:
            uow.catalog.put_sku(
                SkuRecord(
                    sku=sku.sku,
                    title=sku.title,
                    safety_stock=sku.safety_stock,
                    backorder_limit=sku.backorder_limit,
                    low_stock_threshold=sku.low_stock_threshold,
                    components=sku.components,
                )
            )
        for listing in config.listings:
            uow.catalog.put_listing(
                listing.shop,
                listing.channel_sku,
                listing.sku,
                multiplier=listing.multiplier,
                sync_ratio=listing.sync_ratio,
                safety_stock=listing.safety_stock,
                max_listed=listing.max_listed,
                end_below=listing.end_below,
            )
        for level in config.stock:
            if uow.stock.level(level.node, level.sku) is None:
                uow.stock.adjust(
                    level.node,
                    level.sku,
                    level.on_hand,
                    kind="stocktake",
                    reason="opening stock from configuration",
                )
        schedule_stock_push(
            uow, {x.sku for x in config.listings}, window=hub.settings.stock_push_window
        )
        uow.commit()
    hub.forget_connectors()
