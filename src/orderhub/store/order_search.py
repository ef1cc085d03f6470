"""Finding orders for a person: by number or id, shop, status, dates, tracking number,
SKU and the last four digits of the receiver's phone (by keyed hash), newest first, a
page at a time. Personal data stays out of every row.

Each condition is an index look-up or a range on an index, so a list page stays fast
on a store of many orders; a tracking number or SKU is found through its own table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, false, or_, select

from orderhub.crypto import Cipher
from orderhub.store import tables as t

__all__ = ["OrderFilter", "OrderSearch", "OrderSummary", "phone_tail"]


@dataclass(frozen=True)
class OrderSummary:
    """One row of an order list; personal data stays out."""

    id: str
    shop: str
    platform: str
    channel_order_id: str
    order_no: str
    status: str
    channel_status: str
    node: str | None
    currency: str
    grand_total: str
    placed_at: datetime
    updated_at: datetime


def phone_tail(cipher: Cipher, phone: str) -> str:
    """The keyed hash of a phone's last four digits, by which a person finds an order
    without the hub keeping those digits readable; "" for a phone that does not end in
    four digits (a mask such as 138****, or none)."""
    digits = re.search(r"(\d{4})$", re.sub(r"[\s()+\-]", "", phone))
    return cipher.fingerprint(f"phone-tail|{digits.group(1)}") if digits else ""


@dataclass(frozen=True)
class OrderFilter:
    """What a person narrows an order list by; every field is optional."""

    status: str | None = None
    shop: str | None = None
    search: str | None = None  # an order number or id, or its start
    tracking_no: str | None = None
    sku: str | None = None  # ours, or the shop's own code
    placed_from: datetime | None = None
    placed_to: datetime | None = None  # exclusive
    phone_last4: str | None = None  # the receiver's phone ends in these four digits


class OrderSearch:
    """The finding half of the order repository."""

    cipher: Cipher
    tenant: str

    @property
    def conn(self) -> Connection:
        raise NotImplementedError

    def _exact(self, ref: str, limit: int) -> list[str]:
        """Ids of the orders whose hub id, platform id or shop's number is `ref`: one
        index look-up each (an OR of the three would read every order)."""
        c = t.orders.c
        numbers = sorted({ref, ref.lstrip("#"), "#" + ref.lstrip("#")})
        found: list[str] = []
        for condition in (c.id == ref, c.channel_order_id == ref, c.order_no.in_(numbers)):
            query = select(c.id).where(c.tenant == self.tenant, condition).limit(limit)
            found.extend(i for i in self.conn.execute(query).scalars() if i not in found)
        return found[:limit]

    def ids_for(self, ref: str, *, limit: int = 6) -> list[tuple[str, str, str]]:
        """Orders a person may mean by `ref`: the hub's id, the platform's order id, the
        shop's order number (`#1001` or `1001`), or the start of a hub id. Exact matches
        win over a prefix. (id, shop, channel order id) each."""
        c = t.orders.c
        ref = ref.strip()
        if not ref:
            return []
        exact = self._exact(ref, limit)
        if exact:
            rows = self.conn.execute(
                select(c.id, c.shop, c.channel_order_id).where(c.id.in_(exact))
            ).all()
            return [(r.id, r.shop, r.channel_order_id) for r in rows]
        columns = select(c.id, c.shop, c.channel_order_id).where(c.tenant == self.tenant)
        prefix = self.conn.execute(
            columns.where(c.id.startswith(ref, autoescape=True)).order_by(c.id).limit(limit)
        ).all()
        return [(r.id, r.shop, r.channel_order_id) for r in prefix]

    def summaries(
        self,
        *,
        status: str | None = None,
        shop: str | None = None,
        limit: int = 50,
        after: str | None = None,
        search: str | None = None,
        where: OrderFilter | None = None,
    ) -> list[OrderSummary]:
        """Newest first; `after` is the last id of the previous page; `search` matches the
        start of the hub id, the platform's order id or the shop's order number."""
        given = where or OrderFilter()
        status = status or given.status
        shop = shop or given.shop
        search = search or given.search
        c = t.orders.c
        conditions: list[ColumnElement[bool]] = [c.tenant == self.tenant]
        conditions += self._narrowed(given)
        if search:
            term = search.strip()
            # An exact id or number is an index look-up; only without one is the start
            # of an id or number searched for, which reads further.
            exact = self._exact(term, 1000)
            conditions.append(
                c.id.in_(exact)
                if exact
                else or_(
                    c.id.startswith(term, autoescape=True),
                    c.channel_order_id.startswith(term, autoescape=True),
                    c.order_no.startswith(term, autoescape=True),
                    c.order_no.startswith("#" + term.lstrip("#"), autoescape=True),
                )
            )
        if status:
            conditions.append(c.status == status)
        if shop:
            conditions.append(c.shop == shop)
        if after:
            conditions.append(c.id < after)
        rows = self.conn.execute(
            select(
                c.id,
                c.shop,
                c.platform,
                c.channel_order_id,
                c.order_no,
                c.status,
                c.channel_status,
                c.node,
                c.currency,
                c.grand_total,
                c.placed_at,
                c.updated_at,
            )
            .where(and_(*conditions))
            .order_by(c.id.desc())
            .limit(limit)
        )
        return [
            OrderSummary(
                id=r.id,
                shop=r.shop,
                platform=r.platform,
                channel_order_id=r.channel_order_id,
                order_no=r.order_no,
                status=r.status,
                channel_status=r.channel_status,
                node=r.node,
                currency=r.currency,
                grand_total=format(r.grand_total, "f"),
                placed_at=r.placed_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]

    def _narrowed(self, given: OrderFilter) -> list[ColumnElement[bool]]:
        c = t.orders.c
        found: list[ColumnElement[bool]] = []
        if given.tracking_no:
            parcels = t.shipments.c
            found.append(
                c.id.in_(
                    select(parcels.order_id).where(
                        parcels.tenant == self.tenant,
                        parcels.tracking_no == given.tracking_no.strip(),
                    )
                )
            )
        if given.sku:
            lines = t.order_lines.c
            code = given.sku.strip()
            found.append(
                c.id.in_(
                    select(lines.order_id).where(
                        lines.tenant == self.tenant,
                        or_(lines.sku == code, lines.channel_sku == code),
                    )
                )
            )
        if given.phone_last4:
            tail = phone_tail(self.cipher, given.phone_last4.strip())
            found.append(c.phone_tail == tail if tail else false())
        if given.placed_from:
            found.append(c.placed_at >= given.placed_from)
        if given.placed_to:
            found.append(c.placed_at < given.placed_to)
        return found
