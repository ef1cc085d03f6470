"""Read-only views for the API, the CLI and the demo; personal data masked by default."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from orderhub.domain.errors import NotFound, OrderhubError
from orderhub.domain.exceptions_catalog import allowed_actions, remedy
from orderhub.domain.masking import mask_address, mask_email, mask_name, mask_phone
from orderhub.domain.order import Order
from orderhub.services.hub import Hub
from orderhub.store.order_search import OrderFilter, OrderSummary
from orderhub.store.outbox import JobRow
from orderhub.store.records import ExceptionRecord

__all__ = [
    "AmbiguousOrder",
    "Page",
    "exception_list",
    "exception_view",
    "find_order_id",
    "hub_stats",
    "job_list",
    "ledger_mismatches",
    "mask_order",
    "order_list",
    "order_view",
    "queue_stats",
    "stock_view",
]


T = TypeVar("T")


def mask_order(order: Order) -> Order:
    """A copy of the order with names, phones, email and street lines masked."""
    masked = order.model_copy(deep=True)
    masked.buyer.name = mask_name(order.buyer.name)
    masked.buyer.email = mask_email(order.buyer.email)
    masked.buyer.phone = mask_phone(order.buyer.phone)
    masked.buyer.open_id = "*" * min(len(order.buyer.open_id), 8)
    for clear, r in (
        (order.receiver, masked.receiver),
        (order.receiver_latin, masked.receiver_latin),
    ):
        if clear is None or r is None:
            continue
        r.name = mask_name(clear.name)
        r.phone = mask_phone(clear.phone)
        r.address1 = mask_address(clear.address1)
        r.address2 = mask_address(clear.address2)
        r.sealed = "(sealed by the platform)" if clear.sealed else ""
    return masked


class AmbiguousOrder(OrderhubError):
    """Several orders answer to what was given; the candidates are named."""


def find_order_id(hub: Hub, ref: str) -> str:
    """The one order meant by a hub id, a platform order id, a shop's order number or the
    start of a hub id; NotFound, or AmbiguousOrder naming the candidates."""
    with hub.reader() as uow:
        found = uow.orders.ids_for(ref)
    if not found:
        raise NotFound("order", ref)
    if len(found) > 1:
        listed = ", ".join(f"{i} ({shop} #{number})" for i, shop, number in found[:5])
        raise AmbiguousOrder(f"{ref!r} could be any of {len(found)} orders: {listed}; say which")
    return found[0][0]


def order_view(hub: Hub, order_id: str, *, reveal: bool = False) -> Order:
    """The canonical order with its exceptions and its full trace; `order_id` may be any
    reference `find_order_id` accepts."""
    order_id = find_order_id(hub, order_id)
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        order.exceptions = uow.orders.exceptions_of(order_id)
        order.trace = uow.orders.trace_of(order_id)
    return order if reveal else mask_order(order)


FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 30)
"""The days an order list may be narrowed to (beyond them no time can be stored)."""


def order_list(
    hub: Hub,
    *,
    status: str | None = None,
    shop: str | None = None,
    limit: int = 50,
    after: str | None = None,
    search: str | None = None,
    tracking_no: str | None = None,
    sku: str | None = None,
    placed_from: date | None = None,
    placed_to: date | None = None,
    phone_last4: str | None = None,
) -> list[OrderSummary]:
    """Newest first. `placed_from` and `placed_to` are days in the seller's time zone,
    both included."""
    zone = ZoneInfo(hub.settings.timezone)
    for name, day in (("placed_from", placed_from), ("placed_to", placed_to)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise OrderhubError(f"{name}: give a day between {FIRST_DAY} and {LAST_DAY}")

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=zone)

    where = OrderFilter(
        tracking_no=tracking_no or None,
        sku=sku or None,
        placed_from=midnight(placed_from) if placed_from else None,
        placed_to=midnight(placed_to + timedelta(days=1)) if placed_to else None,
        phone_last4=phone_last4 or None,
    )
    with hub.reader() as uow:
        return uow.orders.summaries(
            status=status, shop=shop, limit=limit, after=after, search=search, where=where
        )


class Page(list[T]):
    """One page of a list (it is the list of its items), with the total it was cut from."""

    def __init__(self, items: list[T], total: int, limit: int, offset: int) -> None:
        super().__init__(items)
        self.total = total
        self.limit = limit
        self.offset = offset

    @property
    def items(self) -> list[T]:
        return list(self)

    @property
    def shown(self) -> str:
        """`showing 101–200 of 400`, for the command line."""
        if not self:
            return f"none shown of {self.total}"
        return f"showing {self.offset + 1}–{self.offset + len(self)} of {self.total}"


def exception_list(
    hub: Hub,
    *,
    status: str | None = "open",
    code: str | None = None,
    shop: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[ExceptionRecord]:
    """Newest first; `shop` keeps those about its orders and payloads."""
    with hub.reader() as uow:
        rows = uow.exceptions.search(
            status=status, code=code, shop=shop, limit=limit, offset=offset
        )
        total = uow.exceptions.count(status=status, code=code, shop=shop)
    return Page(rows, total, limit, offset)


def exception_shop(hub: Hub, exception_id: str) -> str | None:
    """The shop an exception is about, when it is about one."""
    with hub.reader() as uow:
        return uow.exceptions.shop_of(uow.exceptions.get(exception_id))


def exception_view(hub: Hub, exception_id: str) -> dict[str, Any]:
    """An exception with what resolves it: a hint, and the actions `resolve` accepts; a
    closed one says how it was closed and what is open about the same thing now."""
    with hub.reader() as uow:
        record = uow.exceptions.get(exception_id)
        successors = (
            []
            if record.status == "open"
            else uow.exceptions.open_about(
                order_id=record.order_id, inbox_id=record.inbox_id, job_id=record.job_id
            )
        )
    view = {
        **record.__dict__,
        "created_at": record.created_at.isoformat(),
        "resolved_at": record.resolved_at.isoformat() if record.resolved_at else None,
        "action": remedy(record.code).hint,
        "actions": [
            str(a) for a in allowed_actions(record.code, about_order=record.order_id is not None)
        ],
    }
    if record.status != "open":
        view["actions"] = []
        view["now_open"] = [x.id for x in successors]
    return view


def job_list(
    hub: Hub,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[JobRow]:
    with hub.reader() as uow:
        rows = uow.outbox.search(status=status, kind=kind, limit=limit, offset=offset)
        total = uow.outbox.count(status=status, kind=kind)
    return Page(rows, total, limit, offset)


def stock_view(hub: Hub, *, sku: str | None = None, node: str | None = None) -> dict[str, Any]:
    """Levels per node and SKU, and every listing's figure with how it was computed."""
    from orderhub.services.stock_sync import listing_ats_view

    with hub.reader() as uow:
        levels = uow.stock.levels(skus=[sku] if sku else None, nodes=[node] if node else None)
        listings = uow.catalog.listings(skus=[sku] if sku else None)
        unlimited = [n for n in uow.catalog.nodes() if n.location.get("unlimited_stock")]
    codes = {n.code for n in unlimited}
    return {
        "levels": [
            {**asdict(x), "available": x.available, "unlimited": x.node in codes} for x in levels
        ],
        "unlimited": [
            {"node": n.code, "skus": list(n.location.get("skus") or [])}
            for n in unlimited
            if node is None or n.code == node
        ],
        "listings": [listing_ats_view(hub, listing.id) for listing in listings],
    }


def ledger_mismatches(hub: Hub) -> list[tuple[str, str, int, int, int, int]]:
    """Stock levels that do not equal the sum of their ledger rows (none, normally)."""
    with hub.reader() as uow:
        return uow.stock.ledger_mismatches()


def queue_stats(hub: Hub) -> tuple[dict[tuple[str, str], int], int]:
    """Jobs per (kind, status) and open exceptions: what /metrics exports on every scrape."""
    with hub.reader() as uow:
        return uow.outbox.depth(), uow.exceptions.count_open()


def orders_by_shop(hub: Hub) -> dict[str, dict[str, int]]:
    """Orders per shop and status."""
    with hub.reader() as uow:
        return uow.orders.count_by_shop_and_status()


def hub_stats(hub: Hub) -> dict[str, Any]:
    """Counts for the demo, /metrics and the CLI: orders by status, queue, exceptions."""
    with hub.reader() as uow:
        orders = uow.orders.count_by_status()
        inbox = uow.inbox.count_by_status()
        depth = uow.outbox.depth()
        shipped, confirmed = uow.shipments.counts()
        open_exceptions = uow.exceptions.count_open()
        levels = uow.stock.levels()
    return {
        "orders": orders,
        "inbox": inbox,
        "jobs": {f"{kind}:{status}": n for (kind, status), n in sorted(depth.items())},
        "shipments": shipped,
        "confirmed": confirmed,
        "open_exceptions": open_exceptions,
        "oversold": sum(1 for x in levels if x.reserved > x.on_hand or x.on_hand < 0),
        "stock": [asdict(x) for x in levels],
    }
