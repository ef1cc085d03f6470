"""Marketplace shops for the demo stack: one emulator per platform, configured as a seller
would configure the real one, with the platform's own credential names. The warehouse is
given each platform that seals receivers as a printer too, so sealed receivers are opened
for the label through the platform's decrypt call, as a real WMS does. Amazon seals
nothing: the hub gets the whole address with a Restricted Data Token."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orderhub.config import ShopConfig
from orderhub.sandbox.amazon import AmazonEmulator
from orderhub.sandbox.douyin import DouyinEmulator
from orderhub.sandbox.jd import JdEmulator
from orderhub.sandbox.pdd import PddEmulator
from orderhub.sandbox.server import RunningServer
from orderhub.sandbox.taobao import TaobaoEmulator
from orderhub.sandbox.woocommerce import WooCommerceEmulator

__all__ = ["MARKETPLACES", "Market", "start_marketplace"]


@dataclass(frozen=True)
class _Platform:
    """How to run one platform's emulator and which credentials are secrets."""

    make: Callable[[str, str], Any]  # (lowercase shop code, webhook url) -> emulator
    credentials: Callable[[Any], dict[str, str]]  # the emulator's, by the platform's names
    settings: tuple[str, ...]  # credentials that go in the shop's settings
    secrets: tuple[str, ...]  # and those that go in its secrets
    qimen_code: str | None  # the platform's Qimen `sourcePlatformCode`; None: seals nothing
    where: Callable[[str], dict[str, str]] = lambda url: {"base_url": url}
    """The shop's settings that point it at the emulator at `url`."""


def _douyin(name: str, webhook_url: str) -> DouyinEmulator:
    emulator = DouyinEmulator(
        f"{name}-app-key",
        f"{name}-app-secret",
        f"{name}-token",
        push_url=webhook_url,
        push_retry_delays=(0.2, 0.5, 1.0, 2.0, 4.0),
    )
    emulator.start()
    return emulator


def _woocommerce(name: str, webhook_url: str) -> WooCommerceEmulator:
    """A store whose keys are its own; the hub registers its webhooks on it at start."""
    return WooCommerceEmulator(
        consumer_key=f"ck_{name}_demo",
        consumer_secret=f"cs_{name}_demo",
        webhook_secret=f"{name}-webhook-secret",
    )


def _amazon(name: str, _: str) -> AmazonEmulator:
    # A hundred times Amazon's quotas, and searches allowed up to now: a demo of minutes
    # would otherwise wait on getOrders' one call a minute and its two-minute lag.
    return AmazonEmulator(
        f"amzn1.application-oa2-client.{name}",
        f"{name}-lwa-secret",
        f"Atzr|{name}-refresh",
        seller_id=f"A{name.upper().replace('-', '')}",
        before_margin=0.0,
        rate_scale=100.0,
    )


def _amazon_where(url: str) -> dict[str, str]:
    return {"endpoint": url, "lwa_endpoint": f"{url}/auth/o2/token", "lag_seconds": "0"}


def _token_credentials(emulator: Any) -> dict[str, str]:
    return {
        "app_key": emulator.app_key,
        "app_secret": emulator.app_secret,
        "access_token": emulator.access_token,
    }


_PLATFORMS: Mapping[str, _Platform] = {
    "woocommerce": _Platform(
        _woocommerce,
        lambda e: dict(e.credentials),
        ("consumer_key",),
        ("consumer_secret", "webhook_secret"),
        None,
        where=lambda url: {"url": url},
    ),
    "taobao": _Platform(
        lambda n, _: TaobaoEmulator(f"{n}-app-key", f"{n}-secret", f"{n.upper()}-session"),
        lambda e: dict(e.credentials),
        ("app_key",),
        ("app_secret", "session"),
        "TB",
    ),
    "douyin": _Platform(
        _douyin,
        lambda e: {**_token_credentials(e), "shop_id": str(e.shop_id)},
        ("app_key", "shop_id"),
        ("app_secret", "access_token"),
        "DY",
    ),
    "pdd": _Platform(
        lambda n, _: PddEmulator(f"{n}-client-id", f"{n}-client-secret", f"{n}-token"),
        lambda e: dict(e.credentials),
        ("client_id",),
        ("client_secret", "access_token"),
        "PDD",
    ),
    "jd": _Platform(
        lambda n, _: JdEmulator(f"{n}-app-key", f"{n}-app-secret", f"{n}-token"),
        _token_credentials,
        ("app_key",),
        ("app_secret", "access_token"),
        "JD",
    ),
    "amazon": _Platform(
        _amazon,
        lambda e: dict(e.credentials),
        ("client_id", "seller_id", "marketplace_id"),
        ("client_secret", "refresh_token"),
        None,
        where=_amazon_where,
    ),
}

MARKETPLACES = tuple(_PLATFORMS)
"""Marketplace platforms the demo can run a shop of, beside Shopify."""


@dataclass(frozen=True)
class Market:
    """A running marketplace emulator, its shop's configuration, and the printer a
    warehouse uses to open the platform's sealed receivers (keyed by Qimen code)."""

    emulator: Any
    shop: ShopConfig
    printer: tuple[str, dict[str, Any]] | None


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
) -> Market:
    """A running emulator of `platform` selling `skus`, and the shop's configuration;
    a platform that pushes sends its messages to `webhook_url`."""
    spec = _PLATFORMS.get(platform)
    if spec is None:
        raise ValueError(f"no marketplace emulator for {platform!r}; choose {MARKETPLACES}")
    emulator = spec.make(code.lower(), webhook_url)
    emulator.seed_items([{"sku": sku, "stock": stock, "price": "19.90"} for sku in skus])
    url = serve(emulator.app).url
    creds = spec.credentials(emulator)
    shop = ShopConfig(
        code=code,
        platform=platform,
        name=f"Demo {platform} shop",
        nodes=list(nodes),
        routing=routing,
        settings=spec.where(url) | {k: creds[k] for k in spec.settings},
        secrets={k: creds[k] for k in spec.secrets},
    )
    printer = {"platform": platform, "url": url, "credentials": creds}
    if spec.qimen_code is None:
        return Market(emulator, shop, None)
    return Market(emulator, shop, (spec.qimen_code, printer))
