"""Pulling orders from a shop, incrementally from where the last pull left off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orderhub.connectors.capabilities import PullsRefunds, names_refunds, pulls_refunds
from orderhub.connectors.kit.pull import pull_windows
from orderhub.connectors.registry import PUSHING_CHANNELS
from orderhub.services.hub import Hub
from orderhub.services.ingest import receive_payload
from orderhub.services.returns import REFUND_FETCHED
from orderhub.services.switches import syncs
from orderhub.store.outbox import Job

__all__ = [
    "JOB_PULL",
    "PullResult",
    "fetch_job",
    "fetch_refund_job",
    "pull_job",
    "pull_orders",
    "schedule_pulls",
]

CURSOR = "orders.updated_at"
REFUND_CURSOR = "refunds.posted_at"


@dataclass(frozen=True)
class PullResult:
    """How many orders the shop returned, how many were new, and the cursor after."""

    fetched: int
    new: int
    cursor: str | None
    windows: int = 0
    calls: int = 0
    refunds: int = 0  # refunds new to the hub, from a channel that lists them apart


def pull_orders(hub: Hub, shop_code: str, *, since: datetime | None = None) -> PullResult:
    """Fetch every order modified since the cursor (or `since`) and store each raw.

    The engine pages window by window, starting a little before the cursor because
    platforms index updates late; the cursor moves to a window's end only once every
    order of it is stored, so a crash repeats at most one window, and repeats are
    dropped by the inbox's de-duplication.
    """
    with hub.reader() as uow:
        shop = uow.catalog.shop(shop_code)
        stored = uow.cursors.get(shop_code, CURSOR)
    if not syncs(shop, "orders"):
        return PullResult(0, 0, stored)
    channel = hub.channel(shop)
    now = datetime.now(UTC)
    cursor = since if since is not None else (datetime.fromisoformat(stored) if stored else None)
    fetched = new = windows = calls = 0
    position = stored
    for pulled in pull_windows(
        channel.search_orders,
        channel.pull_rules,
        cursor=cursor,
        now=now,
        first_start=_first_start(hub, now),
    ):
        for order in pulled.orders:
            fetched += 1
            if receive_payload(hub, shop_code, order.payload, source="pull").new:
                new += 1
        windows += 1
        calls += pulled.calls
        position = pulled.end.isoformat()
        with hub.uow() as uow:
            uow.cursors.set(shop_code, CURSOR, position)
            uow.commit()
    refunds = _pull_refunds(hub, shop_code, channel, now) if pulls_refunds(channel) else 0
    return PullResult(fetched, new, position, windows, calls, refunds)


def _first_start(hub: Hub, now: datetime) -> datetime:
    """Where a shop's first pull begins: as far back as the seller asked (three months,
    what the platforms keep, unless set shorter)."""
    return now - timedelta(hours=hub.settings.pull_history_hours)


def _pull_refunds(hub: Hub, shop_code: str, channel: PullsRefunds, now: datetime) -> int:
    """Refunds posted since the refund cursor, each stored raw as an order is, so it is
    kept before it is read and a repeat is dropped; the cursor moves window by window."""
    with hub.reader() as uow:
        stored = uow.cursors.get(shop_code, REFUND_CURSOR)
    cursor = datetime.fromisoformat(stored) if stored else None
    new = 0
    for pulled in pull_windows(
        channel.search_refunds,
        channel.refund_rules,
        cursor=cursor,
        now=now,
        first_start=_first_start(hub, now),
    ):
        for refund in pulled.orders:
            received = receive_payload(
                hub, shop_code, refund.payload, source="pull", topic=REFUND_FETCHED
            )
            new += received.new
        with hub.uow() as uow:
            uow.cursors.set(shop_code, REFUND_CURSOR, pulled.end.isoformat())
            uow.commit()
    return new


JOB_PULL = "shop.pull"


def schedule_pulls(hub: Hub, *, slot: int, pushing: bool | None = None) -> None:
    """Queue one pull per shop for this time slot (a second worker's copy is dropped);
    `pushing` picks the shops whose platform sends webhooks (True) or none (False)."""
    with hub.uow() as uow:
        for shop in uow.catalog.shops():
            if pushing is not None and (shop.platform in PUSHING_CHANNELS) != pushing:
                continue
            uow.outbox.add(JOB_PULL, {"shop": shop.code}, key=f"pull:{shop.code}:{slot}")
        uow.commit()


def fetch_job(hub: Hub, job: Job) -> None:
    """Fetch one order a pushed message named, and store it as a pull would."""
    shop_code = str(job.payload["shop"])
    with hub.reader() as uow:
        shop = uow.catalog.shop(shop_code)
    pulled = hub.channel(shop).fetch_order(str(job.payload["order_id"]))
    receive_payload(hub, shop_code, pulled.payload, source="pull")


def fetch_refund_job(hub: Hub, job: Job) -> None:
    """Fetch one refund an order named, and store it raw to be processed as a refund."""
    shop_code = str(job.payload["shop"])
    with hub.reader() as uow:
        shop = uow.catalog.shop(shop_code)
    channel = hub.channel(shop)
    if not names_refunds(channel):
        return
    refund = channel.fetch_refund(str(job.payload["order_id"]), str(job.payload["refund_id"]))
    receive_payload(hub, shop_code, refund, source="pull", topic=REFUND_FETCHED)


def pull_job(hub: Hub, job: Job) -> None:
    pull_orders(hub, str(job.payload["shop"]))
