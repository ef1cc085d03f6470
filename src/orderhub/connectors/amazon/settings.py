"""One seller's SP-API connection, read once from the shop's settings and secrets.

Amazon's own names: `endpoint` (the SP-API host of the seller's region), `lwa_endpoint`
(Login with Amazon's token URL), `client_id` and `client_secret` (the app's LWA
credentials), `refresh_token` (the seller's authorisation of the app), `seller_id` (the
merchant token, for the Listings API) and `marketplace_id`. The rest tune the pull:
`lag_seconds` (at least Amazon's two minutes), `window_days`, `overlap_minutes`,
`page_size`, `pull_wait` (seconds one page of a pull may wait for quota before it
gives its worker back), `max_wait` (longest wait for one call), `quotas` (`op:rate:burst,…` where
the seller's plan differs), `carrier_codes` (`HUBCODE:AmazonCode,…`), and
`refunds_restock` (whether a refund expects the goods back: true, since a
merchant-fulfilled return comes to the seller).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kit.settings import required, setting, yes_no
from .consts import (
    CARRIER_CODES,
    ENDPOINT,
    LWA_ENDPOINT,
    MARKETPLACE_US,
    MAX_PAGE_SIZE,
    MIN_SEARCH_AGE,
)

__all__ = ["AmazonSettings"]

P = "Amazon"


def _pairs(value: Any) -> dict[str, str]:
    """`SF:SF Express,YTO:Other` → {"SF": "SF Express", "YTO": "Other"}."""
    items = (x.split(":", 1) for x in str(value).split(",") if ":" in x)
    return {k.strip().upper(): v.strip() for k, v in items}


def _plans(value: Any) -> dict[str, tuple[float, int]]:
    """`getOrderItems:1:30,getOrders:0.5:20` → {op: (rate, burst)}."""
    plans = {}
    for part in str(value).split(","):
        if part.strip():
            op, rate, burst = part.strip().split(":")
            plans[op] = (float(rate), int(burst))
    return plans


@dataclass(frozen=True)
class AmazonSettings:
    """One seller's connection; secrets never show in a repr."""

    endpoint: str
    lwa_endpoint: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    seller_id: str = ""
    marketplace_id: str = MARKETPLACE_US
    page_size: int = MAX_PAGE_SIZE
    window_days: float = 7.0
    overlap_minutes: float = 2.0
    lag_seconds: float = MIN_SEARCH_AGE.total_seconds() + 10
    pull_wait: float = 30.0
    max_wait: float = 2.5
    rdt_retry_minutes: float = 10.0
    quotas: Mapping[str, tuple[float, int]] = field(default_factory=dict)
    carrier_codes: Mapping[str, str] = field(default_factory=lambda: dict(CARRIER_CODES))
    shipping_method: str = "Standard"
    refunds_restock: bool = True
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> AmazonSettings:
        """Read a settings mapping; a missing or bad key raises ValueError naming it."""
        page_size = setting(settings, "page_size", int, MAX_PAGE_SIZE, platform=P)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"Amazon setting 'page_size' must be 1 to {MAX_PAGE_SIZE}.")
        return cls(
            endpoint=str(settings.get("endpoint") or ENDPOINT).rstrip("/"),
            lwa_endpoint=str(settings.get("lwa_endpoint") or LWA_ENDPOINT),
            client_id=required(settings, "client_id", platform=P),
            client_secret=required(settings, "client_secret", platform=P),
            refresh_token=required(settings, "refresh_token", platform=P),
            seller_id=required(settings, "seller_id", platform=P),
            marketplace_id=str(settings.get("marketplace_id") or MARKETPLACE_US),
            page_size=page_size,
            window_days=setting(settings, "window_days", float, 7.0, platform=P),
            overlap_minutes=setting(settings, "overlap_minutes", float, 2.0, platform=P),
            lag_seconds=setting(
                settings, "lag_seconds", float, MIN_SEARCH_AGE.total_seconds() + 10, platform=P
            ),
            pull_wait=setting(settings, "pull_wait", float, 30.0, platform=P),
            max_wait=setting(settings, "max_wait", float, 2.5, platform=P),
            rdt_retry_minutes=setting(settings, "rdt_retry_minutes", float, 10.0, platform=P),
            quotas=setting(settings, "quotas", _plans, {}, platform=P),
            carrier_codes={
                **CARRIER_CODES,
                **setting(settings, "carrier_codes", _pairs, {}, platform=P),
            },
            shipping_method=str(settings.get("shipping_method") or "Standard"),
            refunds_restock=setting(settings, "refunds_restock", yes_no, True, platform=P),
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )
