"""The Shopify connector against the Shopify emulator, both over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from orderhub.connectors.base import PulledOrder, RateLimited, Rejected, Unavailable
from orderhub.connectors.kit.pull import orders_since
from orderhub.connectors.registry import order_mapping
from orderhub.connectors.shopify import ShopifyChannel

# The fixtures come from conftest.py: `shopify_sandbox(**settings)` starts an emulator and
# returns a ShopifySandbox; `webhook_receiver` is a WebhookReceiver.
Start = Callable[..., Any]
WebhookReceiver = Any


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_an_order_posted_over_http_comes_back_in_shopifys_shape(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox()
    ids = sandbox.emulator.seed_product({"skus": ["MUG-1"], "price": "12.50", "stock": 5})
    body = {
        "order": {
            "email": "emma.smith@example.com",
            "line_items": [
                {"variant_id": ids["variant_ids"]["MUG-1"], "quantity": 2},
                {"title": "Gift wrap", "price": "3.00", "quantity": 1},
            ],
            "shipping_lines": [{"title": "Standard", "price": "5.00"}],
            "tax_lines": [{"title": "Sales tax", "price": "2.24", "rate": 0.08}],
            "shipping_address": {"first_name": "Emma", "last_name": "Smith", "country": "Canada"},
        }
    }
    with sandbox.admin() as admin:
        created = admin.post("/orders.json", json=body)
        fetched = admin.get(f"/orders/{created.json()['order']['id']}.json")
    assert created.status_code == 201
    order = created.json()["order"]
    assert fetched.json()["order"] == order
    assert order["name"] == "#1001" and order["order_number"] == 1001
    assert order["total_line_items_price"] == "28.00"
    assert order["total_price"] == "35.24"
    assert order["total_shipping_price_set"]["shop_money"]["amount"] == "5.00"
    assert order["line_items"][0]["price"] == "12.50" and order["line_items"][0]["sku"] == "MUG-1"
    assert order["shipping_address"]["name"] == "Emma Smith"
    assert order["shipping_address"]["country_code"] == "CA"
    assert order["fulfillment_status"] is None and order["financial_status"] == "paid"
    assert datetime.fromisoformat(order["created_at"]).utcoffset() is not None


def test_the_admin_api_speaks_shopifys_errors(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox()
    with sandbox.admin() as admin:
        too_many = admin.get("/orders.json", params={"limit": 251})
        mixed = admin.get("/orders.json", params={"page_info": "abc", "status": "any"})
        missing = admin.get("/orders/1.json")
        unknown = admin.get("/nothing-here.json")
        empty = admin.post("/orders.json", json={"order": {"line_items": []}})
        no_root = admin.post("/orders.json", json={"line_items": []})
    no_token = httpx.get(f"{sandbox.url}/admin/api/2025-07/orders.json")
    assert too_many.status_code == 400 and "errors" in too_many.json()
    assert mixed.status_code == 400
    assert (missing.status_code, missing.json()) == (404, {"errors": "Not Found"})
    assert (unknown.status_code, unknown.json()) == (404, {"errors": "Not Found"})
    assert empty.status_code == 422 and "line_items" in empty.json()["errors"]
    assert no_root.status_code == 400
    assert no_token.status_code == 401
    assert "Invalid API key or access token" in no_token.json()["errors"]


def _recent(channel: ShopifyChannel) -> Iterator[PulledOrder]:
    now = datetime.now(UTC) + timedelta(minutes=1)
    return orders_since(channel, now - timedelta(days=1), now=now)


def test_pull_orders_reads_every_page(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox()
    sandbox.emulator.seed_product({"skus": ["MUG-1", "TEE-2"], "stock": 100})
    placed = sandbox.emulator.place_random_orders(7)
    channel = sandbox.channel(page_size=2)
    calls_before = sandbox.emulator.stats()["api_calls"]
    try:
        now = datetime.now(UTC) + timedelta(minutes=1)
        pulled = list(orders_since(channel, now - timedelta(days=1), now=now))
        future = list(orders_since(channel, now + timedelta(hours=1), now=now + timedelta(hours=2)))
        past = list(orders_since(channel, now - timedelta(hours=1), now=now))
    finally:
        channel.close()
    assert [p.channel_order_id for p in pulled] == [str(o["id"]) for o in placed]
    assert sandbox.emulator.stats()["api_calls"] - calls_before == 4 + 1 + 4
    assert pulled[3].payload == placed[3]
    assert future == []
    assert len(past) == 7


def test_a_cancelled_order_is_still_pulled_with_status_any(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox()
    first, second = sandbox.emulator.place_random_orders(2)
    sandbox.emulator.cancel_order(second["id"])
    channel = sandbox.channel()
    try:
        pulled = {p.channel_order_id: p.payload for p in _recent(channel)}
    finally:
        channel.close()
    assert set(pulled) == {str(first["id"]), str(second["id"])}
    assert pulled[str(second["id"])]["cancelled_at"] is not None
    with sandbox.admin() as admin:
        open_only = admin.get("/orders.json").json()["orders"]
    assert [o["id"] for o in open_only] == [first["id"]]


def test_confirm_shipment_creates_one_fulfillment_per_tracking_number(
    shopify_sandbox: Start,
) -> None:
    sandbox = shopify_sandbox()
    sandbox.emulator.seed_product({"skus": ["MUG-1", "TEE-2"], "stock": 10})
    order = sandbox.emulator.place_order(
        {"lines": [{"sku": "MUG-1", "quantity": 2}, {"sku": "TEE-2", "quantity": 1}]}
    )
    mug_line = str(order["line_items"][0]["id"])
    channel = sandbox.channel()
    try:
        first = channel.confirm_shipment(
            channel_order_id=str(order["id"]),
            carrier="UPS",
            tracking_no="1Z001",
            lines=[(mug_line, 1)],
        )
        again = channel.confirm_shipment(
            channel_order_id=str(order["id"]),
            carrier="UPS",
            tracking_no="1Z001",
            lines=[(mug_line, 1)],
        )
        assert sandbox.emulator.order(order["id"])["fulfillment_status"] == "partial"
        rest = channel.confirm_shipment(
            channel_order_id=str(order["id"]), carrier="sf", tracking_no="SF777", lines=[]
        )
        with pytest.raises(Rejected):
            channel.confirm_shipment(
                channel_order_id=str(order["id"]), carrier="UPS", tracking_no="1Z999", lines=[]
            )
    finally:
        channel.close()
    assert first == again != rest
    fulfillments = sandbox.emulator.fulfillments_for(order["id"])
    assert [(f["id"], f["tracking_number"]) for f in fulfillments] == [
        (int(first), "1Z001"),
        (int(rest), "SF777"),
    ]
    assert fulfillments[0]["tracking_url"].startswith("https://www.ups.com/")
    assert fulfillments[1]["tracking_company"] == "SF Express"
    assert [li["quantity"] for li in fulfillments[1]["line_items"]] == [1, 1]
    assert sandbox.emulator.order(order["id"])["fulfillment_status"] == "fulfilled"
    assert sandbox.emulator.stats()["tracking_numbers"] == {str(order["id"]): ["1Z001", "SF777"]}


def test_a_cancelled_order_cannot_be_fulfilled(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox()
    order = sandbox.emulator.place_order({"lines": [{"sku": "X-1", "quantity": 1}]})
    with httpx.Client() as client:
        cancelled = client.post(f"{sandbox.url}/_sandbox/orders/{order['id']}/cancel", json={})
    assert cancelled.json()["order"]["cancel_reason"] == "customer"
    channel = sandbox.channel()
    try:
        with pytest.raises(Rejected):
            channel.confirm_shipment(
                channel_order_id=str(order["id"]), carrier="UPS", tracking_no="T1", lines=[]
            )
    finally:
        channel.close()
    assert sandbox.emulator.fulfillments_for(order["id"]) == []


def test_set_stock_shows_on_the_shop(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox()
    sandbox.emulator.seed_product({"skus": ["MUG-1", "TEE-2"], "stock": 3})
    channel = sandbox.channel()
    try:
        channel.set_stock(channel_sku="TEE-2", available=42)
        sandbox.emulator.seed_product({"skus": ["CAP-3"], "stock": 0})
        channel.set_stock(channel_sku="CAP-3", available=9)
        with pytest.raises(Rejected):
            channel.set_stock(channel_sku="NO-SUCH-SKU", available=1)
    finally:
        channel.close()
    assert sandbox.emulator.inventory_by_sku() == {"MUG-1": 3, "TEE-2": 42, "CAP-3": 9}


def test_webhooks_are_signed_and_retried_after_a_500(
    shopify_sandbox: Start, webhook_receiver: WebhookReceiver
) -> None:
    sandbox = shopify_sandbox()
    channel = sandbox.channel()
    webhook_receiver.fail_first["orders/create"] = 1
    try:
        channel.register_webhooks(
            address=webhook_receiver.url, topics=["orders/create", "orders/cancelled"]
        )
        channel.register_webhooks(address=webhook_receiver.url, topics=["orders/create"])
        order = sandbox.emulator.place_order({"lines": [{"sku": "X-1", "quantity": 1}]})
        assert sandbox.emulator.wait_for_webhooks(5)
        creates = webhook_receiver.of("orders/create")
        assert [r.answered for r in creates] == [500, 200]
        assert creates[0].body == creates[1].body
        for received in creates:
            assert channel.verify_webhook(received.headers, received.body)
            assert not channel.verify_webhook(received.headers, received.body + b" ")
        first, retry = (channel.describe_webhook(r.headers) for r in creates)
    finally:
        channel.close()
    assert first == retry
    assert first.topic == "orders/create" and first.shop_domain == sandbox.emulator.shop_domain
    assert creates[0].headers["x-shopify-api-version"] == "2025-07"
    assert str(order["id"]).encode() in creates[0].body
    log = [d for d in sandbox.emulator.deliveries() if d["topic"] == "orders/create"]
    assert [(d["status"], [a["status_code"] for a in d["attempts"]]) for d in log] == [
        ("delivered", [500, 200])
    ]
    assert sandbox.emulator.stats()["webhook_subscriptions"] == 2


def test_duplicate_and_reordered_webhooks_follow_the_fault_settings(
    shopify_sandbox: Start, webhook_receiver: WebhookReceiver
) -> None:
    sandbox = shopify_sandbox(reorder_window=0.4)
    channel = sandbox.channel()
    try:
        channel.register_webhooks(
            address=webhook_receiver.url, topics=["orders/create", "orders/cancelled"]
        )
    finally:
        channel.close()
    with httpx.Client() as client:
        put = client.put(
            f"{sandbox.url}/_sandbox/faults",
            json={"duplicate_webhooks": 1, "reorder_webhooks": True},
        )
        assert put.json()["duplicate_webhooks"] == 1
        order = sandbox.emulator.place_order({"lines": [{"sku": "X-1", "quantity": 1}]})
        sandbox.emulator.cancel_order(order["id"])
        assert sandbox.emulator.wait_for_webhooks(5)
        client.delete(f"{sandbox.url}/_sandbox/faults")
    topics = [r.headers["x-shopify-topic"] for r in webhook_receiver.received]
    assert topics == ["orders/cancelled"] * 2 + ["orders/create"] * 2
    ids = {r.headers["x-shopify-webhook-id"] for r in webhook_receiver.received}
    assert len(ids) == 2


def test_the_leaky_bucket_answers_429_with_retry_after(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox(bucket_size=3, leak_rate=0.5)
    with sandbox.admin() as admin:
        answers = [admin.get("/orders.json") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-Shopify-Shop-Api-Call-Limit"] for a in answers] == [
        "1/3",
        "2/3",
        "3/3",
        "3/3",
    ]
    assert 0 < float(answers[3].headers["Retry-After"]) <= 2.0
    channel = sandbox.channel(max_retries=0)
    try:
        with pytest.raises(RateLimited) as caught:
            list(_recent(channel))
    finally:
        channel.close()
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert sandbox.emulator.stats()["throttled"] == 2


def test_an_error_rate_fault_gives_503_until_reset(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox()
    channel = sandbox.channel(max_retries=1)
    with httpx.Client() as control, sandbox.admin() as admin:
        control.put(f"{sandbox.url}/_sandbox/faults", json={"error_rate": 1.0})
        assert admin.get("/orders.json").status_code == 503
        with pytest.raises(Unavailable) as caught:
            list(_recent(channel))
        assert caught.value.status_code == 503
        control.delete(f"{sandbox.url}/_sandbox/faults")
        assert admin.get("/orders.json").status_code == 200
    channel.close()


def test_control_endpoints_place_orders_and_report_stats(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox()
    with httpx.Client(base_url=f"{sandbox.url}/_sandbox") as control:
        seeded = control.post("/products", json={"skus": ["MUG-1", "TEE-2"], "stock": 50}).json()
        one = control.post(
            "/orders",
            json={
                "lines": [{"sku": "MUG-1", "quantity": 2}],
                "customer": {"name": "王伟", "email": "wang.wei@example.cn"},
                "shipping_address": None,
                "raw_override": {"note": "请周末送货 🎁"},
            },
        ).json()["order"]
        many = control.post("/orders", json={"count": 5, "skus": ["TEE-2"]}).json()
        stats = control.get("/stats").json()
    assert set(seeded["inventory_item_ids"]) == {"MUG-1", "TEE-2"}
    assert one["shipping_address"] is None and one["note"] == "请周末送货 🎁"
    assert one["customer"]["last_name"] == "王" and one["customer"]["first_name"] == "伟"
    assert many["count"] == 5
    assert stats["orders_placed"] == 6
    assert stats["inventory"]["MUG-1"] == 48
    assert stats["inventory"]["TEE-2"] < 50


def test_emulator_orders_map_to_canonical_orders_whose_totals_add_up(
    shopify_sandbox: Start,
) -> None:
    sandbox = shopify_sandbox()
    emulator = sandbox.emulator
    emulator.seed_product({"skus": ["MUG-1", "TEE-2"], "price": "19.99", "stock": 50})
    orders = emulator.place_random_orders(10)
    orders.append(
        emulator.place_order(
            {
                "lines": [{"sku": "MUG-1", "quantity": 3}],
                "shipping": "7.50",
                "discount_codes": [{"code": "TEN", "amount": "10", "type": "percentage"}],
                "tax_lines": [{"title": "VAT", "price": "4.20", "rate": 0.07}],
            }
        )
    )
    orders.append(
        emulator.place_order(
            {
                "lines": [{"sku": "TEE-2", "quantity": 1}],
                "taxes_included": True,
                "tax_lines": [{"title": "VAT", "price": "3.33", "rate": 0.2}],
                "financial_status": "pending",
            }
        )
    )
    mapping = order_mapping("shopify")
    for raw in orders:
        canonical = mapping.map(raw, shop="S1")
        t = canonical.totals
        assert t.items + t.shipping - t.discount + t.tax == t.grand_total
        assert sum((li.unit_price * li.quantity for li in canonical.lines), Decimal(0)) == t.items
        assert canonical.channel_order_id == str(raw["id"])
    discounted, tax_included = (mapping.map(o, shop="S1") for o in orders[-2:])
    assert (discounted.totals.discount, discounted.totals.tax) == (Decimal("6.00"), Decimal("4.20"))
    assert tax_included.totals.tax == 0 and tax_included.paid_at is None
    assert tax_included.channel_status == "unpaid"
