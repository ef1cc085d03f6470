"""Orders as the hub keeps them: canonical document plus encrypted personal data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from orderhub.crypto import Cipher
from orderhub.domain.errors import NotFound
from orderhub.domain.order import Order, OrderException, TraceEntry
from orderhub.store import tables as t
from orderhub.store.db import sent_together
from orderhub.store.documents import read_document, write_document
from orderhub.store.driver import Query
from orderhub.store.ids import new_id
from orderhub.store.many_rows import ManyRows
from orderhub.store.order_lookup import OrderLookup
from orderhub.store.order_search import OrderSearch, OrderSummary, phone_tail
from orderhub.store.text import storable

__all__ = ["PII_RECEIVER", "OrderRepository", "OrderSummary", "Stored"]

Stored = tuple[str, str]
"""What an order was read from: its stored document and sealed personal data."""

PII_RECEIVER = ("name", "phone", "address1", "address2", "sealed")


def _split(order: Order) -> tuple[dict[str, Any], dict[str, Any]]:
    document = order.model_dump(mode="json", exclude={"trace", "exceptions", "buyer"})
    pii: dict[str, Any] = {"buyer": order.buyer.model_dump(mode="json"), "receiver": {}}
    for key in PII_RECEIVER:
        pii["receiver"][key] = document["receiver"].pop(key)
    # The Latin-script receiver is personal data as a whole.
    pii["receiver_latin"] = document.pop("receiver_latin", None)
    return document, pii


# Statements run for every order, built once: building one costs more than running it.
_o = t.orders.c
_ADD = ManyRows(insert(t.orders))
_ADD_LINES = ManyRows(insert(t.order_lines))
_ADD_TRACE = ManyRows(insert(t.trace_events))  # no id read back
# By id alone, the seller checked on the rows read (see `InboxRepository.read_ahead`).
_BY_IDS = select(_o.id, _o.tenant, _o.document, _o.pii).where(
    _o.id.in_(bindparam("ids", expanding=True))
)
_MANY = Query(_BY_IDS)
_MANY_LOCKED = Query(_BY_IDS.order_by(_o.id).with_for_update())
_BY_ID = select(_o.id, _o.document, _o.pii).where(
    _o.id == bindparam("order_id"), _o.tenant == bindparam("tenant")
)
_BY_ID_LOCKED = _BY_ID.with_for_update()
_SET_STATUS = ManyRows(
    update(t.orders)
    .where(_o.id == bindparam("order_id"))
    .values(
        status=bindparam("status"),
        node=bindparam("node"),
        document=bindparam("document"),
        updated_at=bindparam("updated_at"),
    )
)


_SAVED_COLUMNS = (
    "shop",
    "platform",
    "channel_order_id",
    "order_no",
    "status",
    "channel_status",
    "channel_updated_at",
    "placed_at",
    "ship_by",
    "node",
    "currency",
    "grand_total",
    "buyer_key",
    "phone_tail",
    "document",
    "pii",
    "updated_at",
)
_SAVE = (
    update(t.orders)
    .where(_o.id == bindparam("order_id"))
    .values({column: bindparam(column) for column in _SAVED_COLUMNS})
)
_DROP_LINES = delete(t.order_lines).where(t.order_lines.c.order_id == bindparam("order_id"))

LineRow = tuple[str, str, str | None, int, str | None]
"""An order line as the lines table holds it: id, channel SKU, SKU, quantity, node."""


def _line_rows(order: Order) -> list[LineRow]:
    return [(x.line_id, x.channel_sku, x.sku, x.quantity, x.node) for x in order.lines]


class OrderRepository(OrderLookup, OrderSearch):
    """Orders as stored; the look-ups a new order needs are OrderLookup's, and finding
    them for a person is OrderSearch's."""

    def __init__(self, conn: Connection, cipher: Cipher, tenant: str) -> None:
        OrderLookup.__init__(self)
        self._conn = conn
        self.cipher = cipher
        self.tenant = tenant
        self._trace: list[dict[str, Any]] = []
        # Orders added and their lines, written with the other held writes (`add`).
        self._added: list[dict[str, Any]] = []
        self._added_lines: list[dict[str, Any]] = []
        # What each order read here was stored with: its lines, and its personal data
        # both open and sealed. Saving it again rewrites neither if they did not change.
        self._as_read: dict[str, tuple[list[LineRow], str, str]] = {}
        # Orders added here, each with what it was stored as, while it stays so.
        self.added_orders: dict[str, tuple[Order, Stored]] = {}

    @property
    def conn(self) -> Connection:
        """The connection, with the orders added so far written first: what this
        repository reads or changes next sees them."""
        if self._added:
            self.write_added()
        return self._conn

    def add(self, order: Order, *, inbox_id: str | None = None, buyer_id: str | None = None) -> str:
        """Store a new order. Its rows are held and written with the unit of work's other
        held writes (a batch's new orders in two statements, on PostgreSQL in the same
        round trip as the rest), or before this repository, or the buyers', next reads
        orders. Another repository reading orders after an add calls `uow.flush()` first."""
        order.id = order.id or new_id("o")
        now = datetime.now(UTC)
        columns = self._columns(order, now)
        self._added.append(
            {
                "id": order.id,
                "tenant": self.tenant,
                "created_at": now,
                "inbox_id": inbox_id,
                "buyer_id": buyer_id,
                **columns,
            }
        )
        self.added_orders[order.id] = (order, (columns["document"], columns["pii"]))
        self._added_lines.extend(self._line_dicts(order))
        return order.id

    def write_added(self) -> None:
        """Write the orders added since the last write, then their lines."""
        if not self._added:
            return
        orders, lines = self._added, self._added_lines
        self._added, self._added_lines = [], []
        with sent_together(self._conn) if lines else nullcontext():
            _ADD.run(self._conn, orders)
            _ADD_LINES.run(self._conn, lines)

    def discard_added(self) -> None:
        """Forget the orders added and not yet written (their savepoint was undone)."""
        for row in self._added:
            self.added_orders.pop(row["id"], None)
        self._added, self._added_lines = [], []

    def save(self, order: Order) -> None:
        """Store the whole order. Its lines and sealed personal data are written again
        only when they differ from what it was read with in this transaction."""
        self.added_orders.pop(order.id, None)
        as_read = self._as_read.get(order.id)
        columns = self._columns(order, datetime.now(UTC), as_read=as_read)
        self.conn.execute(_SAVE, {"order_id": order.id, **columns})
        if as_read is None or as_read[0] != _line_rows(order):
            self.conn.execute(_DROP_LINES, {"order_id": order.id})
            _ADD_LINES.run(self.conn, self._line_dicts(order))
        self._as_read.pop(order.id, None)

    def set_status(self, order: Order) -> None:
        """Store a change of status (and lines' nodes) without rewriting personal data."""
        self.set_statuses([order])

    def set_statuses(self, orders: Sequence[Order]) -> None:
        """`set_status` for many orders in one statement, in id order."""
        if not orders:
            return
        now = datetime.now(UTC)
        rows = []
        for order in sorted(orders, key=lambda o: o.id):
            self.added_orders.pop(order.id, None)
            document, _ = _split(order)
            rows.append(
                {
                    "order_id": order.id,
                    "status": order.status.value,
                    "node": order.node,
                    "document": write_document(document),
                    "updated_at": now,
                }
            )
        _SET_STATUS.run(self.conn, rows)

    def _columns(
        self,
        order: Order,
        now: datetime,
        *,
        as_read: tuple[list[LineRow], str, str] | None = None,
    ) -> dict[str, Any]:
        document, pii = _split(order)
        pii_text = write_document(pii)
        if as_read is not None and as_read[1] == pii_text and self.cipher.sealed_now(as_read[2]):
            sealed = as_read[2]  # the same data, sealed with the key in use
        else:
            sealed = self.cipher.encrypt(pii_text, context=order.id.encode())
        buyer_key = self.buyer_key(order)
        self._written(order.shop, order.channel_order_id, buyer_key)
        return {
            "shop": order.shop,
            "platform": order.platform,
            "channel_order_id": order.channel_order_id,
            "order_no": order.order_no,
            "status": order.status.value,
            "channel_status": order.channel_status.value,
            "channel_updated_at": order.channel_updated_at,
            "placed_at": order.placed_at,
            "ship_by": order.ship_by,
            "node": order.node,
            "currency": order.currency,
            "grand_total": order.totals.grand_total,
            "buyer_key": buyer_key,
            "phone_tail": phone_tail(self.cipher, order.receiver.phone),
            "document": write_document(document),
            "pii": sealed,
            "updated_at": now,
        }

    def _line_dicts(self, order: Order) -> list[dict[str, Any]]:
        return [
            {
                "order_id": order.id,
                "line_id": line.line_id,
                "tenant": self.tenant,
                "channel_sku": line.channel_sku,
                "sku": line.sku,
                "quantity": line.quantity,
                "node": line.node,
            }
            for line in order.lines
        ]

    def get(self, order_id: str, *, for_update: bool = False) -> Order:
        locked = for_update and self.conn.dialect.name == "postgresql"
        query = _BY_ID_LOCKED if locked else _BY_ID
        row = self.conn.execute(query, {"order_id": order_id, "tenant": self.tenant}).first()
        if row is None:
            raise NotFound("order", order_id)
        return self._load(row.id, row.document, row.pii)

    def get_many(
        self,
        order_ids: list[str],
        *,
        for_update: bool = False,
        stored: dict[str, Stored] | None = None,
        known: Mapping[str, tuple[Order, Stored]] | None = None,
    ) -> list[Order]:
        """These orders in the order given (missing ones left out), in one query.

        `stored` is filled with what each order was read from. An order in `known` that
        is stored as it was then is not read again: a copy of the one given is returned
        (a batch reads its orders before calling out, and again under lock after)."""
        if not order_ids:
            return []
        locked = for_update and self.conn.dialect.name == "postgresql"
        query = _MANY_LOCKED if locked else _MANY
        loaded: dict[str, Order] = {}
        for r in query.all(self.conn, {"ids": order_ids}):
            if r.tenant != self.tenant:
                continue
            was = (r.document, r.pii)
            same = known.get(r.id) if known is not None else None
            if same is not None and same[1] == was:
                loaded[r.id] = same[0].model_copy()
            else:
                loaded[r.id] = self._load(r.id, r.document, r.pii)
            if stored is not None:
                stored[r.id] = was
        return [loaded[i] for i in order_ids if i in loaded]

    def find(self, order_id: str) -> Order | None:
        try:
            return self.get(order_id)
        except NotFound:
            return None

    def _load(self, order_id: str, document: str, pii_token: str) -> Order:
        data = read_document(document)
        pii_text = self.cipher.decrypt(pii_token, context=order_id.encode())
        pii = read_document(pii_text)
        data["buyer"] = pii["buyer"]
        data["receiver"].update(pii["receiver"])
        data["receiver_latin"] = pii.get("receiver_latin")
        order = Order.model_validate(data)
        self._as_read[order_id] = (_line_rows(order), pii_text, pii_token)
        return order

    def placed_page(
        self,
        since: datetime,
        until: datetime | None = None,
        *,
        limit: int = 500,
        after: tuple[datetime, str] | None = None,
    ) -> list[Order]:
        """One page of the orders placed in [since, until), oldest first; `after` is the
        (placed_at, id) of the last order of the previous page."""
        o = t.orders.c
        conditions = [o.tenant == self.tenant, o.placed_at >= since]
        if until is not None:
            conditions.append(o.placed_at < until)
        if after is not None:
            conditions.append(
                or_(o.placed_at > after[0], and_(o.placed_at == after[0], o.id > after[1]))
            )
        rows = self.conn.execute(
            select(o.id, o.document, o.pii)
            .where(*conditions)
            .order_by(o.placed_at, o.id)
            .limit(limit)
        )
        return [self._load(r.id, r.document, r.pii) for r in rows]

    def held_for_stock(self, skus: list[str], *, limit: int = 500) -> list[str]:
        """Orders waiting for stock of any of `skus`, oldest first (first come, first served)."""
        o, line, x = t.orders.c, t.order_lines.c, t.exceptions.c
        waiting = (
            select(x.order_id)
            .where(x.tenant == self.tenant, x.code == "out_of_stock", x.status == "open")
            .scalar_subquery()
        )
        rows = self.conn.execute(
            select(o.id)
            .join(t.order_lines, line.order_id == o.id)
            .where(
                o.tenant == self.tenant,
                o.status == "held",
                line.sku.in_(skus),
                o.id.in_(waiting),
            )
            .group_by(o.id, o.placed_at)
            .order_by(o.placed_at, o.id)
            .limit(limit)
        )
        return [r.id for r in rows]

    def skus_at_node(self, node: str, statuses: list[str]) -> set[str]:
        """SKUs on the lines this node ships of orders in these statuses."""
        o, line = t.orders.c, t.order_lines.c
        rows = self.conn.execute(
            select(line.sku)
            .join(t.orders, line.order_id == o.id)
            .where(o.tenant == self.tenant, line.node == node, o.status.in_(statuses))
            .distinct()
        )
        return {r.sku for r in rows if r.sku}

    def ids_by_status(self, status: str, *, limit: int = 1000) -> list[str]:
        rows = self.conn.execute(
            select(t.orders.c.id)
            .where(t.orders.c.tenant == self.tenant, t.orders.c.status == status)
            .order_by(t.orders.c.id)
            .limit(limit)
        )
        return [r.id for r in rows]

    def count_by_status(self) -> dict[str, int]:
        rows = self.conn.execute(
            select(t.orders.c.status, func.count())
            .where(t.orders.c.tenant == self.tenant)
            .group_by(t.orders.c.status)
        )
        return {status: count for status, count in rows.all()}

    def count_by_shop_and_status(
        self, *, since: datetime | None = None
    ) -> dict[str, dict[str, int]]:
        """Orders per shop and status; with `since`, only those that arrived after it."""
        c = t.orders.c
        query = select(c.shop, c.status, func.count()).where(c.tenant == self.tenant)
        if since is not None:
            query = query.where(c.created_at >= since)
        rows = self.conn.execute(query.group_by(c.shop, c.status))
        found: dict[str, dict[str, int]] = {}
        for shop, status, count in rows.all():
            found.setdefault(shop, {})[status] = count
        return found

    def arrival_times(self, since: datetime, shops: frozenset[str] = frozenset()) -> list[datetime]:
        """When each order that arrived after `since` came in (for orders per minute)."""
        c = t.orders.c
        query = select(c.created_at).where(c.tenant == self.tenant, c.created_at >= since)
        if shops:
            query = query.where(c.shop.in_(sorted(shops)))
        return [row[0] for row in self.conn.execute(query)]

    def exceptions_of(self, order_id: str) -> list[OrderException]:
        rows = self.conn.execute(
            select(t.exceptions)
            .where(t.exceptions.c.order_id == order_id)
            .order_by(t.exceptions.c.created_at)
        )
        return [
            OrderException(
                id=r.id,
                code=r.code,
                message=r.message,
                field=r.field,
                severity=r.severity,
                resolved=r.status == "resolved",
            )
            for r in rows
        ]

    def trace_of(self, order_id: str) -> list[TraceEntry]:
        self.flush_trace()
        rows = self.conn.execute(
            select(t.trace_events)
            .where(t.trace_events.c.order_id == order_id)
            .order_by(t.trace_events.c.id)
        )
        return [
            TraceEntry(
                at=r.at,
                stage=r.stage,
                status=r.status,
                message=r.message,
                latency_ms=r.latency_ms,
                job_id=None if r.job_id is None else str(r.job_id),
            )
            for r in rows
        ]

    def trace(
        self,
        order_id: str,
        stage: str,
        status: str,
        message: str = "",
        *,
        latency_ms: float | None = None,
        job_id: int | None = None,
    ) -> None:
        """Append one step to the order's trace (written with the rest of the transaction)."""
        self._trace.append(
            {
                "tenant": self.tenant,
                "order_id": order_id,
                "at": datetime.now(UTC),
                "stage": stage,
                "status": status,
                "message": storable(message),
                "latency_ms": latency_ms,
                "job_id": job_id,
            }
        )

    def writes_held(self) -> int:
        """How many statements `write_added` and `flush_trace` would run."""
        added = (1 + int(bool(self._added_lines))) if self._added else 0
        return added + int(bool(self._trace))

    def flush_trace(self) -> None:
        """Write the buffered trace steps in one statement."""
        if self._trace:
            rows, self._trace = self._trace, []
            _ADD_TRACE.run(self._conn, rows)

    def discard_trace(self) -> None:
        self._trace = []
