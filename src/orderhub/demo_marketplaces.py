"""Marketplace shops for the demo stack: one emulator per platform, configured as a seller
would configure the real one, with the platform's own credential names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from orderhub.config import ShopConfig
from orderhub.sandbox.douyin import DouyinEmulator
from orderhub.sandbox.jd import JdEmulator
from orderhub.sandbox.pdd import PddEmulator
from orderhub.sandbox.server import RunningServer
from orderhub.sandbox.taobao import TaobaoEmulator

__all__ = ["MARKETPLACES", "start_marketplace"]

MARKETPLACES = ("taobao", "douyin", "pdd", "jd")
"""Marketplace platforms the demo can run a shop of, beside Shopify."""


def start_marketplace(
    platform: str,
    code: str,
    *,
    skus: Sequence[str],
    stock: int,
    nodes: Sequence[str],
    routing: dict[str, Any],
    serve: Callable[[Any], RunningServer],
    webhook_url: str,
) -> tuple[Any, ShopConfig]:
    """A running emulator of `platform` selling `skus`, and the shop's configuration;
    a platform that pushes sends its messages to `webhook_url`."""
    if platform == "douyin":
        return _douyin(
            code,
            skus=skus,
            stock=stock,
            nodes=nodes,
            routing=routing,
            serve=serve,
            webhook_url=webhook_url,
        )
    if platform == "pdd":
        return _pdd(code, skus=skus, stock=stock, nodes=nodes, routing=routing, serve=serve)
    if platform == "jd":
        return _jd(code, skus=skus, stock=stock, nodes=nodes, routing=routing, serve=serve)
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


def _douyin(
    code: str,
    *,
    skus: Sequence[str],
    stock: int,
    nodes: Sequence[str],
    routing: dict[str, Any],
    serve: Callable[[Any], RunningServer],
    webhook_url: str,
) -> tuple[Any, ShopConfig]:
    name = code.lower()
    emulator = DouyinEmulator(
        f"{name}-app-key",
        f"{name}-app-secret",
        f"{name}-token",
        push_url=webhook_url,
        push_retry_delays=(0.2, 0.5, 1.0, 2.0, 4.0),
    )
    emulator.seed_items([{"sku": sku, "stock": stock, "price": "19.90"} for sku in skus])
    emulator.start()
    url = serve(emulator.app).url
    shop = ShopConfig(
        code=code,
        platform="douyin",
        name="Demo douyin shop",
        nodes=list(nodes),
        routing=routing,
        settings={"base_url": url, "app_key": emulator.app_key, "shop_id": emulator.shop_id},
        secrets={"app_secret": emulator.app_secret, "access_token": emulator.access_token},
    )
    return emulator, shop


def _pdd(
    code: str,
    *,
    skus: Sequence[str],
    stock: int,
    nodes: Sequence[str],
    routing: dict[str, Any],
    serve: Callable[[Any], RunningServer],
) -> tuple[Any, ShopConfig]:
    name = code.lower()
    emulator = PddEmulator(f"{name}-client-id", f"{name}-client-secret", f"{name}-token")
    emulator.seed_items([{"sku": sku, "stock": stock, "price": "19.90"} for sku in skus])
    url = serve(emulator.app).url
    creds = emulator.credentials
    shop = ShopConfig(
        code=code,
        platform="pdd",
        name="Demo pdd shop",
        nodes=list(nodes),
        routing=routing,
        settings={"base_url": url, "client_id": creds["client_id"]},
        secrets={"client_secret": creds["client_secret"], "access_token": creds["access_token"]},
    )
    return emulator, shop


def _jd(
    code: str,
    *,
    skus: Sequence[str],
    stock: int,
    nodes: Sequence[str],
    routing: dict[str, Any],
    serve: Callable[[Any], RunningServer],
) -> tuple[Any, ShopConfig]:
    name = code.lower()
    emulator = JdEmulator(f"{name}-app-key", f"{name}-app-secret", f"{name}-token")
    emulator.seed_items([{"sku": sku, "stock": stock, "price": "19.90"} for sku in skus])
    url = serve(emulator.app).url
    shop = ShopConfig(
        code=code,
        platform="jd",
        name="Demo jd shop",
        nodes=list(nodes),
        routing=routing,
        settings={"base_url": url, "app_key": emulator.app_key},
        secrets={"app_secret": emulator.app_secret, "access_token": emulator.access_token},
    )
    return emulator, shop
