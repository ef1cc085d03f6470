"""Drop-ship suppliers: purchase orders as sheets for suppliers with no API, their
shipment sheets back in, and how each supplier performs.

A sheet the supplier sends back is stored before it is read, like every inbound payload;
a row that cannot be used becomes an exception naming its row, and the rest still ships.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from orderhub.connectors.supplier_file import export_purchase_orders, parse_shipment_file
from orderhub.domain.errors import OrderhubError
from orderhub.domain.suppliers import supplier_score
from orderhub.services.delivery import outbound_order
from orderhub.services.hub import Hub
from orderhub.services.routing import supplier_performance
from orderhub.services.shipping import apply_shipment

__all__ = [
    "PurchaseOrderSheet",
    "ShipmentSheet",
    "SupplierView",
    "export_sheet",
    "import_sheet",
    "supplier_views",
]

FILE_PLATFORM = "supplier_file"


@dataclass(frozen=True)
class PurchaseOrderSheet:
    """Purchase orders written to one sheet, now marked as sent."""

    node: str
    purchase_orders: list[str]
    data: bytes
    not_ready: list[str] = field(default_factory=list)  # still in their merge window


@dataclass(frozen=True)
class ShipmentSheet:
    """What a supplier's sheet brought: parcels applied, rows that could not be used."""

    node: str
    inbox_id: str
    duplicate: bool
    parcels: int
    orders: list[str]
    problems: list[str]


@dataclass(frozen=True)
class SupplierView:
    """One supplier's last 30 days, and the score routing gives it."""

    node: str
    pushed: int
    acknowledged: int
    shipped: int
    failed: int
    ack_hours: float | None
    ship_hours: float | None
    score: float | None


def _file_supplier(hub: Hub, node_code: str) -> None:
    with hub.reader() as uow:
        node = uow.catalog.node(node_code)
    if node.platform != FILE_PLATFORM:
        raise OrderhubError(f"node {node_code} is not a file supplier (it is {node.platform})")


def export_sheet(
    hub: Hub, node_code: str, *, fmt: Literal["csv", "xlsx"] = "xlsx"
) -> PurchaseOrderSheet:
    """Every purchase order of the supplier not sent yet, as one sheet; they count as
    sent from now on (an intercept then needs the supplier's word)."""
    _file_supplier(hub, node_code)
    with hub.uow() as uow:
        ids = uow.dispatches.waiting_export(node_code)
        dispatches = [d for d in (uow.dispatches.get(i) for i in ids) if d is not None]
        outbound = []
        for dispatch in dispatches:
            orders = {oid: uow.orders.get(oid) for oid in dispatch.order_ids}
            recipes = uow.catalog.bundles(sorted({line.sku for line in dispatch.lines}))
            outbound.append(outbound_order(dispatch, orders, recipes))
            for order_id in dispatch.order_ids:
                uow.orders.trace(
                    order_id, "export", "ok", f"{dispatch.id} on a sheet for {node_code}"
                )
        data = export_purchase_orders(outbound, fmt)
        uow.dispatches.mark_exported([d.id for d in dispatches])
        not_ready = uow.dispatches.pending_at(node_code)
        uow.commit()
    return PurchaseOrderSheet(node_code, [d.id for d in dispatches], data, not_ready)


def import_sheet(hub: Hub, node_code: str, data: bytes, filename: str) -> ShipmentSheet:
    """Store the supplier's sheet, then apply every parcel on it in one transaction.

    The same file twice is recognised and applied once.
    """
    _file_supplier(hub, node_code)
    digest = hashlib.sha256(data).hexdigest()
    with hub.uow() as uow:
        inbox_id, new = uow.inbox.add(
            shop=node_code,
            source="file",
            topic="shipments",
            dedup_key=f"sheet:{node_code}:{digest}",
            body=data,
            headers={"filename": filename},
        )
        uow.commit()
    if not new:
        return ShipmentSheet(node_code, inbox_id, True, 0, [], [])
    with hub.uow() as uow:
        try:
            shipments, problems = parse_shipment_file(data, filename)
        except ValueError as exc:
            uow.exceptions.open(
                stage="import",
                code="unreadable_sheet",
                message=f"the shipment sheet {filename} from {node_code} is unreadable: {exc}",
                inbox_id=inbox_id,
            )
            uow.inbox.mark(inbox_id, "failed", error=str(exc))
            uow.commit()
            raise OrderhubError(f"{filename}: {exc}") from exc
        orders = []
        for shipment in shipments:
            order_id = apply_shipment(uow, node_code, shipment)
            if order_id:
                orders.append(order_id)
        for problem in problems:
            uow.exceptions.open(
                stage="import",
                code="bad_sheet_row",
                message=f"{filename} from {node_code}: {problem}",
                inbox_id=inbox_id,
            )
        uow.inbox.mark(inbox_id, "processed", error="; ".join(problems) or None)
        uow.commit()
    return ShipmentSheet(node_code, inbox_id, False, len(shipments), orders, problems)


def supplier_views(hub: Hub) -> list[SupplierView]:
    """Every supplier with purchase orders in the last 30 days."""
    with hub.reader() as uow:
        performances = supplier_performance(uow)
    return [
        SupplierView(
            node=p.node,
            pushed=p.pushed,
            acknowledged=p.acknowledged,
            shipped=p.shipped,
            failed=p.failed,
            ack_hours=None if p.ack_seconds is None else round(p.ack_seconds / 3600, 2),
            ship_hours=None if p.ship_seconds is None else round(p.ship_seconds / 3600, 2),
            score=supplier_score(p),
        )
        for p in performances
    ]
