"""One 4PX (or 菜鸟 GFN) warehouse account's connection, read from plain setting names.

Required: `app_key`, `app_secret`, `warehouse_code` (e.g. USLAXA), and
`logistics_product_code` (派送方式 used when an order names none). Optional:
`base_url` (the gateway, `https://open.4px.com`; `https://open.gfn.cainiao.com` for
菜鸟 GFN), `customer_code` (操作账号), `version` (1.0.0), `cancel_type` (OT), `carriers`
(`F152:USPS,F3:UPS`, logistics product → carrier code), `poll_days` (30), `timeout`,
`max_retries`. UNCONFIRMED facts as settings: `duplicate_ref_codes` (comma list).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kit.settings import required, setting
from .consts import CANCEL_TYPE, DUPLICATE_REF_CODES, GATEWAY, PATH, POLL_DAYS, VERSION

__all__ = ["FourpxSettings"]

P = "4PX"


def _pairs(value: Any) -> dict[str, str]:
    """`A:1,B:2` (or a mapping) → {"A": "1", "B": "2"}."""
    if isinstance(value, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in value.items()}
    items = (part.split(":", 1) for part in str(value).split(",") if ":" in part)
    return {key.strip(): val.strip() for key, val in items}


def _codes(value: Any) -> frozenset[str]:
    parts = value if isinstance(value, list | tuple) else str(value).split(",")
    codes = frozenset(str(part).strip() for part in parts if str(part).strip())
    if not codes:
        raise ValueError("no codes given")
    return codes


@dataclass(frozen=True)
class FourpxSettings:
    """The settings above, checked; the secret never shows in a repr or a log."""

    gateway: str
    app_key: str
    app_secret: str = field(repr=False)
    warehouse_code: str = ""
    logistics_product_code: str = ""
    customer_code: str = ""
    version: str = VERSION
    cancel_type: str = CANCEL_TYPE
    carriers: Mapping[str, str] = field(default_factory=dict)
    duplicate_ref_codes: frozenset[str] = DUPLICATE_REF_CODES
    poll_days: int = POLL_DAYS
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> FourpxSettings:
        """Read and check; ValueError names the first missing or bad setting."""
        base = str(settings.get("base_url") or GATEWAY).rstrip("/")
        days = setting(settings, "poll_days", int, POLL_DAYS, platform=P)
        if not 1 <= days <= POLL_DAYS:
            raise ValueError(f"{P} setting 'poll_days' must be 1..{POLL_DAYS}.")
        return cls(
            gateway=base if base.endswith(PATH) else base + PATH,
            app_key=required(settings, "app_key", platform=P),
            app_secret=required(settings, "app_secret", platform=P),
            warehouse_code=required(settings, "warehouse_code", platform=P),
            logistics_product_code=required(settings, "logistics_product_code", platform=P),
            customer_code=str(settings.get("customer_code") or ""),
            version=str(settings.get("version") or VERSION),
            cancel_type=str(settings.get("cancel_type") or CANCEL_TYPE),
            carriers=setting(settings, "carriers", _pairs, {}, platform=P),
            duplicate_ref_codes=setting(
                settings, "duplicate_ref_codes", _codes, DUPLICATE_REF_CODES, platform=P
            ),
            poll_days=days,
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )
