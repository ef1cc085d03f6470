"""Alerts to people: recorded as rows, sent as one digest per window.

The same key raised again within its window only adds to a count, so 500 orders held
for the same SKU make one alert that says ×500. Every unsent alert then goes out in one
digest (a coalesced outbox job, due one digest window after the first alert), through
the log, the seller's webhook and email, whichever are configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from orderhub.connectors.email import EmailNotifier, SmtpSettings
from orderhub.connectors.webhook import WebhookNotifier
from orderhub.domain.alerts import Alert, Notifier, describe, held_alerts
from orderhub.domain.errors import Problem
from orderhub.domain.order import Order
from orderhub.observability import get_logger
from orderhub.services.hub import Hub
from orderhub.store.alerts import AlertRecord
from orderhub.store.ids import new_id
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_ALERT",
    "JOB_ALERT_DIGEST",
    "LogNotifier",
    "alert_held",
    "alert_list",
    "notifiers",
    "raise_alert",
    "send_alert",
    "send_digest",
    "send_digest_job",
]

JOB_ALERT = "alert.send"
JOB_ALERT_DIGEST = "alerts.digest"
log = get_logger(__name__)


def raise_alert(
    uow: UnitOfWork, alert: Alert, *, window: float = 3600.0, now: datetime | None = None
) -> bool:
    """Record the alert, once per key per `window` seconds, and make sure a digest job
    is queued (it waits out the digest window itself).

    True when this opened a new alert; False when it only added to one already raised.
    """
    moment = now or datetime.now(UTC)
    new = uow.alerts.raise_(alert, now=moment, window=timedelta(seconds=window))
    if new or uow.alerts.holding:  # held back, it may open one at commit
        # Coalesced: while a digest is pending (perhaps due later), this adds nothing.
        uow.outbox.add(JOB_ALERT_DIGEST, {}, coalesce_key=f"alerts:digest:{uow.tenant}")
    return new


def alert_held(
    uow: UnitOfWork, order: Order, problems: Sequence[Problem], *, window: float = 3600.0
) -> None:
    """One alert per reason an order was held; orders held for the same reason on the
    same shop add to the same alert."""
    for alert in held_alerts(order.shop, problems):
        raise_alert(uow, alert, window=window)


class LogNotifier:
    """Logs each alert of a digest once, as a warning with its count."""

    channel = "log"

    def send(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            log.warning(
                "alert",
                kind=alert.kind,
                key=alert.key,
                count=alert.count,
                alert=describe(alert),
            )


def notifiers(hub: Hub) -> list[Notifier]:
    """The log always; the webhook and email when configured."""
    s = hub.settings
    chosen: list[Notifier] = [LogNotifier()]
    if s.alert_webhook_url:
        chosen.append(WebhookNotifier(s.alert_webhook_url))
    if s.alert_smtp_host and s.alert_email_to:
        chosen.append(
            EmailNotifier(
                SmtpSettings(
                    host=s.alert_smtp_host,
                    port=s.alert_smtp_port,
                    sender=s.alert_smtp_from,
                    recipients=tuple(s.alert_email_to),
                    username=s.alert_smtp_user,
                    password=s.alert_smtp_password,
                    starttls=s.alert_smtp_starttls,
                    timeout=s.alert_smtp_timeout,
                )
            )
        )
    return chosen


def send_digest(hub: Hub, *, via: Sequence[Notifier] | None = None) -> int:
    """Send every alert raised since the last digest as one message; how many alerts.

    Alerts are taken into the digest before sending and marked sent after, so a failed
    send is retried with the same alerts (at least once, never lost).
    """
    with hub.uow() as uow:
        uow.alerts.take(new_id("d"))
        uow.commit()
    with hub.reader() as uow:
        records = uow.alerts.unsent()
    if not records:
        return 0
    alerts = [r.alert() for r in records]
    chosen = list(via if via is not None else notifiers(hub))
    for notifier in chosen:
        notifier.send(alerts)
    channels = ", ".join(getattr(n, "channel", type(n).__name__) for n in chosen)
    with hub.uow() as uow:
        uow.alerts.mark_sent([r.id for r in records], at=datetime.now(UTC), via=channels)
        uow.commit()
    return len(records)


def send_digest_job(hub: Hub, job: Job) -> None:
    """Send the digest once the oldest open alert has waited a digest window; until then
    queue this job again for that moment, so the alerts of the window go out together."""
    now = datetime.now(UTC)
    with hub.reader() as uow:
        oldest = uow.alerts.oldest_open()
    if oldest is not None:
        wait = (oldest - now).total_seconds() + hub.settings.alert_digest_window
        if wait > 0:
            with hub.uow() as uow:
                uow.outbox.add(
                    JOB_ALERT_DIGEST, {}, coalesce_key=f"alerts:digest:{uow.tenant}", delay=wait
                )
                uow.commit()
            return
    send_digest(hub)


def send_alert(hub: Hub, job: Job) -> None:
    """A single-alert job queued before digests existed: it joins the next digest."""
    p = job.payload
    alert = Alert(
        p["kind"], p["key"], p["message"], p.get("severity", "warning"), p.get("data", {})
    )
    with hub.uow() as uow:
        raise_alert(uow, alert)
        uow.commit()


def alert_list(
    hub: Hub, *, kind: str | None = None, unsent: bool = False, limit: int = 100
) -> list[AlertRecord]:
    """Alerts, most recently raised first."""
    with hub.reader() as uow:
        return uow.alerts.search(kind=kind, unsent=unsent, limit=limit)
