"""Which platforms orderhub can connect, for help texts and error messages."""

from __future__ import annotations

from orderhub.connectors.registry import CHANNEL_PLATFORMS, NODE_PLATFORMS

__all__ = ["node_platforms", "shop_platforms", "summary"]


def shop_platforms() -> list[str]:
    """Platforms a shop can be on, sorted."""
    return sorted(CHANNEL_PLATFORMS)


def node_platforms() -> list[str]:
    """Platforms a warehouse or supplier can be on, sorted."""
    return sorted(NODE_PLATFORMS)


def summary() -> str:
    """One sentence naming every platform, e.g. for `orderhub --help`."""
    return (
        f"Shops: {', '.join(shop_platforms())}. "
        f"Warehouses and suppliers: {', '.join(node_platforms())}."
    )
