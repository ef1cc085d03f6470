"""Alerts: something a person should know now, with a key that de-duplicates it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Alert"]


@dataclass(frozen=True)
class Alert:
    """`key` names the situation (e.g. `low_stock:WH1:SKU-1`): one alert per key per window."""

    kind: str
    key: str
    message: str
    severity: str = "warning"
    data: dict[str, Any] = field(default_factory=dict)
