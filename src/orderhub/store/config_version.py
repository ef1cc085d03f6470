"""The seller's configuration as one unit of work sees it, cached across units of work.

Shops, nodes, SKUs, listings and rules are read for every order, so they are cached in
the process. A cache must never outlive a change, in this process or another one: the
API that switches a warehouse off and the worker that then pushes stock may be separate
processes, and the push must see the switch. So every change to the configuration bumps
the seller's configuration version in the same transaction, every unit of work reads
the version once (one primary-key read) before it reads anything cached, and cached
values are kept under the version they were read at. A unit of work that changed the
configuration reads past the cache until it ends.

One reader may be behind, by a bounded time: a webhook's signature is checked with its
shop as the process read it at most `webhook_shop_seconds` ago (`Hub.shop_for_webhook`),
and the order it brings is processed with the configuration of its own moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from orderhub.store import tables as t
from orderhub.store.cache import TtlCache
from orderhub.store.driver import Query

__all__ = ["ConfigView"]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


_VERSION = Query(
    select(t.config_versions.c.version).where(t.config_versions.c.tenant == bindparam("tenant"))
)


class ConfigView:
    """The shared configuration cache, as of the version this transaction sees."""

    def __init__(self, conn: Connection, tenant: str, shared: TtlCache) -> None:
        self.conn = conn
        self.tenant = tenant
        self.shared = shared
        self._version: int | None = None
        self._changed = False

    def version(self) -> int:
        """The seller's configuration version, read once per unit of work."""
        if self._version is None:
            found = _VERSION.scalar(self.conn, {"tenant": self.tenant})
            self._version = int(found or 0)
        return self._version

    def read_at(self) -> int:
        """The version a record read now is marked with (`store.setups`): 0 once this unit
        of work changed the configuration, since what it reads is not yet committed."""
        return 0 if self._changed else self.version()

    def get(self, key: Any, load: Callable[[], T]) -> T:
        if self._changed:
            return load()
        return self.shared.get((self.tenant, self.version(), key), load)

    def get_many(
        self, kind: str, keys: Iterable[K], load: Callable[[list[K]], Mapping[K, V]]
    ) -> dict[K, V | None]:
        if self._changed:
            wanted = list(keys)
            loaded = load(wanted)
            return {key: loaded.get(key) for key in wanted}
        return self.shared.get_many(f"{self.tenant}:{self.version()}:{kind}", keys, load)

    def changed(self) -> None:
        """The configuration changes in this transaction: bump the version (seen by every
        process once this commits) and read past the cache from now on."""
        if self._changed:
            return
        self._changed = True
        versions = t.config_versions
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        now = datetime.now(UTC)
        first = dialect.insert(versions).values(tenant=self.tenant, version=1, changed_at=now)
        self.conn.execute(
            first.on_conflict_do_update(
                index_elements=[versions.c.tenant],
                set_={"version": versions.c.version + 1, "changed_at": now},
            )
        )
        self.shared.clear()
