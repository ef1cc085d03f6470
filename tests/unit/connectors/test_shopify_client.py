"""ShopifyChannel and its HTTP client against scripted responses (httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orderhub.connectors.base import RateLimited, Rejected, Unavailable
from orderhub.connectors.kit.pull import Window, orders_since
from orderhub.connectors.shopify import ShopifyChannel

BASE = "https://unit-shop.myshopify.com"
API = f"{BASE}/admin/api/2025-07"
TOKEN = "shpat_unit_token"
Handler = Callable[[httpx.Request], httpx.Response]
A_DAY = Window(datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 7, 2, tzinfo=UTC))


class Script:
    """A fake shop: answers requests by (method, path) and records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], list[httpx.Response] | Handler] = {}
        self.sleeps: list[float] = []

    def on(self, method: str, path: str, *responses: httpx.Response) -> None:
        self.routes[(method, f"/admin/api/2025-07/{path}")] = list(responses)

    def handle(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, f"/admin/api/2025-07/{path}")] = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json={"errors": "Not Found"})
        if callable(route):
            return route(request)
        return route.pop(0) if len(route) > 1 else route[0]

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        full = f"/admin/api/2025-07/{path}"
        return [r for r in self.requests if r.method == method and r.url.path == full]


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def channel(script: Script) -> Iterator[ShopifyChannel]:
    client = httpx.Client(transport=httpx.MockTransport(script))
    ch = ShopifyChannel(
        {"base_url": BASE, "access_token": TOKEN, "webhook_secret": "s", "max_retries": 2},
        client=client,
        sleep=script.sleeps.append,
    )
    yield ch
    ch.close()
    client.close()


def order(order_id: int) -> dict[str, Any]:
    return {"id": order_id, "updated_at": "2025-07-02T11:38:15-04:00", "name": f"#{order_id}"}


def page(orders: list[dict[str, Any]], next_info: str | None = None) -> httpx.Response:
    headers = {}
    if next_info:
        link = f'<{API}/orders.json?limit=250&page_info={next_info}>; rel="next"'
        headers["Link"] = f'<{API}/orders.json?limit=250&page_info=back>; rel="previous", {link}'
    return httpx.Response(200, json={"orders": orders}, headers=headers)


def test_pull_follows_link_next_until_the_last_page(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on(
        "GET",
        "orders.json",
        page([order(1), order(2)], "p2"),
        page([order(3)], "p3"),
        page([order(4)]),
    )
    since = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
    pulled = list(orders_since(channel, since, now=since + timedelta(days=1)))
    assert [p.channel_order_id for p in pulled] == ["1", "2", "3", "4"]
    assert pulled[0].updated_at == "2025-07-02T11:38:15-04:00"
    assert pulled[0].payload["name"] == "#1"
    first, second, third = script.calls("GET", "orders.json")
    assert dict(first.url.params) == {
        "status": "any",
        "limit": "250",
        "updated_at_min": "2025-07-01T08:00:00+00:00",
        "updated_at_max": "2025-07-02T08:00:00+00:00",
    }
    assert dict(second.url.params) == {"limit": "250", "page_info": "p2"}
    assert dict(third.url.params) == {"limit": "250", "page_info": "p3"}
    assert all(r.headers["X-Shopify-Access-Token"] == TOKEN for r in script.requests)


def test_a_429_with_a_long_retry_after_raises_rate_limited(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on(
        "GET",
        "orders.json",
        httpx.Response(
            429, json={"errors": "Exceeded 2 calls per second"}, headers={"Retry-After": "5.0"}
        ),
    )
    with pytest.raises(RateLimited) as caught:
        channel.search_orders(A_DAY, None, 250)
    assert caught.value.retry_after == 5.0
    assert caught.value.status_code == 429
    assert isinstance(caught.value.__cause__, httpx.HTTPStatusError)
    assert len(script.requests) == 1


def test_a_429_with_a_short_retry_after_is_waited_out(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on(
        "GET",
        "orders.json",
        httpx.Response(429, json={"errors": "slow down"}, headers={"Retry-After": "1.5"}),
        page([order(1)]),
    )
    assert [p.channel_order_id for p in channel.search_orders(A_DAY, None, 250).orders] == ["1"]
    assert script.sleeps == [1.5]


def test_server_errors_are_retried_then_raise_unavailable(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on("GET", "orders.json", httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(Unavailable) as caught:
        channel.search_orders(A_DAY, None, 250)
    assert caught.value.status_code == 502
    assert len(script.requests) == 3
    assert len(script.sleeps) == 2 and all(0 < s <= 3 for s in script.sleeps)


def test_network_errors_and_unreadable_bodies_are_unavailable(
    channel: ShopifyChannel, script: Script
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    script.handle("GET", "orders.json", refuse)
    with pytest.raises(Unavailable) as caught:
        channel.search_orders(A_DAY, None, 250)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)

    script.on("GET", "orders.json", httpx.Response(200, content=b'{"orders": [{"id": 1, "trunc'))
    with pytest.raises(Unavailable, match="unreadable"):
        channel.search_orders(A_DAY, None, 250)


def test_a_422_is_rejected_with_shopifys_error_text(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on("GET", "orders/7/fulfillments.json", httpx.Response(200, json={"fulfillments": []}))
    script.on(
        "GET",
        "orders/7/fulfillment_orders.json",
        httpx.Response(
            200,
            json={
                "fulfillment_orders": [
                    {
                        "id": 70,
                        "status": "open",
                        "line_items": [{"id": 700, "line_item_id": 17, "fulfillable_quantity": 2}],
                    }
                ]
            },
        ),
    )
    script.on(
        "POST",
        "fulfillments.json",
        httpx.Response(
            422,
            json={"errors": {"base": ["Invalid fulfillment order line item quantity requested."]}},
        ),
    )
    with pytest.raises(Rejected) as caught:
        channel.confirm_shipment(
            channel_order_id="7", carrier="UPS", tracking_no="1Z1", lines=[("17", 2)]
        )
    assert caught.value.code == "422"
    assert "base: Invalid fulfillment order line item quantity requested." in caught.value.message
    assert len(script.calls("POST", "fulfillments.json")) == 1


def test_creating_a_fulfillment_is_not_repeated_after_a_500(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on("GET", "orders/7/fulfillments.json", httpx.Response(200, json={"fulfillments": []}))
    script.on(
        "GET",
        "orders/7/fulfillment_orders.json",
        httpx.Response(
            200,
            json={
                "fulfillment_orders": [
                    {
                        "id": 70,
                        "status": "open",
                        "line_items": [{"id": 700, "line_item_id": 17, "fulfillable_quantity": 1}],
                    }
                ]
            },
        ),
    )
    script.on("POST", "fulfillments.json", httpx.Response(500, json={"errors": "boom"}))
    with pytest.raises(Unavailable):
        channel.confirm_shipment(channel_order_id="7", carrier="UPS", tracking_no="T", lines=[])
    assert len(script.calls("POST", "fulfillments.json")) == 1


def test_confirm_shipment_maps_lines_onto_fulfillment_order_items(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on("GET", "orders/7/fulfillments.json", httpx.Response(200, json={"fulfillments": []}))
    fos = [
        {
            "id": 70,
            "status": "closed",
            "line_items": [{"id": 699, "line_item_id": 16, "fulfillable_quantity": 0}],
        },
        {
            "id": 71,
            "status": "in_progress",
            "line_items": [
                {"id": 700, "line_item_id": 17, "fulfillable_quantity": 3},
                {"id": 701, "line_item_id": 18, "fulfillable_quantity": 1},
            ],
        },
    ]
    script.on(
        "GET",
        "orders/7/fulfillment_orders.json",
        httpx.Response(200, json={"fulfillment_orders": fos}),
    )
    script.on("POST", "fulfillments.json", httpx.Response(201, json={"fulfillment": {"id": 9001}}))
    result = channel.confirm_shipment(
        channel_order_id="7",
        carrier="sf",
        tracking_no="SF123",
        lines=[("17", 2)],
        notify_customer=False,
    )
    assert result == "9001"
    sent = json.loads(script.calls("POST", "fulfillments.json")[0].content)["fulfillment"]
    assert sent == {
        "line_items_by_fulfillment_order": [
            {
                "fulfillment_order_id": 71,
                "fulfillment_order_line_items": [{"id": 700, "quantity": 2}],
            }
        ],
        "tracking_info": {"number": "SF123", "company": "SF Express"},
        "notify_customer": False,
    }


def shipped_order(script: Script, open_quantity: int) -> None:
    """Order 7: line 17 x2 already shipped as 1Z1, line 18 x1 still `open_quantity` open."""
    existing = {
        "id": 555,
        "status": "success",
        "tracking_number": "1Z1",
        "tracking_numbers": ["1Z1"],
        "line_items": [{"id": 17, "quantity": 2}],
    }
    script.on(
        "GET", "orders/7/fulfillments.json", httpx.Response(200, json={"fulfillments": [existing]})
    )
    items = [
        {"id": 700, "line_item_id": 17, "fulfillable_quantity": 0},
        {"id": 701, "line_item_id": 18, "fulfillable_quantity": open_quantity},
    ]
    fos = [{"id": 71, "status": "in_progress" if open_quantity else "closed", "line_items": items}]
    script.on(
        "GET",
        "orders/7/fulfillment_orders.json",
        httpx.Response(200, json={"fulfillment_orders": fos}),
    )
    script.on("POST", "fulfillments.json", httpx.Response(201, json={"fulfillment": {"id": 556}}))


def test_repeating_a_confirmation_returns_the_existing_fulfillment(
    channel: ShopifyChannel, script: Script
) -> None:
    shipped_order(script, open_quantity=1)
    same_lines = channel.confirm_shipment(
        channel_order_id="7", carrier="UPS", tracking_no="1Z1", lines=[("17", 2)]
    )
    assert same_lines == "555"
    assert script.calls("POST", "fulfillments.json") == []


def test_repeating_a_whole_order_confirmation_returns_the_existing_fulfillment(
    channel: ShopifyChannel, script: Script
) -> None:
    shipped_order(script, open_quantity=0)
    result = channel.confirm_shipment(
        channel_order_id="7", carrier="UPS", tracking_no="1Z1", lines=[]
    )
    assert result == "555"
    assert script.calls("POST", "fulfillments.json") == []


def test_other_lines_under_the_same_tracking_number_get_their_own_fulfillment(
    channel: ShopifyChannel, script: Script
) -> None:
    shipped_order(script, open_quantity=1)
    result = channel.confirm_shipment(
        channel_order_id="7", carrier="UPS", tracking_no="1Z1", lines=[("18", 1)]
    )
    assert result == "556"
    sent = json.loads(script.calls("POST", "fulfillments.json")[0].content)["fulfillment"]
    assert sent["line_items_by_fulfillment_order"] == [
        {"fulfillment_order_id": 71, "fulfillment_order_line_items": [{"id": 701, "quantity": 1}]}
    ]


def test_asking_for_more_than_is_open_is_rejected_before_any_post(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on("GET", "orders/7/fulfillments.json", httpx.Response(200, json={"fulfillments": []}))
    fos = [
        {
            "id": 71,
            "status": "open",
            "line_items": [{"id": 700, "line_item_id": 17, "fulfillable_quantity": 1}],
        }
    ]
    script.on(
        "GET",
        "orders/7/fulfillment_orders.json",
        httpx.Response(200, json={"fulfillment_orders": fos}),
    )
    with pytest.raises(Rejected) as caught:
        channel.confirm_shipment(
            channel_order_id="7", carrier="UPS", tracking_no="T", lines=[("17", 2)]
        )
    assert caught.value.code == "over_fulfillment"
    assert script.calls("POST", "fulfillments.json") == []


def products_page(skus: dict[str, int], next_info: str | None = None) -> httpx.Response:
    variants = [
        {"id": item + 1, "sku": sku, "inventory_item_id": item} for sku, item in skus.items()
    ]
    headers = {}
    if next_info:
        headers["Link"] = f'<{API}/products.json?limit=250&page_info={next_info}>; rel="next"'
    return httpx.Response(
        200, json={"products": [{"id": 1, "variants": variants}]}, headers=headers
    )


def test_set_stock_resolves_the_inventory_item_and_uses_the_first_location(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on(
        "GET",
        "locations.json",
        httpx.Response(200, json={"locations": [{"id": 655441491, "active": True}, {"id": 2}]}),
    )
    script.on(
        "GET",
        "products.json",
        products_page({"MUG-1": 808950810}, "n"),
        products_page({"TEE-2": 39072856}),
    )
    script.on(
        "POST",
        "inventory_levels/set.json",
        httpx.Response(200, json={"inventory_level": {"available": 42}}),
    )

    channel.set_stock(channel_sku="TEE-2", available=42)
    channel.set_stock(channel_sku="MUG-1", available=7)

    posts = [json.loads(r.content) for r in script.calls("POST", "inventory_levels/set.json")]
    assert posts == [
        {"location_id": 655441491, "inventory_item_id": 39072856, "available": 42},
        {"location_id": 655441491, "inventory_item_id": 808950810, "available": 7},
    ]
    assert len(script.calls("GET", "products.json")) == 2
    assert len(script.calls("GET", "locations.json")) == 1
    assert dict(script.calls("GET", "products.json")[1].url.params)["page_info"] == "n"


def test_set_stock_for_an_unknown_sku_is_rejected(channel: ShopifyChannel, script: Script) -> None:
    script.on("GET", "locations.json", httpx.Response(200, json={"locations": [{"id": 1}]}))
    script.on("GET", "products.json", products_page({"MUG-1": 808950810}))
    with pytest.raises(Rejected) as caught:
        channel.set_stock(channel_sku="NOPE", available=1)
    assert caught.value.code == "unknown_sku"


def test_register_webhooks_creates_only_missing_subscriptions(
    channel: ShopifyChannel, script: Script
) -> None:
    address = "https://hub.example.com/webhooks/shopify/S1"
    script.on(
        "GET",
        "webhooks.json",
        httpx.Response(
            200, json={"webhooks": [{"id": 1, "topic": "orders/create", "address": address}]}
        ),
    )
    script.on("POST", "webhooks.json", httpx.Response(201, json={"webhook": {"id": 2}}))
    channel.register_webhooks(address=address, topics=["orders/create", "orders/updated"])
    created = [json.loads(r.content)["webhook"] for r in script.calls("POST", "webhooks.json")]
    assert created == [{"topic": "orders/updated", "address": address, "format": "json"}]


@pytest.mark.parametrize("missing", ["access_token", "webhook_secret", "base_url"])
def test_a_missing_setting_is_named(missing: str) -> None:
    settings = {"base_url": BASE, "access_token": TOKEN, "webhook_secret": "s"}
    del settings[missing]
    with pytest.raises(ValueError, match=missing):
        ShopifyChannel(settings)


def test_the_access_token_never_shows_in_repr_or_errors(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on(
        "GET",
        "orders.json",
        httpx.Response(401, json={"errors": "[API] Invalid API key or access token"}),
    )
    with pytest.raises(Rejected) as caught:
        channel.search_orders(A_DAY, None, 250)
    assert caught.value.code == "401"
    assert TOKEN not in str(caught.value) and TOKEN not in repr(channel)
    assert TOKEN not in repr(channel.settings)
    assert "webhook_secret" not in repr(channel.settings)


def graphql(body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json=body)


def set_answer(*user_errors: dict[str, Any]) -> httpx.Response:
    payload = {"inventorySetQuantities": {"userErrors": list(user_errors)}}
    return graphql({"data": payload, "extensions": {"cost": {"requestedQueryCost": 10}}})


def test_set_stocks_sends_one_mutation_with_variables(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on("GET", "locations.json", httpx.Response(200, json={"locations": [{"id": 655}]}))
    script.on("GET", "products.json", products_page({"MUG-1": 808, 'TEE-"2': 390}))
    script.on("POST", "graphql.json", set_answer())

    assert channel.set_stocks([("MUG-1", 42), ('TEE-"2', 0), ("MUG-1", 7)]) == {}

    (request,) = script.calls("POST", "graphql.json")
    sent = json.loads(request.content)
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert "MUG" not in sent["query"] and "$input" in sent["query"]
    assert sent["variables"] == {
        "input": {
            "name": "available",
            "reason": "correction",
            "ignoreCompareQuantity": True,
            "quantities": [
                {
                    "inventoryItemId": "gid://shopify/InventoryItem/808",
                    "locationId": "gid://shopify/Location/655",
                    "quantity": 7,
                },
                {
                    "inventoryItemId": "gid://shopify/InventoryItem/390",
                    "locationId": "gid://shopify/Location/655",
                    "quantity": 0,
                },
            ],
        }
    }


def test_user_errors_come_back_with_the_index_of_their_level(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on(
        "POST",
        "graphql.json",
        set_answer(
            {
                "code": "ITEM_NOT_STOCKED_AT_LOCATION",
                "field": ["input", "quantities", "1", "locationId"],
                "message": "The specified inventory item is not stocked at the location.",
            },
            {"code": "INVALID_REASON", "field": ["input", "reason"], "message": "bad reason"},
        ),
    )
    refusals = channel.api.set_inventory_quantities(location_id=1, levels=[(10, 1), (11, 2)])
    assert [(r.index, r.code) for r in refusals] == [
        (1, "ITEM_NOT_STOCKED_AT_LOCATION"),
        (None, "INVALID_REASON"),
    ]


def test_a_user_error_about_the_whole_call_is_rejected(
    channel: ShopifyChannel, script: Script
) -> None:
    script.on("GET", "locations.json", httpx.Response(200, json={"locations": [{"id": 655}]}))
    script.on("GET", "products.json", products_page({"MUG-1": 808}))
    error = {"code": "INVALID_REASON", "field": ["input", "reason"], "message": "bad reason"}
    script.on("POST", "graphql.json", set_answer(error))
    with pytest.raises(Rejected) as caught:
        channel.set_stocks([("MUG-1", 1)])
    assert caught.value.code == "INVALID_REASON"
    assert len(script.calls("POST", "graphql.json")) == 1


def test_graphql_errors_are_rejected_and_internal_errors_retried_then_unavailable(
    channel: ShopifyChannel, script: Script
) -> None:
    undefined = {
        "message": "Field 'inventorySetQuantities' doesn't exist on type 'Mutation'",
        "locations": [{"line": 1, "column": 60}],
        "extensions": {"code": "undefinedField"},
    }
    script.on("POST", "graphql.json", graphql({"errors": [undefined]}))
    with pytest.raises(Rejected) as refused:
        channel.api.set_inventory_quantities(location_id=1, levels=[(10, 1)])
    assert refused.value.code == "undefinedField"
    assert "doesn't exist" in refused.value.message
    assert len(script.calls("POST", "graphql.json")) == 1

    internal = {"message": "Internal error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    script.on("POST", "graphql.json", graphql({"errors": [internal]}))
    with pytest.raises(Unavailable):
        channel.api.set_inventory_quantities(location_id=1, levels=[(10, 1)])
    assert len(script.calls("POST", "graphql.json")) == 1 + 3
    assert len(script.sleeps) == 2


def test_throttled_waits_for_the_missing_points(channel: ShopifyChannel, script: Script) -> None:
    cost = {
        "requestedQueryCost": 10,
        "actualQueryCost": None,
        "throttleStatus": {
            "maximumAvailable": 1000.0,
            "currentlyAvailable": 4,
            "restoreRate": 50.0,
        },
    }
    throttled = graphql(
        {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": cost},
        }
    )
    script.on("POST", "graphql.json", throttled, set_answer())
    assert channel.api.set_inventory_quantities(location_id=1, levels=[(10, 1)]) == []
    assert script.sleeps == [pytest.approx(0.12)]
