"""Which use case carries out which kind of outbox job."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from orderhub.services.alerts import JOB_ALERT, JOB_ALERT_DIGEST, send_alert, send_digest_job
from orderhub.services.books import JOB_ERP_BOOK, JOB_ERP_VOID, book_in_erp, void_in_erp
from orderhub.services.cancel import JOB_CHANNEL_CANCEL, cancel_on_shop
from orderhub.services.delivery import dispatch_dead, push_dispatch
from orderhub.services.dispatch import JOB_NODE_CANCEL, JOB_NODE_PUSH
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, inbox_dead, process_inbox
from orderhub.services.intercept import cancel_dispatch
from orderhub.services.inventory import JOB_RECONCILE, reconcile_job
from orderhub.services.keeping import JOB_RETENTION, forget_finished_jobs, purge_job
from orderhub.services.messages import JOB_FETCH, JOB_FETCH_REFUND
from orderhub.services.node_callbacks import JOB_NODE_EVENT, process_node_event
from orderhub.services.node_polls import JOB_NODE_POLL, poll_job
from orderhub.services.parcel_status import JOB_PARCEL_STATUS, tell_parcel_status
from orderhub.services.pipeline import JOB_STOCK_PUSH
from orderhub.services.read_ahead import read_payloads_ahead
from orderhub.services.returns import JOB_NODE_RETURN, return_dead, send_return
from orderhub.services.shipping import JOB_CHANNEL_CONFIRM, confirm_to_channel
from orderhub.services.sla import JOB_SLA_SCAN, sla_scan_job
from orderhub.services.stock_sync import push_sku_stock, push_stock
from orderhub.services.sync import JOB_PULL, fetch_job, fetch_refund_job, pull_job
from orderhub.services.tracking import (
    JOB_TRACKING_EVENT,
    JOB_TRACKING_SCAN,
    JOB_TRACKING_SUBSCRIBE,
    apply_tracking,
    subscribe_parcel,
    tracking_scan_job,
)
from orderhub.services.waiting import JOB_REROUTE, retry_waiting_orders
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = [
    "BATCHED",
    "GROUPED",
    "HANDLERS",
    "ON_DEAD",
    "READ_AHEAD",
    "BatchHandler",
    "BatchReader",
    "GroupHandler",
    "Handler",
]

Handler = Callable[[Hub, Job], None]
BatchHandler = Callable[[Hub, UnitOfWork, Job], None]
BatchReader = Callable[[Hub, UnitOfWork, list[Job]], None]
GroupHandler = Callable[[Hub, list[Job]], Mapping[int, BaseException]]


def _keep_daily(hub: Hub, job: Job) -> None:
    """The daily keeping run: personal data past retention, then finished jobs of every
    kind past theirs."""
    purge_job(hub, job)
    forget_finished_jobs(hub, sorted(HANDLERS))


def _process_inbox_within(hub: Hub, uow: UnitOfWork, job: Job) -> None:
    process_inbox(hub, str(job.payload["inbox_id"]), uow=uow)


def _process_node_event_within(hub: Hub, uow: UnitOfWork, job: Job) -> None:
    process_node_event(hub, job, uow=uow)


HANDLERS: dict[str, Handler] = {
    JOB_NODE_PUSH: push_dispatch,
    JOB_NODE_CANCEL: cancel_dispatch,
    JOB_CHANNEL_CONFIRM: confirm_to_channel,
    JOB_PARCEL_STATUS: tell_parcel_status,
    JOB_STOCK_PUSH: push_sku_stock,
    JOB_PULL: pull_job,
    JOB_FETCH: fetch_job,
    JOB_FETCH_REFUND: fetch_refund_job,
    JOB_ALERT: send_alert,
    JOB_ALERT_DIGEST: send_digest_job,
    JOB_SLA_SCAN: sla_scan_job,
    JOB_TRACKING_SUBSCRIBE: subscribe_parcel,
    JOB_TRACKING_SCAN: tracking_scan_job,
    JOB_RECONCILE: reconcile_job,
    JOB_NODE_POLL: poll_job,
    JOB_NODE_RETURN: send_return,
    JOB_RETENTION: _keep_daily,
    JOB_CHANNEL_CANCEL: cancel_on_shop,
    JOB_ERP_BOOK: book_in_erp,
    JOB_ERP_VOID: void_in_erp,
}

# Jobs that call no external system can share one transaction with their neighbours
# in a claimed batch: one commit for many orders.
BATCHED: dict[str, BatchHandler] = {
    JOB_INBOX: _process_inbox_within,
    JOB_NODE_EVENT: _process_node_event_within,
    JOB_REROUTE: retry_waiting_orders,
    JOB_TRACKING_EVENT: apply_tracking,
}


def _read_inbox_ahead(hub: Hub, uow: UnitOfWork, jobs: list[Job]) -> None:
    read_payloads_ahead(hub, uow, [str(job.payload["inbox_id"]) for job in jobs])


# What a batch of jobs of a kind reads at once before its jobs run one by one.
READ_AHEAD: dict[str, BatchReader] = {JOB_INBOX: _read_inbox_ahead}

# Jobs that call out and are claimed many at a time, to be run together (stock pushes:
# one call per shop for all of them); the jobs that failed, each with why.
GROUPED: dict[str, GroupHandler] = {JOB_STOCK_PUSH: push_stock}


def _alone(batched: BatchHandler) -> Handler:
    """Run a batchable job in a transaction of its own (when its batch failed). Its
    stock is reserved at once (no other order's reservation can get in between), and the
    other rows batches share are written at commit, in the batches' order."""

    def run(hub: Hub, job: Job) -> None:
        with hub.uow() as uow:
            uow.lock_shared_rows_at_commit(stock=False)
            batched(hub, uow, job)
            uow.commit()

    return run


HANDLERS.update({kind: _alone(handler) for kind, handler in BATCHED.items()})

ON_DEAD: dict[str, Callable[[Hub, Job, str], None]] = {
    JOB_INBOX: inbox_dead,
    JOB_NODE_EVENT: inbox_dead,
    JOB_TRACKING_EVENT: inbox_dead,
    JOB_NODE_PUSH: dispatch_dead,
    JOB_NODE_RETURN: return_dead,
}
