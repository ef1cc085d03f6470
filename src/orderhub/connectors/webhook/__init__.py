"""Outbound webhook to the seller's own systems (alerts to chat bots, paging, scripts)."""

from __future__ import annotations

import httpx

from orderhub.connectors.base import Rejected, Unavailable
from orderhub.domain.alerts import Alert

__all__ = ["post_alert"]


def post_alert(url: str, alert: Alert, *, timeout: float = 5.0) -> None:
    """POST the alert as JSON; 5xx and network errors are Unavailable, 4xx Rejected."""
    body = {
        "kind": alert.kind,
        "key": alert.key,
        "severity": alert.severity,
        "message": alert.message,
        "data": alert.data,
    }
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
