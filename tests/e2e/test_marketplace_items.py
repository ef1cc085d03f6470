"""Every channel reads the shop's SKUs by merchant code from its platform, over HTTP."""

from __future__ import annotations

import pytest

from orderhub.connectors.registry import channel_connector
from orderhub.demo_marketplaces import MARKETPLACES, start_marketplace
from orderhub.sandbox.server import RunningServer, serve_in_thread


@pytest.mark.parametrize("platform", MARKETPLACES)
def test_a_shops_items_are_read_with_their_merchant_codes(platform: str) -> None:
    servers: list[RunningServer] = []

    def serve(app: object) -> RunningServer:
        servers.append(serve_in_thread(app))
        return servers[-1]

    market = start_marketplace(
        platform,
        "M1",
        skus=["MUG-1", "TEE-2", "CAP-3"],
        stock=4,
        nodes=[],
        routing={},
        serve=serve,
        webhook_url="http://127.0.0.1:9/nowhere",
    )
    emulator, shop = market.emulator, market.shop
    channel = channel_connector(platform, {**shop.settings, **shop.secrets})
    try:
        items = channel.list_items()
    finally:
        channel.close()
        for server in servers:
            server.stop()
        emulator.stop()
    assert sorted(item.channel_sku for item in items) == ["CAP-3", "MUG-1", "TEE-2"]
    assert all(item.platform_ref for item in items)
