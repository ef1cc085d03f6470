"""Keeping personal data no longer than needed, and under the current key.

`purge_personal_data` runs daily from the scheduler: orders closed more than
`ORDERHUB_RETENTION_DAYS` ago keep their amounts, SKUs, dates, region and tracking, but
their buyer's name, phone, e-mail and street are replaced by their masks, and their raw
payloads are emptied. `forget_finished_jobs` runs with it: jobs finished more than
`ORDERHUB_FINISHED_JOBS_KEPT_DAYS` ago are deleted with their attempts. `rotate_keys`
re-encrypts everything sealed with an older key (or stored before encryption), batch by
batch, so an old key can then be retired.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orderhub.observability import get_logger
from orderhub.services.hub import Hub
from orderhub.store.outbox import Job

__all__ = [
    "JOB_RETENTION",
    "Purged",
    "Rotated",
    "forget_finished_jobs",
    "index_phone_tails",
    "purge_job",
    "purge_personal_data",
    "rotate_keys",
    "schedule_retention",
]

JOB_RETENTION = "retention.purge"
log = get_logger(__name__)


@dataclass(frozen=True)
class Purged:
    """How many orders lost their personal data, and how many raw payloads were emptied."""

    orders: int
    payloads: int


@dataclass(frozen=True)
class Rotated:
    """Rows sealed again with the current key."""

    key: str
    orders: int
    payloads: int
    connections: int


def purge_personal_data(hub: Hub, *, now: datetime | None = None) -> Purged:
    """Purge what is past retention, 500 rows per transaction, each order traced."""
    before = (now or datetime.now(UTC)) - timedelta(days=hub.settings.retention_days)
    orders = payloads = 0
    while True:
        with hub.uow() as uow:
            ids = uow.keeping.purge_orders(before)
            for order_id in ids:
                uow.orders.trace(order_id, "retention", "ok", "personal data replaced by its mask")
            emptied = uow.keeping.purge_payloads(before)
            uow.commit()
        orders += len(ids)
        payloads += emptied
        if not ids and not emptied:
            break
    if orders or payloads:
        log.info("personal data purged", orders=orders, payloads=payloads)
    return Purged(orders, payloads)


def rotate_keys(hub: Hub) -> Rotated:
    """Seal every order, payload and connection secret with the current key."""
    orders = payloads = 0
    while True:
        with hub.uow() as uow:
            done = uow.keeping.rekey_orders(), uow.keeping.rekey_inbox()
            uow.commit()
        orders, payloads = orders + done[0], payloads + done[1]
        if not any(done):
            break
    index_phone_tails(hub)
    with hub.uow() as uow:
        connections = uow.keeping.rekey_connections()
        uow.commit()
    hub.forget_connectors()
    return Rotated(hub.db.cipher.current, orders, payloads, connections)


def index_phone_tails(hub: Hub) -> int:
    """Hash the phone tails of the orders stored before they were kept, a batch per
    transaction; how many were done (none once every order has one)."""
    done = 0
    while True:
        with hub.uow() as uow:
            batch = uow.keeping.index_phone_tails()
            uow.commit()
        done += batch
        if not batch:
            return done


def forget_finished_jobs(hub: Hub, kinds: Sequence[str], *, now: float | None = None) -> int:
    """Delete the jobs of these kinds finished more than `finished_jobs_kept_days` ago,
    with their attempts, a batch per transaction; how many. What they did stays in the
    rows they changed and in each order's trace; the queue keeps only recent work."""
    kept = hub.settings.finished_jobs_kept_days * 86400
    before = (now if now is not None else time.time()) - kept
    forgotten = 0
    for kind in sorted(set(kinds)):
        while True:
            with hub.uow() as uow:
                batch = uow.outbox.forget_finished(kind, before)
                uow.commit()
            forgotten += batch
            if not batch:
                break
    if forgotten:
        log.info("finished jobs forgotten", jobs=forgotten)
    return forgotten


def schedule_retention(hub: Hub, *, slot: int) -> None:
    """Queue today's purge once, however many schedulers run."""
    with hub.uow() as uow:
        uow.outbox.add(JOB_RETENTION, {}, key=f"retention:{slot}")
        uow.commit()


def purge_job(hub: Hub, job: Job) -> None:
    purge_personal_data(hub)
