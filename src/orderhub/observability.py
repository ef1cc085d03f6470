"""Structured logs (structlog; JSON in production) and Prometheus metrics.

Secrets and personal data never reach a log line: connectors log no payloads, and the
`redact` processor masks values under sensitive keys should one slip through.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any, Self

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from orderhub.cpus import stat_fields

__all__ = ["Metrics", "ThreadCpu", "configure_logging", "get_logger", "metrics"]

_SENSITIVE = (
    "secret",
    "token",
    "password",
    "authorization",
    "phone",
    "email",
    "address",
    "hmac",
)


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(word in key.lower() for word in _SENSITIVE):
            event[key] = "***"
    return event


def configure_logging(*, fmt: str = "console", level: str = "info") -> None:
    """Set up structlog once per process."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    # JSON lines carry a failure as data: its type, message and every frame.
    tracebacks: list[Any] = [structlog.processors.dict_tracebacks] if fmt == "json" else []
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            *tracebacks,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


class _KeptChildren(MetricWrapperBase):
    """A metric whose child for some label values is looked up once: the client checks
    and converts the values on every `labels()` (about 2 µs), several times an order.
    Only for metrics never cleared, so that a child once made stays the one exported."""

    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Self:
        if labelkwargs:
            return super().labels(*labelvalues, **labelkwargs)
        kept: dict[tuple[Any, ...], Self] = self.__dict__.setdefault("_kept", {})
        child = kept.get(labelvalues)
        if child is None:
            child = kept[labelvalues] = super().labels(*labelvalues)
        return child


class _KeptCounter(_KeptChildren, Counter):
    pass


class _KeptHistogram(_KeptChildren, Histogram):
    pass


class Metrics:
    """Every metric the hub exports at /metrics, on its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.orders = _KeptCounter(
            "orderhub_orders_total",
            "Orders passing each pipeline stage",
            ["stage"],
            registry=self.registry,
        )
        self.inbound = _KeptCounter(
            "orderhub_inbound_total",
            "Inbound payloads by source and result",
            ["source", "result"],
            registry=self.registry,
        )
        self.jobs = _KeptCounter(
            "orderhub_jobs_total",
            "Outbox job attempts by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.job_seconds = _KeptHistogram(
            "orderhub_job_seconds",
            "Time spent on one job attempt",
            ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.connector_failures = _KeptCounter(
            "orderhub_connector_failures_total",
            "Failed calls to external systems",
            ["connector", "error"],
            registry=self.registry,
        )
        self.platform_decrypts = _KeptCounter(
            "orderhub_platform_decrypts_total",
            "Sealed receivers opened through the platform's decrypt call",
            ["platform"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "orderhub_queue_depth",
            "Outbox jobs queued, running or dead, per kind and status",
            ["kind", "status"],
            registry=self.registry,
        )
        self.db_statements = Counter(
            "orderhub_db_statements_total",
            "Statements this process sent to the database (an executemany counts once)",
            registry=self.registry,
        )
        self.db_transactions = _KeptCounter(
            "orderhub_db_transactions_total",
            "Transactions this process ended, by how: commit, or rollback (which is also "
            "how a connection that only read ends its transaction)",
            ["kind"],
            registry=self.registry,
        )
        self.open_exceptions = Gauge(
            "orderhub_open_exceptions",
            "Exceptions waiting for a person",
            registry=self.registry,
        )
        self.registry.register(ThreadCpu())


_TASKS = Path("/proc/self/task")
# "worker-push-call_3" -> "worker-push-call", "Thread-7 (serve)" -> "Thread".
_NUMBERED = re.compile(r"[\s_-]*\d*(?:\s*\(.*\))?$")


class ThreadCpu(Collector):
    """`orderhub_thread_cpu_seconds_total{thread}`: the CPU each kind of thread of this
    process has used, so an operator sees what a core is spent on (the web server's event
    loop, the webhook handlers, each worker lane, the calls out) before adding one.

    Read from Linux's per-thread counters when /metrics is scraped; nothing elsewhere.
    Threads are grouped by name without their number. A thread that ended keeps, in its
    group, the seconds it had used when it was last seen."""

    def __init__(self, tasks: Path = _TASKS) -> None:
        self._tasks = tasks
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._lock = threading.Lock()
        self._seen: dict[int, tuple[str, float]] = {}  # native thread id: group, seconds
        self._ended: dict[str, float] = {}

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "orderhub_thread_cpu_seconds",
            "CPU seconds used by this process's threads, by kind of thread",
            labels=["thread"],
        )
        for group, seconds in sorted(self.read().items()):
            family.add_metric([group], round(seconds, 3))
        yield family

    def read(self) -> dict[str, float]:
        """Seconds of CPU per kind of thread, ended threads included; {} off Linux."""
        if not self._tasks.is_dir():
            return {}
        with self._lock:
            now: dict[int, tuple[str, float]] = {}
            for thread in threading.enumerate():
                seconds = self._seconds(thread.native_id)
                if thread.native_id is not None and seconds is not None:
                    now[thread.native_id] = (_NUMBERED.sub("", thread.name) or "thread", seconds)
            for native_id, (group, seconds) in self._seen.items():
                later = now.get(native_id)
                # Gone, or its id reused by a thread started since.
                if later is None or later[0] != group or later[1] < seconds:
                    self._ended[group] = self._ended.get(group, 0.0) + seconds
            self._seen = now
            totals = dict(self._ended)
            for group, seconds in now.values():
                totals[group] = totals.get(group, 0.0) + seconds
            return totals

    def _seconds(self, native_id: int | None) -> float | None:
        try:
            fields = stat_fields(self._tasks / str(native_id) / "stat")
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self._tick  # user and system time


metrics = Metrics()
