"""Returns and the channel refunds that led to them (or did not: money-only refunds).

A return's id is the code the node knows it by. Every refund a channel reported is kept
once per shop, so a refund delivered twice is recognised and does nothing the second time.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from orderhub.domain.errors import NotFound
from orderhub.domain.returns import RefundStatus, ReturnStatus, check_return_move
from orderhub.store import tables as t

__all__ = ["ReturnItem", "ReturnRecord", "ReturnRepository"]

_R = t.returns.c
_F = t.channel_refunds.c


@dataclass(frozen=True)
class ReturnItem:
    """One order line coming back: `line_no` is its number in the original dispatch."""

    line_id: str
    sku: str
    quantity: int
    reason: str = ""
    line_no: str = ""


@dataclass(frozen=True)
class ReturnRecord:
    """A return as stored: what was announced, what arrived, and how stock was booked."""

    id: str
    order_id: str
    shop: str
    channel_refund_id: str | None
    node: str
    dispatch_id: str
    kind: str
    status: ReturnStatus
    reason: str
    lines: tuple[ReturnItem, ...]
    received: tuple[dict[str, Any], ...]
    refund_status: RefundStatus
    restock: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    confirm_id: str | None = None
    exchange_order_id: str | None = None
    created_at: datetime | None = None
    received_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """True while goods are still expected or not yet booked."""
        return self.status not in (ReturnStatus.CLOSED, ReturnStatus.CANCELLED)


def _record(row: Row[Any]) -> ReturnRecord:
    return ReturnRecord(
        id=row.id,
        order_id=row.order_id,
        shop=row.shop,
        channel_refund_id=row.channel_refund_id,
        node=row.node,
        dispatch_id=row.dispatch_id,
        kind=row.kind,
        status=ReturnStatus(row.status),
        reason=row.reason,
        lines=tuple(ReturnItem(**item) for item in json.loads(row.lines)),
        received=tuple(json.loads(row.received)),
        refund_status=RefundStatus(row.refund_status),
        restock=json.loads(row.restock),
        external_id=row.external_id,
        confirm_id=row.confirm_id,
        exchange_order_id=row.exchange_order_id,
        created_at=row.created_at,
        received_at=row.received_at,
        closed_at=row.closed_at,
    )


class ReturnRepository:
    """Returns by id, by order and by status, for one seller, and the refunds seen."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def add(
        self,
        return_id: str,
        *,
        order_id: str,
        shop: str,
        node: str,
        dispatch_id: str,
        lines: Sequence[ReturnItem],
        channel_refund_id: str | None = None,
        kind: str = "return",
        reason: str = "",
        refund_status: RefundStatus = RefundStatus.NONE,
        exchange_order_id: str | None = None,
    ) -> None:
        """A new return in `requested`."""
        self.conn.execute(
            insert(t.returns).values(
                id=return_id,
                tenant=self.tenant,
                order_id=order_id,
                shop=shop,
                channel_refund_id=channel_refund_id,
                node=node,
                dispatch_id=dispatch_id,
                kind=kind,
                status=ReturnStatus.REQUESTED.value,
                reason=reason[:300],
                lines=json.dumps([item.__dict__ for item in lines], ensure_ascii=False),
                received="[]",
                refund_status=refund_status.value,
                restock="{}",
                exchange_order_id=exchange_order_id,
                created_at=datetime.now(UTC),
            )
        )

    def get(self, return_id: str, *, for_update: bool = False) -> ReturnRecord:
        found = self.find(return_id, for_update=for_update)
        if found is None:
            raise NotFound("return", return_id)
        return found

    def find(self, return_id: str, *, for_update: bool = False) -> ReturnRecord | None:
        query = select(t.returns).where(_R.id == return_id, _R.tenant == self.tenant)
        if for_update and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return None if row is None else _record(row)

    def of_order(self, order_id: str) -> list[ReturnRecord]:
        """Every return of an order, oldest first."""
        rows = self.conn.execute(
            select(t.returns)
            .where(_R.tenant == self.tenant, _R.order_id == order_id)
            .order_by(_R.created_at, _R.id)
        )
        return [_record(r) for r in rows]

    def search(
        self,
        *,
        status: str | None = None,
        order_id: str | None = None,
        shops: Collection[str] | None = None,
        limit: int = 100,
    ) -> list[ReturnRecord]:
        """The newest returns first, optionally of one status, one order or some shops."""
        query = select(t.returns).where(_R.tenant == self.tenant)
        if shops is not None:
            query = query.where(_R.shop.in_(sorted(shops)))
        if status:
            query = query.where(_R.status == status)
        if order_id:
            query = query.where(_R.order_id == order_id)
        rows = self.conn.execute(query.order_by(_R.created_at.desc(), _R.id.desc()).limit(limit))
        return [_record(r) for r in rows]

    def count_exchanges(self, order_id: str) -> int:
        value = self.conn.execute(
            select(func.count()).where(
                _R.tenant == self.tenant,
                _R.order_id == order_id,
                _R.exchange_order_id.is_not(None),
            )
        ).scalar_one()
        return int(value)

    def move(
        self,
        record: ReturnRecord,
        status: ReturnStatus,
        *,
        external_id: str | None = None,
        confirm_id: str | None = None,
        received: Sequence[Mapping[str, Any]] | None = None,
        restock: Mapping[str, Any] | None = None,
        received_at: datetime | None = None,
    ) -> ReturnRecord:
        """Move the return along an allowed step (IllegalTransition otherwise); the new record."""
        check_return_move(record.id, record.status, status)
        values: dict[str, Any] = {"status": status.value}
        if external_id is not None:
            values["external_id"] = external_id
        if confirm_id is not None:
            values["confirm_id"] = confirm_id
        if received is not None:
            values["received"] = json.dumps(list(received), ensure_ascii=False)
        if restock is not None:
            values["restock"] = json.dumps(dict(restock), ensure_ascii=False)
        if status is ReturnStatus.RECEIVED:
            values["received_at"] = received_at or datetime.now(UTC)
        if status in (ReturnStatus.CLOSED, ReturnStatus.CANCELLED):
            values["closed_at"] = datetime.now(UTC)
        self.conn.execute(
            update(t.returns).where(_R.id == record.id, _R.tenant == self.tenant).values(**values)
        )
        return self.get(record.id)

    def set_external_id(self, return_id: str, external_id: str) -> None:
        self.conn.execute(
            update(t.returns)
            .where(_R.id == return_id, _R.tenant == self.tenant)
            .values(external_id=external_id)
        )

    def mark_refunded(self, order_id: str, refund_id: str) -> None:
        """The channel paid the buyer back for this order's returns of `refund_id`."""
        self.conn.execute(
            update(t.returns)
            .where(
                _R.tenant == self.tenant,
                _R.order_id == order_id,
                _R.channel_refund_id == refund_id,
            )
            .values(refund_status=RefundStatus.REFUNDED.value)
        )

    def refund_seen(self, shop: str, refund_id: str) -> bool:
        """Whether this channel refund was handled before."""
        row = self.conn.execute(
            select(_F.id).where(
                _F.tenant == self.tenant, _F.shop == shop, _F.refund_id == refund_id
            )
        ).first()
        return row is not None

    def note_refund(
        self,
        shop: str,
        refund_id: str,
        *,
        order_id: str | None,
        amount: Decimal,
        restock: bool,
        outcome: str,
        inbox_id: str | None = None,
    ) -> bool:
        """Remember a channel refund; False (and nothing written) if it was seen before."""
        if self.refund_seen(shop, refund_id):
            return False
        savepoint = self.conn.begin_nested()
        try:
            self.conn.execute(
                insert(t.channel_refunds).values(
                    tenant=self.tenant,
                    shop=shop,
                    refund_id=refund_id,
                    order_id=order_id,
                    amount=amount,
                    restock=1 if restock else 0,
                    outcome=outcome,
                    inbox_id=inbox_id,
                    created_at=datetime.now(UTC),
                )
            )
        except IntegrityError:
            savepoint.rollback()
            return False
        savepoint.commit()
        return True

    def refunded_amount(self, order_id: str) -> Decimal:
        """Money the channel gave back on this order so far, over every refund seen."""
        value = self.conn.execute(
            select(func.coalesce(func.sum(_F.amount), 0)).where(
                _F.tenant == self.tenant, _F.order_id == order_id
            )
        ).scalar_one()
        return Decimal(str(value))

    def refunded_quantities(self, order_id: str) -> dict[str, int]:
        """Units per order line announced back so far (cancelled returns excluded)."""
        done: dict[str, int] = {}
        for record in self.of_order(order_id):
            if record.status is ReturnStatus.CANCELLED:
                continue
            for item in record.lines:
                done[item.line_id] = done.get(item.line_id, 0) + item.quantity
        return done
