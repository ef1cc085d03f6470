"""A Taobao shop end to end: pulled over TOP, shipped by the warehouse, confirmed back.

The shop is the Taobao emulator over real HTTP; the hub pulls it window by window,
routes the orders to the Qimen warehouse emulator, and sends each tracking number back.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from orderhub.config import SkuConfig
from orderhub.connectors.base import RateLimited, Unavailable
from orderhub.connectors.kit.pull import Window
from orderhub.connectors.registry import channel_connector
from orderhub.demo_stack import Stack
from orderhub.sandbox.taobao import TaobaoEmulator
from orderhub.services import queries
from orderhub.services.inventory import adjust_stock
from orderhub.services.listings import pull_listings
from orderhub.services.setup import apply_config
from orderhub.services.sync import pull_orders
from orderhub.store import tables as t
from support import wait_until

BEIJING = timezone(timedelta(hours=8))


def taobao_stack(make_stack: Callable[..., Stack], **options: Any) -> tuple[Stack, TaobaoEmulator]:
    stack = make_stack(shops=0, marketplaces=("taobao",), **options)
    shop: TaobaoEmulator = stack.marketplaces["TB1"]
    return stack, shop


def hub_orders(stack: Stack) -> dict[str, Any]:
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(t.orders.c.channel_order_id, t.orders.c.status, t.orders.c.document).where(
                t.orders.c.shop == "TB1"
            )
        ).all()
    return {row.channel_order_id: row for row in rows}


def status(stack: Stack, tid: str) -> str | None:
    row = hub_orders(stack).get(tid)
    return None if row is None else str(row.status)


def test_a_pull_over_many_windows_while_trades_change_misses_none_and_stores_none_twice(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = taobao_stack(make_stack, ship_delay=3600.0)
    now = datetime.now(UTC)
    rng = random.Random(3)
    placed = [
        shop.place_order(
            {"lines": [{"sku": rng.choice(stack.sku_codes), "quantity": 1}]},
            at=now - timedelta(minutes=rng.randint(5, 3 * 24 * 60)),
        )
        for _ in range(260)
    ]
    churn = random.Random(5)

    def buyers_change_trades() -> None:
        # While the hub pages, sellers add memos to trades it has not read yet.
        if churn.random() < 0.5:
            shop.modify_order(churn.choice(placed), seller_memo="改地址")

    shop.on_search(buyers_change_trades)
    first = pull_orders(stack.hub, "TB1", since=now - timedelta(days=4))
    assert first.windows >= 4  # TOP allows a day per window
    shop._hooks.clear()
    pull_orders(stack.hub, "TB1")

    trades = shop.orders()
    wait_until(
        lambda: len(hub_orders(stack)) >= len(trades),
        what=lambda: f"{len(hub_orders(stack))} of {len(trades)} trades in the hub",
    )
    assert set(hub_orders(stack)) == set(trades)
    final = {
        tid: datetime.strptime(trade["modified"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        for tid, trade in trades.items()
    }

    def stale() -> list[str]:
        return [
            tid
            for tid, row in hub_orders(stack).items()
            if datetime.fromisoformat(json.loads(row.document)["channel_updated_at"]) != final[tid]
        ]

    wait_until(lambda: stale() == [], what=lambda: f"orders not in their final state: {stale()}")
    with stack.hub.db.engine.connect() as conn:
        keys = conn.execute(select(t.inbox.c.dedup_key).where(t.inbox.c.shop == "TB1")).scalars()
        stored = [key.split(":")[2:4] for key in keys]
    assert len(stored) == len({tuple(x) for x in stored})


def test_an_order_ships_from_the_warehouse_and_its_tracking_reaches_taobao(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = taobao_stack(make_stack)
    tid = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 2}]})
    pull_orders(stack.hub, "TB1")
    wait_until(
        lambda: shop.orders()[tid]["status"] == "WAIT_BUYER_CONFIRM_GOODS",
        what=lambda: f"tracking on Taobao: {shop.orders()[tid]['status']}",
    )
    [line] = shop.orders()[tid]["orders"]["order"]
    [code] = stack.qimen.orders()
    assert line["invoice_no"] == stack.qimen.order(code)["tracking_no"]
    # The warehouse got the OAID that seals the receiver, to print the waybill with.
    assert stack.qimen.order(code)["oaid"] == shop.orders()[tid]["oaid"]
    assert status(stack, tid) in ("shipped", "completed")


def test_a_sealed_receiver_is_not_held_and_is_shown_masked(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = taobao_stack(make_stack, ship_delay=3600.0)
    tid = shop.place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 1}], "receiver": {"name": "王伟"}}
    )
    pull_orders(stack.hub, "TB1")
    wait_until(lambda: status(stack, tid) == "pushed", what=lambda: f"order {status(stack, tid)}")
    order = queries.order_view(stack.hub, queries.find_order_id(stack.hub, tid))
    assert order.receiver.name == "王**"
    assert order.receiver.sealed == "(sealed by the platform)"
    assert "王伟" not in order.model_dump_json()


def test_stock_is_pushed_to_taobao_as_the_full_figure(make_stack: Callable[..., Stack]) -> None:
    stack, shop = taobao_stack(make_stack, ship_delay=3600.0, stock=40)
    wait_until(
        lambda: shop.stock() == {sku: 40 for sku in stack.sku_codes},
        what=lambda: f"stock on Taobao {shop.stock()}",
    )
    shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 3}]})
    pull_orders(stack.hub, "TB1")
    wait_until(lambda: shop.stock()["SKU-002"] == 37, what=lambda: f"stock {shop.stock()}")


def test_a_refund_before_shipping_cancels_and_one_after_opens_a_return(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = taobao_stack(make_stack, ship_delay=3600.0)
    early = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    late = shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})
    pull_orders(stack.hub, "TB1")
    wait_until(lambda: len(stack.qimen.orders()) == 2, what="both at the warehouse")
    shop.refund(early)
    late_code = next(c for c, o in stack.qimen.orders().items() if "SKU-002" in str(o))
    stack.qimen.ship_now(late_code)
    wait_until(
        lambda: shop.orders()[late]["status"] == "WAIT_BUYER_CONFIRM_GOODS",
        what="the late order shipped and confirmed",
    )
    shop.refund(late)
    pull_orders(stack.hub, "TB1")
    wait_until(
        lambda: status(stack, early) == "cancelled",
        what=lambda: f"early order {status(stack, early)}",
    )
    wait_until(
        lambda: status(stack, late) in ("returning", "returned"),
        what=lambda: f"late order {status(stack, late)}",
    )


@pytest.mark.parametrize("fault", ["rate_limit", "server_error"])
def test_throttling_and_failures_are_raised_as_the_worker_retries_them(
    fault: str,
) -> None:
    from orderhub.sandbox.server import serve_in_thread

    shop = TaobaoEmulator(seed=1)
    server = serve_in_thread(shop.app)
    channel = channel_connector("taobao", {"base_url": server.url, **shop.credentials})
    now = datetime.now(UTC)
    try:
        if fault == "rate_limit":
            shop.faults.update({"rate_limit_rate": 1.0, "retry_after": 30})
            with pytest.raises(RateLimited) as limited:
                channel.search_orders(Window(now - timedelta(hours=1), now), 1, 50)
            assert limited.value.retry_after == 30.0
        else:
            shop.faults.update({"error_rate": 1.0, "error_status": 502})
            with pytest.raises(Unavailable):
                channel.search_orders(Window(now - timedelta(hours=1), now), 1, 50)
            assert shop.stats()["calls"] == {}  # refused before the shop saw the calls
    finally:
        channel.close()
        server.stop()


def test_the_shops_items_become_listings_by_merchant_code(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = taobao_stack(make_stack, ship_delay=3600.0, stock=12)
    shop.seed_items([{"sku": "SKU-NEW", "stock": 0}, {"sku": "ALIEN-1", "stock": 3}])
    config = stack.hub_config.model_copy(
        update={"skus": [*stack.hub_config.skus, SkuConfig(sku="SKU-NEW")]}
    )
    apply_config(stack.hub, config)
    adjust_stock(stack.hub, "WH1", "SKU-NEW", 7, reason="received")

    pulled = pull_listings(stack.hub, "TB1")

    assert sorted(pulled.listed) == stack.sku_codes
    assert pulled.created == ["SKU-NEW"]
    assert [item.channel_sku for item in pulled.unmatched] == ["ALIEN-1"]
    wait_until(lambda: shop.stock().get("SKU-NEW") == 7, what=lambda: f"stock {shop.stock()}")
    again = pull_listings(stack.hub, "TB1")
    assert again.created == [] and "SKU-NEW" in again.listed


def test_a_change_within_the_same_second_is_read_afresh_on_the_next_pull(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = taobao_stack(make_stack, ship_delay=3600.0)
    moment = datetime.now(UTC).replace(microsecond=0)
    tid = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]}, at=moment)
    pull_orders(stack.hub, "TB1")
    wait_until(lambda: status(stack, tid) == "pushed", what=lambda: f"order {status(stack, tid)}")
    shop.refund(tid)
    shop.modify_order(tid, at=moment)  # TOP writes times to the second: the same `modified`
    pull_orders(stack.hub, "TB1")
    wait_until(
        lambda: status(stack, tid) == "cancelled", what=lambda: f"order {status(stack, tid)}"
    )
