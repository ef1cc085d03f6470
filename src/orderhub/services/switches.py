"""What a shop's connection syncs, as the seller ticked it: orders in, stock out,
tracking back, returns in. Each is on unless the shop's `sync` setting turns it off
(`settings: {sync: {stock: false}}`), so a new connection can be tried one part at a time.

A whole connection can be switched off (`settings: {enabled: false}`) without losing it:
a shop switched off syncs nothing, and a warehouse or supplier switched off is given no
new orders and its stock is not offered to the shops.
"""

from __future__ import annotations

from typing import Any, Literal

from orderhub.store.catalog import NodeRecord, ShopRecord

__all__ = ["SYNC_PARTS", "enabled", "syncs"]

SyncPart = Literal["orders", "stock", "tracking", "returns"]
SYNC_PARTS: tuple[SyncPart, ...] = ("orders", "stock", "tracking", "returns")


def _on(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in {"0", "false", "no", "off"}


def enabled(connection: ShopRecord | NodeRecord) -> bool:
    """Whether the shop or node is switched on (it is unless switched off)."""
    return _on(connection.settings.get("enabled", True))


def syncs(shop: ShopRecord, part: SyncPart) -> bool:
    """Whether the shop's connection does `part` now."""
    if not enabled(shop):
        return False
    switches = shop.settings.get("sync")
    return _on(switches.get(part, True)) if isinstance(switches, dict) else True
