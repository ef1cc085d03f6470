"""What the demo stack counts: orders placed, received, at the warehouse, shipped and
confirmed, per shop and in all; stock per node; and whether everything has settled.

Counted on both sides, the emulators' and the hub's, so a number that differs says where
an order was lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orderhub.services import queries
from orderhub.services.alerts import JOB_ALERT_DIGEST
from orderhub.services.inventory import JOB_RECONCILE
from orderhub.services.keeping import JOB_RETENTION
from orderhub.services.node_polls import JOB_NODE_POLL
from orderhub.services.sla import JOB_SLA_SCAN
from orderhub.services.sync import JOB_PULL
from orderhub.services.tracking import JOB_TRACKING_SCAN

if TYPE_CHECKING:
    from orderhub.sandbox.fourpx import FourpxEmulator
    from orderhub.sandbox.k3cloud import K3CloudEmulator
    from orderhub.sandbox.qimen import QimenEmulator
    from orderhub.sandbox.shopify import ShopifyEmulator
    from orderhub.services.hub import Hub

__all__ = ["HOUSEKEEPING", "StackFigures"]

HOUSEKEEPING = (
    JOB_ALERT_DIGEST,
    JOB_SLA_SCAN,
    JOB_PULL,
    JOB_RECONCILE,
    JOB_RETENTION,
    JOB_NODE_POLL,
    JOB_TRACKING_SCAN,
)
"""Periodic jobs that wait for their next turn: pending, they leave nothing unsettled."""
_SHIPPED = ("partially_shipped", "shipped", "completed", "returning", "returned")


def _consigned(emulator: Any) -> int:
    """Trades a marketplace shows as sent with a tracking number."""
    if hasattr(emulator, "consigned"):
        return int(emulator.consigned())
    orders = emulator.orders().values()
    sent = ("consign_time", "shipments", "tracking_number")  # Taobao/JD, Amazon, Pinduoduo
    return sum(1 for order in orders if any(order.get(key) for key in sent))


class StackFigures:
    """The counting half of `Stack`."""

    hub: Hub
    shops: dict[str, ShopifyEmulator]
    warehouses: dict[str, QimenEmulator]
    fourpx: FourpxEmulator | None
    marketplaces: dict[str, Any]
    erp: K3CloudEmulator | None

    def placed(self) -> int:
        shopify = sum(int(e.stats()["orders_placed"]) for e in self.shops.values())
        return shopify + sum(len(e.orders()) for e in self.marketplaces.values())

    def webhooks_settled(self) -> bool:
        for emulator in self.shops.values():
            counts = emulator.stats()["webhooks"]
            if counts.get("pending", 0):
                return False
        return True

    def summary(self) -> dict[str, Any]:
        """What happened, counted on both sides: the emulators' and the hub's."""
        stats = queries.hub_stats(self.hub)
        orders = stats["orders"]
        return {
            "placed": self.placed(),
            "received": sum(orders.values()),
            "pushed_to_warehouse": sum(
                int(wms.stats().get("distinct_orders", 0)) for wms in self.warehouses.values()
            )
            + (int(self.fourpx.stats()["distinct_orders"]) if self.fourpx else 0),
            "shipped": stats["shipments"],
            "confirmed_to_channel": sum(int(e.stats()["fulfillments"]) for e in self.shops.values())
            + sum(_consigned(e) for e in self.marketplaces.values()),
            "completed": orders.get("completed", 0),
            "held": orders.get("held", 0),
            "cancelled": orders.get("cancelled", 0),
            "exceptions": stats["open_exceptions"],
            "oversold": stats["oversold"],
            "listed_stock": {
                **{code: e.inventory_by_sku() for code, e in self.shops.items()},
                **{code: e.stock() for code, e in self.marketplaces.items()},
            },
            "by_shop": self.by_shop(),
            "stock_at_nodes": self.stock_at_nodes(),
            **({"booked_in_erp": self.erp.stats()["documents"]} if self.erp else {}),
        }

    def stock_at_nodes(self) -> dict[str, dict[str, int]]:
        """One stock view: units available to sell per node and SKU, from the hub's ledger."""
        found: dict[str, dict[str, int]] = {}
        for level in queries.stock_view(self.hub)["levels"]:
            found.setdefault(str(level["node"]), {})[str(level["sku"])] = int(level["available"])
        return found

    def by_shop(self) -> dict[str, dict[str, int]]:
        """Per shop: placed there, received by the hub, at the warehouse, shipped, confirmed
        back to the shop, and held."""
        counts = queries.orders_by_shop(self.hub)
        found = {}
        for code, emulator in {**self.shops, **self.marketplaces}.items():
            mine = counts.get(code, {})
            shopify = code in self.shops
            found[code] = {
                "placed": int(emulator.stats()["orders_placed"])
                if shopify
                else len(emulator.orders()),
                "received": sum(mine.values()),
                "pushed": sum(mine.get(s, 0) for s in ("pushed", *_SHIPPED)),
                "shipped": sum(mine.get(s, 0) for s in _SHIPPED),
                "confirmed": int(emulator.stats()["fulfillments"])
                if shopify
                else _consigned(emulator),
                "held": mine.get("held", 0),
            }
        return found

    def settled(self) -> bool:
        """Every placed order is in the hub and nothing is left to do for them: periodic
        housekeeping (the alert digest, scans) waiting for its next turn does not count."""
        stats = queries.hub_stats(self.hub)
        orders = stats["orders"]
        with self.hub.reader() as uow:
            busy = uow.outbox.busy_count(excluding=HOUSEKEEPING)
        in_flight = sum(
            orders.get(s, 0)
            for s in (
                "received",
                "reserved",
                "pushed",
                "partially_shipped",
                "shipped",
                "cancelling",
                "returning",
            )
        )
        return (
            sum(orders.values()) + stats["inbox"].get("failed", 0) >= self.placed()
            and busy == 0
            and in_flight == 0
            and self.webhooks_settled()
        )
