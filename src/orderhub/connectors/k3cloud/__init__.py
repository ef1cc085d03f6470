"""Kingdee K/3 Cloud (金蝶云星空) through its WebAPI: the books, and orders keyed in there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ..kit.http import Transport
from ..kit.settings import required, setting
from .channel import K3CloudChannel
from .client import K3CloudClient
from .consts import AUTH_MODES, DEFAULT_KEY_FIELD
from .documents import document_mappings
from .erp import K3CloudErp

__all__ = [
    "K3CloudChannel",
    "K3CloudClient",
    "K3CloudErp",
    "client_from_settings",
    "erp_from_settings",
    "from_settings",
]

_P = "k3cloud"


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def client_from_settings(
    settings: Mapping[str, Any], *, client: httpx.Client | None = None
) -> K3CloudClient:
    """A client for the 账套 the settings name; ValueError names a missing or bad key."""
    auth = setting(settings, "auth", str, "app_secret", platform=_P)
    if auth not in AUTH_MODES:
        raise ValueError(f"k3cloud setting 'auth' must be one of {', '.join(AUTH_MODES)}.")
    secrets = ("password",) if auth == "password" else ("app_id", "app_secret")
    for key in secrets:
        required(settings, key, platform=_P)
    timeout = setting(settings, "timeout", float, 20.0, platform=_P)
    return K3CloudClient(
        base_url=required(settings, "base_url", platform=_P),
        acct_id=required(settings, "acct_id", platform=_P),
        user_name=required(settings, "user_name", platform=_P),
        auth=auth,
        password=str(settings.get("password") or ""),
        app_id=str(settings.get("app_id") or ""),
        app_secret=str(settings.get("app_secret") or ""),
        lcid=setting(settings, "lcid", int, 2052, platform=_P),
        org_num=setting(settings, "org_num", int, 0, platform=_P),
        transport=Transport(_P, timeout=timeout, client=client, keep_cookies=True),
    )


def erp_from_settings(
    settings: Mapping[str, Any],
    *,
    mapping: Mapping[str, Any] | None = None,
    client: httpx.Client | None = None,
) -> K3CloudErp:
    """The booking connector; `mapping` overrides single fields of `documents.yaml`."""
    try:
        mappings = document_mappings(mapping)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"k3cloud mapping: {exc}") from exc
    return K3CloudErp(
        client_from_settings(settings, client=client),
        mappings,
        key_field=setting(settings, "key_field", str, DEFAULT_KEY_FIELD, platform=_P),
        submit=_flag(settings.get("submit", True)),
        audit=_flag(settings.get("audit", True)),
    )


def from_settings(
    settings: Mapping[str, Any], *, client: httpx.Client | None = None
) -> K3CloudChannel:
    """Sales orders keyed in the ERP, as a shop's orders (the drop-ship case)."""
    return K3CloudChannel(client_from_settings(settings, client=client), settings)
