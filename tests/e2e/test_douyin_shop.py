"""A Douyin shop end to end: pushed messages make the hub fetch orders, the pull engine
catches what a message missed, parcels and stock go back.

The shop is the Douyin emulator over real HTTP, pushing signed messages to the hub's
webhook URL; the warehouse is the Qimen emulator.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from orderhub.connectors.douyin.consts import CARRIERS
from orderhub.connectors.registry import channel_connector
from orderhub.demo_stack import Stack
from orderhub.sandbox.douyin import DouyinEmulator
from orderhub.sandbox.douyin.push import event_sign
from orderhub.services.sync import pull_orders
from orderhub.store import tables as t
from support import wait_until


def douyin_stack(make_stack: Callable[..., Stack], **options: Any) -> tuple[Stack, DouyinEmulator]:
    stack = make_stack(shops=0, marketplaces=("douyin",), **options)
    shop: DouyinEmulator = stack.marketplaces["DY1"]
    return stack, shop


def statuses(stack: Stack) -> dict[str, str]:
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(t.orders.c.channel_order_id, t.orders.c.status).where(t.orders.c.shop == "DY1")
        ).all()
    return {row.channel_order_id: row.status for row in rows}


def test_a_pushed_message_brings_the_order_and_its_parcel_goes_back(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = douyin_stack(make_stack)
    order_id = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 2}]})
    wait_until(
        lambda: shop.order(order_id)["status"] == 3,
        what=lambda: f"shipped on Douyin: {shop.order(order_id)['status']}",
    )
    [parcel] = shop.order(order_id)["shipments"]
    [code] = stack.qimen.orders()
    at_warehouse = stack.qimen.order(code)
    assert parcel["tracking_no"] == at_warehouse["tracking_no"]
    assert parcel["company_code"] == CARRIERS[at_warehouse["carrier"]]
    assert shop.stats()["calls"].get("order.searchList", 0) == 0  # the push was enough


def test_a_message_with_a_wrong_event_sign_is_refused(make_stack: Callable[..., Stack]) -> None:
    stack, _ = douyin_stack(make_stack)
    body = json.dumps([{"tag": "100", "msg_id": "1", "data": '{"p_id": 1}'}]).encode()
    answer = httpx.post(
        f"{stack.api.url}/webhooks/DY1", content=body, headers={"event-sign": "0" * 32}
    )
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"tag": "100", "msg_id": "1", "data": '{"p_id": 1}'}, "not the array of messages"),
        ([{"tag": "100", "msg_id": "1", "data": json.dumps({"p_id": "9" * 500})}], "[0].data.p_id"),
    ],
    ids=["object", "500-digit-order-id"],
)
def test_a_signed_message_that_cannot_be_read_is_kept_and_shown_not_dead_lettered(
    make_stack: Callable[..., Stack], body: Any, said: str
) -> None:
    stack, _ = douyin_stack(make_stack)
    [config] = [x for x in stack.hub_config.shops if x.code == "DY1"]
    body = json.dumps(body).encode()
    sign = event_sign(config.settings["app_key"], body, config.secrets["app_secret"])
    answer = httpx.post(f"{stack.api.url}/webhooks/DY1", content=body, headers={"event-sign": sign})
    assert answer.status_code == 200

    def failed() -> list[Any]:
        with stack.hub.db.engine.connect() as conn:
            return list(
                conn.execute(
                    select(t.inbox.c.id).where(
                        t.inbox.c.source == "webhook", t.inbox.c.status == "failed"
                    )
                )
            )

    wait_until(lambda: len(failed()) == 1, what="the message held as failed")
    with stack.hub.db.engine.connect() as conn:
        problems = list(
            conn.execute(
                select(t.exceptions.c.inbox_id, t.exceptions.c.field, t.exceptions.c.message)
            )
        )
        dead = conn.execute(select(t.outbox_jobs.c.id).where(t.outbox_jobs.c.status == "dead"))
        assert list(dead) == []
    [problem] = problems
    assert problem.inbox_id == failed()[0].id
    assert said in f"{problem.field} {problem.message}"


def test_pulling_oldest_first_while_orders_change_misses_none(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = douyin_stack(make_stack, ship_delay=3600.0)
    shop.configure(push_url=None)  # no messages: everything comes by pull
    now = datetime.now(UTC)
    rng = random.Random(9)
    placed = [
        shop.place_order(
            {"lines": [{"sku": rng.choice(stack.sku_codes), "quantity": 1}]},
            at=now - timedelta(minutes=rng.randint(5, 2 * 24 * 60)),
        )
        for _ in range(150)
    ]
    churn = random.Random(4)

    def sellers_add_memos() -> None:
        if churn.random() < 0.5:
            shop.modify_order(churn.choice(placed), seller_words="加急")

    shop.on_search(sellers_add_memos)
    first = pull_orders(stack.hub, "DY1", since=now - timedelta(days=3))
    assert first.windows >= 3
    shop.configure(push_url=None)
    pull_orders(stack.hub, "DY1")
    wait_until(
        lambda: len(statuses(stack)) >= len(placed),
        what=lambda: f"{len(statuses(stack))} of {len(placed)} orders in the hub",
    )
    assert set(statuses(stack)) == set(placed)


def test_a_split_parcel_goes_back_as_a_multi_pack(make_stack: Callable[..., Stack]) -> None:
    stack, shop = douyin_stack(make_stack, ship_delay=3600.0)
    order_id = shop.place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 1}, {"sku": "SKU-002", "quantity": 1}]}
    )
    [config] = [x for x in stack.hub_config.shops if x.code == "DY1"]
    channel = channel_connector("douyin", {**config.settings, **config.secrets})
    try:
        lines = [
            (str(x["sku_order_id"]), int(x["quantity"])) for x in shop.order(order_id)["lines"]
        ]
        channel.confirm_shipment(
            channel_order_id=order_id, carrier="SF", tracking_no="SF1", lines=[lines[0]]
        )
        channel.confirm_shipment(
            channel_order_id=order_id, carrier="SF", tracking_no="SF1", lines=[lines[0]]
        )
        assert shop.order(order_id)["status"] == 101  # part shipped
        channel.confirm_shipment(
            channel_order_id=order_id, carrier="YTO", tracking_no="YT2", lines=[lines[1]]
        )
    finally:
        channel.close()
    parcels = shop.order(order_id)["shipments"]
    assert [(p["company_code"], p["tracking_no"]) for p in parcels] == [
        ("shunfeng", "SF1"),
        ("yuantong", "YT2"),
    ]
    assert shop.order(order_id)["status"] == 3


def test_stock_is_set_as_the_full_figure_and_refunds_reach_the_order(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = douyin_stack(make_stack, ship_delay=3600.0, stock=30)
    wait_until(
        lambda: shop.stock() == {sku: 30 for sku in stack.sku_codes},
        what=lambda: f"stock on Douyin {shop.stock()}",
    )
    early = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    late = shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})
    wait_until(lambda: len(stack.qimen.orders()) == 2, what="both at the warehouse")
    shop.refund(early)
    late_code = next(c for c, o in stack.qimen.orders().items() if "SKU-002" in str(o))
    stack.qimen.ship_now(late_code)
    wait_until(lambda: shop.order(late)["status"] == 3, what="the late order shipped")
    shop.refund(late, settle=True)
    pull_orders(stack.hub, "DY1")
    wait_until(
        lambda: statuses(stack).get(early) == "cancelled",
        what=lambda: f"early {statuses(stack).get(early)}",
    )
    wait_until(
        lambda: statuses(stack).get(late) in ("returning", "returned"),
        what=lambda: f"late {statuses(stack).get(late)}",
    )
