"""The calls the hub made to shops and nodes for orders, read from the orders' traces.

Every outbound call made for an order (the push to a warehouse, tracking sent back to
the shop, a return announced) is a trace step with its latency and outcome; these
queries read one recent window of them, by the index on (tenant, at).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, case, func, select

from orderhub.store import tables as t

__all__ = ["CallRepository", "CallTally"]

_TRACE = t.trace_events.c
_ORDER = t.orders.c
FAILED = ("retry", "dead")
"""Trace outcomes of a call that failed (retried later, or given up)."""


@dataclass(frozen=True)
class CallTally:
    """The calls to one shop or node in a window: how many, how many failed, when the
    last one succeeded and what the last failure said."""

    connector: str
    calls: int
    failed: int
    last_success: datetime | None
    last_failure: datetime | None
    last_error: str


class CallRepository:
    """Read-only figures over recent trace steps of one seller."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant

    def push_delays(
        self, since: datetime, shops: Collection[str] | None = None
    ) -> list[tuple[str, datetime, datetime]]:
        """(shop, order arrived, warehouse accepted) of every first push since a moment."""
        query = (
            select(_ORDER.shop, _ORDER.created_at, func.min(_TRACE.at))
            .join(t.orders, and_(_ORDER.id == _TRACE.order_id, _ORDER.tenant == _TRACE.tenant))
            .where(
                _TRACE.tenant == self.tenant,
                _TRACE.at >= since,
                _TRACE.stage == "push",
                _TRACE.status == "ok",
            )
            .group_by(_TRACE.order_id, _ORDER.shop, _ORDER.created_at)
        )
        if shops:
            query = query.where(_ORDER.shop.in_(sorted(shops)))
        return [(r[0], r[1], r[2]) for r in self.conn.execute(query)]

    def tallies(self, since: datetime, shops: Collection[str] | None = None) -> list[CallTally]:
        """Per connector: a push is a call to the order's node, every other timed step a
        call to the order's shop."""
        connector = case((_TRACE.stage == "push", _ORDER.node), else_=_ORDER.shop)
        failed = _TRACE.status.in_(FAILED)
        query = (
            select(
                connector.label("connector"),
                func.count().label("calls"),
                func.sum(case((failed, 1), else_=0)).label("failed"),
                func.max(case((_TRACE.status == "ok", _TRACE.at))).label("last_success"),
                func.max(case((failed, _TRACE.at))).label("last_failure"),
            )
            .join(t.orders, and_(_ORDER.id == _TRACE.order_id, _ORDER.tenant == _TRACE.tenant))
            .where(
                _TRACE.tenant == self.tenant,
                _TRACE.at >= since,
                _TRACE.latency_ms.is_not(None),
            )
            .group_by(connector)
        )
        if shops:
            query = query.where(_ORDER.shop.in_(sorted(shops)))
        rows = [r for r in self.conn.execute(query) if r.connector]
        errors = self._last_errors(since, [r.connector for r in rows if r.last_failure])
        return [
            CallTally(
                r.connector,
                int(r.calls),
                int(r.failed or 0),
                r.last_success,
                r.last_failure,
                errors.get(r.connector, ""),
            )
            for r in rows
        ]

    def _last_errors(self, since: datetime, connectors: list[str]) -> dict[str, str]:
        """The newest failure's message per connector (one read of the window's failures)."""
        if not connectors:
            return {}
        connector = case((_TRACE.stage == "push", _ORDER.node), else_=_ORDER.shop)
        query = (
            select(connector.label("connector"), _TRACE.message)
            .join(t.orders, and_(_ORDER.id == _TRACE.order_id, _ORDER.tenant == _TRACE.tenant))
            .where(
                _TRACE.tenant == self.tenant,
                _TRACE.at >= since,
                _TRACE.status.in_(FAILED),
                _TRACE.latency_ms.is_not(None),
            )
            .order_by(_TRACE.id.desc())
            .limit(200)
        )
        found: dict[str, str] = {}
        for row in self.conn.execute(query):
            found.setdefault(row.connector, row.message)
        return found
