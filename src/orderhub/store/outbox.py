"""Outbound effects as rows: jobs with idempotency keys, attempts, backoff and dead letters.

A job is written in the same transaction as the state change it carries out, so the
two commit together or not at all. Workers claim due jobs in batches; on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, so any number of workers on any number of hosts share the
queue. A job whose worker died is claimed again once its lease runs out.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from orderhub.store import tables as t
from orderhub.store.db import JOBS_CHANNEL, Queued, notice, sent_together
from orderhub.store.driver import Query
from orderhub.store.ids import new_id
from orderhub.store.many_rows import ManyRows

__all__ = ["TICK_MARGIN", "Job", "JobRow", "OutboxRepository", "next_tick"]

_INSERTS: dict[tuple[str, bool], ManyRows] = {}

_c = t.outbox_jobs.c
# A job still to run, or running. Every query for such jobs names these statuses after
# the seller, so that it reads them through `ix_outbox_live` and never the finished
# jobs every order leaves behind.
LIVE = ("pending", "running")
# The jobs a queue's depth counts: those still to run, and those a person must look at.
QUEUED = (*LIVE, "dead")
# When the first of some kinds of jobs can be claimed: a pending job's run time, a
# running one's lease end. Built once: lanes ask before every claim.
_NEXT_DUE = Query(
    select(func.min(case((_c.status == "pending", _c.run_at), else_=_c.locked_until))).where(
        _c.tenant == bindparam("t"),
        _c.status.in_(LIVE),
        _c.kind.in_(bindparam("kinds", expanding=True)),
    )
)


@dataclass(frozen=True)
class Job:
    """A claimed job, as a worker sees it."""

    id: int
    tenant: str
    kind: str
    payload: dict[str, Any]
    idempotency_key: str
    order_id: str | None
    attempts: int
    max_attempts: int


@dataclass(frozen=True)
class JobRow:
    """A job as an operator sees it in a list."""

    id: int
    kind: str
    status: str
    attempts: int
    max_attempts: int
    order_id: str | None
    run_at: float
    last_error: str | None
    idempotency_key: str


_JOB = t.outbox_jobs.c
# A job's outcome is written only while it is still running: a job queued again while it
# ran (a route reopening its dispatch, an operator's retry) stays queued, and runs again.
_DONE_MANY = Query(
    update(t.outbox_jobs)
    .where(_JOB.id.in_(bindparam("ids", expanding=True)), _JOB.status == "running")
    .values(status="done", done_at=bindparam("now"), locked_by=None, locked_until=None)
)
_NOTIFY = Query(select(func.pg_notify(JOBS_CHANNEL, bindparam("kinds"))))
_ATTEMPT = ManyRows(insert(t.job_attempts))  # no id read back: sent with others
_CLAIMS: dict[tuple[str, bool], Query] = {}


def _claim_statement(dialect: str, by_kind: bool) -> Query:
    """The claim, built once per database and shape: due jobs of the seller (and jobs
    whose lease ran out), oldest first, taken in one UPDATE … RETURNING."""
    statement = _CLAIMS.get((dialect, by_kind))
    if statement is not None:
        return statement
    c = _JOB
    due = or_(
        and_(c.status == "pending", c.run_at <= bindparam("now")),
        and_(c.status == "running", c.locked_until < bindparam("now")),
    )
    candidates = (
        select(c.id)
        .where(c.tenant == bindparam("t"), c.status.in_(LIVE), due)
        .order_by(c.run_at)
        .limit(bindparam("limit"))
    )
    if by_kind:
        candidates = candidates.where(c.kind.in_(bindparam("kinds", expanding=True)))
    if dialect == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = _CLAIMS[(dialect, by_kind)] = Query(
        _TAKE.where(c.id.in_(candidates.scalar_subquery()))
    )
    return statement


# What a claim does to the jobs it takes, and what it reads back.
_TAKE = (
    update(t.outbox_jobs)
    .values(
        status="running",
        locked_by=bindparam("worker"),
        locked_until=bindparam("until"),
        attempts=_JOB.attempts + 1,
    )
    .returning(
        _JOB.id,
        _JOB.tenant,
        _JOB.kind,
        _JOB.payload,
        _JOB.idempotency_key,
        _JOB.order_id,
        _JOB.attempts,
        _JOB.max_attempts,
    )
)
_CLAIM_THESE = Query(
    _TAKE.where(
        _JOB.id.in_(bindparam("ids", expanding=True)),
        _JOB.tenant == bindparam("t"),
        _JOB.status == "pending",
    )
)


def _jobs(rows: Sequence[Any]) -> list[Job]:
    """Claimed rows as jobs, in the order they were queued."""
    return [
        Job(
            id=r.id,
            tenant=r.tenant,
            kind=r.kind,
            payload=json.loads(r.payload),
            idempotency_key=r.idempotency_key,
            order_id=r.order_id,
            attempts=r.attempts,
            max_attempts=r.max_attempts,
        )
        for r in sorted(rows, key=lambda r: r.id)
    ]


TICK_MARGIN = 0.1  # of a window: a job written this close before a tick waits for the next


def next_tick(now: float, window: float) -> float:
    """The first multiple of `window` seconds on the clock at least a tenth of a window
    after `now`: a job written just before a tick could be committed only after that
    tick's jobs were claimed, and would then go out on its own; it waits for the next."""
    return (math.floor((now + window * TICK_MARGIN) / window) + 1) * window


class OutboxRepository:
    """The job queue of one seller (claiming spans every seller)."""

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant
        self.added = 0
        # The kinds queued by this transaction and when the first job of each falls due,
        # to wake their lanes; a job of a kind not noted wakes every lane.
        self.due: dict[str, float] = {}
        self.some_unnamed = False
        self._announced: set[str] = set()  # kinds other processes were told of already
        # Coalesced jobs this transaction already wrote: their pending row is locked by
        # it until commit, so writing them again changes nothing.
        self.touched: set[str] = set()
        # Other new jobs are written together, at commit or before anything reads jobs.
        self._new: list[dict[str, Any]] = []
        # Coalesced jobs held back to commit (see `hold_coalesced`), by coalesce key.
        self._coalesced: dict[str, dict[str, Any]] | None = None
        # Held coalesced jobs due on the tick of their window (see `add`): the window.
        self._ticks: dict[str, float] = {}

    def hold_coalesced(self) -> None:
        """Write coalesced jobs at commit, in key order, instead of at once: their
        pending rows are shared by every transaction that changes the same stock, and
        touched in one order they cannot deadlock. Held to commit, the touched row is
        still locked before the changes it carries are visible."""
        if self._coalesced is None:
            self._coalesced = {}

    def held_coalesced(self) -> dict[str, dict[str, Any]] | None:
        return None if self._coalesced is None else dict(self._coalesced)

    def restore_coalesced(self, held: dict[str, dict[str, Any]] | None) -> None:
        self._coalesced = held

    def write_coalesced(self) -> None:
        if self._coalesced:
            held, self._coalesced = self._coalesced, {}
            statement = self._insert(coalesced=True)
            now = time.time()
            ticks, self._ticks = self._ticks, {}
            rows = []
            for key in sorted(held):
                row = held[key]
                # Due its delay after it is written, not after it was queued: counted from
                # early in a long batch, the delay would leave a coalesced job (a stock
                # push) less than its window to gather changes in.
                run_at = row["run_at"] + now - row["created_at"]
                if key in ticks:
                    run_at = next_tick(now, ticks[key])
                rows.append({**row, "run_at": run_at})
            # One statement, its rows run in key order (PostgreSQL: one round trip).
            statement.run(self.conn, rows)

    def writes_held(self) -> int:
        """How many statements `flush` would run."""
        return int(bool(self._new))

    def coalesced_held(self) -> int:
        """How many statements `write_coalesced` would run (it reads nothing back)."""
        return int(bool(self._coalesced))

    def flush(self) -> None:
        """Write the jobs queued since the last flush, in one statement."""
        if self._new:
            rows, self._new = self._new, []
            self._insert(coalesced=False).run(self.conn, rows)

    def discard(self) -> None:
        self._new = []

    def _insert(self, *, coalesced: bool) -> ManyRows:
        """The INSERT of new jobs, built once per database; no id is read back."""
        dialect = self.conn.dialect.name
        insert = _INSERTS.get((dialect, coalesced))
        if insert is None:
            module = postgresql if dialect == "postgresql" else sqlite
            base = module.insert(t.outbox_jobs)
            if coalesced:
                # Touch the pending twin instead of skipping it: the row stays locked
                # until this transaction commits, so no worker can run that job on stock
                # read before this change (SKIP LOCKED passes it over meanwhile).
                statement = base.on_conflict_do_update(
                    index_elements=["coalesce_key"],
                    index_where=text("status = 'pending' AND coalesce_key IS NOT NULL"),
                    set_={"coalesce_key": base.excluded.coalesce_key},
                )
            else:
                statement = base.on_conflict_do_nothing()
            insert = _INSERTS[(dialect, coalesced)] = ManyRows(statement)
        return insert

    def add(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        key: str | None = None,
        order_id: str | None = None,
        delay: float = 0.0,
        coalesce_key: str | None = None,
        max_attempts: int = 10,
        on_the_tick: bool = False,
    ) -> None:
        """Queue a job; a second job with the same key (or the same pending coalesce key)
        is dropped, because the first one already carries the effect.

        `on_the_tick` (coalesced jobs): due at the next multiple of `delay` on the clock
        instead of `delay` from now, so that every such job queued within one window falls
        due at the same moment and is claimed together (stock pushes: one call per shop
        for every SKU that changed in the window)."""
        if coalesce_key is not None and coalesce_key in self.touched:
            return
        row = self.row(
            kind,
            payload,
            key=key,
            order_id=order_id,
            delay=delay,
            coalesce_key=coalesce_key,
            max_attempts=max_attempts,
        )
        if on_the_tick and coalesce_key is not None and delay > 0:
            row["run_at"] = next_tick(row["created_at"], delay)
        if coalesce_key is None:
            self._new.append(row)
        elif self._coalesced is not None:
            self._coalesced.setdefault(coalesce_key, row)
            if on_the_tick and delay > 0:
                self._ticks.setdefault(coalesce_key, delay)
        else:
            # Written now: touching the pending twin must lock it at once (see _insert).
            self._insert(coalesced=True).run(self.conn, [row])
        # A held coalesced job falls due a little later than this (see write_coalesced):
        # noted early, it wakes a lane at worst once more than it needs.
        self.queued(kind, row["run_at"])
        if coalesce_key is not None:
            self.touched.add(coalesce_key)

    def row(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        key: str | None = None,
        order_id: str | None = None,
        delay: float = 0.0,
        coalesce_key: str | None = None,
        max_attempts: int = 10,
    ) -> dict[str, Any]:
        """A new job's row, as `add` writes it."""
        now = time.time()
        return {
            "tenant": self.tenant,
            "kind": kind,
            "payload": json.dumps(payload, ensure_ascii=False, default=str),
            "idempotency_key": key or new_id(f"{kind}:"),
            "coalesce_key": coalesce_key,
            "order_id": order_id,
            "status": "pending",
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_at": now + delay,
            "created_at": now,
        }

    def queued(self, kind: str | None, due: float) -> None:
        """Note a job queued by this transaction (its kind, when unknown None): commit
        wakes the lanes that run it, unless they wake by `due` anyway."""
        self.added += 1
        if kind is None:
            self.some_unnamed = True
        else:
            self.due[kind] = min(due, self.due.get(kind, due))

    def written_elsewhere(self, kind: str, due: float) -> None:
        """A job of this kind was written, and other processes told of it, by a statement
        of another repository: commit wakes its lanes in this process."""
        self.queued(kind, due)
        self._announced.add(kind)

    def taken(self) -> Queued:
        """What was queued since the last call, for waking lanes after commit; the notes
        start again."""
        queued: Queued = None if self.some_unnamed else {**self.due}
        self.added, self.some_unnamed, self.due = 0, False, {}
        return queued

    def _unannounced(self) -> dict[str, float]:
        return {k: v for k, v in self.due.items() if k not in self._announced}

    def announces(self) -> bool:
        """Whether `announce` will send a statement."""
        return self._announcing(self._unannounced())

    def _announcing(self, unannounced: dict[str, float]) -> bool:
        return bool(unannounced or self.some_unnamed) and self.conn.dialect.name == "postgresql"

    def announce(self) -> None:
        """On PostgreSQL, tell every process's workers (at commit) what was queued (see
        `store.db.heard`)."""
        unannounced = self._unannounced()
        self._announced = set()
        if self._announcing(unannounced):
            payload = "" if self.some_unnamed else notice(unannounced)
            _NOTIFY.run(self.conn, {"kinds": payload})

    def next_due(self, kinds: Sequence[str]) -> float | None:
        """When the next of these jobs falls due (a pending job's run time, a running one's
        lease end), without locking anything; None when there is none."""
        due = _NEXT_DUE.scalar(self.conn, {"t": self.tenant, "kinds": list(kinds)})
        return None if due is None else float(due)

    def claim(
        self, worker: str, *, limit: int, lease: float, kinds: list[str] | None = None
    ) -> list[Job]:
        """Take up to `limit` due jobs of this seller (and jobs whose worker's lease ran
        out); a worker serves the seller its hub is configured for, never another."""
        self.flush()
        now = time.time()
        statement = _claim_statement(self.conn.dialect.name, bool(kinds))
        params: dict[str, Any] = {
            "t": self.tenant,
            "now": now,
            "limit": limit,
            "worker": worker,
            "until": now + lease,
        }
        if kinds:
            params["kinds"] = list(kinds)
        return _jobs(statement.all(self.conn, params))

    def claim_these(self, worker: str, ids: Sequence[int], *, lease: float) -> list[Job]:
        """Take these jobs, those of them still pending (a batch that claimed them and
        was rolled back leaves them so)."""
        self.flush()
        now = time.time()
        rows = _CLAIM_THESE.all(
            self.conn,
            {"t": self.tenant, "ids": list(ids), "worker": worker, "until": now + lease},
        )
        return _jobs(rows)

    def _attempt(
        self,
        job: Job,
        outcome: str,
        duration_ms: float,
        *,
        status_code: int | None = None,
        error: str | None = None,
    ) -> None:
        self.flush()
        _ATTEMPT.run(
            self.conn,
            [
                {
                    "job_id": job.id,
                    "tenant": job.tenant,
                    "attempt": job.attempts,
                    "outcome": outcome,
                    "status_code": status_code,
                    "error": error,
                    "duration_ms": duration_ms,
                    "at": time.time(),
                }
            ],
        )

    def done(self, job: Job, duration_ms: float, *, status_code: int | None = None) -> None:
        self.flush()
        _DONE_MANY.run(self.conn, {"ids": [job.id], "now": time.time()})
        self._attempt(job, "done", duration_ms, status_code=status_code)

    def done_many(self, jobs: list[Job], duration_ms: float) -> None:
        """Mark a batch of jobs done in two statements, sent with the jobs queued before
        them in one round trip."""
        if not jobs:
            self.flush()
            return
        now = time.time()
        attempts = [
            {
                "job_id": job.id,
                "tenant": job.tenant,
                "attempt": job.attempts,
                "outcome": "done",
                "status_code": None,
                "error": None,
                "duration_ms": duration_ms,
                "at": now,
            }
            for job in jobs
        ]
        with sent_together(self.conn):
            self.flush()
            _DONE_MANY.run(self.conn, {"ids": [job.id for job in jobs], "now": now})
            _ATTEMPT.run(self.conn, attempts)

    def retry_later(
        self,
        job: Job,
        *,
        delay: float,
        error: str,
        duration_ms: float,
        status_code: int | None = None,
    ) -> None:
        """Back to pending after `delay`; if a newer coalesced job is pending, this one
        is superseded by it."""
        self.flush()
        c = t.outbox_jobs.c
        savepoint = self.conn.begin_nested()
        try:
            self.conn.execute(
                update(t.outbox_jobs)
                .where(c.id == job.id, c.status == "running")
                .values(
                    status="pending",
                    run_at=time.time() + delay,
                    last_error=error,
                    locked_by=None,
                    locked_until=None,
                )
            )
            savepoint.commit()
        except IntegrityError:  # a pending twin holds the coalesce key
            savepoint.rollback()
            self.conn.execute(
                update(t.outbox_jobs)
                .where(c.id == job.id, c.status == "running")
                .values(status="done", done_at=time.time(), last_error="superseded: " + error)
            )
        self._attempt(job, "retry", duration_ms, status_code=status_code, error=error)

    def forget_finished(self, kind: str, before: float, limit: int = 1000) -> int:
        """Delete up to `limit` jobs of this kind finished before `before` (epoch seconds),
        with their attempts; how many. Their effects are in the rows they changed, each
        guarded by that row's own state, so a key queued again later does nothing twice.
        Read through the live-jobs index: a job is due before it finishes."""
        c = t.outbox_jobs.c
        ids = list(
            self.conn.execute(
                select(c.id)
                .where(
                    c.tenant == self.tenant,
                    c.status == "done",
                    c.kind == kind,
                    c.run_at < before,
                    c.done_at < before,
                )
                .limit(limit)
            ).scalars()
        )
        if ids:
            self.conn.execute(delete(t.job_attempts).where(t.job_attempts.c.job_id.in_(ids)))
            self.conn.execute(delete(t.outbox_jobs).where(c.id.in_(ids)))
        return len(ids)

    def dead(
        self, job: Job, *, error: str, duration_ms: float, status_code: int | None = None
    ) -> bool:
        """Give the job up; False when it was queued again while it ran (it stays queued,
        and the attempt is still recorded)."""
        self.flush()
        c = t.outbox_jobs.c
        result = self.conn.execute(
            update(t.outbox_jobs)
            .where(c.id == job.id, c.status == "running")
            .values(status="dead", last_error=error, locked_by=None, locked_until=None)
        )
        self._attempt(job, "dead", duration_ms, status_code=status_code, error=error)
        return result.rowcount == 1

    def kind_and_payload(self, job_id: int) -> tuple[str, dict[str, Any]] | None:
        """What a job does and with what, or None when there is no such job."""
        self.flush()
        c = t.outbox_jobs.c
        row = self.conn.execute(
            select(c.kind, c.payload).where(c.id == job_id, c.tenant == self.tenant)
        ).first()
        return None if row is None else (row.kind, json.loads(row.payload))

    def requeue(self, job_id: int) -> bool:
        """An operator's retry of a dead job: fresh attempts, due now.

        A coalesced job (a stock push) whose newer twin is already pending is not run
        again: the twin carries the current figure. It is closed as superseded, and the
        answer is still True, since the effect is on its way.
        """
        self.flush()
        c = t.outbox_jobs.c
        row = self.conn.execute(
            select(c.coalesce_key, c.status).where(c.id == job_id, c.tenant == self.tenant)
        ).first()
        if row is None or row.status != "dead":
            return False
        if row.coalesce_key is not None:
            twin = self.conn.execute(
                select(c.id).where(
                    c.coalesce_key == row.coalesce_key, c.status == "pending", c.id != job_id
                )
            ).scalar()
            if twin is not None:
                self.conn.execute(
                    update(t.outbox_jobs)
                    .where(c.id == job_id)
                    .values(status="done", last_error=f"superseded by job {twin}")
                )
                return True
        result = self.conn.execute(
            update(t.outbox_jobs)
            .where(c.id == job_id, c.tenant == self.tenant, c.status == "dead")
            .values(status="pending", attempts=0, run_at=time.time(), last_error=None)
        )
        if result.rowcount:
            self.queued(None, time.time())
        return result.rowcount == 1

    def revive(self, key: str, *, delay: float = 0.0) -> bool:
        """A finished or dead job of this key queued again with fresh attempts; False when
        no such job exists (the caller adds one)."""
        self.flush()
        c = t.outbox_jobs.c
        result = self.conn.execute(
            update(t.outbox_jobs)
            .where(c.tenant == self.tenant, c.idempotency_key == key)
            .values(
                status="pending",
                attempts=0,
                run_at=time.time() + delay,
                last_error=None,
                locked_by=None,
                locked_until=None,
            )
        )
        if result.rowcount:
            self.queued(None, time.time() + delay)
        return bool(result.rowcount)

    def search(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[JobRow]:
        self.flush()
        c = t.outbox_jobs.c
        query = select(t.outbox_jobs).where(c.tenant == self.tenant)
        if status:
            query = query.where(c.status == status)
        if kind:
            query = query.where(c.kind == kind)
        rows = self.conn.execute(query.order_by(c.id.desc()).limit(limit).offset(offset))
        return [
            JobRow(
                id=r.id,
                kind=r.kind,
                status=r.status,
                attempts=r.attempts,
                max_attempts=r.max_attempts,
                order_id=r.order_id,
                run_at=r.run_at,
                last_error=r.last_error,
                idempotency_key=r.idempotency_key,
            )
            for r in rows
        ]

    def waiting_for_order(self, order_id: str, kind: str) -> bool:
        """Whether a job of this kind for the order is queued or running."""
        self.flush()
        c = t.outbox_jobs.c
        found = self.conn.execute(
            select(c.id)
            .where(
                c.tenant == self.tenant,
                c.status.in_(LIVE),
                c.kind == kind,
                c.order_id == order_id,
            )
            .limit(1)
        ).first()
        return found is not None

    def count(self, *, status: str | None = None, kind: str | None = None) -> int:
        self.flush()
        c = t.outbox_jobs.c
        query = select(func.count()).where(c.tenant == self.tenant)
        if status:
            query = query.where(c.status == status)
        if kind:
            query = query.where(c.kind == kind)
        return int(self.conn.execute(query).scalar_one())

    def depth(self) -> dict[tuple[str, str], int]:
        """Jobs queued, running and dead per (kind, status), for metrics, the dashboard
        and the demo's progress view. Finished jobs are not a queue: their number is
        the `orderhub_jobs_total` counter, and counting them here would read the whole
        history on every scrape."""
        self.flush()
        c = t.outbox_jobs.c
        rows = self.conn.execute(
            select(c.kind, c.status, func.count())
            .where(c.tenant == self.tenant, c.status.in_(QUEUED))
            .group_by(c.kind, c.status)
        )
        return {(kind, status): n for kind, status, n in rows.all()}

    def busy_count(self, *, excluding: Sequence[str] = ()) -> int:
        """Jobs pending or running, leaving out the given kinds (periodic housekeeping)."""
        self.flush()
        c = t.outbox_jobs.c
        query = select(func.count()).where(c.tenant == self.tenant, c.status.in_(LIVE))
        if excluding:
            query = query.where(c.kind.not_in(list(excluding)))
        return int(self.conn.execute(query).scalar_one())
