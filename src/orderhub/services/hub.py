"""What every use case needs: the database, the settings, and connected connectors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from orderhub.config import Settings
from orderhub.connectors import registry
from orderhub.connectors.base import ChannelConnector, NodeConnector
from orderhub.connectors.books import ErpConnector
from orderhub.connectors.mapping import OrderMapping
from orderhub.connectors.tracking import TrackerConnector
from orderhub.domain.errors import ConfigurationError
from orderhub.domain.order import Order
from orderhub.store.books import ErpRecord
from orderhub.store.cache import HandedOver
from orderhub.store.catalog import NodeRecord, ShopRecord
from orderhub.store.db import Database
from orderhub.store.grouped_writes import GroupedWrites
from orderhub.store.orders import Stored
from orderhub.store.parcels import TrackerRecord
from orderhub.store.uow import UnitOfWork

__all__ = ["Hub"]

Connector = TypeVar("Connector", ChannelConnector, NodeConnector, ErpConnector, TrackerConnector)
AnyConnector = ChannelConnector | NodeConnector | ErpConnector | TrackerConnector

PINNED = ""
"""The fingerprint of a connector pinned to a shop or node: it matches any set-up."""

BODIES_KEPT = 256
"""Webhook bodies at most kept read for their jobs (a few batches' worth)."""
ORDERS_KEPT = 1024
"""New orders at most kept for the lane that sends them: its backlog in a burst."""
HANDED_OVER_FOR = 10.0
"""Seconds a body read, or an order stored, is kept for the job that takes it."""

RETIRE_AFTER = 60.0
"""Seconds a replaced connector stays open for the jobs that may still be using it."""


def _connector_settings(settings: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    merged = {k: v for k, v in settings.items() if k != "mapping"}
    merged.update(secrets)
    return merged


@dataclass
class Hub:
    """The running hub's shared state; connectors are built once per shop or node."""

    db: Database
    settings: Settings
    _channels: dict[str, tuple[str, int, ChannelConnector]] = field(default_factory=dict)
    _nodes: dict[str, tuple[str, int, NodeConnector]] = field(default_factory=dict)
    _erps: dict[str, tuple[str, int, ErpConnector]] = field(default_factory=dict)
    _trackers: dict[str, tuple[str, int, TrackerConnector]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _retired: list[tuple[float, AnyConnector]] = field(default_factory=list)
    bodies_read: HandedOver[str, Any] | None = None
    orders_written: HandedOver[str, tuple[Order, Stored]] | None = None

    def uow(self, *, autocommit: bool = False) -> UnitOfWork:
        """A unit of work that writes; `autocommit` for one that writes with one statement
        (on PostgreSQL it then opens no transaction of its own)."""
        return UnitOfWork(self.db, autocommit=autocommit)

    def keep_bodies_read(self) -> None:
        """From now on the door hands the webhook bodies it read (JSON) to the jobs that
        map them in this process, by inbox id: a body is then not read twice. Started by
        a worker that runs those jobs here (an API process without one keeps none)."""
        with self._lock:
            if self.bodies_read is None:
                self.bodies_read = HandedOver(most=BODIES_KEPT, ttl=HANDED_OVER_FOR)

    def keep_orders_written(self) -> None:
        """From now on the batch lane hands the new orders it committed (each with what it
        was stored as) to the lane that sends them to their nodes in this process: an
        order still stored so is not read and decrypted again to be sent. Started by a
        worker that runs both lanes here."""
        with self._lock:
            if self.orders_written is None:
                self.orders_written = HandedOver(most=ORDERS_KEPT, ttl=HANDED_OVER_FOR)

    @cached_property
    def grouped_writes(self) -> GroupedWrites:
        """Small writes from many threads (stored payloads): on SQLite, those that wait
        for the write lock together are committed together."""
        return GroupedWrites(self.db)

    def reader(self, *, one_statement: bool = False) -> UnitOfWork:
        """A unit of work that only reads (on SQLite it does not take the write lock).
        `one_statement` for one that reads with one statement, which sees a snapshot of
        its own: on SQLite it then opens no transaction (no BEGIN and ROLLBACK)."""
        return UnitOfWork(self.db, read_only=True, autocommit=one_statement)

    def shop_for_webhook(self, code: str) -> ShopRecord:
        """The shop a webhook names, to verify its signature by: as this process read it
        at most `webhook_shop_seconds` ago. A webhook then costs no read of its own (on
        PostgreSQL a third of its CPU: BEGIN, the configuration version, ROLLBACK), at
        a price: a shop set up anew in another process (a new webhook secret, say) is
        seen by this process's webhooks up to that long later. A change made in this
        process is seen at once (it empties the configuration cache this is kept in).
        What the webhook then starts is processed with the configuration of its own
        moment, as always."""

        def read() -> ShopRecord:
            with self.reader() as uow:
                return uow.catalog.shop(code)

        seconds = self.settings.webhook_shop_seconds
        if seconds <= 0:
            return read()
        key = ("webhook shop", self.db.tenant, code)
        return self.db.config_cache.get(key, read, ttl=seconds)

    def channel(self, shop: ShopRecord) -> ChannelConnector:
        return self._cached(self._channels, shop, lambda: self.build_channel(shop))

    def node(self, node: NodeRecord) -> NodeConnector:
        return self._cached(self._nodes, node, lambda: self.build_node(node))

    def erp(self, erp: ErpRecord) -> ErpConnector:
        return self._cached(self._erps, erp, lambda: self.build_erp(erp))

    def tracker(self, tracker: TrackerRecord) -> TrackerConnector:
        return self._cached(self._trackers, tracker, lambda: self.build_tracker(tracker))

    def _cached(
        self,
        cache: dict[str, tuple[str, int, Connector]],
        record: ShopRecord | NodeRecord | ErpRecord | TrackerRecord,
        build: Callable[[], Connector],
    ) -> Connector:
        """One connector per shop or node, built on first use and kept while its set-up
        stays the same; set up anew (here or in another process), it is built again and
        the old one retired. A record read at an older configuration version than the
        connector's gets the connector as it is: the newer set-up wins, and a job still
        holding the older record does not build it back."""
        with self._lock:
            known = cache.get(record.code)
            if known is not None:
                print_, version, connector = known
                if print_ == PINNED or 0 < record.version < version:
                    return connector
                if print_ == record.setup_print:
                    if record.version > version:
                        cache[record.code] = (print_, record.version, connector)
                    return connector
            connector = build()
            cache[record.code] = (record.setup_print, record.version, connector)
            if known is not None:
                self._retired.append((time.monotonic(), known[2]))
            return connector

    def pin_channel(self, code: str, connector: ChannelConnector) -> None:
        """Serve the shop with this connector whatever its set-up (a wrapped or
        stand-in connector), until the connectors are next forgotten."""
        with self._lock:
            self._channels[code] = (PINNED, 0, connector)

    def pin_node(self, code: str, connector: NodeConnector) -> None:
        """Serve the node with this connector whatever its set-up."""
        with self._lock:
            self._nodes[code] = (PINNED, 0, connector)

    @staticmethod
    def build_channel(shop: ShopRecord) -> ChannelConnector:
        try:
            return registry.channel_connector(
                shop.platform, _connector_settings(shop.settings, shop.secrets)
            )
        except ValueError as exc:
            raise ConfigurationError(f"shop {shop.code}: {exc}") from exc

    @staticmethod
    def build_node(node: NodeRecord) -> NodeConnector:
        try:
            return registry.node_connector(
                node.platform, _connector_settings(node.settings, node.secrets)
            )
        except ValueError as exc:
            raise ConfigurationError(f"node {node.code}: {exc}") from exc

    @staticmethod
    def build_erp(erp: ErpRecord) -> ErpConnector:
        try:
            return registry.erp_connector(
                erp.platform, _connector_settings(erp.settings, erp.secrets), erp.mapping
            )
        except ValueError as exc:
            raise ConfigurationError(f"erp {erp.code}: {exc}") from exc

    @staticmethod
    def build_tracker(tracker: TrackerRecord) -> TrackerConnector:
        try:
            return registry.tracker_connector(
                tracker.platform, _connector_settings(tracker.settings, tracker.secrets)
            )
        except ValueError as exc:
            raise ConfigurationError(f"tracker {tracker.code}: {exc}") from exc

    @staticmethod
    def mapping(shop: ShopRecord) -> OrderMapping:
        return registry.order_mapping(shop.platform, shop.settings.get("mapping"))

    def forget_connectors(self) -> None:
        """Drop cached connectors after configuration changed. A job may still be using
        one, so each is closed only a minute later (or when the hub closes)."""
        now = time.monotonic()
        with self._lock:
            old = [c for at, c in self._retired if now - at > RETIRE_AFTER]
            self._retired = [(at, c) for at, c in self._retired if now - at <= RETIRE_AFTER]
            current: list[AnyConnector] = [
                *(connector for _, _, connector in self._channels.values()),
                *(connector for _, _, connector in self._nodes.values()),
                *(connector for _, _, connector in self._erps.values()),
                *(connector for _, _, connector in self._trackers.values()),
            ]
            self._retired += [(now, c) for c in current]
            self._channels.clear()
            self._nodes.clear()
            self._erps.clear()
            self._trackers.clear()
        for connector in old:
            connector.close()

    def close(self) -> None:
        self.forget_connectors()
        with self._lock:
            retired, self._retired = self._retired, []
        for _, connector in retired:
            connector.close()
        self.db.dispose()
