"""The Shopify emulator's GraphQL Admin API (graphql.json) over real HTTP on loopback:
inventorySetQuantities, its user errors, GraphQL errors, the cost bucket and faults."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

# The fixtures come from conftest.py: `shopify_sandbox(**settings)` starts an emulator and
# returns a ShopifySandbox; `webhook_receiver` is a WebhookReceiver.
Start = Callable[..., Any]
Json = dict[str, Any]

SET = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup {
      reason
      changes(quantityNames: ["available"]) { name delta quantityAfterChange item { sku } }
    }
    userErrors { code field message }
  }
}
"""


def item(item_id: int) -> str:
    return f"gid://shopify/InventoryItem/{item_id}"


def place(location_id: int) -> str:
    return f"gid://shopify/Location/{location_id}"


def level(item_id: int, location_id: int, quantity: int, compare: int | None = None) -> Json:
    row: Json = {
        "inventoryItemId": item(item_id),
        "locationId": place(location_id),
        "quantity": quantity,
    }
    if compare is not None:
        row["compareQuantity"] = compare
    return row


def set_body(rows: list[Json], **given: Any) -> Json:
    values = {"name": "available", "reason": "correction", "ignoreCompareQuantity": True}
    values.update(given)
    return {"query": SET, "variables": {"input": {**values, "quantities": rows}}}


def post(sandbox: Any, body: Any) -> httpx.Response:
    with sandbox.admin() as admin:
        return admin.post("/graphql.json", json=body)


class Shop:
    """An emulator with three SKUs of 3 units at its first location, counting the calls to
    `set_inventory_quantities` (every successful mutation must make exactly one)."""

    def __init__(self, start: Start, **settings: Any) -> None:
        self.sandbox = start(**settings)
        self.emulator = self.sandbox.emulator
        seeded = self.emulator.seed_product({"skus": ["MUG-1", "TEE-2", "CAP-3"], "stock": 3})
        self.ids: dict[str, int] = seeded["inventory_item_ids"]
        self.location = int(self.emulator.locations[0]["id"])
        self.sets: list[list[tuple[int, int, int]]] = []
        state = self.emulator.state
        original = state.set_inventory_quantities

        def counted(quantities: list[tuple[int, int, int]]) -> Any:
            self.sets.append(list(quantities))
            return original(quantities)

        state.set_inventory_quantities = counted

    def level(self, sku: str, quantity: int, compare: int | None = None) -> Json:
        return level(self.ids[sku], self.location, quantity, compare)


def test_one_call_sets_several_quantities_and_announces_each(
    shopify_sandbox: Start, webhook_receiver: Any
) -> None:
    shop = Shop(shopify_sandbox)
    shop.sandbox.channel().register_webhooks(
        address=webhook_receiver.url, topics=["inventory_levels/update"]
    )
    answer = post(shop.sandbox, set_body([shop.level("MUG-1", 10), shop.level("TEE-2", 0)]))

    assert answer.status_code == 200
    body = answer.json()
    payload = body["data"]["inventorySetQuantities"]
    assert payload["userErrors"] == []
    assert payload["inventoryAdjustmentGroup"]["reason"] == "correction"
    assert payload["inventoryAdjustmentGroup"]["changes"] == [
        {"name": "available", "delta": 7, "quantityAfterChange": 10, "item": {"sku": "MUG-1"}},
        {"name": "available", "delta": -3, "quantityAfterChange": 0, "item": {"sku": "TEE-2"}},
    ]
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": 10,
        "actualQueryCost": 10,
        "throttleStatus": {
            "maximumAvailable": 2000.0,
            "currentlyAvailable": 1990,
            "restoreRate": 100.0,
        },
    }
    assert shop.emulator.inventory_by_sku() == {"MUG-1": 10, "TEE-2": 0, "CAP-3": 3}
    assert shop.sets == [
        [(shop.location, shop.ids["MUG-1"], 10), (shop.location, shop.ids["TEE-2"], 0)]
    ]
    assert shop.emulator.wait_for_webhooks(5)
    announced = [json.loads(r.body) for r in webhook_receiver.of("inventory_levels/update")]
    # one delivery per level; deliveries may arrive in either order
    assert sorted((a["inventory_item_id"], a["available"]) for a in announced) == sorted(
        [(shop.ids["MUG-1"], 10), (shop.ids["TEE-2"], 0)]
    )


def test_matching_compare_quantities_are_set(shopify_sandbox: Start) -> None:
    shop = Shop(shopify_sandbox)
    rows = [shop.level("MUG-1", 8, compare=3), shop.level("CAP-3", 1, compare=3)]
    answer = post(shop.sandbox, set_body(rows, ignoreCompareQuantity=False)).json()
    assert answer["data"]["inventorySetQuantities"]["userErrors"] == []
    assert shop.emulator.inventory_by_sku() == {"MUG-1": 8, "TEE-2": 3, "CAP-3": 1}


REFUSALS: list[tuple[str, Callable[[Shop], tuple[Json, Json]], str, list[str]]] = [
    (
        "unknown inventory item",
        lambda s: ({"inventoryItemId": item(1)}, {}),
        "INVALID_INVENTORY_ITEM",
        ["input", "quantities", "1", "inventoryItemId"],
    ),
    (
        "unknown location",
        lambda s: ({"locationId": place(1)}, {}),
        "INVALID_LOCATION",
        ["input", "quantities", "1", "locationId"],
    ),
    (
        "item not stocked at the location",
        lambda s: ({"locationId": place(s.emulator.add_location("Annex")["id"])}, {}),
        "ITEM_NOT_STOCKED_AT_LOCATION",
        ["input", "quantities", "1", "locationId"],
    ),
    (
        "stale compare quantity",
        lambda s: ({"compareQuantity": 2}, {"ignoreCompareQuantity": False}),
        "COMPARE_QUANTITY_STALE",
        ["input", "quantities", "1", "compareQuantity"],
    ),
    (
        "missing compare quantity",
        lambda s: ({"compareQuantity": None}, {"ignoreCompareQuantity": False}),
        "COMPARE_QUANTITY_REQUIRED",
        ["input", "quantities", "1", "compareQuantity"],
    ),
    (
        "unknown quantity name",
        lambda s: ({}, {"name": "committed"}),
        "INVALID_NAME",
        ["input", "name"],
    ),
    (
        "unknown reason",
        lambda s: ({}, {"reason": "because"}),
        "INVALID_REASON",
        ["input", "reason"],
    ),
]


@pytest.mark.parametrize(
    ("case", "make", "code", "field"), REFUSALS, ids=[case for case, *_ in REFUSALS]
)
def test_a_refusal_answers_shopifys_user_error_and_changes_nothing(
    shopify_sandbox: Start,
    case: str,
    make: Callable[[Shop], tuple[Json, Json]],
    code: str,
    field: list[str],
) -> None:
    shop = Shop(shopify_sandbox)
    second, given = make(shop)
    rows = [shop.level("MUG-1", 9, compare=3), {**shop.level("TEE-2", 7, compare=3), **second}]
    rows[1] = {k: v for k, v in rows[1].items() if v is not None}

    answer = post(shop.sandbox, set_body(rows, **given))

    assert answer.status_code == 200
    payload = answer.json()["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)]
    assert payload["userErrors"][0]["message"]
    assert shop.emulator.inventory_by_sku() == {"MUG-1": 3, "TEE-2": 3, "CAP-3": 3}
    assert shop.sets == []


def test_more_than_250_quantities_are_refused_whole(shopify_sandbox: Start) -> None:
    shop = Shop(shopify_sandbox)
    rows = [shop.level("MUG-1", 5)] + [shop.level("TEE-2", n) for n in range(250)]
    answer = post(shop.sandbox, set_body(rows))
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {"inventorySetQuantities": None}
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert "251" in error["message"] and "250" in error["message"]
    assert error["path"] == ["inventorySetQuantities"]
    assert shop.emulator.inventory_by_sku() == {"MUG-1": 3, "TEE-2": 3, "CAP-3": 3}
    assert shop.sets == []


def test_the_cost_bucket_throttles_once_spent_and_recovers(shopify_sandbox: Start) -> None:
    shop = Shop(shopify_sandbox, graphql_bucket_size=20, graphql_restore_rate=10.0)
    first = post(shop.sandbox, set_body([shop.level("MUG-1", 1)])).json()
    second = post(shop.sandbox, set_body([shop.level("MUG-1", 2)])).json()
    throttled = post(shop.sandbox, set_body([shop.level("MUG-1", 99)]))

    assert "errors" not in first and "errors" not in second
    assert throttled.status_code == 200
    body = throttled.json()
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ]
    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (10, None)
    status = cost["throttleStatus"]
    assert (status["maximumAvailable"], status["restoreRate"]) == (20.0, 10.0)
    assert status["currentlyAvailable"] < 10
    assert shop.emulator.inventory_by_sku()["MUG-1"] == 2
    assert len(shop.sets) == 2

    time.sleep((10 - status["currentlyAvailable"]) / 10.0 + 0.05)
    again = post(shop.sandbox, set_body([shop.level("MUG-1", 99)])).json()
    assert again["data"]["inventorySetQuantities"]["userErrors"] == []
    assert shop.emulator.inventory_by_sku()["MUG-1"] == 99
    assert shop.emulator.stats()["graphql_throttled"] == 1


def test_syntax_and_validation_errors_answer_200_with_graphql_errors(
    shopify_sandbox: Start,
) -> None:
    shop = Shop(shopify_sandbox)
    broken = post(shop.sandbox, {"query": "mutation { inventorySetQuantities(input: {"})
    unknown = post(shop.sandbox, {"query": "{ shop { id plan } }"})
    missing = post(
        shop.sandbox, {"query": "mutation { inventorySetQuantities { userErrors { code } } }"}
    )

    for answer in (broken, unknown, missing):
        assert answer.status_code == 200
        body = answer.json()
        assert "data" not in body
        assert body["extensions"]["cost"]["requestedQueryCost"] == 0
        (error,) = body["errors"]
        assert error["message"] and error["locations"][0]["line"] == 1
    assert broken.json()["errors"][0]["extensions"]["code"] == "PARSE_ERROR"
    assert unknown.json()["errors"][0]["extensions"]["code"] == "undefinedField"
    assert "plan" in unknown.json()["errors"][0]["message"]
    assert missing.json()["errors"][0]["extensions"]["code"] == "missingRequiredArguments"
    assert shop.sets == []


def test_a_bad_variable_is_an_error_and_costs_nothing(shopify_sandbox: Start) -> None:
    shop = Shop(shopify_sandbox)
    row = {**shop.level("MUG-1", 1), "quantity": "lots"}
    body = post(shop.sandbox, set_body([row])).json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    assert "quantity" in body["errors"][0]["message"]
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000
    assert shop.sets == []


def test_a_body_without_a_query_is_a_bad_request_and_the_token_is_checked(
    shopify_sandbox: Start,
) -> None:
    shop = Shop(shopify_sandbox)
    required = {"errors": {"query": "Required parameter missing or invalid"}}
    no_query = post(shop.sandbox, {"variables": {}})
    with shop.sandbox.admin() as admin:
        not_json = admin.post("/graphql.json", content=b"{not json")
    url = f"{shop.sandbox.url}/admin/api/2025-07"
    no_token = httpx.post(f"{url}/graphql.json", json={"query": "{ shop { id } }"})
    rest_no_token = httpx.get(f"{url}/shop.json")
    assert (no_query.status_code, no_query.json()) == (400, required)
    assert (not_json.status_code, not_json.json()) == (400, required)
    assert no_token.status_code == 401
    assert no_token.json() == rest_no_token.json()
    assert "Invalid API key or access token" in no_token.json()["errors"]


def test_queries_read_the_shop_a_location_and_an_inventory_item(shopify_sandbox: Start) -> None:
    shop = Shop(shopify_sandbox)
    query = """
    query Look($location: ID!, $item: ID!, $missing: ID!) {
      shop { id name }
      location(id: $location) { id name }
      inventoryItem(id: $item) { id sku }
      gone: inventoryItem(id: $missing) { id }
    }
    """
    variables = {
        "location": place(shop.location),
        "item": item(shop.ids["TEE-2"]),
        "missing": item(1),
    }
    body = post(shop.sandbox, {"query": query, "variables": variables}).json()
    assert body["data"] == {
        "shop": {"id": f"gid://shopify/Shop/{shop.emulator.state.shop_id}", "name": "demo-shop"},
        "location": {"id": place(shop.location), "name": "Main warehouse"},
        "inventoryItem": {"id": item(shop.ids["TEE-2"]), "sku": "TEE-2"},
        "gone": None,
    }
    assert body["extensions"]["cost"]["requestedQueryCost"] == 4


def test_the_emulators_faults_apply_to_graphql(shopify_sandbox: Start) -> None:
    shop = Shop(shopify_sandbox)
    faults = f"{shop.sandbox.url}/_sandbox/faults"
    httpx.put(faults, json={"error_rate": 1.0})
    failed = post(shop.sandbox, set_body([shop.level("MUG-1", 5)]))
    httpx.delete(faults)
    worked = post(shop.sandbox, set_body([shop.level("MUG-1", 6)]))
    assert failed.status_code == 503
    assert worked.status_code == 200
    assert shop.emulator.inventory_by_sku()["MUG-1"] == 6
    assert len(shop.sets) == 1
