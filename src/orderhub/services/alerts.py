"""Alerts to people: logged, and sent to the seller's webhook through the outbox.

An alert has a key; the same key alerts once per window (an hour by default), so 500
orders short of the same SKU make one alert, not 500.
"""

from __future__ import annotations

import time

from orderhub.connectors.webhook import post_alert
from orderhub.domain.alerts import Alert
from orderhub.observability import get_logger
from orderhub.services.hub import Hub
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = ["JOB_ALERT", "raise_alert", "send_alert"]

JOB_ALERT = "alert.send"
log = get_logger(__name__)


def raise_alert(uow: UnitOfWork, alert: Alert, *, window: float = 3600.0) -> None:
    """Queue the alert, once per key per window (the job logs and sends it)."""
    slot = int(time.time() // window)
    uow.outbox.add(
        JOB_ALERT,
        {
            "kind": alert.kind,
            "key": alert.key,
            "message": alert.message,
            "severity": alert.severity,
            "data": alert.data,
        },
        key=f"alert:{alert.key}:{slot}",
    )


def send_alert(hub: Hub, job: Job) -> None:
    """Log one queued alert and deliver it to the seller's webhook when configured."""
    p = job.payload
    alert = Alert(
        p["kind"], p["key"], p["message"], p.get("severity", "warning"), p.get("data", {})
    )
    log.warning("alert", kind=alert.kind, key=alert.key, alert=alert.message)
    if hub.settings.alert_webhook_url:
        post_alert(hub.settings.alert_webhook_url, alert)
