"""Reports a manager opens: sales, fulfilment, stock and suppliers, for a span of days.

Each report is a table (`Report`: its columns and rows) read from the figures kept as
orders change (`store/report_figures.py`), so a year of a million orders is a few
thousand rows summed. A person limited to some shops sees only theirs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.domain.access import Principal
from orderhub.domain.errors import OrderhubError
from orderhub.domain.suppliers import supplier_score
from orderhub.services.hub import Hub
from orderhub.services.routing import supplier_performance
from orderhub.store.report_figures import bucket_seconds
from orderhub.store.uow import UnitOfWork

__all__ = ["REPORTS", "SALES_GROUPS", "Report", "report"]

SALES_GROUPS = ("day", "shop", "sku", "node")
FULFILMENT_GROUPS = ("day", "shop", "node")
LONGEST_SPAN = timedelta(days=3 * 366)


@dataclass
class Report:
    """A report as a table; `notes` say how to read it."""

    name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    start: date | None = None
    end: date | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "columns": self.columns,
            "rows": [{k: _plain(v) for k, v in row.items()} for row in self.rows],
            "notes": self.notes,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _today(hub: Hub) -> date:
    """The seller's today: reports count the seller's days."""
    return datetime.now(ZoneInfo(hub.settings.timezone)).date()


def _shops(uow: UnitOfWork, who: Principal) -> list[str] | None:
    if not who.shops:
        return None
    return [s.code for s in uow.catalog.shops() if who.sees_shop(s.code)]


def _span(start: date, end: date) -> None:
    if end < start:
        raise OrderhubError("to: the last day comes before the first")
    if end - start > LONGEST_SPAN:
        raise OrderhubError("to: a report covers at most three years")


def _groups(by: Sequence[str], allowed: Sequence[str]) -> list[str]:
    chosen = [b for b in dict.fromkeys(by) if b]
    wrong = [b for b in chosen if b not in allowed]
    if wrong or not chosen:
        raise OrderhubError(f"by: choose among {', '.join(allowed)}")
    return chosen


def sales(hub: Hub, start: date, end: date, *, by: Sequence[str], who: Principal) -> Report:
    """Orders, units, revenue, discounts, refunds and what is left (net)."""
    _span(start, end)
    groups = _groups(by, SALES_GROUPS)
    with hub.reader() as uow:
        shops = _shops(uow, who)
        rows = uow.figures.sales(start, end, by=groups, shops=shops)
        order_counts: dict[tuple[Any, ...], dict[str, Any]] = {}
        if set(groups) <= {"day", "shop"}:
            for row in uow.figures.orders(start, end, by=groups, shops=shops):
                order_counts[tuple(row[g] for g in groups)] = row
    out = []
    for row in rows:
        counts = order_counts.get(tuple(row[g] for g in groups))
        revenue, cancelled = Decimal(row["revenue"] or 0), Decimal(row["cancelled_revenue"] or 0)
        discounts, refunds = Decimal(row["discounts"] or 0), Decimal(row["refunds"] or 0)
        out.append(
            {
                **{g: row[g] for g in groups},
                "orders": int(counts["orders"]) if counts else int(row["lines"] or 0),
                "units": int(row["units"] or 0),
                "revenue": revenue,
                "discounts": discounts,
                "refunds": refunds,
                "cancelled_units": int(row["cancelled_units"] or 0),
                "cancelled_revenue": cancelled,
                "net": revenue - discounts - refunds - cancelled,
            }
        )
    columns = [*groups, "orders", "units", "revenue", "discounts", "refunds"]
    columns += ["cancelled_units", "cancelled_revenue", "net"]
    notes = ["Days are the seller's days the orders were placed on."]
    if not set(groups) <= {"day", "shop"}:
        notes.append("By SKU or node, orders counts the order lines of each.")
    return Report("sales", columns, out, start, end, notes)


def _percentile(buckets: Mapping[int, int], share: float) -> float | None:
    total = sum(buckets.values())
    if not total:
        return None
    wanted, seen = share * total, 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= wanted:
            return round(bucket_seconds(bucket) / 3600, 2)
    return None


def fulfilment(hub: Hub, start: date, end: date, *, by: Sequence[str], who: Principal) -> Report:
    """Hours from payment to the warehouse and to the parcel leaving (p50, p95), late
    shipments against ship-by, cancellations."""
    _span(start, end)
    groups = _groups(by, FULFILMENT_GROUPS)
    with hub.reader() as uow:
        shops = _shops(uow, who)
        times = uow.figures.times(start, end, by=groups, shops=shops)
        count_groups = [g for g in groups if g != "node"]
        counts = {
            tuple(r[g] for g in count_groups): r
            for r in (
                uow.figures.orders(start, end, by=count_groups, shops=shops) if count_groups else []
            )
        }
    histograms: dict[tuple[Any, ...], dict[str, dict[int, int]]] = {}
    for row in times:
        key = tuple(row[g] for g in groups)
        histograms.setdefault(key, {}).setdefault(row["measure"], {})[row["bucket"]] = int(
            row["count"]
        )
    keys = sorted(set(histograms) | {k for k in counts if "node" not in groups}, key=str)
    out = []
    for key in keys:
        named = dict(zip(groups, key, strict=True))
        measures = histograms.get(key, {})
        count = counts.get(tuple(named[g] for g in count_groups)) if "node" not in groups else None
        shipped = int(count["shipped"]) if count else sum(measures.get("to_ship", {}).values())
        late = int(count["shipped_late"]) if count else None
        out.append(
            {
                **named,
                "to_node_p50_h": _percentile(measures.get("to_node", {}), 0.5),
                "to_node_p95_h": _percentile(measures.get("to_node", {}), 0.95),
                "to_ship_p50_h": _percentile(measures.get("to_ship", {}), 0.5),
                "to_ship_p95_h": _percentile(measures.get("to_ship", {}), 0.95),
                "shipped": shipped,
                "shipped_late": late,
                "late_rate": round(late / shipped, 4) if late is not None and shipped else None,
                "cancelled": int(count["cancelled"]) if count else None,
            }
        )
    columns = [*groups, "to_node_p50_h", "to_node_p95_h", "to_ship_p50_h", "to_ship_p95_h"]
    columns += ["shipped", "shipped_late", "late_rate", "cancelled"]
    notes = [
        "Hours are read from buckets a quarter wide: within about 12% of the exact figure.",
        "Delivery times appear once carriers report deliveries.",
    ]
    return Report("fulfilment", columns, out, start, end, notes)


def exceptions(hub: Hub, start: date, end: date, *, who: Principal) -> Report:
    """Exceptions raised in the span, by code: how many, still open, hours open."""
    _span(start, end)
    since = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    with hub.reader() as uow:
        if who.shops:
            return Report("exceptions", [], [], start, end, ["Shown to people with every shop."])
        rows = uow.figures.exceptions_raised(since, until)
    now = datetime.now(UTC)
    by_code: dict[str, list[Any]] = {}
    for row in rows:
        by_code.setdefault(row.code, []).append(row)
    out = []
    for code, found in sorted(by_code.items()):
        hours = [((r.resolved_at or now) - r.created_at).total_seconds() / 3600 for r in found]
        out.append(
            {
                "code": code,
                "raised": len(found),
                "open": sum(1 for r in found if r.status == "open"),
                "mean_hours_open": round(sum(hours) / len(hours), 2),
                "longest_hours_open": round(max(hours), 2),
            }
        )
    columns = ["code", "raised", "open", "mean_hours_open", "longest_hours_open"]
    return Report("exceptions", columns, out, start, end)


def stock(hub: Hub, *, days: int, who: Principal) -> Report:
    """Per SKU: on hand, sold in the last `days`, turnover, days of cover, value at cost,
    and whether it is dead stock (on hand, nothing sold)."""
    if not 1 <= days <= 366:
        raise OrderhubError("days: give 1 to 366")
    today = _today(hub)
    with hub.reader() as uow:
        shops = _shops(uow, who)
        sold = uow.figures.sold_since(today - timedelta(days=days - 1), shops)
        levels = uow.figures.stock_totals()
        skus = uow.catalog.skus()
    out = []
    for sku, on_hand, reserved in levels:
        units = sold.get(sku, 0)
        per_day = units / days
        cost = skus[sku].cost if sku in skus else None
        out.append(
            {
                "sku": sku,
                "on_hand": on_hand,
                "available": on_hand - reserved,
                "sold": units,
                "turnover": round(units / on_hand, 2) if on_hand else None,
                "days_of_cover": round((on_hand - reserved) / per_day, 1) if per_day else None,
                "cost": cost,
                "value": None if cost is None else (cost * on_hand).quantize(Decimal("0.01")),
                "dead": on_hand > 0 and units == 0,
            }
        )
    columns = ["sku", "on_hand", "available", "sold", "turnover", "days_of_cover"]
    columns += ["cost", "value", "dead"]
    notes = [f"Sold: units of orders placed in the last {days} days, less cancellations."]
    return Report("stock", columns, out, today - timedelta(days=days - 1), today, notes)


def suppliers(hub: Hub, *, who: Principal) -> Report:
    """Each drop-ship supplier over 30 days: acknowledgement and shipping hours, failures,
    defective returns, and its score."""
    with hub.reader() as uow:
        performances = supplier_performance(uow)
        returned = uow.figures.returns_received(datetime.now(UTC) - timedelta(days=30))
    defective: dict[str, int] = {}
    for node, restock in returned:
        written_off = (json.loads(restock) or {}).get("written_off") or {}
        defective[node] = defective.get(node, 0) + sum(int(q) for q in written_off.values())
    out = [
        {
            "supplier": p.node,
            "purchase_orders": p.pushed,
            "acknowledged": p.acknowledged,
            "shipped": p.shipped,
            "failed": p.failed,
            "ack_hours": None if p.ack_seconds is None else round(p.ack_seconds / 3600, 2),
            "ship_hours": None if p.ship_seconds is None else round(p.ship_seconds / 3600, 2),
            "defective_units": defective.get(p.node, 0),
            "score": supplier_score(p),
        }
        for p in performances
    ]
    columns = ["supplier", "purchase_orders", "acknowledged", "shipped", "failed"]
    columns += ["ack_hours", "ship_hours", "defective_units", "score"]
    today = _today(hub)
    return Report("suppliers", columns, out, today - timedelta(days=29), today)


REPORTS = ("sales", "fulfilment", "exceptions", "stock", "suppliers")


def report(
    hub: Hub,
    name: str,
    *,
    who: Principal,
    start: date | None = None,
    end: date | None = None,
    by: Sequence[str] = ("day",),
    days: int = 30,
) -> Report:
    """One report by name, for the CLI and the API alike."""
    today = _today(hub)
    first, last = start or today - timedelta(days=29), end or today
    if name == "sales":
        return sales(hub, first, last, by=by, who=who)
    if name == "fulfilment":
        return fulfilment(hub, first, last, by=by, who=who)
    if name == "exceptions":
        return exceptions(hub, first, last, who=who)
    if name == "stock":
        return stock(hub, days=days, who=who)
    if name == "suppliers":
        return suppliers(hub, who=who)
    raise OrderhubError(f"no report {name!r}; choose {', '.join(REPORTS)}")
