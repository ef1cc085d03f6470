"""Keeping the hub's stock true to the warehouses: adjustments, stocktakes, reconciliation,
stock reports from the warehouse, low-stock alerts and replenishment suggestions."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orderhub.connectors.base import ConnectorError, StockChange
from orderhub.domain.alerts import Alert
from orderhub.domain.errors import OrderhubError
from orderhub.domain.order import OrderStatus
from orderhub.services.alerts import raise_alert
from orderhub.services.hub import Hub
from orderhub.services.pipeline import schedule_stock_push, stock_arrived
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_RECONCILE",
    "Difference",
    "Replenishment",
    "adjust_stock",
    "apply_stock_changes",
    "apply_stocktake",
    "check_low_stock",
    "read_counts",
    "reconcile_node",
    "replenishment",
    "stocktake_preview",
]

JOB_RECONCILE = "node.reconcile"


class StocktakeFileError(OrderhubError):
    """A stocktake file that cannot be read; the message names the row."""


@dataclass(frozen=True)
class Difference:
    """The hub's count against another count of the same stock."""

    node: str
    sku: str
    hub: int
    counted: int

    @property
    def delta(self) -> int:
        return self.counted - self.hub


def _changed(uow: UnitOfWork, hub: Hub, increased: set[str], touched: set[str]) -> None:
    schedule_stock_push(uow, touched, window=hub.settings.stock_push_window)
    if increased:
        stock_arrived(uow, increased)


MAX_ADJUSTMENT = 1_000_000
"""Units one hand adjustment may add or remove: far beyond any real correction."""


def _known(uow: UnitOfWork, node: str, skus: Sequence[str]) -> None:
    """Refuse a node or SKUs the hub does not know, in one sentence."""
    uow.catalog.node(node)
    unknown = sorted(set(skus) - uow.catalog.known_skus(sorted(set(skus))))
    if unknown:
        shown = ", ".join(repr(s) for s in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise OrderhubError(
            f"unknown SKU {shown}: add it to the configuration (skus) before counting it"
        )


def adjust_stock(hub: Hub, node: str, sku: str, delta: int, *, reason: str) -> None:
    """Change on-hand stock by hand, with a reason for the ledger."""
    if not reason.strip():
        raise OrderhubError("an adjustment needs a reason")
    if not sku.strip():
        raise OrderhubError("an adjustment needs a SKU")
    if delta == 0 or abs(delta) > MAX_ADJUSTMENT:
        raise OrderhubError(
            f"an adjustment of {delta:+d} is refused: give a change between 1 and "
            f"{MAX_ADJUSTMENT:,} units either way"
        )
    with hub.uow() as uow:
        _known(uow, node, [sku])
        current = uow.stock.level(node, sku)
        if (current.on_hand if current else 0) + delta < 0:
            raise OrderhubError(f"{sku} at {node} would go below zero on hand")
        uow.stock.adjust(node, sku, delta, kind="adjustment", reason=reason)
        _changed(uow, hub, {sku} if delta > 0 else set(), {sku})
        uow.commit()


SKU_HEADERS = ("sku", "商品编码", "sku编码", "货号", "商家编码", "编码", "item code")
QUANTITY_HEADERS = (
    "quantity",
    "counted",
    "on_hand",
    "数量",
    "实盘数量",
    "盘点数量",
    "库存",
    "实际库存",
)
"""Column names accepted in a stocktake sheet, English and Chinese, in order of preference."""


def read_counts(path: Path) -> dict[str, int]:
    """SKU → counted quantity from a CSV or Excel file with columns `sku` and `quantity`."""
    if not path.exists():
        raise StocktakeFileError(f"{path} does not exist")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from zipfile import BadZipFile

        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (BadZipFile, InvalidFileException, KeyError, OSError) as exc:
            raise StocktakeFileError(f"{path} is not an Excel workbook") from exc
        try:
            sheet = book.active
            if sheet is None:
                raise StocktakeFileError(f"{path} has no sheet")
            rows = [
                ["" if v is None else str(v) for v in row]
                for row in sheet.iter_rows(values_only=True)
            ]
        finally:
            book.close()
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")  # Excel on a Chinese Windows saves CSV as GBK
            except UnicodeDecodeError as exc:
                raise StocktakeFileError(
                    f"{path} is neither UTF-8 nor GBK text; save it as CSV or an Excel workbook"
                ) from exc
        rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise StocktakeFileError(f"{path} is empty")
    header = [h.strip().lower() for h in rows[0]]
    sku_col = next((header.index(n) for n in SKU_HEADERS if n in header), None)
    qty_col = next((header.index(n) for n in QUANTITY_HEADERS if n in header), None)
    if sku_col is None or qty_col is None:
        raise StocktakeFileError(
            f"{path}: the first row must name the columns sku and quantity (or 商品编码 and 数量)"
        )
    counts: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        sku = row[sku_col].strip() if sku_col < len(row) else ""
        raw = row[qty_col].strip() if qty_col < len(row) else ""
        if not sku:
            raise StocktakeFileError(f"{path}: row {number} has no SKU")
        try:
            quantity = int(float(raw))
        except (ValueError, OverflowError) as exc:
            raise StocktakeFileError(f"{path}: row {number}: {raw!r} is not a quantity") from exc
        if quantity < 0 or quantity != float(raw):
            raise StocktakeFileError(f"{path}: row {number}: {raw!r} is not a whole count")
        if sku in counts:
            raise StocktakeFileError(f"{path}: row {number}: {sku} is counted twice")
        counts[sku] = quantity
    return counts


def stocktake_preview(hub: Hub, node: str, counts: Mapping[str, int]) -> list[Difference]:
    """Every SKU whose count differs from the hub's, before anything is changed."""
    with hub.reader() as uow:
        _known(uow, node, list(counts))
        levels = {x.sku: x.on_hand for x in uow.stock.levels(nodes=[node])}
    return [
        Difference(node, sku, levels.get(sku, 0), counted)
        for sku, counted in sorted(counts.items())
        if levels.get(sku, 0) != counted
    ]


def apply_stocktake(
    hub: Hub, node: str, counts: Mapping[str, int], *, reason: str
) -> list[Difference]:
    """Set on-hand stock to the counts; each difference is a stocktake row in the ledger."""
    differences = stocktake_preview(hub, node, counts)
    with hub.uow() as uow:
        for diff in differences:
            uow.stock.set_on_hand(node, diff.sku, diff.counted, reason=reason)
        _changed(
            uow, hub, {d.sku for d in differences if d.delta > 0}, {d.sku for d in differences}
        )
        uow.commit()
    return differences


def apply_stock_changes(
    hub: Hub, uow: UnitOfWork, node: str, changes: Sequence[StockChange]
) -> list[str]:
    """Stock changes the warehouse reported itself; shipments already counted are skipped."""
    applied = []
    for change in changes:
        if change.by_shipment or not change.delta:
            continue
        current = uow.stock.level(node, change.sku)
        delta = max(change.delta, -(current.on_hand if current else 0))
        uow.stock.adjust(
            node,
            change.sku,
            delta,
            kind="warehouse_report",
            reason=f"{change.kind} {change.reference}".strip(),
        )
        applied.append(change.sku)
    increased = {c.sku for c in changes if c.delta > 0 and not c.by_shipment}
    _changed(uow, hub, increased, set(applied))
    return applied


def _in_flight(uow: UnitOfWork, node: str) -> set[str]:
    """SKUs of orders the node has but has not confirmed shipped: their counts move."""
    moving = [OrderStatus.PUSHED, OrderStatus.CANCELLING, OrderStatus.SHIPPED]
    return uow.orders.skus_at_node(node, [status.value for status in moving])


def reconcile_node(hub: Hub, node_code: str, *, apply: bool = True) -> list[Difference]:
    """Compare the hub's on-hand stock with the warehouse's own count and correct it.

    The warehouse counts free plus locked stock; SKUs with shipments in flight are left
    for the next run, since their counts are moving. Differences at or above the
    configured size raise an alert.
    """
    with hub.reader() as uow:
        node = uow.catalog.node(node_code)
        levels = {x.sku: x.on_hand for x in uow.stock.levels(nodes=[node_code])}
        moving = _in_flight(uow, node_code)
    try:
        counted = hub.node(node).query_inventory(sorted(levels))
    except ConnectorError as exc:
        where = node.settings.get("base_url", "")
        raise NodeUnreachable(
            f"cannot reconcile {node_code}: the warehouse at {where} did not answer: {exc.message}"
        ) from exc
    differences = [
        Difference(node_code, item.sku, levels.get(item.sku, 0), item.quantity + item.locked)
        for item in counted
        if item.sku not in moving and levels.get(item.sku, 0) != item.quantity + item.locked
    ]
    if not apply:
        return differences
    with hub.uow() as uow:
        for diff in differences:
            uow.stock.set_on_hand(
                node_code, diff.sku, diff.counted, reason="reconciled with the warehouse's count"
            )
            if abs(diff.delta) >= hub.settings.stock_difference_alert:
                raise_alert(
                    uow,
                    Alert(
                        "stock_difference",
                        f"stock_difference:{node_code}:{diff.sku}",
                        f"{diff.sku} at {node_code}: hub had {diff.hub}, warehouse counts "
                        f"{diff.counted} ({diff.delta:+d})",
                        data={"node": node_code, "sku": diff.sku, "delta": diff.delta},
                    ),
                )
        _changed(
            uow, hub, {d.sku for d in differences if d.delta > 0}, {d.sku for d in differences}
        )
        uow.commit()
    return differences


def reconcile_job(hub: Hub, job: Job) -> None:
    try:
        reconcile_node(hub, str(job.payload["node"]))
    except NodeUnreachable as exc:
        # The worker retries a call that failed; the sentence is for people.
        raise exc.__cause__ or exc from None


class NodeUnreachable(OrderhubError):
    """A warehouse or supplier could not be asked; says which, where and why."""


@dataclass(frozen=True)
class Replenishment:
    """How much of a SKU to bring to a node, from what sells there."""

    node: str
    sku: str
    available: int
    daily_sales: float
    days_of_cover: float | None
    suggested: int
    low: bool


def replenishment(
    hub: Hub, *, lead_days: float = 7.0, cover_days: float = 14.0, history_days: int = 14
) -> list[Replenishment]:
    """Per node and SKU: sales per day over the history, days of cover left, and how
    much to order so stock lasts `cover_days` after a `lead_days` delivery time."""
    since = datetime.now(UTC) - timedelta(days=history_days)
    with hub.reader() as uow:
        unlimited = {n.code for n in uow.catalog.nodes() if n.location.get("unlimited_stock")}
        levels = [x for x in uow.stock.levels() if x.node not in unlimited]
        sold = uow.stock.shipped_since(since)
        records = uow.catalog.skus([x.sku for x in levels])
    rows = []
    for level in levels:
        daily = sold.get((level.node, level.sku), 0) / history_days
        cover = level.available / daily if daily else None
        threshold = records[level.sku].low_stock_threshold if level.sku in records else None
        low = (threshold is not None and level.available <= threshold) or (
            cover is not None and cover < hub.settings.low_stock_cover_days
        )
        # Enough for every day of lead time and cover: a part unit needed is a unit to order
        # (rounded to 9 places first, so float noise in an exact figure adds nothing).
        needed = math.ceil(round(daily * (lead_days + cover_days), 9))
        suggested = max(0, needed - level.available)
        rows.append(
            Replenishment(
                level.node,
                level.sku,
                level.available,
                round(daily, 2),
                None if cover is None else round(cover, 1),
                suggested,
                low,
            )
        )
    return rows


def check_low_stock(hub: Hub) -> list[Replenishment]:
    """Alert on every SKU and node that is low (threshold or days of cover)."""
    low = [r for r in replenishment(hub) if r.low]
    if low:
        with hub.uow() as uow:
            for r in low:
                raise_alert(
                    uow,
                    Alert(
                        "low_stock",
                        f"low_stock:{r.node}:{r.sku}",
                        f"{r.sku} at {r.node} is low: {r.available} available"
                        + (
                            f", {r.days_of_cover} days of cover"
                            if r.days_of_cover is not None
                            else ""
                        )
                        + f"; suggest ordering {r.suggested}",
                        data={
                            "node": r.node,
                            "sku": r.sku,
                            "available": r.available,
                            "suggested": r.suggested,
                        },
                    ),
                    window=86400,
                )
            uow.commit()
    return low


def schedule_reconciliation(hub: Hub, *, slot: int) -> None:
    """Queue one reconciliation per node for this time slot."""
    with hub.uow() as uow:
        for node in uow.catalog.nodes():
            uow.outbox.add(JOB_RECONCILE, {"node": node.code}, key=f"reconcile:{node.code}:{slot}")
        uow.commit()
