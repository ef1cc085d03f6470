"""What a channel whose platform pushes nothing over HTTP says about webhooks.

Taobao, JD, Pinduoduo and an ERP taken in as a shop are only pulled: nothing arrives at
the hub's webhook address for them, and an address is never registered with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from ..base import WebhookDelivery

__all__ = ["PulledOnly"]


class PulledOnly:
    """Webhook answers for a pulled channel; `platform_title` names it in errors."""

    platform_title: ClassVar[str] = "This platform"

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    def describe_webhook(self, headers: Mapping[str, str]) -> WebhookDelivery:
        return WebhookDelivery(topic="", delivery_id="", handled=False)

    def register_webhooks(self, *, address: str, topics: Sequence[str]) -> None:
        """Nothing to register: the orders are pulled."""

    def orders_in_message(self, body: bytes) -> list[str]:
        raise ValueError(f"{self.platform_title} pushes nothing over HTTP")
