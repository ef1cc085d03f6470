"""Connectors by platform name: which package serves which platform, and its mapping."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, cast

from orderhub.connectors.base import ChannelConnector, NodeConnector
from orderhub.connectors.books import ErpConnector
from orderhub.connectors.mapping import OrderMapping, load_mapping
from orderhub.connectors.tracking import TrackerConnector

__all__ = [
    "CHANNEL_PLATFORMS",
    "CROSS_BORDER_NODES",
    "ERP_PLATFORMS",
    "NODE_PLATFORMS",
    "PUSHING_CHANNELS",
    "TRACKER_PLATFORMS",
    "UnknownPlatform",
    "channel_connector",
    "erp_connector",
    "node_connector",
    "order_mapping",
    "tracker_connector",
]

CHANNEL_PLATFORMS = frozenset(
    {"shopify", "woocommerce", "taobao", "douyin", "pdd", "jd", "k3cloud", "amazon"}
)
PUSHING_CHANNELS = frozenset({"shopify", "woocommerce", "douyin"})
"""Channels that push orders to the hub; the others are only pulled, so more often."""
NODE_PLATFORMS = frozenset({"qimen", "eclp", "fourpx", "goodcang", "supplier_api", "supplier_file"})
CROSS_BORDER_NODES = frozenset({"goodcang", "fourpx"})
"""Overseas warehouses: their parcels declare customs when they cross a border, unless a
node's `customs.required` says otherwise (other nodes declare only when it says so)."""
ERP_PLATFORMS = frozenset({"k3cloud", "jdy"})
TRACKER_PLATFORMS = frozenset({"kuaidi100", "17track"})
_PACKAGES = {"supplier_api": "supplier", "17track": "track17"}
"""Platforms served by a package of another name; the rest share their package's name."""


class UnknownPlatform(ValueError):
    """No connector serves this platform name."""

    def __init__(self, platform: str, known: frozenset[str]) -> None:
        super().__init__(
            f"unknown platform {platform!r}; orderhub knows {', '.join(sorted(known))}"
        )
        self.platform = platform


def _factory(platform: str, known: frozenset[str]) -> Callable[[Mapping[str, Any]], Any]:
    if platform not in known:
        raise UnknownPlatform(platform, known)
    package = _PACKAGES.get(platform, platform)
    module = importlib.import_module(f"orderhub.connectors.{package}")
    return cast(Callable[[Mapping[str, Any]], Any], module.from_settings)


def channel_connector(platform: str, settings: Mapping[str, Any]) -> ChannelConnector:
    """A connected client for a shop on `platform`."""
    return cast(ChannelConnector, _factory(platform, CHANNEL_PLATFORMS)(settings))


def node_connector(platform: str, settings: Mapping[str, Any]) -> NodeConnector:
    """A connected client for a warehouse or supplier on `platform`."""
    return cast(NodeConnector, _factory(platform, NODE_PLATFORMS)(settings))


def erp_connector(
    platform: str, settings: Mapping[str, Any], mapping: Mapping[str, Any] | None = None
) -> ErpConnector:
    """A connected client for the seller's ERP, its document mapping overridden."""
    if platform not in ERP_PLATFORMS:
        raise UnknownPlatform(platform, ERP_PLATFORMS)
    module = importlib.import_module(f"orderhub.connectors.{platform}")
    return cast(ErpConnector, module.erp_from_settings(settings, mapping=mapping))


def tracker_connector(platform: str, settings: Mapping[str, Any]) -> TrackerConnector:
    """A connected client for a parcel tracker account."""
    if platform not in TRACKER_PLATFORMS:
        raise UnknownPlatform(platform, TRACKER_PLATFORMS)
    package = _PACKAGES.get(platform, platform)
    module = importlib.import_module(f"orderhub.connectors.{package}")
    return cast(TrackerConnector, module.tracker_from_settings(settings))


@cache
def _base_mapping(platform: str) -> OrderMapping:
    if platform not in CHANNEL_PLATFORMS:
        raise UnknownPlatform(platform, CHANNEL_PLATFORMS)
    module = importlib.import_module(f"orderhub.connectors.{platform}")
    assert module.__file__ is not None
    return load_mapping(Path(module.__file__).parent / "mapping.yaml")


def order_mapping(platform: str, overrides: Mapping[str, Any] | None = None) -> OrderMapping:
    """The platform's mapping file, with a shop's overrides applied."""
    return _base_mapping(platform).with_overrides(overrides)
