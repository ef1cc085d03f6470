"""Marketplace shops for the demo stack: one emulator per platform, configured as a seller
would configure the real one, with the platform's own credential names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from orderhub.config import ShopConfig
from orderhub.sandbox.server import RunningServer
from orderhub.sandbox.taobao import TaobaoEmulator

__all__ = ["MARKETPLACES", "start_marketplace"]

MARKETPLACES = ("taobao",)
"""Platforms whose shops are pulled rather than pushing webhooks to the hub."""


def start_marketplace(
    platform: str,
    code: str,
    *,
    skus: Sequence[str],
    stock: int,
    nodes: Sequence[str],
    routing: dict[str, Any],
    serve: Callable[[Any], RunningServer],
) -> tuple[Any, ShopConfig]:
    """A running emulator of `platform` selling `skus`, and the shop's configuration."""
    if platform != "taobao":
        raise ValueError(f"no marketplace emulator for {platform!r}; choose {MARKETPLACES}")
    emulator = TaobaoEmulator(
        f"{code.lower()}-app-key", f"{code.lower()}-secret", f"{code}-session"
    )
    emulator.seed_items([{"sku": sku, "stock": stock, "price": "19.90"} for sku in skus])
    url = serve(emulator.app).url
    creds = emulator.credentials
    shop = ShopConfig(
        code=code,
        platform=platform,
        name=f"Demo {platform} shop",
        nodes=list(nodes),
        routing=routing,
        settings={"base_url": url, "app_key": creds["app_key"]},
        secrets={"app_secret": creds["app_secret"], "session": creds["session"]},
    )
    return emulator, shop
