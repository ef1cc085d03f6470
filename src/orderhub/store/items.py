"""What each shop sells, as its last pull read it: the shop's own codes, titles and ids."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, delete, exists, insert, select, update

from orderhub.store import tables as t
from orderhub.store.text import storable

__all__ = ["ShopItem", "ShopItemRepository"]


@dataclass(frozen=True)
class ShopItem:
    """One SKU a shop sells, by its merchant code, and when pulls saw it."""

    shop: str
    channel_sku: str
    title: str
    platform_ref: str
    first_seen: datetime
    last_seen: datetime


class ShopItemRepository:
    """The shops' items of one seller; those no listing maps are the unmatched ones."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def replace(self, shop: str, items: Sequence[tuple[str, str, str]]) -> None:
        """Make `(channel_sku, title, platform_ref)` the shop's items: new ones are added,
        seen ones refreshed (keeping when first seen), the rest forgotten."""
        c = t.shop_items.c
        now = datetime.now(UTC)
        stored = set(
            self.conn.execute(
                select(c.channel_sku).where(c.tenant == self.tenant, c.shop == shop)
            ).scalars()
        )
        wanted = {storable(code): (title, ref) for code, title, ref in items}
        gone = sorted(stored - set(wanted))
        if gone:
            self.conn.execute(
                delete(t.shop_items).where(
                    c.tenant == self.tenant, c.shop == shop, c.channel_sku.in_(gone)
                )
            )
        for code, (title, ref) in sorted(wanted.items()):
            values = {
                "title": storable(title)[:300],
                "platform_ref": storable(ref)[:200],
                "last_seen": now,
            }
            if code in stored:
                self.conn.execute(
                    update(t.shop_items)
                    .where(c.tenant == self.tenant, c.shop == shop, c.channel_sku == code)
                    .values(**values)
                )
            else:
                self.conn.execute(
                    insert(t.shop_items).values(
                        tenant=self.tenant, shop=shop, channel_sku=code, first_seen=now, **values
                    )
                )

    def items(
        self, *, shops: Collection[str] | None = None, unmatched: bool = False
    ) -> list[ShopItem]:
        """The items of `shops` (every shop when None); `unmatched`: only those no listing
        maps, so an item leaves the list as soon as it is mapped, however that happens."""
        c, lc = t.shop_items.c, t.listings.c
        query = select(t.shop_items).where(c.tenant == self.tenant)
        if shops is not None:
            query = query.where(c.shop.in_(sorted(shops)))
        if unmatched:
            mapped = exists().where(
                and_(lc.tenant == c.tenant, lc.shop == c.shop, lc.channel_sku == c.channel_sku)
            )
            query = query.where(~mapped)
        rows = self.conn.execute(query.order_by(c.shop, c.channel_sku))
        return [
            ShopItem(r.shop, r.channel_sku, r.title, r.platform_ref, r.first_seen, r.last_seen)
            for r in rows
        ]
