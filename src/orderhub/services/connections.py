"""Shops and nodes as a person sets them up: templates, what is stored, and a real test.

A connection is shown with its settings and, for each secret, only whether it is set.
A secret left empty when a connection is saved again keeps its stored value, so a form
never has to show one. "Test connection" builds the connector from what is stored and
makes one real, read-only call, and says how long it took or why it failed.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from orderhub.config import NodeConfig, ShopConfig
from orderhub.connectors.base import ConnectorError
from orderhub.connectors.kit.pull import Window
from orderhub.connectors.templates import TEMPLATES
from orderhub.domain.access import Principal
from orderhub.domain.errors import ConfigurationError, NotFound
from orderhub.services.audit import connection_snapshot, record_connection_change
from orderhub.services.config_file import write_node, write_shop
from orderhub.services.hub import Hub
from orderhub.services.ingest import take_in_ignored_orders
from orderhub.services.pipeline import schedule_stock_push
from orderhub.services.setup import put_node, put_shop
from orderhub.services.switches import SYNC_PARTS, enabled, syncs

__all__ = [
    "ConnectionTest",
    "connections",
    "keep_stored_secrets",
    "save_node",
    "save_shop",
    "set_enabled",
    "set_sync",
    "test_node",
    "test_shop",
]


@dataclass(frozen=True)
class ConnectionTest:
    """The outcome of one real call to the platform."""

    ok: bool
    latency_ms: float
    detail: str


def connections(hub: Hub) -> dict[str, Any]:
    """Templates, shops and nodes, secrets shown only as set; the addresses to paste."""
    base = hub.settings.public_url.rstrip("/")
    with hub.reader() as uow:
        shops = uow.catalog.shops()
        nodes = uow.catalog.nodes()
        erps = [(e, uow.books.tally(e.code)) for e in uow.books.erps()]

    def calls_back(platform: str, path: str, code: str) -> str:
        template = TEMPLATES.get(platform)
        return f"{base}/{path}/{code}" if template and template.calls_back else ""

    return {
        "templates": [
            {**asdict(t), "fields": [asdict(f) for f in t.fields]} for t in TEMPLATES.values()
        ],
        "shops": [
            {
                "code": s.code,
                "platform": s.platform,
                "name": s.name,
                "nodes": list(s.nodes),
                "settings": {
                    k: v for k, v in s.settings.items() if k not in ("mapping", "sync", "enabled")
                },
                "enabled": enabled(s),
                "sync": {part: syncs(s, part) for part in SYNC_PARTS},
                "secrets": {k: "set" for k in s.secrets},
                "webhook_url": calls_back(s.platform, "webhooks", s.code),
            }
            for s in shops
        ],
        "nodes": [
            {
                "code": n.code,
                "platform": n.platform,
                "kind": n.kind,
                "name": n.name,
                "settings": {k: v for k, v in n.settings.items() if k != "enabled"},
                "enabled": enabled(n),
                "secrets": {k: "set" for k in n.secrets},
                "callback_url": calls_back(n.platform, "callbacks", n.code),
            }
            for n in nodes
        ],
        "erps": [
            {
                "code": e.code,
                "platform": e.platform,
                "name": e.name,
                "settings": dict(e.settings),
                "secrets": {k: "set" for k in e.secrets},
                "documents": tally,
            }
            for e, tally in erps
        ],
    }


def set_sync(hub: Hub, code: str, switches: dict[str, bool]) -> dict[str, bool]:
    """Turn parts of a shop's sync on or off; stock switched on is pushed at once."""
    unknown = set(switches) - set(SYNC_PARTS)
    if unknown:
        raise ConfigurationError(f"no sync part {sorted(unknown)}; the parts are {SYNC_PARTS}")
    with hub.uow() as uow:
        shop = uow.catalog.shop(code)
        before: dict[str, bool] = {part: syncs(shop, part) for part in SYNC_PARTS}
        now = {**before, **{part: bool(on) for part, on in switches.items()}}
        changed = replace(shop, settings={**shop.settings, "sync": now})
        uow.catalog.put_shop(changed)
        write_shop(hub, changed)
        if now["orders"] and not before["orders"]:
            take_in_ignored_orders(uow, code)
        if now["stock"]:
            skus = {listing.sku for listing in uow.catalog.listings(shop=code)}
            schedule_stock_push(uow, skus, window=hub.settings.stock_push_window)
        uow.commit()
    return now


Connection = TypeVar("Connection", ShopConfig, NodeConfig)


def set_enabled(hub: Hub, kind: str, code: str, on: bool) -> bool:
    """Switch a whole shop or node on or off, keeping everything it is set up with.

    A shop switched back on takes in the orders that arrived meanwhile and pushes its
    stock; a node switched on or off changes what every shop it serves may show, so
    those figures are pushed again. Orders already at a node switched off stay there.
    """
    with hub.uow() as uow:
        if kind == "shop":
            shop = uow.catalog.shop(code)
            was = enabled(shop)
            settings = {k: v for k, v in shop.settings.items() if k != "enabled"}
            changed_shop = replace(
                shop, settings=settings if on else {**settings, "enabled": False}
            )
            uow.catalog.put_shop(changed_shop)
            write_shop(hub, changed_shop)
            if on and not was:
                if syncs(changed_shop, "orders"):
                    take_in_ignored_orders(uow, code)
                skus = {listing.sku for listing in uow.catalog.listings(shop=code)}
                schedule_stock_push(uow, skus, window=hub.settings.stock_push_window)
        elif kind == "node":
            node = uow.catalog.node(code)
            settings = {k: v for k, v in node.settings.items() if k != "enabled"}
            changed_node = replace(
                node, settings=settings if on else {**settings, "enabled": False}
            )
            uow.catalog.put_node(changed_node)
            write_node(hub, changed_node)
            skus = {level.sku for level in uow.stock.levels(nodes=[code])}
            schedule_stock_push(uow, skus, window=hub.settings.stock_push_window)
        else:
            raise ConfigurationError(f"no kind of connection {kind!r}: shop or node")
        uow.commit()
    hub.forget_connectors()
    return on


def keep_stored_secrets(hub: Hub, given: Connection) -> Connection:
    """The connection with each secret it leaves empty taken from what is stored."""
    with hub.reader() as uow:
        try:
            stored = (
                uow.catalog.shop(given.code)
                if isinstance(given, ShopConfig)
                else uow.catalog.node(given.code)
            )
        except NotFound:
            return given
    secrets = {k: v for k, v in stored.secrets.items()}
    secrets.update({k: v for k, v in given.secrets.items() if v})
    return given.model_copy(update={"secrets": secrets})


def save_shop(hub: Hub, actor: Principal, shop: ShopConfig) -> None:
    """Add or change a shop as a person does: secrets left empty keep their stored value,
    the configuration file says the same, and the audit log has before and after."""
    before = connection_snapshot(hub, "shop", shop.code)
    put_shop(hub, keep_stored_secrets(hub, shop), write_back=True)
    after = connection_snapshot(hub, "shop", shop.code)
    record_connection_change(hub, actor, "shop", shop.code, before, after)


def save_node(hub: Hub, actor: Principal, node: NodeConfig) -> None:
    """Add or change a warehouse or supplier as `save_shop` does a shop."""
    before = connection_snapshot(hub, "node", node.code)
    put_node(hub, keep_stored_secrets(hub, node), write_back=True)
    after = connection_snapshot(hub, "node", node.code)
    record_connection_change(hub, actor, "node", node.code, before, after)


def _timed(call: Any) -> ConnectionTest:
    started = time.perf_counter()
    try:
        detail = call()
    except (ConnectorError, ValueError) as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return ConnectionTest(False, round(elapsed, 1), str(getattr(exc, "message", exc)))
    return ConnectionTest(True, round((time.perf_counter() - started) * 1000, 1), detail)


def test_shop(hub: Hub, code: str) -> ConnectionTest:
    """Search the shop's orders of the last ten minutes (one, read-only)."""
    with hub.reader() as uow:
        record = uow.catalog.shop(code)

    def call() -> str:
        channel = hub.build_channel(record)
        try:
            now = datetime.now(UTC)
            window = Window(now - timedelta(minutes=10), now)
            page = channel.search_orders(window, channel.pull_rules.first_page, 1)
            found = len(page.orders) if page.total is None else page.total
            return f"{record.platform} answered: {found} order(s) changed in the last 10 minutes"
        finally:
            channel.close()

    return _timed(call)


def test_node(hub: Hub, code: str) -> ConnectionTest:
    """Ask the node for stock of one SKU (read-only)."""
    with hub.reader() as uow:
        record = uow.catalog.node(code)
        skus = [level.sku for level in uow.stock.levels(nodes=[code])][:1] or ["ORDERHUB-TEST"]

    def call() -> str:
        node = hub.build_node(record)
        try:
            levels = node.query_inventory(skus)
            return f"{record.platform} answered: stock of {len(levels)} SKU(s)"
        finally:
            node.close()

    return _timed(call)


def test_erp(hub: Hub, code: str) -> ConnectionTest:
    """Log in and look a document up by a number nobody uses (read-only)."""
    with hub.reader() as uow:
        record = uow.books.erp(code)

    def call() -> str:
        erp = hub.build_erp(record)
        try:
            found = erp.find("sale_order", "ORDERHUB-CONNECTION-TEST")
            return f"{record.platform} answered: signed in, {'a' if found else 'no'} test document"
        finally:
            erp.close()

    return _timed(call)
