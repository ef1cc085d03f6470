"""What a batch of stored payloads reads at once, before its jobs run one by one.

Each new order needs to know whether it is stored already, whether its buyer is known,
whether that buyer placed an order lately, and the stock of its SKUs: four round trips
per order, one after another. A batch maps its payloads first, then asks each question
once for all of them; the jobs take the mapped orders and the answers from there.
"""

from __future__ import annotations

from datetime import timedelta

from orderhub.domain.order import Order
from orderhub.services.buyers import identifiers
from orderhub.services.hub import Hub
from orderhub.services.ingest import map_payload
from orderhub.services.messages import names_orders_only
from orderhub.services.pipeline import order_skus, shop_node_codes
from orderhub.services.returns import REFUND_TOPICS
from orderhub.store.uow import UnitOfWork

__all__ = ["read_payloads_ahead"]


def read_payloads_ahead(hub: Hub, uow: UnitOfWork, inbox_ids: list[str]) -> None:
    """Read and map these payloads, and ask about their orders and buyers, at once. A
    payload that cannot be read or mapped is left to its job, which records why."""
    items = uow.inbox.read_ahead(inbox_ids)
    orders: list[Order] = []
    for item in items:
        if item.status not in ("pending", "failed") or item.topic in REFUND_TOPICS:
            continue
        try:
            shop = uow.catalog.shop(item.shop)
            if names_orders_only(hub.channel(shop), item):
                continue
            mapped = map_payload(hub, shop, item)
        except Exception:  # the item's own job meets it again, and records it
            continue
        uow.inbox.mapped[item.id] = mapped
        orders.append(mapped[1])
    if not orders:
        return
    window = timedelta(seconds=hub.settings.duplicate_window)
    uow.orders.read_ahead(
        [(order.shop, order.channel_order_id) for order in orders],
        [(order.shop, uow.orders.buyer_key(order)) for order in orders],
        since=min(order.placed_at for order in orders) - window,
    )
    uow.buyers.read_ahead({uow.buyers.key(i) for order in orders for i in identifiers(order)})
    _read_levels_ahead(uow, orders)


def _read_levels_ahead(uow: UnitOfWork, orders: list[Order]) -> None:
    """The stock levels routing will ask for, for every order at once. A bundle's parts
    are not among them: an order with a bundle reads those when it is routed."""
    by_shop: dict[str, list[Order]] = {}
    for order in orders:
        by_shop.setdefault(order.shop, []).append(order)
    skus: set[str] = set()
    nodes: set[str] = set()
    for shop_code, shop_orders in by_shop.items():
        nodes.update(shop_node_codes(uow, uow.catalog.shop(shop_code)))
        for order in shop_orders:
            skus |= order_skus(uow, order)
    uow.stock.read_ahead(skus, nodes)
