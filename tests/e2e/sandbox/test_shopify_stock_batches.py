"""`ShopifyChannel.set_stocks` against the Shopify emulator over real HTTP on loopback:
many listings' stock set by GraphQL inventorySetQuantities, up to 250 a call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from orderhub.connectors.base import RateLimited, Rejected, Unavailable
from orderhub.connectors.shopify import ShopifyChannel

# The fixture comes from conftest.py: `shopify_sandbox(**settings)` starts an emulator and
# returns a ShopifySandbox.
Start = Callable[..., Any]


class Watched:
    """An emulator whose stock-setting calls are noted: the GraphQL batches it applied
    (ShopState.set_inventory_quantities) and the REST sets (ShopState.set_inventory)."""

    def __init__(self, start: Start, **settings: Any) -> None:
        self.sandbox = start(**settings)
        self.emulator = self.sandbox.emulator
        self.batches: list[list[tuple[int, int, int]]] = []
        self.rest_sets: list[Any] = []
        state = self.emulator.state
        many, one = state.set_inventory_quantities, state.set_inventory

        def noted_many(quantities: list[tuple[int, int, int]]) -> Any:
            self.batches.append(list(quantities))
            return many(quantities)

        def noted_one(body: Any) -> Any:
            self.rest_sets.append(body)
            return one(body)

        state.set_inventory_quantities = noted_many
        state.set_inventory = noted_one

    def calls(self) -> int:
        """GraphQL calls the shop answered, throttled ones included."""
        return int(self.emulator.stats()["graphql_calls"])


@pytest.fixture
def watched(shopify_sandbox: Start) -> Callable[..., Watched]:
    return lambda **settings: Watched(shopify_sandbox, **settings)


@pytest.fixture
def channels() -> Iterator[list[ShopifyChannel]]:
    opened: list[ShopifyChannel] = []
    yield opened
    for channel in opened:
        channel.close()


def open_channel(shop: Watched, channels: list[ShopifyChannel], **settings: Any) -> ShopifyChannel:
    channel = shop.sandbox.channel(**settings)
    channels.append(channel)
    return channel


def test_300_figures_take_two_calls_and_every_figure_shows(
    watched: Callable[..., Watched], channels: list[ShopifyChannel]
) -> None:
    shop = watched()
    skus = [f"SKU-{n:03}" for n in range(300)]
    shop.emulator.seed_product({"skus": skus, "stock": 1000})
    channel = open_channel(shop, channels)

    refused = channel.set_stocks([(sku, n) for n, sku in enumerate(skus)])

    assert refused == {}
    assert channel.stock_batch == 250
    assert [len(batch) for batch in shop.batches] == [250, 50]
    assert shop.calls() == 2
    assert shop.rest_sets == []
    assert shop.emulator.inventory_by_sku() == {sku: n for n, sku in enumerate(skus)}


def test_an_unknown_sku_fails_alone(
    watched: Callable[..., Watched], channels: list[ShopifyChannel]
) -> None:
    shop = watched()
    shop.emulator.seed_product({"skus": ["MUG-1", "TEE-2"], "stock": 3})
    channel = open_channel(shop, channels)

    refused = channel.set_stocks([("MUG-1", 8), ("NO-SUCH-SKU", 4), ("TEE-2", 0)])

    assert list(refused) == ["NO-SUCH-SKU"]
    assert isinstance(refused["NO-SUCH-SKU"], Rejected)
    assert refused["NO-SUCH-SKU"].code == "unknown_sku"
    assert shop.emulator.inventory_by_sku() == {"MUG-1": 8, "TEE-2": 0}
    assert len(shop.batches) == 1


def test_a_stale_cached_inventory_item_is_read_again(
    watched: Callable[..., Watched], channels: list[ShopifyChannel]
) -> None:
    shop = watched()
    mug = shop.emulator.seed_product({"skus": ["MUG-1"], "stock": 3})
    shop.emulator.seed_product({"skus": ["TEE-2"], "stock": 3})
    gone = shop.emulator.seed_product({"skus": ["CAP-3"], "stock": 3})
    channel = open_channel(shop, channels)
    assert channel.set_stocks([("MUG-1", 4), ("TEE-2", 4), ("CAP-3", 4)]) == {}
    # The merchant deletes two products and makes MUG-1 again: a new inventory item.
    shop.emulator.delete_product(mug["product"]["id"])
    shop.emulator.delete_product(gone["product"]["id"])
    fresh = shop.emulator.seed_product({"skus": ["MUG-1"], "stock": 0})
    assert fresh["inventory_item_ids"]["MUG-1"] != mug["inventory_item_ids"]["MUG-1"]
    rest_calls = shop.emulator.stats()["api_calls"]

    refused = channel.set_stocks([("MUG-1", 9), ("TEE-2", 7), ("CAP-3", 5)])

    assert list(refused) == ["CAP-3"]
    assert isinstance(refused["CAP-3"], Rejected) and refused["CAP-3"].code == "unknown_sku"
    assert shop.emulator.inventory_by_sku() == {"TEE-2": 7, "MUG-1": 9}
    assert shop.emulator.stats()["api_calls"] - rest_calls == 1  # one read of the catalog
    assert [[item for _, item, _ in batch] for batch in shop.batches[1:]] == [
        [fresh["inventory_item_ids"]["MUG-1"], shop.batches[0][1][1]]
    ]


def test_a_listing_not_stocked_at_the_location_fails_alone(
    watched: Callable[..., Watched], channels: list[ShopifyChannel]
) -> None:
    shop = watched()
    shop.emulator.seed_product({"skus": ["MUG-1", "TEE-2"], "stock": 3})
    annex = shop.emulator.add_location("Annex")["id"]
    channel = open_channel(shop, channels, location_id=annex)
    channel.set_stock(channel_sku="MUG-1", available=1)  # REST stocks MUG-1 at the annex

    refused = channel.set_stocks([("TEE-2", 5), ("MUG-1", 6)])

    assert list(refused) == ["TEE-2"]
    assert refused["TEE-2"].code == "ITEM_NOT_STOCKED_AT_LOCATION"
    assert "TEE-2" in refused["TEE-2"].message
    assert shop.emulator.inventory_by_sku() == {"MUG-1": 3 + 6, "TEE-2": 3}
    assert shop.calls() == 2
    assert len(shop.batches) == 1


def test_throttled_becomes_rate_limited_with_the_wait_the_cost_gives(
    watched: Callable[..., Watched], channels: list[ShopifyChannel]
) -> None:
    shop = watched(graphql_bucket_size=10, graphql_restore_rate=0.5)
    shop.emulator.seed_product({"skus": ["MUG-1"], "stock": 3})
    channel = open_channel(shop, channels)
    assert channel.set_stocks([("MUG-1", 4)]) == {}

    with pytest.raises(RateLimited) as caught:
        channel.set_stocks([("MUG-1", 5)])

    # (10 requested − at most 1 point restored since) / 0.5 points a second
    assert 18.0 <= (caught.value.retry_after or 0) <= 20.0
    assert caught.value.status_code == 200
    assert "Throttled" in caught.value.message
    assert shop.emulator.inventory_by_sku() == {"MUG-1": 4}
    assert shop.emulator.stats()["graphql_throttled"] == 1


def test_a_short_throttle_is_waited_out(
    watched: Callable[..., Watched], channels: list[ShopifyChannel]
) -> None:
    shop = watched(graphql_bucket_size=10, graphql_restore_rate=20.0)
    shop.emulator.seed_product({"skus": ["MUG-1"], "stock": 3})
    channel = open_channel(shop, channels)
    assert channel.set_stocks([("MUG-1", 4)]) == {}
    assert channel.set_stocks([("MUG-1", 5)]) == {}
    assert shop.emulator.inventory_by_sku() == {"MUG-1": 5}
    assert shop.emulator.stats()["graphql_throttled"] == 1


def test_an_outage_raises_unavailable(
    watched: Callable[..., Watched], channels: list[ShopifyChannel]
) -> None:
    shop = watched()
    shop.emulator.seed_product({"skus": ["MUG-1"], "stock": 3})
    channel = open_channel(shop, channels, max_retries=0)
    channel.set_stocks([("MUG-1", 4)])
    httpx.put(f"{shop.sandbox.url}/_sandbox/faults", json={"error_rate": 1.0})

    with pytest.raises(Unavailable) as caught:
        channel.set_stocks([("MUG-1", 5)])

    assert caught.value.status_code == 503
    assert shop.emulator.inventory_by_sku() == {"MUG-1": 4}
