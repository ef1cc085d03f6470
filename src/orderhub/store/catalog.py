"""Shops, nodes, SKUs and listings: what the seller has configured."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from orderhub.crypto import Cipher
from orderhub.domain.errors import NotFound
from orderhub.store import tables as t
from orderhub.store.config_version import ConfigView
from orderhub.store.setups import ConnectionSetUp, open_secrets, read_at

__all__ = ["CatalogRepository", "Listing", "NodeRecord", "ShopRecord", "SkuRecord"]


@dataclass(frozen=True)
class ShopRecord(ConnectionSetUp):
    """A shop on a sales channel; `secrets` are clear text only in memory."""

    code: str
    platform: str
    name: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    nodes: Sequence[str] = ()
    safety_stock: int = 0
    sync_ratio: Decimal = Decimal("1")
    routing: Mapping[str, Any] = field(default_factory=dict)
    customs: Mapping[str, Any] = field(default_factory=dict)  # the seller's tax numbers


@dataclass(frozen=True)
class NodeRecord(ConnectionSetUp):
    """A place that ships: a warehouse or a supplier."""

    code: str
    platform: str
    kind: str = "warehouse"
    name: str = ""
    priority: int = 0
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    location: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SkuRecord:
    """One of our SKUs with its stock settings; a bundle has components."""

    sku: str
    title: str = ""
    safety_stock: int | None = None
    backorder_limit: int = 0
    low_stock_threshold: int | None = None
    components: Mapping[str, int] = field(default_factory=dict)
    cost: Decimal | None = None  # what a unit cost the seller, for the stock's value
    # What a parcel across a border declares for it.
    hs_code: str = ""
    customs_description: str = ""
    origin_country: str = ""


@dataclass(frozen=True)
class Listing:
    """A product as a shop sells it, tied to one of our SKUs, with its own overrides."""

    id: int
    shop: str
    channel_sku: str
    sku: str
    multiplier: int
    pushed_version: int
    pushed_quantity: int | None
    sync_ratio: Decimal | None = None
    safety_stock: int | None = None
    max_listed: int | None = None
    end_below: int = 0


class CatalogRepository:
    """Configuration rows of one seller; secrets encrypted at rest."""

    def __init__(
        self, conn: Connection, cipher: Cipher, tenant: str, *, config: ConfigView
    ) -> None:
        self.conn = conn
        self.cipher = cipher
        self.tenant = tenant
        self.cache = config

    def _seal(self, secrets: Mapping[str, str], context: str) -> str:
        return self.cipher.encrypt(json.dumps(dict(secrets)), context=context.encode())

    def _upsert(self, table: Any, code: str, values: dict[str, Any]) -> None:
        key = [table.c.tenant == self.tenant, table.c.code == code]
        if self.conn.execute(update(table).where(*key).values(**values)).rowcount == 0:
            self.conn.execute(
                insert(table).values(
                    tenant=self.tenant, code=code, created_at=datetime.now(UTC), **values
                )
            )

    def put_shop(self, shop: ShopRecord) -> None:
        self.cache.changed()
        self._upsert(
            t.shops,
            shop.code,
            {
                "platform": shop.platform,
                "name": shop.name,
                "settings": json.dumps(dict(shop.settings)),
                "secrets": self._seal(shop.secrets, f"shop:{shop.code}"),
                "nodes": json.dumps(list(shop.nodes)),
                "routing": json.dumps(dict(shop.routing), ensure_ascii=False),
                "customs": json.dumps(dict(shop.customs), ensure_ascii=False),
                "safety_stock": shop.safety_stock,
                "sync_ratio": shop.sync_ratio,
            },
        )

    def put_node(self, node: NodeRecord) -> None:
        self.cache.changed()
        self._upsert(
            t.nodes,
            node.code,
            {
                "platform": node.platform,
                "kind": node.kind,
                "name": node.name,
                "priority": node.priority,
                "settings": json.dumps(dict(node.settings)),
                "secrets": self._seal(node.secrets, f"node:{node.code}"),
                "location": json.dumps(dict(node.location), ensure_ascii=False),
            },
        )

    def shop(self, code: str) -> ShopRecord:
        return self.cache.get(("shop", self.tenant, code), lambda: self._load_shop(code))

    def _load_shop(self, code: str) -> ShopRecord:
        at = self.cache.read_at()
        row = self.conn.execute(
            select(t.shops).where(t.shops.c.tenant == self.tenant, t.shops.c.code == code)
        ).first()
        if row is None:
            raise NotFound("shop", code)
        return self._shop(row, at)

    def _shop(self, row: Any, at: int) -> ShopRecord:
        """The record, marked with the configuration version `at` read before its row
        (`read_at`: on PostgreSQL a version read after it may be newer than the row, and
        `Hub.channel` would build a connector back from a set-up already replaced)."""
        shop = ShopRecord(
            code=row.code,
            platform=row.platform,
            name=row.name,
            settings=json.loads(row.settings),
            secrets=open_secrets(self.cipher, row.secrets, f"shop:{row.code}"),
            nodes=tuple(json.loads(row.nodes)),
            safety_stock=row.safety_stock,
            sync_ratio=Decimal(row.sync_ratio),
            routing=json.loads(row.routing),
            customs=json.loads(row.customs),
        )
        return read_at(shop, at)

    def shops(self) -> list[ShopRecord]:
        at = self.cache.read_at()
        rows = self.conn.execute(
            select(t.shops).where(t.shops.c.tenant == self.tenant).order_by(t.shops.c.code)
        )
        return [self._shop(r, at) for r in rows]

    def node(self, code: str) -> NodeRecord:
        return self.cache.get(("node", self.tenant, code), lambda: self._load_node(code))

    def _load_node(self, code: str) -> NodeRecord:
        at = self.cache.read_at()
        row = self.conn.execute(
            select(t.nodes).where(t.nodes.c.tenant == self.tenant, t.nodes.c.code == code)
        ).first()
        if row is None:
            raise NotFound("node", code)
        return self._node(row, at)

    def _node(self, row: Any, at: int) -> NodeRecord:
        """The record, marked with the version `at` read before its row (`read_at`)."""
        node = NodeRecord(
            code=row.code,
            platform=row.platform,
            kind=row.kind,
            name=row.name,
            priority=row.priority,
            settings=json.loads(row.settings),
            secrets=open_secrets(self.cipher, row.secrets, f"node:{row.code}"),
            location=json.loads(row.location),
        )
        return read_at(node, at)

    def nodes(self) -> list[NodeRecord]:
        return self.cache.get(("nodes", self.tenant), self._load_nodes)

    def _load_nodes(self) -> list[NodeRecord]:
        at = self.cache.read_at()
        rows = self.conn.execute(
            select(t.nodes).where(t.nodes.c.tenant == self.tenant).order_by(t.nodes.c.code)
        )
        return [self._node(r, at) for r in rows]

    def put_sku(self, record: SkuRecord) -> None:
        """Add or change a SKU (and, for a bundle, replace its components)."""
        c = t.skus.c
        values = {
            "title": record.title,
            "safety_stock": record.safety_stock,
            "backorder_limit": record.backorder_limit,
            "low_stock_threshold": record.low_stock_threshold,
            "cost": record.cost,
            "hs_code": record.hs_code,
            "customs_description": record.customs_description,
            "origin_country": record.origin_country,
        }
        key = [c.tenant == self.tenant, c.sku == record.sku]
        if self.conn.execute(update(t.skus).where(*key).values(**values)).rowcount == 0:
            self.conn.execute(insert(t.skus).values(tenant=self.tenant, sku=record.sku, **values))
        b = t.bundle_components.c
        self.conn.execute(
            delete(t.bundle_components).where(b.tenant == self.tenant, b.bundle_sku == record.sku)
        )
        if record.components:
            self.conn.execute(
                insert(t.bundle_components),
                [
                    {
                        "tenant": self.tenant,
                        "bundle_sku": record.sku,
                        "component_sku": part,
                        "quantity": quantity,
                    }
                    for part, quantity in sorted(record.components.items())
                ],
            )
        self.cache.changed()

    def skus(self, among: Sequence[str] | None = None) -> dict[str, SkuRecord]:
        """SKU records by code (only those `among`, when given), with bundle recipes.

        Asked for by code, as for every order, records come from the short cache.
        """
        if among is not None:
            cached = self.cache.get_many(f"sku:{self.tenant}", sorted(set(among)), self._load_skus)
            return {sku: record for sku, record in cached.items() if record is not None}
        return self._load_skus(None)

    def _load_skus(self, among: Sequence[str] | None) -> dict[str, SkuRecord]:
        c = t.skus.c
        query = select(t.skus).where(c.tenant == self.tenant)
        if among is not None:
            query = query.where(c.sku.in_(list(among)))
        rows = list(self.conn.execute(query))
        recipes = self._load_bundles([r.sku for r in rows])
        return {
            r.sku: SkuRecord(
                sku=r.sku,
                title=r.title,
                safety_stock=r.safety_stock,
                backorder_limit=r.backorder_limit,
                low_stock_threshold=r.low_stock_threshold,
                components=recipes.get(r.sku, {}),
                cost=None if r.cost is None else Decimal(r.cost),
                hs_code=r.hs_code,
                customs_description=r.customs_description,
                origin_country=r.origin_country,
            )
            for r in rows
        }

    def bundles(self, skus: Sequence[str]) -> dict[str, dict[str, int]]:
        """Recipes (component → units) of those of `skus` that are bundles."""
        if not skus:
            return {}
        cached = self.cache.get_many(f"recipe:{self.tenant}", sorted(set(skus)), self._load_bundles)
        return {sku: recipe for sku, recipe in cached.items() if recipe}

    def _load_bundles(self, skus: Sequence[str]) -> dict[str, dict[str, int]]:
        if not skus:
            return {}
        b = t.bundle_components.c
        rows = self.conn.execute(
            select(b.bundle_sku, b.component_sku, b.quantity).where(
                b.tenant == self.tenant, b.bundle_sku.in_(list(skus))
            )
        )
        recipes: dict[str, dict[str, int]] = {}
        for r in rows:
            recipes.setdefault(r.bundle_sku, {})[r.component_sku] = r.quantity
        return recipes

    def bundles_containing(self, skus: Sequence[str]) -> set[str]:
        """Bundles whose stock depends on any of `skus`."""
        if not skus:
            return set()
        cached = self.cache.get_many(
            f"in_bundles:{self.tenant}", sorted(set(skus)), self._load_containing
        )
        return {bundle for bundles in cached.values() if bundles for bundle in bundles}

    def _load_containing(self, skus: Sequence[str]) -> dict[str, frozenset[str]]:
        b = t.bundle_components.c
        rows = self.conn.execute(
            select(b.component_sku, b.bundle_sku).where(
                b.tenant == self.tenant, b.component_sku.in_(list(skus))
            )
        )
        found: dict[str, set[str]] = {}
        for r in rows:
            found.setdefault(r.component_sku, set()).add(r.bundle_sku)
        return {sku: frozenset(bundles) for sku, bundles in found.items()}

    def known_skus(self, among: Sequence[str] | None = None) -> set[str]:
        """Our SKUs (only those `among` the given codes, when given)."""
        c = t.skus.c
        query = select(c.sku).where(c.tenant == self.tenant)
        if among is not None:
            query = query.where(c.sku.in_(list(among)))
        return {r.sku for r in self.conn.execute(query)}

    def put_listing(
        self,
        shop: str,
        channel_sku: str,
        sku: str,
        *,
        multiplier: int = 1,
        sync_ratio: Decimal | None = None,
        safety_stock: int | None = None,
        max_listed: int | None = None,
        end_below: int = 0,
    ) -> None:
        c = t.listings.c
        key = [c.tenant == self.tenant, c.shop == shop, c.channel_sku == channel_sku]
        values = {
            "sku": sku,
            "multiplier": multiplier,
            "sync_ratio": sync_ratio,
            "safety_stock": safety_stock,
            "max_listed": max_listed,
            "end_below": end_below,
        }
        if self.conn.execute(update(t.listings).where(*key).values(**values)).rowcount == 0:
            self.conn.execute(
                insert(t.listings).values(
                    tenant=self.tenant, shop=shop, channel_sku=channel_sku, **values
                )
            )
        self.cache.changed()

    def listing_map(self, shop: str, among: Sequence[str] | None = None) -> dict[str, str]:
        """channel SKU → our SKU for one shop (only the channel SKUs `among`, when given)."""
        if among is not None:
            cached = self.cache.get_many(
                f"listing:{self.tenant}:{shop}",
                sorted(set(among)),
                lambda keys: self._load_listing_map(shop, keys),
            )
            return {channel_sku: sku for channel_sku, sku in cached.items() if sku is not None}
        return self._load_listing_map(shop, None)

    def listing_packs(self, shop: str, among: Sequence[str]) -> dict[str, int]:
        """channel SKU → units of ours in one unit sold, for listings sold in packs."""
        if not among:
            return {}
        cached = self.cache.get_many(
            f"packs:{self.tenant}:{shop}",
            sorted(set(among)),
            lambda keys: self._load_listing_packs(shop, keys),
        )
        return {channel_sku: units for channel_sku, units in cached.items() if units is not None}

    def _load_listing_packs(self, shop: str, among: Sequence[str]) -> dict[str, int]:
        c = t.listings.c
        rows = self.conn.execute(
            select(c.channel_sku, c.multiplier).where(
                c.tenant == self.tenant,
                c.shop == shop,
                c.channel_sku.in_(list(among)),
                c.multiplier > 1,
            )
        )
        return {r.channel_sku: int(r.multiplier) for r in rows}

    def _load_listing_map(self, shop: str, among: Sequence[str] | None) -> dict[str, str]:
        c = t.listings.c
        query = select(c.channel_sku, c.sku).where(c.tenant == self.tenant, c.shop == shop)
        if among is not None:
            query = query.where(c.channel_sku.in_(list(among)))
        rows = self.conn.execute(query)
        return {r.channel_sku: r.sku for r in rows}

    def listings(
        self,
        *,
        skus: Sequence[str] | None = None,
        shop: str | None = None,
        listing_id: int | None = None,
    ) -> list[Listing]:
        c = t.listings.c
        query = select(t.listings).where(c.tenant == self.tenant)
        if listing_id is not None:
            query = query.where(c.id == listing_id)
        if skus is not None:
            query = query.where(c.sku.in_(list(skus)))
        if shop is not None:
            query = query.where(c.shop == shop)
        return [
            Listing(
                id=r.id,
                shop=r.shop,
                channel_sku=r.channel_sku,
                sku=r.sku,
                multiplier=r.multiplier,
                pushed_version=r.pushed_version,
                pushed_quantity=r.pushed_quantity,
                sync_ratio=None if r.sync_ratio is None else Decimal(r.sync_ratio),
                safety_stock=r.safety_stock,
                max_listed=r.max_listed,
                end_below=r.end_below,
            )
            for r in self.conn.execute(query.order_by(c.id))
        ]

    def listing(self, listing_id: int) -> Listing:
        rows = self.listings(listing_id=listing_id)
        if not rows:
            raise NotFound("listing", str(listing_id))
        return rows[0]

    def mark_pushed(self, listing_id: int, *, version: int, quantity: int) -> bool:
        """Record a push unless one from newer stock was recorded already: `version` is
        the stock ledger's position the pushed figure was computed from."""
        c = t.listings.c
        result = self.conn.execute(
            update(t.listings)
            .where(c.id == listing_id, c.pushed_version <= version)
            .values(pushed_version=version, pushed_quantity=quantity, pushed_at=datetime.now(UTC))
        )
        return result.rowcount == 1
