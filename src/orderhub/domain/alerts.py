"""Alerts: something a person should know now, with a key that de-duplicates it, and the
digest that turns a burst of alerts into one message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from orderhub.domain.errors import Problem

__all__ = [
    "Alert",
    "Digest",
    "DigestGroup",
    "Notifier",
    "describe",
    "held_alerts",
    "make_digest",
]

_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}
# Past this many alerts of one kind a digest names the first ones and counts the rest.
GROUP_LINES = 20


@dataclass(frozen=True)
class Alert:
    """`key` names the situation (e.g. `low_stock:WH1:SKU-1`): one alert per key per window.

    `count`, `first_at` and `last_at` say how often the situation arose before it was sent.
    """

    kind: str
    key: str
    message: str
    severity: str = "warning"
    data: dict[str, Any] = field(default_factory=dict)
    count: int = 1
    first_at: datetime | None = None
    last_at: datetime | None = None


class Notifier(Protocol):
    """Somewhere alerts reach people: a log, a webhook, a mailbox.

    One call carries one digest: implementations send it as one message.
    """

    channel: str  # where it sends: "log", "webhook", "email"

    def send(self, alerts: Sequence[Alert]) -> None: ...


def describe(alert: Alert) -> str:
    """One line for a person: `orders held: … ×500; first at 10:02, last at 10:06`."""
    if alert.count > 1:
        text = f"{alert.message} ×{alert.count}"
        if alert.first_at and alert.last_at:
            text += f"; first at {alert.first_at:%H:%M}, last at {alert.last_at:%H:%M}"
        return text
    return f"{alert.message} (at {alert.first_at:%H:%M})" if alert.first_at else alert.message


@dataclass(frozen=True)
class DigestGroup:
    """The alerts of one kind in a digest: `count` is how often they arose in all."""

    kind: str
    alerts: tuple[Alert, ...]
    count: int
    severity: str

    def lines(self) -> list[str]:
        shown = [f"- {describe(a)}" for a in self.alerts[:GROUP_LINES]]
        hidden = len(self.alerts) - GROUP_LINES
        if hidden > 0:
            shown.append(f"- … and {hidden} more")
        return shown


@dataclass(frozen=True)
class Digest:
    """Every alert sent together, grouped by kind, as a subject line and a text body."""

    groups: tuple[DigestGroup, ...]
    subject: str
    text: str
    severity: str


def _worst(severities: Sequence[str]) -> str:
    return max(severities, key=lambda s: _SEVERITY_RANK.get(s, 1), default="warning")


def make_digest(alerts: Sequence[Alert]) -> Digest:
    """Group alerts by kind (kinds in order of first appearance) into one message.

    500 orders held for the same SKU are one alert with count 500:
    `[orderhub] 500 × order_held` and the line `orders held: … ×500; first at …`.
    """
    by_kind: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_kind.setdefault(alert.kind, []).append(alert)
    groups = tuple(
        DigestGroup(
            kind,
            tuple(members),
            sum(a.count for a in members),
            _worst([a.severity for a in members]),
        )
        for kind, members in by_kind.items()
    )
    subject = "[orderhub] " + ", ".join(f"{g.count} × {g.kind}" for g in groups)
    sections = []
    for g in groups:
        header = f"{g.kind}: {g.count} time(s)" + (
            f" across {len(g.alerts)} alerts" if len(g.alerts) > 1 else ""
        )
        sections.append("\n".join([header, *g.lines()]))
    text = "\n\n".join(sections) + "\n"
    return Digest(groups, subject, text, _worst([g.severity for g in groups]))


def held_alerts(shop: str, problems: Sequence[Problem]) -> list[Alert]:
    """The alerts for an order held for these problems: one per distinct problem, keyed so
    that every order held for the same reason on the same shop adds to one alert."""
    alerts: dict[str, Alert] = {}
    for p in problems:
        if p.severity == "warning":
            continue
        key = f"held:{shop}:{p.code}:{p.message}"[:300]
        alerts.setdefault(
            key,
            Alert(
                "order_held",
                key,
                f"orders held: {p.code} ({p.message}; shop {shop})",
                "error",
                {"shop": shop, "code": p.code, "field": p.field},
            ),
        )
    return list(alerts.values())
