"""Ship-by SLA: find open orders near or past their ship-by time, alert and trace them.

The scan reads only the orders due within the at-risk horizon (one indexed query), so it
costs the same with a million shipped orders as with none. Each order alerts once per
state (`sla_at_risk:<id>`, then `sla_overdue:<id>`); the digest groups them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from orderhub.domain.alerts import Alert
from orderhub.domain.masking import mask_name
from orderhub.domain.sla import OPEN_STATUSES, SlaState, sla_state
from orderhub.services.alerts import raise_alert
from orderhub.services.hub import Hub
from orderhub.store.outbox import Job
from orderhub.store.sla import DueOrder

__all__ = [
    "JOB_SLA_SCAN",
    "LateOrder",
    "SlaReport",
    "late_counts",
    "late_orders",
    "scan_sla",
    "schedule_sla_scan",
    "sla_scan_job",
]

JOB_SLA_SCAN = "sla.scan"
# An order stays at risk or overdue for hours; alert on each state once a week at most.
ALERT_WINDOW = 7 * 86400.0
_OPEN = sorted(s.value for s in OPEN_STATUSES)


@dataclass(frozen=True)
class LateOrder:
    """An open order at risk of shipping late, or late already; personal data masked."""

    order_id: str
    shop: str
    channel_order_id: str
    status: str
    node: str | None
    ship_by: datetime
    state: SlaState
    hours_left: float
    receiver: str = ""


@dataclass(frozen=True)
class SlaReport:
    """What one scan found; `alerted` counts the orders alerted for the first time."""

    at_risk: list[LateOrder] = field(default_factory=list)
    overdue: list[LateOrder] = field(default_factory=list)
    alerted: int = 0


def _late(row: DueOrder, now: datetime, at_risk_before: timedelta) -> LateOrder | None:
    state = sla_state(row.status, row.ship_by, now, at_risk_before=at_risk_before)
    if state is None or state == "ok":
        return None
    hours = round((row.ship_by - now).total_seconds() / 3600, 1)
    return LateOrder(
        row.id, row.shop, row.channel_order_id, row.status, row.node, row.ship_by, state, hours
    )


def _message(late: LateOrder) -> str:
    where = f" at {late.node}" if late.node else ""
    which = f"order {late.channel_order_id} ({late.shop}, {late.status}{where})"
    due = f"{late.ship_by:%Y-%m-%d %H:%M} UTC"
    if late.state == "overdue":
        return f"{which} missed ship-by {due}"
    return f"{which} must ship by {due}, in {late.hours_left} h"


def scan_sla(hub: Hub, now: datetime | None = None) -> SlaReport:
    """Alert on and trace every open order at risk or overdue, in one transaction."""
    moment = now or datetime.now(UTC)
    horizon = timedelta(hours=hub.settings.sla_at_risk_hours)
    at_risk: list[LateOrder] = []
    overdue: list[LateOrder] = []
    alerted = 0
    with hub.uow() as uow:
        for row in uow.sla.due_before(moment + horizon, statuses=_OPEN):
            late = _late(row, moment, horizon)
            if late is None:
                continue
            (overdue if late.state == "overdue" else at_risk).append(late)
            message = _message(late)
            alert = Alert(
                f"sla_{late.state}",
                f"sla_{late.state}:{late.order_id}",
                message,
                "error" if late.state == "overdue" else "warning",
                {
                    "order_id": late.order_id,
                    "shop": late.shop,
                    "channel_order_id": late.channel_order_id,
                    "status": late.status,
                    "node": late.node,
                    "ship_by": late.ship_by.isoformat(),
                },
            )
            if raise_alert(uow, alert, window=ALERT_WINDOW, now=moment):
                alerted += 1
                uow.orders.trace(late.order_id, "sla", late.state, message)
        uow.commit()
    return SlaReport(at_risk, overdue, alerted)


def late_counts(hub: Hub, shops: frozenset[str] = frozenset()) -> dict[str, int]:
    """How many open orders are at risk and how many overdue (within `shops`, when
    given), without reading anyone's personal data."""
    moment = datetime.now(UTC)
    horizon = timedelta(hours=hub.settings.sla_at_risk_hours)
    counts = {"at_risk": 0, "overdue": 0}
    with hub.reader() as uow:
        for row in uow.sla.due_before(moment + horizon, statuses=_OPEN):
            late = _late(row, moment, horizon)
            if late is not None and (not shops or row.shop in shops):
                counts[late.state] += 1
    return counts


def late_orders(hub: Hub, now: datetime | None = None) -> list[LateOrder]:
    """Open orders at risk or overdue, most urgent first, with the receiver masked."""
    moment = now or datetime.now(UTC)
    horizon = timedelta(hours=hub.settings.sla_at_risk_hours)
    found = []
    with hub.reader() as uow:
        for row in uow.sla.due_before(moment + horizon, statuses=_OPEN):
            late = _late(row, moment, horizon)
            if late is not None:
                receiver = uow.orders.get(row.id).receiver
                masked = f"{mask_name(receiver.name)}, {receiver.city} {receiver.country}"
                found.append(LateOrder(**{**late.__dict__, "receiver": masked.strip(", ")}))
    return found


def schedule_sla_scan(hub: Hub, *, slot: int) -> None:
    """Queue the scan for this time slot (a second scheduler's copy is dropped)."""
    with hub.uow() as uow:
        uow.outbox.add(JOB_SLA_SCAN, {}, key=f"sla:{uow.tenant}:{slot}")
        uow.commit()


def sla_scan_job(hub: Hub, job: Job) -> None:
    scan_sla(hub)
