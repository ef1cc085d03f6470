"""One Qimen warehouse's settings, read from the node's plain keys.

A seller sets a warehouse up without code: the six required keys, and the dialect and
behaviour of that WMS where it differs from the standard's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any

from ..kit.settings import setting, whole_number, yes_no
from .consts import (
    CANCEL_REFUSED_CODES,
    CONTENT_TYPE,
    DEFAULT_BATCH_SIZE,
    DEFAULT_LOGISTICS_CODE,
    DEFAULT_METHOD_PREFIX,
    DEFAULT_UTC_OFFSET,
    MAX_BATCH_SIZE,
    PLATFORM_CODES,
    RETRY_CODES,
)
from .xml import parse_offset

__all__ = ["QimenSettings"]

_REQUIRED = ("base_url", "app_key", "app_secret", "customer_id", "warehouse_code", "owner_code")


def _codes(value: Any, default: frozenset[str]) -> frozenset[str]:
    if value is None:
        return default
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip())
    return frozenset(str(part) for part in value)


_BATCH_SIZE = whole_number(1, MAX_BATCH_SIZE)


@dataclass(frozen=True)
class QimenSettings:
    """One warehouse's Qimen settings; the secret never shows in a repr or a log."""

    base_url: str
    app_key: str
    app_secret: str = field(repr=False)
    customer_id: str
    warehouse_code: str
    owner_code: str
    method_prefix: str = DEFAULT_METHOD_PREFIX
    content_type: str = CONTENT_TYPE
    logistics_code: str = DEFAULT_LOGISTICS_CODE
    timeout: float = 10.0
    max_retries: int = 2
    retry_backoff: float = 0.25
    zone: timezone = field(default_factory=lambda: parse_offset(DEFAULT_UTC_OFFSET))
    platform_codes: Mapping[str, str] = field(default_factory=lambda: dict(PLATFORM_CODES))
    retry_codes: frozenset[str] = RETRY_CODES
    cancel_refused_codes: frozenset[str] = CANCEL_REFUSED_CODES
    batch_create: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> QimenSettings:
        """Read and check settings: the six required keys, then optional ones with defaults.

        Optional: method_prefix (`taobao.qimen.`, or "" for a WMS that takes bare
        names such as `deliveryorder.create`), content_type (`text/xml;charset=utf-8`),
        logistics_code, timeout, max_retries, retry_backoff,
        utc_offset ("+08:00"), platform_codes (merged over the defaults), retry_codes and
        cancel_refused_codes (lists or comma-separated strings, replacing the defaults),
        batch_create (send delivery orders many at a time through
        `deliveryorder.batchcreate`, for a WMS that takes it) and batch_size (orders
        per such call, 50: no published limit is known).
        """
        for key in _REQUIRED:
            if not str(settings.get(key) or "").strip():
                raise ValueError(f"The Qimen setting {key!r} is required but missing.")
        platform_codes = dict(PLATFORM_CODES)
        for name, code in dict(settings.get("platform_codes") or {}).items():
            platform_codes[str(name).lower()] = str(code)
        return cls(
            base_url=str(settings["base_url"]),
            app_key=str(settings["app_key"]),
            app_secret=str(settings["app_secret"]),
            customer_id=str(settings["customer_id"]),
            warehouse_code=str(settings["warehouse_code"]),
            owner_code=str(settings["owner_code"]),
            method_prefix=str(settings.get("method_prefix", DEFAULT_METHOD_PREFIX)),
            content_type=str(settings.get("content_type") or CONTENT_TYPE),
            logistics_code=str(settings.get("logistics_code") or DEFAULT_LOGISTICS_CODE),
            timeout=float(settings.get("timeout", 10.0)),
            max_retries=int(settings.get("max_retries", 2)),
            retry_backoff=float(settings.get("retry_backoff", 0.25)),
            zone=parse_offset(str(settings.get("utc_offset") or DEFAULT_UTC_OFFSET)),
            platform_codes=platform_codes,
            retry_codes=_codes(settings.get("retry_codes"), RETRY_CODES),
            cancel_refused_codes=_codes(settings.get("cancel_refused_codes"), CANCEL_REFUSED_CODES),
            batch_create=setting(settings, "batch_create", yes_no, False, platform="Qimen"),
            batch_size=setting(
                settings, "batch_size", _BATCH_SIZE, DEFAULT_BATCH_SIZE, platform="Qimen"
            ),
        )
