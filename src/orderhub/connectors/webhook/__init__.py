"""Outbound webhook to the seller's own systems (alerts to chat bots, paging, scripts).

One POST per digest. Its top-level fields describe the digest; for a digest of one
alert they are that alert's own (kind, key, severity, message, data), so a receiver
written for single alerts keeps working. `alerts` lists every alert with its count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from orderhub.connectors.base import Rejected, Unavailable
from orderhub.domain.alerts import Alert, describe, make_digest

__all__ = ["WebhookNotifier", "alert_body", "digest_body", "post_alert", "post_json"]


def alert_body(alert: Alert) -> dict[str, Any]:
    return {
        "kind": alert.kind,
        "key": alert.key,
        "severity": alert.severity,
        "message": alert.message,
        "data": alert.data,
        "count": alert.count,
        "first_at": alert.first_at.isoformat() if alert.first_at else None,
        "last_at": alert.last_at.isoformat() if alert.last_at else None,
        "text": describe(alert),
    }


def digest_body(alerts: Sequence[Alert]) -> dict[str, Any]:
    """The JSON of one digest (see the module docstring)."""
    digest = make_digest(alerts)
    listed = [alert_body(a) for a in alerts]
    if len(alerts) == 1:
        return {**listed[0], "alerts": listed}
    return {
        "kind": "digest",
        "key": "digest",
        "severity": digest.severity,
        "message": digest.subject,
        "text": digest.text,
        "data": {"groups": {g.kind: g.count for g in digest.groups}},
        "alerts": listed,
    }


def post_json(url: str, body: dict[str, Any], *, timeout: float = 5.0) -> None:
    """POST JSON; 5xx and network errors are Unavailable, 4xx Rejected."""
    try:
        response = httpx.post(url, json=body, timeout=timeout)
    except httpx.HTTPError as exc:
        raise Unavailable(f"alert webhook unreachable: {exc}") from exc
    if response.status_code >= 500:
        raise Unavailable(
            f"alert webhook answered {response.status_code}", status_code=response.status_code
        )
    if response.status_code >= 400:
        raise Rejected(
            f"alert webhook answered {response.status_code}",
            code=str(response.status_code),
            status_code=response.status_code,
        )


def post_alert(url: str, alert: Alert, *, timeout: float = 5.0) -> None:
    """POST one alert as JSON."""
    post_json(url, digest_body([alert]), timeout=timeout)


class WebhookNotifier:
    """Sends each digest to the seller's webhook as one POST."""

    channel = "webhook"

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            post_json(self.url, digest_body(alerts), timeout=self.timeout)
