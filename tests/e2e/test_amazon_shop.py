"""An Amazon seller account end to end: MFN orders pulled with their buyer and address
through a Restricted Data Token, routed to the Qimen warehouse, each parcel confirmed
back to Amazon as a package, listing quantities patched, on SQLite and PostgreSQL.

The stack's Amazon account runs as the demo's does (quotas a hundred times Amazon's,
searches allowed up to now); `test_amazon_channel.py` holds Amazon's own limits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from orderhub.demo_stack import Stack
from orderhub.sandbox.amazon import AmazonEmulator
from orderhub.services import queries
from orderhub.services.returns import list_returns
from orderhub.services.setup import apply_config
from orderhub.services.sync import pull_orders, schedule_pulls
from orderhub.store import tables as t
from support import wait_until

SHOP = "AMAZON"


def amazon_stack(make_stack: Callable[..., Stack], **options: Any) -> tuple[Stack, AmazonEmulator]:
    stack = make_stack(shops=0, marketplaces=("amazon",), **options)
    account: AmazonEmulator = stack.marketplaces[SHOP]
    return stack, account


def statuses(stack: Stack) -> dict[str, str]:
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(t.orders.c.channel_order_id, t.orders.c.status).where(t.orders.c.shop == SHOP)
        ).all()
    return {row.channel_order_id: row.status for row in rows}


def open_exceptions(stack: Stack, order_id: str) -> list[tuple[str, str]]:
    order = queries.order_view(stack.hub, queries.find_order_id(stack.hub, order_id))
    return [(e.code, e.message) for e in order.open_exceptions]


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def test_an_order_reaches_the_warehouse_with_its_street_and_its_package_reaches_amazon(
    make_stack: Callable[..., Stack],
) -> None:
    stack, account = amazon_stack(make_stack)
    order_id = account.place_order(
        {
            "lines": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-002", "quantity": 1}],
            "receiver": {"name": "Ava Garcia", "line1": "12 Pine St", "city": "Seattle"},
            "buyer": {"name": "Ava Garcia", "email": "ava@marketplace.amazon.com"},
        }
    )
    pull_orders(stack.hub, SHOP)
    wait_until(
        lambda: account.order(order_id)["status"] == "Shipped",
        what=lambda: f"on Amazon: {account.order(order_id)['status']}",
    )
    [code] = stack.qimen.orders()
    parcel = stack.qimen.order(code)
    [package] = account.order(order_id)["shipments"]
    assert parcel["receiver"]["name"] == "Ava Garcia"
    assert "12 Pine St" in str(parcel["receiver"])
    assert package["tracking_number"] == parcel["tracking_no"]
    assert package["package"].isdigit()
    assert sorted((i["quantity"]) for i in package["items"]) == [1, 2]
    order = queries.order_view(stack.hub, queries.find_order_id(stack.hub, order_id), reveal=True)
    assert order.buyer.email == "ava@marketplace.amazon.com"
    assert order.totals.grand_total == order.totals.items


def test_a_pending_order_waits_until_amazon_authorises_its_payment(
    make_stack: Callable[..., Stack],
) -> None:
    stack, account = amazon_stack(make_stack)
    order_id = account.place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 1}], "status": "Pending"}, at=ago(5)
    )
    pull_orders(stack.hub, SHOP)
    wait_until(lambda: statuses(stack).get(order_id) == "held", what="the pending order held")
    assert [code for code, _ in open_exceptions(stack, order_id)] == ["not_paid"]
    assert stack.qimen.orders() == {}

    account.set_status(order_id, "Unshipped")  # payment authorised
    pull_orders(stack.hub, SHOP)
    wait_until(
        lambda: account.order(order_id)["status"] == "Shipped",
        what=lambda: f"hub {statuses(stack).get(order_id)}, Amazon {account.order(order_id)}",
    )


def test_an_order_the_buyer_cancels_is_stopped_at_the_warehouse(
    make_stack: Callable[..., Stack],
) -> None:
    stack, account = amazon_stack(make_stack, ship_delay=3600.0)
    order_id = account.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]}, at=ago(5))
    pull_orders(stack.hub, SHOP)
    wait_until(lambda: statuses(stack).get(order_id) == "pushed", what="at the warehouse")
    account.cancel_order(order_id)
    pull_orders(stack.hub, SHOP)
    wait_until(
        lambda: statuses(stack).get(order_id) == "cancelled",
        what=lambda: f"hub {statuses(stack).get(order_id)}",
    )
    [parcel] = stack.qimen.orders().values()
    assert parcel["status"] in ("CANCELED", "CANCELLED", "cancelled")
    assert account.order(order_id)["shipments"] == []


def test_without_the_personal_data_role_the_order_is_held_for_its_address_not_shipped_blind(
    make_stack: Callable[..., Stack],
) -> None:
    stack, account = amazon_stack(make_stack)
    account.configure(pii_role=False)
    order_id = account.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]}, at=ago(5))
    pull_orders(stack.hub, SHOP)
    wait_until(lambda: statuses(stack).get(order_id) == "held", what="the order held")
    [(code, message)] = open_exceptions(stack, order_id)
    assert code == "missing_address"
    assert "Restricted Data Token" in message and "Direct-to-Consumer Shipping" in message
    assert stack.qimen.orders() == {}
    assert account.order(order_id)["shipments"] == []


def test_listing_quantities_follow_the_hubs_stock(make_stack: Callable[..., Stack]) -> None:
    stack, account = amazon_stack(make_stack, ship_delay=3600.0, stock=25)
    wait_until(
        lambda: account.stock() == {sku: 25 for sku in stack.sku_codes},
        what=lambda: f"quantities on Amazon {account.stock()}",
    )
    account.place_order({"lines": [{"sku": "SKU-001", "quantity": 3}]}, at=ago(5))
    pull_orders(stack.hub, SHOP)
    wait_until(
        lambda: account.stock()["SKU-001"] == 22,
        what=lambda: f"quantities on Amazon {account.stock()}",
    )
    assert {p["sku"] for p in account.patches()} == set(stack.sku_codes)


def test_a_pull_out_of_item_quota_gives_its_worker_back_and_resumes_where_it_stopped(
    make_stack: Callable[..., Stack],
) -> None:
    stack, account = amazon_stack(make_stack, ship_delay=3600.0)
    account.set_quota("getOrderItems", rate=10.0, burst=2)
    for shop in stack.hub_config.shops:
        shop.settings = {**shop.settings, "pull_wait": "0.3", "quotas": "getOrderItems:10:2"}
    apply_config(stack.hub, stack.hub_config)
    placed = {
        account.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]}, at=ago(5 - n / 10))
        for n in range(16)
    }
    schedule_pulls(stack.hub, slot=1, pushing=False)
    wait_until(
        lambda: set(statuses(stack)) >= placed,
        what=lambda: f"{len(statuses(stack))} of {len(placed)} in the hub",
    )
    items = account.stats()["operations"]["getOrderItems"]
    assert items["throttled"] == 0  # paced: Amazon never had to refuse a call
    assert items["calls"] == len(placed)  # no order's items were read twice
    with stack.hub.reader() as uow:
        retried = [j for j in uow.outbox.search(kind="shop.pull") if j.attempts > 1]
    assert retried, "the pull gave its worker back at least once"


def test_a_refund_on_amazon_opens_a_return_of_what_it_gave_back_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack, account = amazon_stack(make_stack)
    order_id = account.place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-002", "quantity": 1}]}
    )
    pull_orders(stack.hub, SHOP)
    wait_until(lambda: account.order(order_id)["status"] == "Shipped", what="shipped")
    # A refund the seller gives in Seller Central reaches the hub only through Finances.
    account.refund_order(order_id, {"SKU-001": 1})
    first = pull_orders(stack.hub, SHOP)
    assert first.refunds == 1
    hub_id = queries.find_order_id(stack.hub, order_id)
    wait_until(lambda: len(list_returns(stack.hub, order_id=hub_id)) == 1, what="a return")
    [opened] = list_returns(stack.hub, order_id=hub_id)
    assert [(item.sku, item.quantity) for item in opened.lines] == [("SKU-001", 1)]
    wait_until(lambda: len(stack.qimen.return_orders()) == 1, what="the return at the warehouse")
    [back] = stack.qimen.return_orders().values()
    assert "SKU-001" in str(back) and "SKU-002" not in str(back)
    # The next pull reads the same window again (its overlap): nothing is opened twice.
    assert pull_orders(stack.hub, SHOP).refunds == 0
    assert len(list_returns(stack.hub, order_id=hub_id)) == 1
