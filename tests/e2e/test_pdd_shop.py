"""A Pinduoduo shop end to end: pulled over POP in half-hour windows, shipped by the
warehouse, its one tracking number sent back, stock set as the full figure.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from orderhub.connectors.base import RateLimited, Rejected
from orderhub.connectors.kit.pull import Window
from orderhub.connectors.registry import channel_connector
from orderhub.demo_stack import Stack
from orderhub.jobs.worker import Worker
from orderhub.sandbox.pdd import PddEmulator
from orderhub.sandbox.server import serve_in_thread
from orderhub.services import queries
from orderhub.services.sync import pull_orders
from orderhub.store import tables as t
from support import wait_until


def pdd_stack(make_stack: Callable[..., Stack], **options: Any) -> tuple[Stack, PddEmulator]:
    stack = make_stack(shops=0, marketplaces=("pdd",), **options)
    shop: PddEmulator = stack.marketplaces["PD1"]
    return stack, shop


def statuses(stack: Stack) -> dict[str, str]:
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(t.orders.c.channel_order_id, t.orders.c.status).where(t.orders.c.shop == "PD1")
        ).all()
    return {row.channel_order_id: row.status for row in rows}


def test_half_hour_windows_paged_backwards_miss_no_order_that_changes_meanwhile(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = pdd_stack(make_stack, ship_delay=3600.0)
    now = datetime.now(UTC)
    rng = random.Random(2)
    placed = [
        shop.place_order(
            {"lines": [{"sku": rng.choice(stack.sku_codes), "quantity": 1}]},
            at=now - timedelta(minutes=rng.randint(3, 6 * 60)),
        )
        for _ in range(220)
    ]
    churn = random.Random(8)

    def merchants_add_remarks() -> None:
        if churn.random() < 0.5:
            shop.modify_order(churn.choice(placed), remark="发顺丰")

    shop.on_search(merchants_add_remarks)
    first = pull_orders(stack.hub, "PD1", since=now - timedelta(hours=7))
    assert first.windows >= 14  # POP allows half an hour per window
    shop._hooks.clear()
    pull_orders(stack.hub, "PD1")
    wait_until(
        lambda: len(statuses(stack)) >= len(placed),
        what=lambda: f"{len(statuses(stack))} of {len(placed)} orders in the hub",
    )
    assert set(statuses(stack)) == set(placed)


def test_a_new_shops_first_pull_reaches_back_as_far_as_the_seller_set(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = pdd_stack(make_stack, start_worker=False, settings={"pull_history_hours": 3})
    now = datetime.now(UTC)
    line = {"lines": [{"sku": "SKU-001", "quantity": 1}]}
    inside = shop.place_order(line, at=now - timedelta(hours=2))
    older = shop.place_order(line, at=now - timedelta(hours=5))
    first = pull_orders(stack.hub, "PD1")
    # Three hours in half-hour windows, the newest ending POP's lag before now.
    assert 6 <= first.windows <= 7, first.windows
    assert first.new == 1
    Worker(stack.hub).run_until_idle()
    assert set(statuses(stack)) == {inside}
    assert older in shop.orders()


def test_an_order_ships_and_its_tracking_number_reaches_pinduoduo(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = pdd_stack(make_stack)
    order_sn = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 2}]})
    pull_orders(stack.hub, "PD1")
    wait_until(
        lambda: shop.orders()[order_sn]["order_status"] == 2,
        what=lambda: f"shipped on Pinduoduo: {shop.orders()[order_sn]['order_status']}",
    )
    [code] = stack.qimen.orders()
    assert shop.orders()[order_sn]["tracking_number"] == stack.qimen.order(code)["tracking_no"]


def test_a_ciphertext_receiver_is_kept_sealed_and_never_held(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = pdd_stack(make_stack, ship_delay=3600.0)
    order_sn = shop.place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 1}], "receiver": {"name": "李娜"}}
    )
    pull_orders(stack.hub, "PD1")
    wait_until(lambda: statuses(stack).get(order_sn) == "pushed", what="the order pushed")
    order = queries.order_view(stack.hub, queries.find_order_id(stack.hub, order_sn))
    assert order.receiver.sealed == "(sealed by the platform)"
    assert "李娜" not in order.model_dump_json()


def test_stock_is_set_and_refunds_cancel_or_open_a_return(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = pdd_stack(make_stack, ship_delay=3600.0, stock=25)
    wait_until(
        lambda: shop.stock() == {sku: 25 for sku in stack.sku_codes},
        what=lambda: f"stock on Pinduoduo {shop.stock()}",
    )
    early = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    late = shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})
    pull_orders(stack.hub, "PD1")
    wait_until(lambda: len(stack.qimen.orders()) == 2, what="both at the warehouse")
    shop.refund(early)
    late_code = next(c for c, o in stack.qimen.orders().items() if "SKU-002" in str(o))
    stack.qimen.ship_now(late_code)
    wait_until(lambda: shop.orders()[late]["order_status"] == 2, what="the late order shipped")
    shop.refund(late)
    pull_orders(stack.hub, "PD1")
    wait_until(
        lambda: statuses(stack).get(early) == "cancelled",
        what=lambda: f"early {statuses(stack).get(early)}",
    )
    wait_until(
        lambda: statuses(stack).get(late) in ("returning", "returned"),
        what=lambda: f"late {statuses(stack).get(late)}",
    )


@pytest.mark.parametrize("fault", ["signature", "throttled"])
def test_refusals_come_back_in_the_connector_error_tree(fault: str) -> None:
    shop = PddEmulator(seed=3)
    server = serve_in_thread(shop.app)
    creds = dict(shop.credentials)
    if fault == "signature":
        creds["client_secret"] = "guess"
    else:
        shop.faults.update({"rate_limit_rate": 1.0, "retry_after": 30})
    channel = channel_connector("pdd", {"base_url": server.url, **creds})
    now = datetime.now(UTC)
    try:
        with pytest.raises(Rejected if fault == "signature" else RateLimited):
            channel.search_orders(Window(now - timedelta(minutes=10), now), 1, 50)
    finally:
        channel.close()
        server.stop()
