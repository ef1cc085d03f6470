"""The outbox worker: claims due jobs, runs their use case, retries or dead-letters them.

Delivery is at least once; every handler is idempotent (it checks the order's state and
sends idempotency keys), so a job re-run after a crash has its effect once. Workers wake
on new work at once: in-process through the database's listener hook, across processes
on PostgreSQL through LISTEN/NOTIFY; a short poll covers SQLite across processes.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Sequence

import structlog

from orderhub.connectors.base import ConnectorError, RateLimited, Rejected, Unavailable
from orderhub.domain.alerts import Alert
from orderhub.domain.errors import OrderhubError
from orderhub.jobs.lanes import Lane
from orderhub.jobs.pushes import PushLane
from orderhub.observability import get_logger, metrics
from orderhub.services.alerts import raise_alert
from orderhub.services.dispatch import JOB_NODE_PUSH
from orderhub.services.handlers import BATCHED, GROUPED, HANDLERS, ON_DEAD, READ_AHEAD
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX
from orderhub.services.pipeline import JOB_STOCK_PUSH
from orderhub.store.db import Queued, is_transient
from orderhub.store.outbox import Job
from orderhub.store.stock_held import StockMoved
from orderhub.store.uow import UnitOfWork

__all__ = ["Worker", "backoff"]

log = get_logger(__name__)

URGENT_KINDS = frozenset({JOB_STOCK_PUSH})
GROUPED_GATHER = 0.1  # seconds a grouped lane waits for due jobs held by other transactions
PUSH_KINDS = frozenset({JOB_NODE_PUSH})


def backoff(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff with jitter: base·2^(attempt−1), capped, times 0.5–1.0."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)) * random.uniform(0.5, 1.0))


class Worker:
    """Runs outbox jobs on a few threads until stopped."""

    def __init__(
        self,
        hub: Hub,
        *,
        name: str | None = None,
        threads: int | None = None,
        batch: int | None = None,
        lease: float | None = None,
        poll_interval: float | None = None,
        kinds: Sequence[str] | None = None,
    ) -> None:
        settings = hub.settings
        self.hub = hub
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.threads = threads or settings.worker_threads
        self.batch = batch or settings.worker_batch
        self.lease = lease or settings.job_lease
        gather = settings.worker_gather
        self.gather = gather if gather is not None else (0.05 if hub.db.is_postgres else 0.02)
        # How long an idle lane sleeps before it looks again without being woken: jobs
        # queued in this process wake their lanes at once, and on PostgreSQL so do other
        # processes' (LISTEN/NOTIFY); on SQLite another process (the command line) is
        # noticed within this long.
        self.poll_interval = poll_interval or (5.0 if hub.db.is_postgres else 1.0)
        wanted = set(kinds) if kinds else set(HANDLERS)
        self.batch_kinds = sorted(wanted & set(BATCHED))
        self.push_kinds = sorted(wanted & PUSH_KINDS)
        self.call_kinds = sorted(wanted - set(BATCHED) - PUSH_KINDS)
        self.push_batch = settings.push_batch
        self._pushes = PushLane(
            hub, threads=settings.push_batch, execute=self.execute, failed=self._failed
        )
        self.kinds = list(kinds) if kinds else None
        self._lanes: list[Lane] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        hub.db.on_new_jobs(self.wake)

    def wake(self, queued: Queued = None) -> None:
        """Jobs were queued (None: any, or stopping): wake the lanes that run them and
        would not wake by then anyway."""
        for lane in self._lanes:
            lane.wake(queued)

    def start(self) -> None:
        """One thread runs database-only jobs in batches (one commit for many orders; one
        such thread per process keeps batches from queueing on each other's row locks);
        the others run jobs that call out, a couple at a time."""
        # The interpreter's switch interval stays at its default (5 ms): at a tenth of
        # it, the lanes, the calls and the web server traded the interpreter lock so
        # often that an order took a quarter more CPU in a burst, for no shorter p99.
        if JOB_INBOX in self.batch_kinds:
            self.hub.keep_bodies_read()
            if self.push_kinds:
                self.hub.keep_orders_written()
        lanes: list[tuple[str, list[str], int]] = []
        if self.batch_kinds:
            lanes.append(("worker-batch", self.batch_kinds, self.batch))
        # Delivery orders go out from a lane of their own, many side by side.
        if self.push_kinds:
            lanes.append(("worker-push", self.push_kinds, self.push_batch))
        # Stock pushes get a lane of their own: a backlog of other calls must never keep
        # the shops showing stock that was sold meanwhile. The pushes due at one tick are
        # claimed together by that one lane and go to each shop at once, the shops side
        # by side: two lanes claiming at the same moment would split a tick's pushes
        # between them, and call each shop twice.
        urgent = [kind for kind in self.call_kinds if kind in URGENT_KINDS]
        if urgent:
            lanes.append(("worker-stock", urgent, self.hub.settings.stock_push_batch))
        # A lane that calls out claims one job at a time: a job claimed behind a slow
        # call would wait for it while other lanes stand idle.
        others = [kind for kind in self.call_kinds if kind not in URGENT_KINDS]
        lanes += [(f"worker-{i}", others, 1) for i in range(self.threads) if others]
        for name, kinds, limit in lanes:
            lane = Lane(name, kinds, limit)
            self._lanes.append(lane)
            thread = threading.Thread(target=self._loop, args=(lane,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.hub.db.sqlite_file is not None:
            checkpoints = threading.Thread(
                target=self.hub.db.checkpoint_until,
                args=(self._stop,),
                name="worker-checkpoint",
                daemon=True,
            )
            checkpoints.start()
            self._threads.append(checkpoints)
        if self.hub.db.is_postgres:
            listener = threading.Thread(
                target=self.hub.db.listen_for_jobs,
                args=(self.wake, self._stop),
                name="worker-listen",
                daemon=True,
            )
            listener.start()
            self._threads.append(listener)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the jobs in hand and stop; a job cut off is claimed again after its lease."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        self._pushes.close()

    def run_until_idle(self, *, timeout: float = 30.0) -> int:
        """Run jobs on this thread until none is due; for tests and the CLI. Jobs run."""
        done = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.claim()
            if not jobs:
                break
            self.run(jobs)
            done += len(jobs)
        return done

    def _loop(self, lane: Lane) -> None:
        """Claim while there is work. A read (which takes no write lock) says when the
        lane's next job falls due; the lane claims only then, and otherwise sleeps until
        then or until it is woken. Woken for a job already due, it claims at once."""
        while not self._stop.is_set():
            due_now = lane.begin()
            try:
                # A read first: lanes woken together, or a lane woken for a job not yet
                # due, take no write lock and lock no row to find nothing.
                due = time.time() if due_now else self._next_due(lane.kinds)
                if due is not None and due <= time.time():
                    ran = self._turn(lane)
                    if ran:
                        if lane.limit > 1 and ran < lane.limit and self.gather:
                            self._stop.wait(self.gather)  # let the next claim fill
                        continue
                    lane.sleep(time.time() + 0.05)  # due, yet claimed by another lane
                    continue
            except Exception:
                log.exception("claiming jobs failed")
                self._stop.wait(1.0)
                continue
            idle_until = time.time() + self.poll_interval
            lane.sleep(idle_until if due is None else min(due, idle_until))

    def _turn(self, lane: Lane) -> int:
        """Claim the lane's due jobs and run them; how many it claimed."""
        if all(kind in BATCHED for kind in lane.kinds):
            return self.claim_and_run_batch(lane.kinds, lane.limit)
        if all(kind in PUSH_KINDS for kind in lane.kinds):
            return self.claim_and_send_pushes(lane.kinds, lane.limit)
        jobs = self.claim(kinds=lane.kinds, limit=lane.limit)
        if jobs and all(kind in GROUPED for kind in lane.kinds):
            jobs += self._locked_meanwhile(lane, len(jobs))
        if jobs:
            self.run(jobs)
        return len(jobs)

    def _locked_meanwhile(self, lane: Lane, claimed: int) -> list[Job]:
        """Due jobs of a grouped lane that the claim passed over, claimed as soon as they
        are free, for a short while: a transaction changing a SKU's stock holds its
        pending push (see OutboxRepository._insert), which would otherwise go out alone
        a moment later, a second call to every shop in the same window."""
        more: list[Job] = []
        deadline = time.monotonic() + GROUPED_GATHER
        while claimed + len(more) < lane.limit and time.monotonic() < deadline:
            due = self._next_due(lane.kinds)
            if due is None or due > time.time():
                break
            self._stop.wait(0.005)
            more += self.claim(kinds=lane.kinds, limit=lane.limit - claimed - len(more))
        return more

    def _next_due(self, kinds: list[str]) -> float | None:
        with self.hub.reader(one_statement=True) as uow:
            return uow.outbox.next_due(kinds)

    def run(self, jobs: list[Job]) -> None:
        """Run claimed jobs: the batchable ones in one transaction, delivery orders side
        by side, grouped ones (stock pushes) together, the others one by one."""
        batch = [job for job in jobs if job.kind in BATCHED]
        if batch:
            self.execute_batch(batch)
        pushes = [job for job in jobs if job.kind in PUSH_KINDS]
        if pushes:
            self.execute_pushes(pushes)
        for kind in sorted({job.kind for job in jobs if job.kind in GROUPED}):
            self.execute_grouped([job for job in jobs if job.kind == kind])
        alone = BATCHED.keys() | PUSH_KINDS | GROUPED.keys()
        for job in jobs:
            if job.kind not in alone and not self._stop.is_set():
                self.execute(job)

    def execute_grouped(self, jobs: list[Job]) -> None:
        """Run claimed jobs of one grouped kind together; each job's outcome is its own."""
        started = time.perf_counter()
        try:
            failures = GROUPED[jobs[0].kind](self.hub, jobs)
        except Exception as exc:
            failures = {job.id: exc for job in jobs}
        duration = (time.perf_counter() - started) * 1000 / len(jobs)
        done = [job for job in jobs if job.id not in failures]
        if done:
            with self.hub.uow() as uow:
                uow.outbox.done_many(done, duration)
                uow.commit()
        for job in jobs:
            failure = failures.get(job.id)
            if failure is None:
                metrics.job_seconds.labels(job.kind).observe(duration / 1000)
                metrics.jobs.labels(job.kind, "done").inc()
                continue
            with structlog.contextvars.bound_contextvars(
                job_id=job.id, job_kind=job.kind, order_id=job.order_id
            ):
                self._failed(job, failure, duration)

    def execute_pushes(self, jobs: list[Job]) -> None:
        """Send delivery orders side by side and write them down together (`PushLane`)."""
        self._pushes.run(jobs)

    def claim_and_send_pushes(self, kinds: list[str], limit: int) -> int:
        """Claim due delivery orders and send them. While a claim comes back full (a
        backlog), the transaction that writes down what the nodes took claims the next
        ones too: one write transaction a round instead of two, which on SQLite is one
        wait less for its one writer. How many it claimed."""

        def claim_next(uow: UnitOfWork) -> list[Job]:
            return self._claim_within(uow, kinds, limit)

        jobs = self.claim(kinds=kinds, limit=limit)
        claimed = 0
        while jobs:
            claimed += len(jobs)
            full = len(jobs) >= limit and not self._stop.is_set()
            jobs = self._pushes.run(jobs, claim_next=claim_next if full else None)
        return claimed

    def execute_batch(self, jobs: list[Job]) -> None:
        """Run claimed jobs that only touch the database in one transaction.

        No savepoint per job: the jobs' writes are buffered and written together. A job
        that raises undoes the whole batch, and every job of it is then run on its own,
        to be retried or dead-lettered alone."""
        started = time.perf_counter()
        try:
            with self.hub.uow() as uow:
                self._batch_within(uow, jobs, started)
        except Exception as exc:
            self._one_by_one(jobs, exc)
            return
        self._count_done(jobs, started)

    def claim_and_run_batch(self, kinds: list[str], limit: int) -> int:
        """Claim due jobs that only touch the database and run them, in one transaction:
        a batch costs no transaction of its own to claim, and a batch cut off (the
        process killed) leaves its jobs pending, not leased. How many it claimed."""
        started = time.perf_counter()
        jobs: list[Job] = []
        try:
            with self.hub.uow() as uow:
                jobs = self._claim_within(uow, kinds, limit)
                if not jobs:
                    return 0
                self._batch_within(uow, jobs, started)
        except Exception as exc:
            if not jobs:
                raise
            # Rolled back, claims and all: taken again to be run one by one.
            with self.hub.uow() as uow:
                again = uow.outbox.claim_these(
                    self.name, [job.id for job in jobs], lease=self.lease
                )
                uow.commit()
            self._one_by_one(again, exc)
            return len(jobs)
        self._count_done(jobs, started)
        return len(jobs)

    def _batch_within(self, uow: UnitOfWork, jobs: list[Job], started: float) -> None:
        uow.lock_shared_rows_at_commit()
        for kind, read_ahead in READ_AHEAD.items():
            read_ahead(self.hub, uow, [job for job in jobs if job.kind == kind])
        for job in jobs:
            BATCHED[job.kind](self.hub, uow, job)
        uow.outbox.done_many(jobs, (time.perf_counter() - started) * 1000 / len(jobs))
        handed = self._hand_over_orders(uow)
        try:
            uow.commit()
        except BaseException:
            self._take_back_orders(handed)
            raise

    def _hand_over_orders(self, uow: UnitOfWork) -> list[str]:
        """The new orders the batch stored, to the push lane (`keep_orders_written`) as
        they would be read back (without their trace and exceptions), before the commit
        makes their pushes claimable; their ids."""
        kept = self.hub.orders_written
        if kept is None:
            return []
        added = uow.orders_added()
        for order_id, (order, stored) in added.items():
            kept.put(order_id, (order.model_copy(update={"trace": [], "exceptions": []}), stored))
        return list(added)

    def _take_back_orders(self, order_ids: list[str]) -> None:
        kept = self.hub.orders_written
        if kept is not None:
            for order_id in order_ids:
                kept.take(order_id)

    def _one_by_one(self, jobs: list[Job], exc: Exception) -> None:
        if isinstance(exc, StockMoved):
            log.info("stock moved under a batch; running its jobs one by one", reason=str(exc))
        else:
            log.warning("a batch of jobs failed; running them one by one", exc_info=exc)
        for job in jobs:
            self.execute(job)

    def _count_done(self, jobs: list[Job], started: float) -> None:
        seconds = (time.perf_counter() - started) / len(jobs)
        for job in jobs:
            metrics.jobs.labels(job.kind, "done").inc()
            metrics.job_seconds.labels(job.kind).observe(seconds)

    def claim(self, *, kinds: list[str] | None = None, limit: int | None = None) -> list[Job]:
        with self.hub.uow() as uow:
            jobs = self._claim_within(uow, kinds or self.kinds, limit or self.batch)
            uow.commit()
        return jobs

    def _claim_within(self, uow: UnitOfWork, kinds: list[str] | None, limit: int) -> list[Job]:
        """Due jobs of `kinds` (None: any), taken by this worker for its lease, in `uow`."""
        return uow.outbox.claim(self.name, limit=limit, lease=self.lease, kinds=kinds)

    def execute(self, job: Job) -> None:
        """Run one job and record its outcome; log lines inside carry its ids."""
        with structlog.contextvars.bound_contextvars(
            job_id=job.id, job_kind=job.kind, order_id=job.order_id
        ):
            self._execute(job)

    def _execute(self, job: Job) -> None:
        handler = HANDLERS.get(job.kind)
        started = time.perf_counter()
        try:
            if handler is None:
                raise OrderhubError(f"no handler for job kind {job.kind!r}")
            handler(self.hub, job)
        except Exception as exc:
            self._failed(job, exc, (time.perf_counter() - started) * 1000)
            return
        duration = (time.perf_counter() - started) * 1000
        metrics.job_seconds.labels(job.kind).observe(duration / 1000)
        self._finish(job, duration)

    def _failed(self, job: Job, exc: BaseException, duration: float) -> None:
        """Retry the job later, or dead-letter it when trying again cannot help."""
        delay: float | None = None
        status: int | None = None
        permanent = False
        if isinstance(exc, RateLimited):
            error, status = f"rate limited: {exc.message}", exc.status_code
            delay = max(exc.retry_after or 0.0, self._backoff(job))
            metrics.connector_failures.labels(job.kind, "rate_limited").inc()
        elif isinstance(exc, Rejected):
            error, status, permanent = f"rejected: {exc.message}", exc.status_code, True
            metrics.connector_failures.labels(job.kind, "rejected").inc()
        elif isinstance(exc, Unavailable | ConnectorError):
            error, status = f"unavailable: {exc.message}", exc.status_code
            delay = self._backoff(job)
            metrics.connector_failures.labels(job.kind, "unavailable").inc()
        elif isinstance(exc, OrderhubError):
            error, permanent = str(exc), True
        else:
            log.error(
                "job failed", job_id=job.id, kind=job.kind, order_id=job.order_id, exc_info=exc
            )
            error = f"{type(exc).__name__}: {exc}"[:2000]
            # What failed for want of a connection or a lock may pass later; what failed
            # on the data itself fails the same way every time, so it is not retried.
            permanent = not is_transient(exc)
            delay = self._backoff(job)
        metrics.job_seconds.labels(job.kind).observe(duration / 1000)
        if permanent or job.attempts >= job.max_attempts:
            self._bury(job, error, duration, status)
        else:
            self._retry(job, delay or 0.0, error, duration, status)

    def _backoff(self, job: Job) -> float:
        s = self.hub.settings
        return backoff(job.attempts, base=s.backoff_base, cap=s.backoff_cap)

    def _finish(self, job: Job, duration: float) -> None:
        with self.hub.uow() as uow:
            uow.outbox.done(job, duration)
            uow.commit()
        metrics.jobs.labels(job.kind, "done").inc()

    def _retry(
        self, job: Job, delay: float, error: str, duration: float, status: int | None
    ) -> None:
        with self.hub.uow() as uow:
            uow.outbox.retry_later(
                job, delay=delay, error=error, duration_ms=duration, status_code=status
            )
            if job.order_id:
                uow.orders.trace(
                    job.order_id, job.kind, "retry", error, latency_ms=duration, job_id=job.id
                )
            uow.commit()
        metrics.jobs.labels(job.kind, "retry").inc()
        log.info(
            "job will be retried",
            job_id=job.id,
            kind=job.kind,
            order_id=job.order_id,
            attempt=job.attempts,
            delay=round(delay, 2),
            error=error,
        )

    def _bury(self, job: Job, error: str, duration: float, status: int | None) -> None:
        with self.hub.uow() as uow:
            if not uow.outbox.dead(job, error=error, duration_ms=duration, status_code=status):
                uow.commit()  # queued again while it ran: it runs again, nobody is told
                log.info("job queued again while it failed", job_id=job.id, kind=job.kind)
                return
            uow.exceptions.open(
                stage="job",
                code="job_failed",
                message=f"{job.kind} gave up after {job.attempts} attempt(s): {error}",
                order_id=job.order_id,
                job_id=job.id,
            )
            if job.order_id:
                uow.orders.trace(
                    job.order_id, job.kind, "dead", error, latency_ms=duration, job_id=job.id
                )
            # One alert per kind of job that gave up; the digest counts them.
            raise_alert(
                uow,
                Alert(
                    "job_dead",
                    f"job_dead:{job.kind}",
                    f"{job.kind} jobs gave up and wait for a person: {error}",
                    "error",
                    {"kind": job.kind, "job_id": job.id, "order_id": job.order_id},
                ),
            )
            uow.commit()
        metrics.jobs.labels(job.kind, "dead").inc()
        log.warning(
            "job dead-lettered", job_id=job.id, kind=job.kind, order_id=job.order_id, error=error
        )
        on_dead = ON_DEAD.get(job.kind)
        if on_dead is not None:
            try:
                on_dead(self.hub, job, error)
            except Exception:
                log.exception("dead-letter follow-up failed", job_id=job.id)
