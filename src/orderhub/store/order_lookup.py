"""What an incoming order is checked against: the order already stored under its
channel reference, and its buyer's recent orders in the shop.

Every new order asks both, each a round trip. A batch asks once for all its orders
(`read_ahead`): a reference found stored nowhere, or a buyer with no recent order, is
answered from memory until an order is written under it in this transaction.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select

from orderhub.crypto import Cipher
from orderhub.domain.order import Order
from orderhub.store import tables as t
from orderhub.store.driver import Query

__all__ = ["OrderLookup"]

_o = t.orders.c
_BY_REF = select(_o.id, _o.document, _o.pii).where(
    _o.tenant == bindparam("tenant"),
    _o.shop == bindparam("shop"),
    _o.channel_order_id == bindparam("channel_order_id"),
)
_BY_REF_LOCKED = _BY_REF.with_for_update()
_BY_BUYER = (
    select(_o.id, _o.document, _o.pii)
    .where(
        _o.tenant == bindparam("t"),
        _o.shop == bindparam("shop"),
        _o.buyer_key == bindparam("key"),
        _o.placed_at >= bindparam("since"),
        _o.id != bindparam("exclude"),
    )
    .order_by(_o.placed_at, _o.id)
    .limit(50)
)
# A batch's orders asked about at once: each shop and each value as a list of its own,
# which both databases look up in the (tenant, shop, …) indexes one point at a time; the
# pairs asked for are picked from the rows found. (A list of (shop, value) pairs is read
# by SQLite as a scan of every order of the seller.)
_STORED_REFS = Query(
    select(_o.shop, _o.channel_order_id).where(
        _o.tenant == bindparam("t"),
        _o.shop.in_(bindparam("shops", expanding=True)),
        _o.channel_order_id.in_(bindparam("values", expanding=True)),
    )
)
_BUYERS_SEEN = Query(
    select(_o.shop, _o.buyer_key)
    .where(
        _o.tenant == bindparam("t"),
        _o.shop.in_(bindparam("shops", expanding=True)),
        _o.buyer_key.in_(bindparam("values", expanding=True)),
        _o.placed_at >= bindparam("since"),
    )
    .distinct()
)


def _lists(pairs: Collection[tuple[str, str]]) -> dict[str, list[str]]:
    """(shop, value) pairs as the two lists the read-ahead queries take."""
    return {
        "shops": sorted({shop for shop, _ in pairs}),
        "values": sorted({value for _, value in pairs}),
    }


def _normalised(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold()


class OrderLookup:
    """The look-ups a new order needs, with what a batch read ahead for them."""

    cipher: Cipher
    tenant: str

    @property
    def conn(self) -> Connection:
        raise NotImplementedError

    def __init__(self) -> None:
        self._not_stored: set[tuple[str, str]] = set()  # (shop, channel order id)
        self._quiet: set[tuple[str, str]] = set()  # (shop, buyer key): no order since…
        self._quiet_since: datetime | None = None
        # A new order's buyer key is asked for by the read-ahead, the duplicate check,
        # the rules and the write: worked out once per unit of work (NFKC and a hash).
        self._buyer_keys: dict[tuple[str, ...], str] = {}

    def _load(self, order_id: str, document: str, pii_token: str) -> Order:
        raise NotImplementedError

    def read_ahead(
        self,
        refs: Collection[tuple[str, str]],
        buyers: Collection[tuple[str, str]],
        *,
        since: datetime,
    ) -> None:
        """Ask in one query each which of these (shop, channel order id) are stored, and
        which (shop, buyer key) placed an order at or after `since`."""
        if refs:
            stored = _STORED_REFS.all(self.conn, {"t": self.tenant, **_lists(refs)})
            self._not_stored = set(refs) - {(row[0], row[1]) for row in stored}
        if buyers:
            seen = _BUYERS_SEEN.all(self.conn, {"t": self.tenant, "since": since, **_lists(buyers)})
            self._quiet = set(buyers) - {(row[0], row[1]) for row in seen}
            self._quiet_since = since

    def _written(self, shop: str, channel_order_id: str, buyer_key: str) -> None:
        """An order is written under these: what was read ahead of them no longer holds."""
        self._not_stored.discard((shop, channel_order_id))
        self._quiet.discard((shop, buyer_key))

    def by_channel_ref(
        self, shop: str, channel_order_id: str, *, for_update: bool = False
    ) -> Order | None:
        if (shop, channel_order_id) in self._not_stored:
            return None
        locked = for_update and self.conn.dialect.name == "postgresql"
        row = self.conn.execute(
            _BY_REF_LOCKED if locked else _BY_REF,
            {"tenant": self.tenant, "shop": shop, "channel_order_id": channel_order_id},
        ).first()
        return None if row is None else self._load(row.id, row.document, row.pii)

    def buyer_key(self, order: Order) -> str:
        """Same receiver, phone and address (spacing and width ignored) → same key.

        Orders with the same key in one shop go to the same person at the same door:
        they may be merged into one parcel, and the key counts a buyer's earlier orders.
        """
        r = order.receiver
        # A sealed receiver is known only by its seal: two buyers' masks may be alike.
        parts: tuple[str, ...] = (
            r.name,
            r.phone,
            r.country,
            r.province,
            r.city,
            r.district,
            r.address1,
            r.address2,
        )
        if r.sealed:
            parts = (r.sealed,)
        key = self._buyer_keys.get(parts)
        if key is None:
            key = self._buyer_keys[parts] = self.cipher.fingerprint(
                "|".join(_normalised(p) for p in parts)
            )
        return key

    def count_by_buyer(self, shop: str, buyer_key: str, *, before: datetime) -> int:
        """How many orders this buyer placed in the shop before `before`."""
        c = t.orders.c
        return int(
            self.conn.execute(
                select(func.count()).where(
                    c.tenant == self.tenant,
                    c.shop == shop,
                    c.buyer_key == buyer_key,
                    c.placed_at < before,
                )
            ).scalar_one()
        )

    def recent_by_buyer(
        self, shop: str, buyer_key: str, *, since: datetime, exclude: str = ""
    ) -> list[Order]:
        """The buyer's other orders in the shop placed since `since`, oldest first."""
        quiet_since = self._quiet_since
        if quiet_since is not None and since >= quiet_since and (shop, buyer_key) in self._quiet:
            return []
        rows = self.conn.execute(
            _BY_BUYER,
            {"t": self.tenant, "shop": shop, "key": buyer_key, "since": since, "exclude": exclude},
        )
        return [self._load(r.id, r.document, r.pii) for r in rows]
