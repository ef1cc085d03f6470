"""Shopify's own Python library (ShopifyAPI), unchanged, against the emulator.

If the library can create orders, page through them with its Link-header parser, read
fulfillment orders and create a fulfillment, the emulator speaks the same REST dialect
as the real Admin API on those paths; if its GraphQL client sets stock with
inventorySetQuantities, graphql.json speaks Shopify's GraphQL dialect too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import shopify

Start = Callable[..., Any]


@pytest.fixture
def shop(shopify_sandbox: Start) -> Iterator[Any]:
    """An emulator with the library's global site and token pointed at it."""
    sandbox = shopify_sandbox()
    shopify.ShopifyResource.set_site(f"{sandbox.url}/admin/api/2025-07")
    shopify.ShopifyResource.set_version("2025-07")
    shopify.ShopifyResource.headers["X-Shopify-Access-Token"] = sandbox.emulator.access_token
    yield sandbox
    shopify.ShopifyResource.clear_session()


def test_the_library_creates_an_order_the_emulator_holds(shop: Any) -> None:
    emulator = shop.emulator
    variant_id = emulator.seed_product({"skus": ["MUG-1"], "price": "12.50", "stock": 4})[
        "variant_ids"
    ]["MUG-1"]
    order = shopify.Order.create(
        {
            "email": "li.na@example.cn",
            "line_items": [{"variant_id": variant_id, "quantity": 2}],
            "shipping_address": {
                "first_name": "娜",
                "last_name": "李",
                "address1": "西湖区文三路100号",
                "city": "杭州市",
                "province": "Zhejiang",
                "country": "China",
                "zip": "310012",
            },
            "financial_status": "pending",
            "inventory_behaviour": "decrement_obeying_policy",
        }
    )
    assert order.errors.full_messages() == []
    held = emulator.order(order.id)
    assert held["email"] == "li.na@example.cn"
    assert held["total_price"] == order.total_price == "25.00"
    assert held["shipping_address"]["name"] == "李娜"
    assert held["financial_status"] == "pending"
    assert emulator.inventory_by_sku() == {"MUG-1": 2}
    assert shopify.Order.find(order.id).name == held["name"]


def test_the_library_sees_validation_errors(shop: Any) -> None:
    order = shopify.Order.create({"line_items": [{"title": "No price", "quantity": 1}]})
    assert order.id is None
    assert any("price" in message for message in order.errors.full_messages())
    assert shop.emulator.stats()["orders_placed"] == 0


def test_the_library_pages_through_orders_with_link_headers(shop: Any) -> None:
    for n in range(5):
        shopify.Order.create(
            {"line_items": [{"title": f"Item {n}", "price": "5.00", "quantity": 1}]}
        )
    page = shopify.Order.find(limit=2)
    names = [o.name for o in page]
    pages = 1
    while page.has_next_page():
        page = page.next_page()
        names += [o.name for o in page]
        pages += 1
    assert names == ["#1001", "#1002", "#1003", "#1004", "#1005"]
    assert pages == 3
    assert page.has_previous_page()
    assert [o.name for o in page.previous_page()] == ["#1003", "#1004"]
    assert shopify.Order.count() == 5


def test_the_library_fulfils_through_fulfillment_orders(shop: Any) -> None:
    order = shopify.Order.create(
        {
            "line_items": [
                {"title": "Teapot", "sku": "TEA-1", "price": "30.00", "quantity": 2},
                {"title": "Cup", "sku": "CUP-1", "price": "4.00", "quantity": 4},
            ]
        }
    )
    fulfillment_order = shopify.FulfillmentOrders.find(order_id=order.id)[0]
    teapot = next(li for li in fulfillment_order.line_items if li.quantity == 2)
    fulfillment = shopify.FulfillmentV2(
        {
            "line_items_by_fulfillment_order": [
                {
                    "fulfillment_order_id": fulfillment_order.id,
                    "fulfillment_order_line_items": [{"id": teapot.id, "quantity": 2}],
                }
            ],
            "tracking_info": {"number": "MS1562678", "company": "DHL Express"},
            "notify_customer": False,
        }
    )
    assert fulfillment.save()
    assert fulfillment.status == "success" and fulfillment.tracking_number == "MS1562678"

    held = shop.emulator.fulfillments_for(order.id)
    assert [(f["id"], f["tracking_number"]) for f in held] == [(fulfillment.id, "MS1562678")]
    assert shopify.Order.find(order.id).fulfillment_status == "partial"
    assert [f.id for f in shopify.Fulfillment.find(order_id=order.id)] == [fulfillment.id]

    fulfillment.update_tracking({"number": "MS1562679", "company": "DHL Express"}, False)
    assert shop.emulator.fulfillments_for(order.id)[0]["tracking_number"] == "MS1562679"

    too_many = shopify.FulfillmentV2(
        {
            "line_items_by_fulfillment_order": [
                {
                    "fulfillment_order_id": fulfillment_order.id,
                    "fulfillment_order_line_items": [{"id": teapot.id, "quantity": 1}],
                }
            ]
        }
    )
    assert not too_many.save()
    assert too_many.errors.full_messages()


def test_the_library_tells_the_shop_where_a_parcel_is(shop: Any) -> None:
    order = shopify.Order.create(
        {"line_items": [{"title": "Teapot", "sku": "TEA-1", "price": "30.00", "quantity": 1}]}
    )
    fulfillment_order = shopify.FulfillmentOrders.find(order_id=order.id)[0]
    fulfillment = shopify.FulfillmentV2(
        {
            "line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfillment_order.id}],
            "tracking_info": {"number": "SF1001", "company": "SF Express"},
        }
    )
    assert fulfillment.save()
    ids = {"order_id": order.id, "fulfillment_id": fulfillment.id}
    for status in ("in_transit", "delivered"):
        event = shopify.FulfillmentEvent({**ids, "status": status})
        assert event.save()
        assert event.status == status and event.fulfillment_id == fulfillment.id
    assert [e.status for e in shopify.FulfillmentEvent.find(**ids)] == ["in_transit", "delivered"]
    assert shop.emulator.fulfillments_for(order.id)[0]["shipment_status"] == "delivered"

    # The library checks the status itself; one sent another way is refused as Shopify does.
    refused = httpx.post(
        f"{shop.url}/admin/api/2025-07/orders/{order.id}/fulfillments/{fulfillment.id}/events.json",
        json={"event": {"status": "lost_at_sea"}},
        headers={"X-Shopify-Access-Token": shop.emulator.access_token},
    )
    assert refused.status_code == 422
    assert refused.json() == {"errors": {"status": ["is not included in the list"]}}
    missing = httpx.post(
        f"{shop.url}/admin/api/2025-07/orders/{order.id}/fulfillments/{fulfillment.id}/events.json",
        json={"status": "delivered"},
        headers={"X-Shopify-Access-Token": shop.emulator.access_token},
    )
    assert missing.status_code == 400
    assert missing.json() == {"errors": {"event": "Required parameter missing or invalid"}}


def test_the_library_sets_inventory_and_manages_webhooks(shop: Any) -> None:
    emulator = shop.emulator
    item_id = emulator.seed_product({"skus": ["MUG-1"], "stock": 1})["inventory_item_ids"]["MUG-1"]
    location = shopify.Location.find()[0]
    level = shopify.InventoryLevel.set(location.id, item_id, 17)
    assert level.available == 17
    assert emulator.inventory_by_sku() == {"MUG-1": 17}
    assert [lv.available for lv in location.inventory_levels()] == [17]

    hook = shopify.Webhook.create({"topic": "orders/create", "address": "https://hub.example/w"})
    assert hook.id and [w.id for w in shopify.Webhook.find()] == [hook.id]
    duplicate = shopify.Webhook.create(
        {"topic": "orders/create", "address": "https://hub.example/w"}
    )
    assert duplicate.errors.full_messages()
    hook.destroy()
    assert shopify.Webhook.find() == []


SET_QUANTITIES = """
mutation inventorySetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup {
      createdAt
      reason
      referenceDocumentUri
      changes { name delta quantityAfterChange }
    }
    userErrors { code field message }
  }
}
"""


def test_the_librarys_graphql_client_sets_quantities(shopify_sandbox: Start) -> None:
    sandbox = shopify_sandbox()
    emulator = sandbox.emulator
    ids = emulator.seed_product({"skus": ["MUG-1", "TEE-2"], "stock": 1})["inventory_item_ids"]
    location = f"gid://shopify/Location/{emulator.locations[0]['id']}"
    session = shopify.Session(emulator.shop_domain, "2025-07", emulator.access_token)
    # The session would reach https://demo-shop.myshopify.com; here the shop is on loopback.
    session.protocol = "http"
    session.url = f"127.0.0.1:{sandbox.server.port}"
    shopify.ShopifyResource.activate_session(session)
    try:
        client = shopify.GraphQL()
        assert client.endpoint == f"{sandbox.url}/admin/api/2025-07/graphql.json"
        variables = {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": "gid://orderhub/StockPush/1",
                "quantities": [
                    {
                        "inventoryItemId": f"gid://shopify/InventoryItem/{ids[sku]}",
                        "locationId": location,
                        "quantity": quantity,
                        "compareQuantity": 1,
                    }
                    for sku, quantity in (("MUG-1", 12), ("TEE-2", 0))
                ],
            }
        }
        done = json.loads(client.execute(SET_QUANTITIES, variables=variables))
        variables["input"]["quantities"][0]["quantity"] = 40
        stale = json.loads(client.execute(SET_QUANTITIES, variables=variables))
        shop = json.loads(client.execute("{ shop { name } }"))
    finally:
        shopify.ShopifyResource.clear_session()

    group = done["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert done["data"]["inventorySetQuantities"]["userErrors"] == []
    assert (group["reason"], group["referenceDocumentUri"]) == (
        "correction",
        "gid://orderhub/StockPush/1",
    )
    assert group["createdAt"].endswith("Z")
    assert [(c["name"], c["delta"]) for c in group["changes"]] == [
        ("available", 11),
        ("on_hand", 11),
        ("available", -1),
        ("on_hand", -1),
    ]
    assert done["extensions"]["cost"]["requestedQueryCost"] == 10
    refused = stale["data"]["inventorySetQuantities"]
    assert refused["inventoryAdjustmentGroup"] is None
    assert {e["code"] for e in refused["userErrors"]} == {"COMPARE_QUANTITY_STALE"}
    assert shop["data"] == {"shop": {"name": "demo-shop"}}
    assert emulator.inventory_by_sku() == {"MUG-1": 12, "TEE-2": 0}
