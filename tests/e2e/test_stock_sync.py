"""Every shop's listed stock follows the hub over real HTTP: soon, in few calls, never
more than can ship, bundles as their scarcest component. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from orderhub.config import HubConfig, ListingConfig, ShopConfig, SkuConfig
from orderhub.demo_stack import Stack
from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.services import queries
from orderhub.services.inventory import adjust_stock
from orderhub.services.setup import apply_config
from support import wait_until

WINDOW = 0.3  # seconds stock changes are coalesced
MARGIN = 3.0  # webhook delivery, the worker and three HTTP calls, on a loaded machine
PUSH_LAG = 3.0  # from reading a listing's figure to the shop receiving it, on a loaded machine
SKU = "SKU-001"


@dataclass
class StockSets:
    """The stock-setting calls one emulated shop received, each with its figures:
    REST inventory_levels/set (one) and GraphQL inventorySetQuantities (many)."""

    emulator: ShopifyEmulator
    calls: list[tuple[float, list[tuple[str, int]]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        state = self.emulator.state
        one, many = state.set_inventory, state.set_inventory_quantities
        lock = self.lock

        def noted(figures: list[tuple[int, int]]) -> None:
            with state.lock:
                named = [(str(state.catalog.inventory_items[i]["sku"]), n) for i, n in figures]
            with lock:
                self.calls.append((time.monotonic(), named))

        def counted_one(body: Any) -> Any:
            level = one(body)
            noted([(int(body["inventory_item_id"]), int(body["available"]))])
            return level

        def counted_many(quantities: list[tuple[int, int, int]]) -> Any:
            levels = many(quantities)
            noted([(item, available) for _, item, available in quantities])
            return levels

        state.set_inventory = counted_one  # type: ignore[method-assign]
        state.set_inventory_quantities = counted_many  # type: ignore[method-assign]

    def given(self, sku: str) -> list[tuple[float, int]]:
        """When each figure for this SKU was set, and the figure, in order."""
        with self.lock:
            return [(at, n) for at, figures in self.calls for s, n in figures if s == sku]

    def since(self, started: float, sku: str = SKU) -> list[int]:
        """The figures set for this SKU since then, in order."""
        return [n for at, n in self.given(sku) if at >= started]

    def calls_since(self, started: float) -> int:
        with self.lock:
            return sum(1 for at, _ in self.calls if at >= started)


def shown(stack: Stack, shop: str, sku: str = SKU) -> int:
    return stack.shops[shop].inventory_by_sku()[sku]


def available(stack: Stack, sku: str = SKU) -> int:
    with stack.hub.uow() as uow:
        level = uow.stock.level("WH1", sku)
    assert level is not None
    return level.available


def sell(stack: Stack, shop: str, sku: str = SKU, quantity: int = 1) -> dict[str, Any]:
    return stack.shops[shop].place_order({"lines": [{"sku": sku, "quantity": quantity}]})


def everywhere(stack: Stack, figures: dict[str, int]) -> Callable[[], bool]:
    """Whether every shop shows these figures (SKU → units)."""
    return lambda: all(
        e.inventory_by_sku().get(sku) == n
        for e in stack.shops.values()
        for sku, n in figures.items()
    )


def listed(stack: Stack) -> str:
    return str({code: e.inventory_by_sku() for code, e in stack.shops.items()})


def test_a_sale_on_one_shop_lowers_every_other_shop_within_one_window(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=3, skus=1, stock=20, settings={"stock_push_window": WINDOW})
    wait_until(everywhere(stack, {SKU: 20}), what=lambda: f"opening stock listed: {listed(stack)}")
    sold_at = time.monotonic()
    sell(stack, "SHOP1", quantity=2)
    wait_until(
        lambda: shown(stack, "SHOP2") == 18 and shown(stack, "SHOP3") == 18,
        timeout=WINDOW + MARGIN,
        what=lambda: f"the other shops to show 18: {listed(stack)}",
    )
    assert time.monotonic() - sold_at < WINDOW + MARGIN
    wait_until(everywhere(stack, {SKU: 18}), what=lambda: f"every shop at 18: {listed(stack)}")


def test_a_burst_of_50_orders_reaches_each_shop_in_a_handful_of_stock_calls(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=3, skus=1, stock=200, settings={"stock_push_window": WINDOW})
    sets = {code: StockSets(emulator) for code, emulator in stack.shops.items()}
    wait_until(everywhere(stack, {SKU: 200}), what=lambda: f"opening stock listed: {listed(stack)}")
    started = time.monotonic()
    for i in range(50):
        sell(stack, f"SHOP{i % 3 + 1}")
    wait_until(stack.settled, timeout=60, what="the hub to settle")
    wait_until(everywhere(stack, {SKU: 150}), what=lambda: f"every shop at 150: {listed(stack)}")
    calls = {code: s.since(started) for code, s in sets.items()}
    assert all(1 <= len(values) <= 10 for values in calls.values()), calls
    assert all(values[-1] == 150 for values in calls.values()), calls


def test_no_shop_is_ever_shown_more_than_the_hub_can_ship_while_orders_flow(
    make_stack: Callable[..., Stack],
) -> None:
    # Shipping takes 3 s, so sold units stay on hand, reserved, while orders flow.
    stack = make_stack(
        shops=3, skus=1, stock=30, ship_delay=3.0, settings={"stock_push_window": WINDOW}
    )
    with stack.hub.uow() as uow:
        record = uow.catalog.shop("SHOP3")
    apply_config(
        stack.hub,
        HubConfig(
            shops=[
                ShopConfig(
                    code="SHOP3",
                    platform=record.platform,
                    nodes=list(record.nodes),
                    safety_stock=2,
                    sync_ratio=Decimal("0.5"),
                    settings=dict(record.settings),
                    secrets=dict(record.secrets),
                )
            ],
            listings=[ListingConfig(shop="SHOP3", channel_sku=SKU, sku=SKU)],
        ),
    )
    rules = {"SHOP1": (0, Decimal(1)), "SHOP2": (0, Decimal(1)), "SHOP3": (2, Decimal("0.5"))}

    def most_shown(shop: str, units: int) -> int:
        safety, ratio = rules[shop]
        return math.floor(max(0, units - safety) * ratio)

    sets = {code: StockSets(emulator) for code, emulator in stack.shops.items()}
    wait_until(
        lambda: [shown(stack, s) for s in rules] == [30, 30, 14],
        what=lambda: f"opening stock listed by each shop's rule: {listed(stack)}",
    )
    # (when the read had finished, the hub's available units); stock only falls here.
    history = [(time.monotonic(), available(stack))]
    seen: list[tuple[float, dict[str, int]]] = []
    flowing = threading.Event()
    flowing.set()

    def sample() -> None:
        while flowing.is_set():
            history.append((time.monotonic(), available(stack)))
            seen.append((time.monotonic(), {s: shown(stack, s) for s in rules}))
            time.sleep(0.01)

    def had(at: float) -> int:
        """The hub's available units as read at or before `at` (or when orders began)."""
        return [units for read, units in history if read <= max(at, history[0][0])][-1]

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        for i in range(45):
            sell(stack, f"SHOP{i % 3 + 1}")
            time.sleep(0.03)
        wait_until(stack.settled, timeout=60, what="the hub to settle")
    finally:
        flowing.clear()
        sampler.join()
    assert history[0][1] == 30 and available(stack) == 0 and len(history) > 20
    # Every figure the hub gave a shop was read from its stock at most PUSH_LAG before
    # it arrived: it may not exceed the shop's share of what the hub had then.
    for code, received in sets.items():
        for at, figure in received.given(SKU):
            if at >= history[0][0]:
                allowed = most_shown(code, had(at - PUSH_LAG))
                assert figure <= allowed, f"{code} was given {figure}, more than {allowed}"
    # And what a shop shows trails the hub by one window and the margin at most.
    for at, figures in seen:
        for shop, figure in figures.items():
            allowed = most_shown(shop, had(at - WINDOW - MARGIN))
            assert figure <= allowed, f"{shop} showed {figure}, more than {allowed}"
    # The last figure every shop was given is 0 (a shop that took orders after that
    # counts itself below 0, which the hub leaves alone: nothing is oversold by it).
    wait_until(
        lambda: all(s.given(SKU) and s.given(SKU)[-1][1] == 0 for s in sets.values()),
        what=lambda: f"every shop given 0: {listed(stack)}",
    )
    assert all(figure <= 0 for figure in (shown(stack, s) for s in rules)), listed(stack)


def test_a_bundle_listing_shows_the_sets_its_scarcest_component_makes(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=2, skus=2, stock=20, settings={"stock_push_window": WINDOW})
    for emulator in stack.shops.values():
        emulator.seed_product({"skus": ["BOX-1"], "price": "49.00", "stock": 0})
    apply_config(
        stack.hub,
        HubConfig(
            skus=[SkuConfig(sku="BOX-1", title="Mug and two saucers", components={
                "SKU-001": 1, "SKU-002": 2})],
            listings=[ListingConfig(shop=code, channel_sku="BOX-1", sku="BOX-1")
                      for code in stack.shops],
        ),
    )  # fmt: skip
    wait_until(everywhere(stack, {"BOX-1": 10}), what=lambda: f"20 ÷ 2 sets: {listed(stack)}")
    adjust_stock(stack.hub, "WH1", "SKU-002", -6, reason="broken in the warehouse")
    wait_until(everywhere(stack, {"BOX-1": 7}), what=lambda: f"14 ÷ 2 sets: {listed(stack)}")
    sell(stack, "SHOP1", "SKU-001", quantity=15)
    wait_until(
        everywhere(stack, {"SKU-001": 5, "BOX-1": 5}),
        what=lambda: f"5 mugs make 5 sets: {listed(stack)}",
    )
    sell(stack, "SHOP2", "BOX-1", quantity=2)
    wait_until(
        everywhere(stack, {"SKU-001": 3, "SKU-002": 10, "BOX-1": 3}),
        what=lambda: f"a sold bundle takes its components: {listed(stack)}",
    )


def test_skus_changed_within_one_window_reach_each_shop_in_one_call_and_a_refused_one_fails_alone(
    make_stack: Callable[..., Stack],
) -> None:
    """Five SKUs counted again within one window are pushed together: one call per shop
    (Shopify takes many figures in one inventorySetQuantities), not one per SKU. A listing
    the shop does not know fails its own push only, visibly; the others still show."""
    window = 2.0  # five adjustments land within one window, barring a tick between them
    stack = make_stack(shops=2, skus=5, stock=100, settings={"stock_push_window": window})
    apply_config(
        stack.hub,
        HubConfig(
            skus=[SkuConfig(sku="GHOST-1", title="Never put on the shop")],
            listings=[ListingConfig(shop="SHOP1", channel_sku="GHOST-1", sku="GHOST-1")],
        ),
    )
    skus = stack.sku_codes
    wait_until(everywhere(stack, dict.fromkeys(skus, 100)), what=lambda: listed(stack))
    wait_until(stack.settled, timeout=30, what="the opening pushes to finish")
    sets = {code: StockSets(emulator) for code, emulator in stack.shops.items()}
    started = time.monotonic()
    for i, sku in enumerate(skus):
        adjust_stock(stack.hub, "WH1", sku, -(i + 1), reason="counted again")
    adjust_stock(stack.hub, "WH1", "GHOST-1", 5, reason="found on a shelf")
    counted = {sku: 100 - (i + 1) for i, sku in enumerate(skus)}
    wait_until(everywhere(stack, counted), timeout=window + MARGIN, what=lambda: listed(stack))
    wait_until(
        lambda: any("GHOST-1" in e.message for e in queries.exception_list(stack.hub)),
        what="the refused listing's push to be shown as an exception",
    )
    calls = {code: s.calls_since(started) for code, s in sets.items()}
    assert all(1 <= n <= 2 for n in calls.values()), calls
    assert all(s.since(started, sku)[-1] == counted[sku] for s in sets.values() for sku in skus)
