"""Kingdee 金蝶云星辰 (JDY, small-business edition) through its V2 open API: the books."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml

from ..k3cloud.documents import DocumentMapping
from ..kit.http import Transport
from ..kit.settings import required, setting
from .client import AUTH_PATH, JdyClient
from .erp import JdyErp

__all__ = ["JdyClient", "JdyErp", "client_from_settings", "document_mappings", "erp_from_settings"]

_P = "jdy"
KEY_FIELDS = ("bill_no", "remark")


@cache
def _base() -> dict[str, Any]:
    with open(Path(__file__).parent / "documents.yaml", encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def document_mappings(overrides: Mapping[str, Any] | None = None) -> dict[str, DocumentMapping]:
    """Every kind's mapping, with a seller's overrides (same shape as the file) applied."""
    spec = _merge(_base(), overrides or {})
    return {kind: DocumentMapping.from_spec(kind, part) for kind, part in spec.items()}


def client_from_settings(
    settings: Mapping[str, Any], *, client: httpx.Client | None = None
) -> JdyClient:
    """A client for the tenant the settings name; ValueError names a missing or bad key."""
    codes = setting(settings, "token_errors", str, "1002", platform=_P)
    try:
        token_errors = frozenset(int(c) for c in codes.split(",") if c.strip())
    except ValueError as exc:
        raise ValueError("jdy setting 'token_errors' must be numbers separated by commas") from exc
    return JdyClient(
        base_url=setting(settings, "base_url", str, "https://api.kingdee.com", platform=_P),
        client_id=required(settings, "client_id", platform=_P),
        client_secret=required(settings, "client_secret", platform=_P),
        app_key=required(settings, "app_key", platform=_P),
        app_secret=required(settings, "app_secret", platform=_P),
        domain=required(settings, "domain", platform=_P),
        auth_path=setting(settings, "auth_path", str, AUTH_PATH, platform=_P),
        token_errors=token_errors,
        transport=Transport(
            _P, timeout=setting(settings, "timeout", float, 20.0, platform=_P), client=client
        ),
    )


def erp_from_settings(
    settings: Mapping[str, Any],
    *,
    mapping: Mapping[str, Any] | None = None,
    client: httpx.Client | None = None,
) -> JdyErp:
    """The booking connector; `mapping` overrides single fields of `documents.yaml`."""
    key_field = setting(settings, "key_field", str, "bill_no", platform=_P)
    if key_field not in KEY_FIELDS:
        raise ValueError(f"jdy setting 'key_field' must be one of {', '.join(KEY_FIELDS)}")
    try:
        mappings = document_mappings(mapping)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"jdy mapping: {exc}") from exc
    return JdyErp(client_from_settings(settings, client=client), mappings, key_field=key_field)
