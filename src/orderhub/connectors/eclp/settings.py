"""One 京东云仓 department's connection, read from plain setting names.

Required: `app_key`, `app_secret`, `access_token` (the JOS app and the merchant's token),
`department_no` (事业部), `warehouse_no`, `shop_no`, `isv_source` (ISV来源编号, given by
JD). Optional: `base_url` (JOS gateway, `https://api.jd.com`), `shipper_no` (CYS0000010,
京东快递), and the UNCONFIRMED facts as settings: `shippers` (`CYS…:SF,…`, merged over the
defaults), `platform_sources` (`jd:1,taobao:2`), `shipped_codes`, `cancelled_codes`,
`cancel_ok_codes` (comma lists), `stock_status`, `stock_type`, `stock_sku_param`;
`timeout` and `max_retries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kit.settings import required, setting
from .consts import (
    CANCEL_OK_CODES,
    CANCELLED_CODES,
    DEFAULT_SHIPPER,
    GOOD_STOCK,
    PLATFORM_SOURCES,
    SHIPPED_CODES,
    SHIPPERS,
    STOCK_SKU_PARAM,
)

__all__ = ["EclpSettings"]

P = "ECLP"


def _pairs(value: Any) -> dict[str, str]:
    """`A:1,B:2` (or a mapping) → {"A": "1", "B": "2"}."""
    if isinstance(value, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in value.items()}
    items = (part.split(":", 1) for part in str(value).split(",") if ":" in part)
    return {key.strip(): val.strip() for key, val in items}


def _codes(value: Any) -> frozenset[str]:
    """`10018,10019` (or a list) → a set of codes; an empty set is refused."""
    parts = value if isinstance(value, list | tuple) else str(value).split(",")
    codes = frozenset(str(part).strip() for part in parts if str(part).strip())
    if not codes:
        raise ValueError("no codes given")
    return codes


@dataclass(frozen=True)
class EclpSettings:
    """The settings above, checked; secrets never show in a repr or a log."""

    gateway: str
    app_key: str
    app_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    department_no: str = ""
    warehouse_no: str = ""
    shop_no: str = ""
    isv_source: str = ""
    shipper_no: str = DEFAULT_SHIPPER
    shippers: Mapping[str, str] = field(default_factory=lambda: dict(SHIPPERS))
    platform_sources: Mapping[str, str] = field(default_factory=lambda: dict(PLATFORM_SOURCES))
    shipped_codes: frozenset[str] = SHIPPED_CODES
    cancelled_codes: frozenset[str] = CANCELLED_CODES
    cancel_ok_codes: frozenset[str] = CANCEL_OK_CODES
    stock_status: str = GOOD_STOCK
    stock_type: str = GOOD_STOCK
    stock_sku_param: str = STOCK_SKU_PARAM
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> EclpSettings:
        """Read and check; ValueError names the first missing or bad setting."""
        base = str(settings.get("base_url") or "https://api.jd.com").rstrip("/")
        none: dict[str, str] = {}
        sources = setting(settings, "platform_sources", _pairs, none, platform=P)
        return cls(
            gateway=base if base.endswith("/routerjson") else base + "/routerjson",
            app_key=required(settings, "app_key", platform=P),
            app_secret=required(settings, "app_secret", platform=P),
            access_token=required(settings, "access_token", platform=P),
            department_no=required(settings, "department_no", platform=P),
            warehouse_no=required(settings, "warehouse_no", platform=P),
            shop_no=required(settings, "shop_no", platform=P),
            isv_source=required(settings, "isv_source", platform=P),
            shipper_no=str(settings.get("shipper_no") or DEFAULT_SHIPPER),
            shippers={**SHIPPERS, **setting(settings, "shippers", _pairs, none, platform=P)},
            platform_sources={
                **PLATFORM_SOURCES,
                **{k.lower(): v for k, v in sources.items()},
            },
            shipped_codes=setting(settings, "shipped_codes", _codes, SHIPPED_CODES, platform=P),
            cancelled_codes=setting(
                settings, "cancelled_codes", _codes, CANCELLED_CODES, platform=P
            ),
            cancel_ok_codes=setting(
                settings, "cancel_ok_codes", _codes, CANCEL_OK_CODES, platform=P
            ),
            stock_status=str(settings.get("stock_status") or GOOD_STOCK),
            stock_type=str(settings.get("stock_type") or GOOD_STOCK),
            stock_sku_param=str(settings.get("stock_sku_param") or STOCK_SKU_PARAM),
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )
