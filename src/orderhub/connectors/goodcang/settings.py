"""One 谷仓 account's connection, read from plain setting names.

Required: `app_token`, `app_key` (from GoodCang's OMS), `warehouse_code` (the shipping
warehouse, e.g. UKLH). Optional: `base_url` (`https://oms.goodcang.net`),
`shipping_method` (the default 物流产品 when the order names none), `platform` (OTHER),
`verify` (1: submitted; 0 would leave a draft nobody ships), `carriers` (`METHOD:carrier,…`,
the carrier the hub reports per shipping method; the method code itself otherwise), and
the UNCONFIRMED facts as settings: `shipped_statuses`, `cancelled_statuses` (comma lists),
`barcode_separator` (`-`: orderBoxInfo names products as customer code, dash, SKU);
`timeout` and `max_retries`.

UNCONFIRMED: `product_declared_value` is in the warehouse's currency, and the hub sends
the line's declared value as it is (no conversion).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kit.settings import required, setting
from .consts import CANCELLED_STATUSES, DEFAULT_BASE_URL, SHIPPED_STATUSES

__all__ = ["GoodCangSettings"]

P = "GoodCang"


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
class GoodCangSettings:
    """The settings above, checked; keys never show in a repr or a log."""

    base_url: str
    app_token: str = field(repr=False)
    app_key: str = field(repr=False)
    warehouse_code: str = ""
    shipping_method: str = ""
    platform: str = "OTHER"
    verify: int = 1
    carriers: Mapping[str, str] = field(default_factory=dict)
    shipped_statuses: frozenset[str] = SHIPPED_STATUSES
    cancelled_statuses: frozenset[str] = CANCELLED_STATUSES
    barcode_separator: str = "-"
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> GoodCangSettings:
        """Read and check; ValueError names the first missing or bad setting."""
        base = str(settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        if base.endswith("/public_open"):
            base = base[: -len("/public_open")]
        verify = setting(settings, "verify", int, 1, platform=P)
        if verify not in (0, 1):
            raise ValueError(f"{P} setting 'verify' must be 0 or 1, not {verify}.")
        return cls(
            base_url=base,
            app_token=required(settings, "app_token", platform=P),
            app_key=required(settings, "app_key", platform=P),
            warehouse_code=required(settings, "warehouse_code", platform=P),
            shipping_method=str(settings.get("shipping_method") or ""),
            platform=str(settings.get("platform") or "OTHER"),
            verify=verify,
            carriers=setting(settings, "carriers", _pairs, {}, platform=P),
            shipped_statuses=setting(
                settings, "shipped_statuses", _codes, SHIPPED_STATUSES, platform=P
            ),
            cancelled_statuses=setting(
                settings, "cancelled_statuses", _codes, CANCELLED_STATUSES, platform=P
            ),
            barcode_separator=str(settings.get("barcode_separator") or "-"),
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )
