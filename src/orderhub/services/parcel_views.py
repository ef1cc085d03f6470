"""Parcels as people read them: the order's parcels with their timelines for staff, and
one parcel for its buyer behind an unguessable link, with nothing personal but the city.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orderhub.domain.access import Principal
from orderhub.domain.errors import NotFound
from orderhub.services.hub import Hub
from orderhub.store.parcels import Parcel, ParcelEvent

__all__ = ["BuyerParcel", "buyer_parcel", "order_parcels"]


def _city(city: str) -> str:
    """Only the city's first characters: enough to recognise, not to find anyone."""
    return city[:2] + "…" if len(city) > 2 else city


def _events(events: list[ParcelEvent]) -> list[dict[str, Any]]:
    return [
        {
            "at": e.at.isoformat(),
            "status": e.status,
            "description": e.description,
            "location": e.location,
        }
        for e in events
    ]


def order_parcels(hub: Hub, order_id: str, *, who: Principal) -> list[dict[str, Any]]:
    """Each parcel of the order: carrier, number, status, timeline and the buyer's link."""
    base = hub.settings.public_url.rstrip("/")
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        if not who.sees_shop(order.shop):
            raise NotFound("order", order_id)
        found = [(p, uow.parcels.events(p.id)) for p in uow.parcels.of_order(order.id)]
    return [
        {
            "tracking_no": p.tracking_no,
            "carrier": p.carrier,
            "tracker": p.tracker,
            "status": p.status,
            "shipped_at": p.shipped_at.isoformat() if p.shipped_at else None,
            "subscribed_at": p.subscribed_at.isoformat() if p.subscribed_at else None,
            "last_event_at": p.last_event_at.isoformat() if p.last_event_at else None,
            "delivered_at": p.delivered_at.isoformat() if p.delivered_at else None,
            "finished": p.finished,
            "detail": p.detail,
            "buyer_link": f"{base}/t/{p.token}",
            "events": _events(events),
        }
        for p, events in found
    ]


@dataclass(frozen=True)
class BuyerParcel:
    parcel: Parcel
    city: str
    events: list[dict[str, Any]]


def buyer_parcel(hub: Hub, token: str) -> BuyerParcel:
    """The parcel behind a buyer's link; NotFound for any token not handed out."""
    if not 20 <= len(token) <= 64:
        raise NotFound("parcel", "this link")
    with hub.reader() as uow:
        parcel = uow.parcels.by_token(token)
        if parcel is None:
            raise NotFound("parcel", "this link")
        events = uow.parcels.events(parcel.id)
    return BuyerParcel(parcel, _city(parcel.city), _events(events))
