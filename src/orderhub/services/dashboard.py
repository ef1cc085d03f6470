"""What the console's first page shows: today's orders, the flow, and what needs a person.

Everything is counted in the database for the person looking, within their shops, so
the page costs a few grouped queries however many orders the store holds.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.domain.access import Principal
from orderhub.services.hub import Hub
from orderhub.services.sla import late_counts

__all__ = ["dashboard"]

MINUTES = 60


def dashboard(hub: Hub, who: Principal) -> dict[str, Any]:
    """Orders today by shop and stage, orders per minute over the last hour, open
    exceptions by code, the job backlog, and orders at risk of shipping late."""
    zone = ZoneInfo(hub.settings.timezone)
    now = datetime.now(UTC)
    midnight = datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)
    hour_ago = now - timedelta(minutes=MINUTES)
    with hub.reader() as uow:
        today = uow.orders.count_by_shop_and_status(since=midnight)
        arrivals = uow.orders.arrival_times(hour_ago, who.shops)
        exceptions = uow.exceptions.open_by_code(who.shops)
        backlog = uow.outbox.depth()
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
    }
