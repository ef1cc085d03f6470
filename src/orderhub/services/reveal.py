"""Seeing an order's personal data in clear, and what that costs.

The hub opens its own copy with its key. A receiver the platform sealed (Taobao's OAID,
the ciphertexts of Pinduoduo, Douyin and JD) only the platform can open: its decrypt call
is made for the person asking, counted per shop and day and audited, because platforms
cap and watch decryption (a shop's `decrypt_daily_limit` keeps the hub under the
platform's cap). What the platform opens is shown and never stored.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from orderhub.connectors.base import ConnectorError
from orderhub.domain.access import Permission, Principal, require
from orderhub.domain.errors import NotFound, OrderhubError
from orderhub.domain.order import Order
from orderhub.observability import metrics
from orderhub.services.audit import record_change
from orderhub.services.hub import Hub
from orderhub.services.queries import order_view

__all__ = ["DecryptLimitReached", "PlatformWouldNotOpen", "decrypts_today", "reveal_order"]

DECRYPT = "pii.decrypt"


class DecryptLimitReached(OrderhubError):
    """The shop has used its decryptions for today."""


class PlatformWouldNotOpen(OrderhubError):
    """The platform refused to open a sealed receiver, or could not be reached."""


def reveal_order(hub: Hub, who: Principal, order_ref: str, *, where: str) -> Order:
    """The order with its personal data in clear, for someone allowed to see it; audited,
    and opened through the platform when the platform sealed the receiver."""
    require(who, Permission.PII_REVEAL)
    order = order_view(hub, order_ref, reveal=True)
    if not who.sees_shop(order.shop):
        raise NotFound("order", order_ref)
    detail = where
    if order.receiver.sealed:
        detail += f"; opened through {_open_receiver(hub, who, order)}"
    record_change(hub, who, "pii.reveal", f"order:{order.id}", detail=detail)
    return order


def decrypts_today(hub: Hub, shop: str) -> int:
    """Receivers of the shop opened through its platform since midnight, seller's time."""
    zone = ZoneInfo(hub.settings.timezone)
    midnight = datetime.combine(datetime.now(zone).date(), time(), tzinfo=zone)
    with hub.reader() as uow:
        return uow.audit.count(DECRYPT, f"shop:{shop}", since=midnight)


def _open_receiver(hub: Hub, who: Principal, order: Order) -> str:
    with hub.reader() as uow:
        shop = uow.catalog.shop(order.shop)
    used = decrypts_today(hub, shop.code)
    limit = shop.settings.get("decrypt_daily_limit")
    if limit not in (None, "") and used >= int(str(limit)):
        raise DecryptLimitReached(
            f"shop {shop.code} has opened {used} sealed receivers today, its limit "
            f"(decrypt_daily_limit {limit}); the masked order is still shown without reveal"
        )
    try:
        opened = hub.channel(shop).open_receiver(order.channel_order_id, order.receiver.sealed)
    except ConnectorError as exc:
        raise PlatformWouldNotOpen(
            f"{order.platform} would not open the receiver of order {order.id}: {exc.message}"
        ) from exc
    r = order.receiver
    r.name, r.phone, r.address1, r.address2 = opened.name, opened.phone, opened.address, ""
    metrics.platform_decrypts.labels(order.platform).inc()
    record_change(
        hub,
        who,
        DECRYPT,
        f"shop:{shop.code}",
        detail=f"order:{order.id} through {opened.via}; {used + 1} today",
    )
    return opened.via
