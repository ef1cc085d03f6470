"""Pulling orders from a shop, incrementally from where the last pull left off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from orderhub.services.hub import Hub
from orderhub.services.ingest import receive_payload
from orderhub.store.outbox import Job

__all__ = ["JOB_PULL", "PullResult", "pull_job", "pull_orders", "schedule_pulls"]

CURSOR = "orders.updated_at"
OVERLAP = timedelta(minutes=2)


@dataclass(frozen=True)
class PullResult:
    """How many orders the shop returned, and how many were new to the hub."""

    fetched: int
    new: int
    cursor: str | None


def pull_orders(hub: Hub, shop_code: str, *, since: datetime | None = None) -> PullResult:
    """Fetch every order updated since the cursor (or `since`) and store each raw.

    The window starts a little before the cursor, because platforms index updates
    late; repeats are dropped by the inbox's de-duplication.
    """
    with hub.reader() as uow:
        shop = uow.catalog.shop(shop_code)
        stored = uow.cursors.get(shop_code, CURSOR)
    if since is None and stored:
        since = datetime.fromisoformat(stored) - OVERLAP
    fetched = new = 0
    newest = stored
    for pulled in hub.channel(shop).pull_orders(since=since):
        fetched += 1
        if receive_payload(hub, shop_code, pulled.payload, source="pull").new:
            new += 1
        moment = datetime.fromisoformat(pulled.updated_at).isoformat()
        if newest is None or datetime.fromisoformat(moment) > datetime.fromisoformat(newest):
            newest = moment
    if newest and newest != stored:
        with hub.uow() as uow:
            uow.cursors.set(shop_code, CURSOR, newest)
            uow.commit()
    return PullResult(fetched, new, newest)


JOB_PULL = "shop.pull"


def schedule_pulls(hub: Hub, *, slot: int) -> None:
    """Queue one pull per shop for this time slot (a second worker's copy is dropped)."""
    with hub.uow() as uow:
        for shop in uow.catalog.shops():
            uow.outbox.add(JOB_PULL, {"shop": shop.code}, key=f"pull:{shop.code}:{slot}")
        uow.commit()


def pull_job(hub: Hub, job: Job) -> None:
    pull_orders(hub, str(job.payload["shop"]))
