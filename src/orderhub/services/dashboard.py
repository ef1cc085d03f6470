"""What the console's first page shows: today's orders, the flow, and what needs a person.

Everything is counted in the database for the person looking, within their shops, so
the page costs a few grouped queries however many orders the store holds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.domain.access import Principal
from orderhub.services.hub import Hub
from orderhub.services.sla import late_counts
from orderhub.store.calls import CallTally

__all__ = ["connection_health", "dashboard", "percentile", "push_latency"]

MINUTES = 60
LOW_STOCK_SHOWN = 20


def dashboard(hub: Hub, who: Principal) -> dict[str, Any]:
    """Orders today by shop and stage, orders per minute over the last hour, open
    exceptions by code, the job backlog, orders at risk of shipping late, how long
    orders take from arrival to the warehouse, each connection's health, and the stock
    at or below its low-stock threshold."""
    zone = ZoneInfo(hub.settings.timezone)
    now = datetime.now(UTC)
    midnight = datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)
    hour_ago = now - timedelta(minutes=MINUTES)
    with hub.reader() as uow:
        today = uow.orders.count_by_shop_and_status(since=midnight)
        arrivals = uow.orders.arrival_times(hour_ago, who.shops)
        exceptions = uow.exceptions.open_by_code(who.shops)
        backlog = uow.outbox.depth()
        delays = uow.calls.push_delays(now - timedelta(days=1), who.shops)
        day = uow.calls.tallies(now - timedelta(days=1), who.shops)
        hour = {x.connector: x for x in uow.calls.tallies(hour_ago, who.shops)}
        shops = {s.code for s in uow.catalog.shops()}
        nodes = {n.code: n for n in uow.catalog.nodes()}
        low = uow.stock.below_threshold(limit=LOW_STOCK_SHOWN)
    per_minute = Counter(
        min(int((at - hour_ago).total_seconds() // 60), MINUTES - 1) for at in arrivals
    )
    return {
        "as_of": now.isoformat(),
        "orders_today": {
            shop: counts for shop, counts in sorted(today.items()) if who.sees_shop(shop)
        },
        "orders_per_minute": [per_minute.get(i, 0) for i in range(MINUTES)],
        "open_exceptions": dict(sorted(exceptions.items(), key=lambda kv: -kv[1])),
        "jobs": [
            {"kind": kind, "status": status, "count": n}
            for (kind, status), n in sorted(backlog.items())
            if status in ("pending", "running", "dead")
        ],
        "late": late_counts(hub, who.shops),
        "push_latency": push_latency(delays, hour_ago),
        "low_stock": [
            {
                "node": level.node,
                "sku": level.sku,
                "available": level.available,
                "threshold": threshold,
            }
            for level, threshold in low
            if level.node in nodes and not nodes[level.node].location.get("unlimited_stock")
        ],
        "connections": [
            connection_health(x, hour.get(x.connector), "shop" if x.connector in shops else "node")
            for x in sorted(day, key=lambda x: x.connector)
        ],
    }


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value at or above `share` of them."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def push_latency(
    delays: Sequence[tuple[str, datetime, datetime]], hour_ago: datetime
) -> list[dict[str, Any]]:
    """Per shop: seconds from an order's arrival to its warehouse accepting it, p50
    and p95 over the last hour and the last day."""
    by_shop: dict[str, list[tuple[datetime, float]]] = {}
    for shop, arrived, pushed in delays:
        by_shop.setdefault(shop, []).append((pushed, (pushed - arrived).total_seconds()))
    rows = []
    for shop, seen in sorted(by_shop.items()):
        day = [s for _, s in seen]
        hour = [s for at, s in seen if at >= hour_ago]
        rows.append(
            {
                "shop": shop,
                "hour": {
                    "orders": len(hour),
                    "p50": percentile(hour, 0.5),
                    "p95": percentile(hour, 0.95),
                },
                "day": {
                    "orders": len(day),
                    "p50": percentile(day, 0.5),
                    "p95": percentile(day, 0.95),
                },
            }
        )
    return rows


def connection_health(day: CallTally, hour: CallTally | None, kind: str) -> dict[str, Any]:
    """A connector's calls: the error rate over the last hour, the last success and
    failure, and whether the platform is limiting our rate (its last failure said so)."""
    calls, failed = (hour.calls, hour.failed) if hour else (0, 0)
    failing_now = hour is not None and hour.failed > 0
    return {
        "connector": day.connector,
        "kind": kind,
        "calls_hour": calls,
        "failed_hour": failed,
        "error_rate": round(failed / calls, 4) if calls else None,
        "failed_day": day.failed,
        "last_success": day.last_success.isoformat() if day.last_success else None,
        "last_failure": day.last_failure.isoformat() if day.last_failure else None,
        "last_error": day.last_error,
        "rate_limited": failing_now and "rate limited" in day.last_error.lower(),
    }
