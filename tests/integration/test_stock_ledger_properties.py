"""Stock under any sequence of events: levels equal the ledger, no shop is shown too much.

A hypothesis state machine drives the real repositories through units of work on a
catalogue of 2 nodes, 3 SKUs (one presold up to 3 units) and 3 shops served by both
nodes. Orders reserve, are cancelled or ship; the warehouse writes stock off, counts
it and takes returns. After every step the stored levels must equal a plain model and
the ledger, and every listing must show no more than its shop's nodes can ship.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from orderhub.config import HubConfig, ListingConfig, NodeConfig, ShopConfig, SkuConfig, StockConfig
from orderhub.services.setup import apply_config
from orderhub.services.stock_sync import listing_ats
from orderhub.store.catalog import Listing
from support import make_hub

NODES = ("WH1", "WH2")
SKUS = ("SKU-A", "SKU-B", "SKU-P")
PRESALE, PRESALE_LIMIT = "SKU-P", 3
LEVELS = tuple((node, sku) for node in NODES for sku in SKUS)
# shop → (safety stock, sync ratio); every shop is served by both nodes.
SHOPS = {
    "S1": (0, Decimal("1")),
    "S2": (2, Decimal("0.5")),
    "S3": (1, Decimal("0.8")),
}
SHOP_SETTINGS = {"base_url": "http://127.0.0.1:9", "shop_domain": "x.myshopify.com"}
SHOP_SECRETS = {"access_token": "t", "webhook_secret": "s"}
NODE_SETTINGS = {
    "base_url": "http://127.0.0.1:9/router",
    "app_key": "k",
    "customer_id": "c",
    "owner_code": "c",
}
NODE_SECRETS = {"app_secret": "x"}

Level = tuple[str, str]


def allowance(sku: str) -> int:
    """Units of `sku` a node may presell beyond its stock."""
    return PRESALE_LIMIT if sku == PRESALE else 0


def catalogue(opening: dict[Level, int]) -> HubConfig:
    return HubConfig(
        shops=[
            ShopConfig(
                code=code,
                platform="shopify",
                nodes=list(NODES),
                safety_stock=safety,
                sync_ratio=ratio,
                settings=SHOP_SETTINGS,
                secrets=SHOP_SECRETS,
            )
            for code, (safety, ratio) in SHOPS.items()
        ],
        nodes=[
            NodeConfig(
                code=node,
                platform="qimen",
                priority=len(NODES) - i,
                settings={**NODE_SETTINGS, "warehouse_code": node},
                secrets=NODE_SECRETS,
            )
            for i, node in enumerate(NODES)
        ],
        skus=[SkuConfig(sku=sku, title=sku, backorder_limit=allowance(sku)) for sku in SKUS],
        listings=[
            ListingConfig(shop=shop, channel_sku=f"{shop}-{sku}", sku=sku)
            for shop in SHOPS
            for sku in SKUS
        ],
        stock=[StockConfig(node=n, sku=s, on_hand=opening[(n, s)]) for n, s in LEVELS],
    )


@dataclass(frozen=True)
class Reserved:
    """An order holding stock at one node."""

    order_id: str
    node: str
    lines: dict[str, int]


class StockLedgerMachine(RuleBasedStateMachine):
    """The hub's stock next to a model of what it must hold."""

    orders = Bundle("orders")

    def __init__(self, database_url: str) -> None:
        super().__init__()
        # A tenant of its own per example: a fresh, empty seller on the same database.
        self.hub = make_hub(database_url, tenant=f"prop-{uuid.uuid4().hex[:12]}")
        self.on_hand: dict[Level, int] = {}
        self.reserved: dict[Level, int] = {}
        # Levels that a count or a write-off (never a reservation) left below the
        # lowest figure a reservation may reach.
        self.counted_short: set[Level] = set()
        self.listings: list[Listing] = []
        self.placed = 0

    def teardown(self) -> None:
        self.hub.close()

    def available(self, level: Level) -> int:
        return self.on_hand[level] - self.reserved[level]

    def note_count(self, level: Level) -> None:
        """A count or write-off may leave less than is reserved: that is what was found."""
        if self.available(level) < -allowance(level[1]):
            self.counted_short.add(level)
        else:
            self.counted_short.discard(level)

    def note_more_available(self) -> None:
        self.counted_short = {
            level for level in self.counted_short if self.available(level) < -allowance(level[1])
        }

    @initialize(opening=st.lists(st.integers(0, 6), min_size=len(LEVELS), max_size=len(LEVELS)))
    def configure(self, opening: list[int]) -> None:
        stock = dict(zip(LEVELS, opening, strict=True))
        apply_config(self.hub, catalogue(stock))
        self.on_hand = dict(stock)
        self.reserved = dict.fromkeys(LEVELS, 0)
        with self.hub.uow() as uow:
            self.listings = uow.catalog.listings()
        assert len(self.listings) == len(SHOPS) * len(SKUS)

    @rule(
        target=orders,
        node=st.sampled_from(NODES),
        lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 4), min_size=1, max_size=3),
    )
    def reserve(self, node: str, lines: dict[str, int]) -> Any:
        self.placed += 1
        order_id = f"o{self.placed}"
        with self.hub.uow() as uow:
            records = uow.catalog.skus(sorted(lines))
            backorder = {sku: records[sku].backorder_limit for sku in lines}
            short = uow.stock.reserve_all(node, lines, order_id=order_id, backorder=backorder)
            uow.commit()
        expected = sorted(
            sku
            for sku, quantity in lines.items()
            if self.available((node, sku)) + allowance(sku) < quantity
        )
        assert short == expected, f"{order_id} for {lines} at {node}: short {short}"
        if short:
            return multiple()
        for sku, quantity in lines.items():
            self.reserved[(node, sku)] += quantity
        return Reserved(order_id, node, dict(lines))

    @rule(order=consumes(orders))
    def cancel(self, order: Reserved) -> None:
        with self.hub.uow() as uow:
            touched = uow.stock.release(order.order_id, reason="cancelled on the channel")
            uow.commit()
        assert sorted(touched) == sorted((order.node, sku) for sku in order.lines)
        for sku, quantity in order.lines.items():
            self.reserved[(order.node, sku)] -= quantity
        self.note_more_available()

    @rule(target=orders, order=consumes(orders))
    def ship(self, order: Reserved) -> Any:
        if any(self.on_hand[(order.node, sku)] < qty for sku, qty in order.lines.items()):
            # A count found less than the order needs: the warehouse cannot ship it yet.
            return order
        with self.hub.uow() as uow:
            uow.stock.consume(order.order_id, dict(order.lines), node=order.node)
            uow.commit()
        for sku, quantity in order.lines.items():
            self.on_hand[(order.node, sku)] -= quantity
            self.reserved[(order.node, sku)] -= quantity
        return multiple()

    @rule(level=st.sampled_from(LEVELS), delta=st.integers(-5, 5))
    def adjust(self, level: Level, delta: int) -> None:
        delta = max(delta, -self.on_hand[level])  # never writes off more than is on hand
        with self.hub.uow() as uow:
            uow.stock.adjust(*level, delta, reason="damaged" if delta < 0 else "found")
            uow.commit()
        self.on_hand[level] += delta
        self.note_count(level)

    @rule(level=st.sampled_from(LEVELS), counted=st.integers(0, 8))
    def stocktake(self, level: Level, counted: int) -> None:
        with self.hub.uow() as uow:
            delta = uow.stock.set_on_hand(*level, counted, reason="cycle count")
            uow.commit()
        assert delta == counted - self.on_hand[level]
        self.on_hand[level] = counted
        self.note_count(level)

    @rule(level=st.sampled_from(LEVELS), quantity=st.integers(1, 3))
    def take_return(self, level: Level, quantity: int) -> None:
        with self.hub.uow() as uow:
            uow.stock.adjust(*level, quantity, kind="return", reason="returned by the buyer")
            uow.commit()
        self.on_hand[level] += quantity
        self.note_more_available()

    @invariant()
    def levels_equal_the_model_and_the_ledger(self) -> None:
        with self.hub.uow() as uow:
            mismatches = uow.stock.ledger_mismatches()
            levels = uow.stock.levels()
        assert mismatches == []
        stored = {(x.node, x.sku): (x.on_hand, x.reserved) for x in levels}
        assert stored == {level: (self.on_hand[level], self.reserved[level]) for level in LEVELS}

    @invariant()
    def nothing_is_negative_and_only_a_count_leaves_less_than_reserved(self) -> None:
        for level in LEVELS:
            assert self.on_hand[level] >= 0 and self.reserved[level] >= 0
            if self.available(level) < -allowance(level[1]):
                assert level in self.counted_short, f"{level} oversold by a reservation"

    @invariant()
    def no_shop_is_shown_more_than_its_nodes_can_ship(self) -> None:
        for listing in self.listings:
            safety, ratio = SHOPS[listing.shop]
            in_stock = (
                Decimal(sum(max(0, self.available((n, listing.sku)) - safety) for n in NODES))
                * ratio
            )
            shown = listing_ats(self.hub, listing).quantity
            where = f"{listing.channel_sku} shows {shown}; stock allows {in_stock}"
            if listing.sku == PRESALE:
                # What each node may still presell: its limit less what it presold already.
                presale_left = sum(
                    max(0, min(PRESALE_LIMIT, PRESALE_LIMIT + self.available((n, PRESALE))))
                    for n in NODES
                )
                assert int(in_stock) <= shown <= in_stock + presale_left, where
            else:
                # Never more than can ship, and not less either: stock is not hidden.
                assert shown == int(in_stock), where


def _run(database_url: str, *, examples: int, steps: int) -> None:
    run_state_machine_as_test(
        lambda: StockLedgerMachine(database_url),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_stock_levels_always_equal_the_ledger_and_no_shop_is_shown_more_than_can_ship(
    database_url: str,
) -> None:
    on_postgres = database_url.startswith("postgresql")
    _run(database_url, examples=10 if on_postgres else 30, steps=20 if on_postgres else 30)
