"""The push lane: delivery orders sent to their nodes side by side, and written down
together.

A claimed batch of push jobs is read in one read-only transaction, sent with no
transaction open (many calls in flight, or a node's whole batch in one call where the
node takes one), and what the nodes accepted is written down in one transaction, which
after a full claim (a backlog) claims the next batch too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import structlog

from orderhub.observability import get_logger, metrics
from orderhub.services.delivery import (
    Pushed,
    PushPlan,
    plan_pushes,
    push_batch_size,
    record_pushes,
    send_pushes,
)
from orderhub.services.hub import Hub
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = ["ClaimNext", "PushLane"]

log = get_logger(__name__)

ClaimNext = Callable[[UnitOfWork], list[Job]]
"""Claims due delivery orders within the transaction that writes down the last ones."""


class PushLane:
    """Sends claimed delivery orders and writes down what the nodes took.

    `execute` runs one job on its own (retried or dead-lettered alone); `failed` records
    a job whose call failed."""

    def __init__(
        self,
        hub: Hub,
        *,
        threads: int,
        execute: Callable[[Job], None],
        failed: Callable[[Job, BaseException, float], None],
    ) -> None:
        self.hub = hub
        self._execute = execute
        self._failed = failed
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="worker-push-call")
        self._in_flight: dict[tuple[str, int], threading.BoundedSemaphore] = {}
        self._in_flight_lock = threading.Lock()

    def close(self) -> None:
        """Drop calls not yet started; those in flight finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run(self, jobs: list[Job], *, claim_next: ClaimNext | None = None) -> list[Job]:
        """Send many delivery orders at once and write down what the nodes accepted in
        one transaction, no transaction open while the nodes answer; with `claim_next`,
        the same transaction claims the next delivery orders to send, which it returns.

        Each node has at most its `pushes_in_flight` calls open. A call that failed is
        retried or dead-lettered on its own; a crash before the write leaves the jobs to
        be claimed again, and the node knows a repeated delivery order by its code.
        """
        started = time.perf_counter()
        try:
            plans = plan_pushes(self.hub, jobs)
        except Exception:
            log.warning("reading delivery orders to send failed; sending them one by one")
            for job in jobs:
                self._execute(job)
            return []
        groups = self._calls([plan for plan in plans.values() if plan is not None])
        if len(groups) == 1:
            # Made from this thread: handed to the pool, a lone call waits for a switch
            # between threads each way, and at a steady rate most claims hold one order.
            answered = [self._send(groups[0])]
        else:
            answered = list(self._pool.map(self._send, groups))
        sent = [
            (plan, outcome)
            for group, outcomes in zip(groups, answered, strict=True)
            for plan, outcome in zip(group, outcomes, strict=True)
        ]
        accepted = [outcome for _, outcome in sent if isinstance(outcome, Pushed)]
        nothing = [job for job in jobs if plans[job.id] is None]
        done = [*(pushed.plan.job for pushed in accepted), *nothing]
        again: list[Job] = []
        claimed: list[Job] = []
        try:
            with self.hub.uow() as uow:
                record_pushes(uow, accepted)
                duration = (time.perf_counter() - started) * 1000 / max(1, len(jobs))
                uow.outbox.done_many(done, duration)
                if claim_next is not None:
                    claimed = claim_next(uow)
                uow.commit()
        except Exception:
            claimed = []
            log.warning(
                "delivery orders the nodes accepted could not be written down together; "
                "writing them down one by one",
                exc_info=True,
            )
            duration = (time.perf_counter() - started) * 1000 / max(1, len(jobs))
            done, again = self._write_down_alone(accepted, nothing, duration)
        for job in done:
            metrics.jobs.labels(job.kind, "done").inc()
        for pushed in accepted:
            metrics.job_seconds.labels(pushed.plan.job.kind).observe(pushed.latency_ms / 1000)
        for plan, outcome in sent:
            if isinstance(outcome, BaseException):
                with structlog.contextvars.bound_contextvars(
                    job_id=plan.job.id, job_kind=plan.job.kind, order_id=plan.job.order_id
                ):
                    self._failed(plan.job, outcome, (time.perf_counter() - started) * 1000)
        for job in again:  # on its own: the node answers a repeated code with the same order
            self._execute(job)
        return claimed

    def _calls(self, plans: list[PushPlan]) -> list[list[PushPlan]]:
        """The plans grouped into calls: one each, or up to a node's batch size per call
        for a node that takes a batch."""
        by_node: dict[str, list[PushPlan]] = {}
        for plan in plans:
            by_node.setdefault(plan.node.code, []).append(plan)
        calls: list[list[PushPlan]] = []
        for node_plans in by_node.values():
            size = push_batch_size(self.hub, node_plans[0].node)
            calls += [node_plans[i : i + size] for i in range(0, len(node_plans), size)]
        return calls

    def _write_down_alone(
        self, accepted: list[Pushed], nothing: list[Job], duration: float
    ) -> tuple[list[Job], list[Job]]:
        """Each delivery order a node accepted written down in a transaction of its own,
        without calling the node again (a deadlock's victim succeeds on its own). A job
        whose write fails again is run again whole: the node answers a repeated code with
        the same order. Returns (done, to run again)."""
        done: list[Job] = []
        again: list[Job] = []
        for pushed in accepted:
            job = pushed.plan.job
            try:
                with self.hub.uow() as uow:
                    record_pushes(uow, [pushed])
                    uow.outbox.done_many([job], duration)
                    uow.commit()
                done.append(job)
            except Exception:
                log.warning(
                    "a delivery order the node accepted could not be written down", exc_info=True
                )
                again.append(job)
        if nothing:
            try:
                with self.hub.uow() as uow:
                    uow.outbox.done_many(nothing, duration)
                    uow.commit()
                done += nothing
            except Exception:
                again += nothing
        return done, again

    def _send(self, plans: list[PushPlan]) -> list[Pushed | Exception]:
        node = plans[0].node
        limit = int(node.location.get("pushes_in_flight") or 0)
        with self._gate(node.code, limit or self.hub.settings.pushes_in_flight):
            return send_pushes(self.hub, plans)

    def _gate(self, node: str, limit: int) -> threading.BoundedSemaphore:
        with self._in_flight_lock:
            gate = self._in_flight.get((node, limit))
            if gate is None:
                gate = self._in_flight[(node, limit)] = threading.BoundedSemaphore(limit)
            return gate
