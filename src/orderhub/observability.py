"""Structured logs (structlog; JSON in production) and Prometheus metrics.

Secrets and personal data never reach a log line: connectors log no payloads, and the
`redact` processor masks values under sensitive keys should one slip through.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics", "configure_logging", "get_logger", "metrics"]

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


class Metrics:
    """Every metric the hub exports at /metrics, on its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.orders = Counter(
            "orderhub_orders_total",
            "Orders passing each pipeline stage",
            ["stage"],
            registry=self.registry,
        )
        self.inbound = Counter(
            "orderhub_inbound_total",
            "Inbound payloads by source and result",
            ["source", "result"],
            registry=self.registry,
        )
        self.jobs = Counter(
            "orderhub_jobs_total",
            "Outbox job attempts by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "orderhub_job_seconds",
            "Time spent on one job attempt",
            ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.connector_failures = Counter(
            "orderhub_connector_failures_total",
            "Failed calls to external systems",
            ["connector", "error"],
            registry=self.registry,
        )
        self.platform_decrypts = Counter(
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
        self.db_transactions = Counter(
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


metrics = Metrics()
