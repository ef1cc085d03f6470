"""The Amazon channel against Amazon's own rules, over real HTTP: its two-minute search
lag, one Restricted Data Token for many pages, quotas learned and respected, a 429 that
becomes a wait, tokens refreshed once, packages confirmed once, listings read and set;
and `orderhub map` on an order Amazon sent without its street.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orderhub.connectors.amazon import AmazonChannel
from orderhub.connectors.base import RateLimited, Rejected
from orderhub.connectors.kit.pull import Window, orders_since
from orderhub.connectors.registry import order_mapping
from orderhub.sandbox.amazon import AmazonEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread


@dataclass
class Seller:
    account: AmazonEmulator
    server: RunningServer

    def channel(self, **settings: Any) -> AmazonChannel:
        url = self.server.url
        values = {"endpoint": url, "lwa_endpoint": f"{url}/auth/o2/token"}
        return AmazonChannel({**values, **self.account.credentials, **settings})

    def place(self, count: int, *, minutes_ago: float = 10.0) -> list[str]:
        moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        return [
            self.account.place_order(
                {"lines": [{"sku": "SKU-001", "quantity": 1}]}, at=moment + timedelta(seconds=n)
            )
            for n in range(count)
        ]

    def calls(self, operation: str) -> dict[str, float]:
        found: dict[str, float] = self.account.stats()["operations"][operation]
        return found


@pytest.fixture
def seller() -> Iterator[Seller]:
    account = AmazonEmulator(seed=11)
    account.seed_items([{"sku": "SKU-001", "stock": 5, "title": "Mug"}])
    server = serve_in_thread(account.app)
    yield Seller(account, server)
    server.stop()


def pull(channel: AmazonChannel, hours: float = 1.0) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [p.payload for p in orders_since(channel, now - timedelta(hours=hours), now=now)]


def test_a_pull_stays_two_minutes_behind_now_as_amazon_requires(seller: Seller) -> None:
    [older] = seller.place(1, minutes_ago=10)
    [recent] = seller.place(1, minutes_ago=1)
    channel = seller.channel()
    now = datetime.now(UTC)
    try:
        found = [o["AmazonOrderId"] for o in pull(channel)]
        # A connection test searches up to now: the search is cut short, not refused.
        checked = channel.search_orders(Window(now - timedelta(minutes=15), now), 1, 1)
    finally:
        channel.close()
    assert found == [older]  # the other is found by the next pull, once two minutes old
    assert recent not in found
    assert [o.channel_order_id for o in checked.orders] == [older]


def test_one_restricted_data_token_opens_the_address_on_every_page(seller: Seller) -> None:
    seller.account.set_quota("getOrderItems", rate=500.0, burst=50)
    placed = seller.place(230)
    channel = seller.channel(quotas="getOrderItems:500:50")
    try:
        orders = pull(channel)
    finally:
        channel.close()
    assert sorted(o["AmazonOrderId"] for o in orders) == sorted(placed)
    assert all(o["ShippingAddress"].get("AddressLine1") for o in orders)
    assert all(o["BuyerInfo"].get("BuyerEmail") for o in orders)
    assert seller.calls("getOrders")["calls"] == 3  # pages of 100
    assert seller.account.stats()["tokens"] == {"access": 1, "rdt": 1, "refused": 0}


def test_items_are_read_at_the_rate_amazon_reports_after_its_first_refusal(
    seller: Seller,
) -> None:
    seller.account.set_quota("getOrderItems", rate=10.0, burst=4)
    placed = seller.place(12)
    channel = seller.channel()  # it starts from the documented 0.5/s, burst 30
    started = time.monotonic()
    try:
        orders = pull(channel)
        learned = channel.api.pacer.rate("getOrderItems")
    finally:
        channel.close()
    items = seller.calls("getOrderItems")
    assert len(orders) == len(placed)
    assert learned == 10.0  # from x-amzn-RateLimit-Limit
    assert items["throttled"] == 1  # one refusal, then paced
    assert time.monotonic() - started >= (len(placed) - 4) / 10.0


def test_a_spent_get_orders_quota_is_a_wait_of_a_minute_for_the_worker(seller: Seller) -> None:
    seller.account.set_quota("getOrders", rate=0.0167, burst=1)
    seller.place(2)
    channel = seller.channel()
    now = datetime.now(UTC)
    window = Window(now - timedelta(hours=1), now - timedelta(minutes=3))
    try:
        channel.search_orders(window, 1, 100)
        with pytest.raises(RateLimited) as limited:
            channel.search_orders(window, 1, 100)
        with pytest.raises(RateLimited) as again:
            channel.search_orders(window, 1, 100)  # refused on our side: no call is made
    finally:
        channel.close()
    assert 55 < (limited.value.retry_after or 0) < 65
    assert again.value.status_code is None
    assert seller.calls("getOrders") == {"rate": 0.0167, "burst": 1, "calls": 2, "throttled": 1}


def test_an_expired_token_is_replaced_once_and_the_call_goes_through(seller: Seller) -> None:
    [order_id] = seller.place(1)
    channel = seller.channel()
    try:
        first = channel.fetch_order(order_id)
        for _ in range(5):
            channel.fetch_order(order_id)
        seller.account.expire_tokens()
        after = channel.fetch_order(order_id)
    finally:
        channel.close()
    assert first.payload == after.payload
    assert after.payload["ShippingAddress"]["AddressLine1"]
    assert seller.account.stats()["tokens"] == {"access": 2, "rdt": 2, "refused": 0}


def test_without_the_role_orders_still_arrive_but_map_without_a_street(seller: Seller) -> None:
    seller.account.configure(pii_role=False)
    seller.place(3)
    channel = seller.channel()
    try:
        orders = pull(channel)
        refusal = channel.api.rdt_refusal
    finally:
        channel.close()
    mapped = [order_mapping("amazon").map(o, shop="AMZ") for o in orders]
    assert len(mapped) == 3
    assert all(not o.receiver.address1 and o.receiver.city for o in mapped)
    assert all("Restricted Data Token" in o.address_withheld for o in mapped)
    assert "does not have access" in refusal
    assert seller.account.stats()["tokens"]["refused"] == 1  # asked once, not per page


def test_the_same_package_confirmed_again_is_one_package_on_amazon(seller: Seller) -> None:
    [order_id] = [
        seller.account.place_order(
            {"lines": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-001", "quantity": 1}]},
            at=datetime.now(UTC) - timedelta(minutes=10),
        )
    ]
    mug, other = (line["item_id"] for line in seller.account.order(order_id)["lines"])
    channel = seller.channel()
    try:
        first = channel.confirm_shipment(
            channel_order_id=order_id, carrier="UPS", tracking_no="1Z1", lines=[(mug, 2)]
        )
        repeat = channel.confirm_shipment(
            channel_order_id=order_id, carrier="UPS", tracking_no="1Z1", lines=[(mug, 2)]
        )
        rest = channel.confirm_shipment(
            channel_order_id=order_id, carrier="Acme", tracking_no="AC-9", lines=[]
        )
        rest_again = channel.confirm_shipment(
            channel_order_id=order_id, carrier="Acme", tracking_no="AC-9", lines=[]
        )
    finally:
        channel.close()
    order = seller.account.order(order_id)
    assert first == repeat and rest == rest_again
    assert order["status"] == "Shipped"
    assert [(s["carrier_code"], s["carrier_name"], s["items"]) for s in order["shipments"]] == [
        ("UPS", "", [{"item_id": mug, "quantity": 2}]),
        ("Other", "Acme", [{"item_id": other, "quantity": 1}]),
    ]


def test_listings_are_read_page_by_page_and_an_unlisted_sku_is_refused_by_name(
    seller: Seller,
) -> None:
    seller.account.seed_items([{"sku": f"SKU-{n:03d}", "stock": 1} for n in range(2, 46)])
    channel = seller.channel()
    try:
        items = channel.list_items()
        channel.set_stock(channel_sku="SKU-007", available=12)
        with pytest.raises(Rejected) as refused:
            channel.set_stock(channel_sku="NOT-LISTED", available=1)
    finally:
        channel.close()
    assert sorted(i.channel_sku for i in items) == sorted(seller.account.stock())
    assert all(i.platform_ref.startswith("B0") for i in items)
    assert seller.calls("searchListingsItems")["calls"] == 3  # 45 listings, 20 a page
    # SKU-007's product type came with the list; only the unlisted SKU was looked up.
    assert seller.calls("getListingsItem")["calls"] == 1
    assert seller.account.stock()["SKU-007"] == 12
    assert refused.value.code == "unknown_sku"


def test_orderhub_map_says_an_order_without_a_street_needs_the_restricted_data_token(
    tmp_path: Path,
) -> None:
    golden = Path(__file__).resolve().parents[1] / "golden" / "amazon" / "rdt-bundle-pack.raw.json"
    order = json.loads(golden.read_text(encoding="utf-8"))["payload"]
    order["ShippingAddress"] = {
        k: v
        for k, v in order["ShippingAddress"].items()
        if k in ("City", "StateOrRegion", "PostalCode", "CountryCode")
    }
    order["BuyerInfo"] = {}
    path = tmp_path / "no-rdt.json"
    path.write_text(json.dumps({"payload": order}), encoding="utf-8")
    # PYTHONPATH is passed on, so a source tree other than the installed one is what runs.
    source = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
    done = subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()",
         "map", str(path), "--platform", "amazon"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={"ORDERHUB_DATABASE_URL": f"sqlite:///{tmp_path}/none.db", "PATH": "/usr/bin:/bin",
             **source},
    )  # fmt: skip
    assert done.returncode == 2
    assert "[missing_address]" in done.stderr and "Restricted Data Token" in done.stderr
    assert json.loads(done.stdout.splitlines()[0])["receiver"]["city"] == "Seattle"
