"""The Amazon SP-API emulator over real HTTP, called as the models document it.

Requests are written here by hand from platform-apis.md §3 (LWA form, `x-amz-access-token`,
getOrders' parameters, the RDT's restricted resources, confirmShipment's packageDetail,
the Listings patch), not with the hub's connector, so the emulator is checked on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orderhub.sandbox.amazon import DOCUMENTED, AmazonEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread

ORDERS = "/orders/v0/orders"
PII = ["buyerInfo", "shippingAddress"]


@dataclass
class Account:
    emulator: AmazonEmulator
    server: RunningServer
    http: httpx.Client

    @property
    def creds(self) -> dict[str, str]:
        return self.emulator.credentials

    def lwa(self, **overrides: str) -> httpx.Response:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.creds["refresh_token"],
            "client_id": self.creds["client_id"],
            "client_secret": self.creds["client_secret"],
            **overrides,
        }
        return self.http.post("/auth/o2/token", data=form)

    def token(self) -> str:
        answer = self.lwa()
        assert answer.status_code == 200, answer.text
        value: str = answer.json()["access_token"]
        return value

    def rdt(self, path: str = ORDERS, elements: list[str] | None = None) -> httpx.Response:
        resources = [{"method": "GET", "path": path, "dataElements": elements or PII}]
        return self.http.post(
            "/tokens/2021-03-01/restrictedDataToken",
            json={"restrictedResources": resources},
            headers={"x-amz-access-token": self.token()},
        )

    def orders(self, token: str | None = None, **params: str) -> httpx.Response:
        query = {"MarketplaceIds": self.creds["marketplace_id"], **params}
        return self.http.get(
            ORDERS, params=query, headers={"x-amz-access-token": token or self.token()}
        )

    def get(self, path: str, token: str | None = None, **params: str) -> httpx.Response:
        return self.http.get(
            path, params=params, headers={"x-amz-access-token": token or self.token()}
        )

    def confirm(self, order_id: str, token: str, **package: Any) -> httpx.Response:
        detail = {
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "shipDate": "2026-11-23T10:00:00Z",
            **package,
        }
        body = {"marketplaceId": self.creds["marketplace_id"], "packageDetail": detail}
        return self.http.post(
            f"{ORDERS}/{order_id}/shipmentConfirmation",
            json=body,
            headers={"x-amz-access-token": token},
        )


@pytest.fixture
def account() -> Iterator[Account]:
    emulator = AmazonEmulator(seed=5)
    emulator.seed_items(
        [
            {"sku": "MUG-RED", "title": "Red mug", "price": "12.50", "stock": 8},
            {"sku": "TEA-1", "title": "Green tea", "price": "7.25", "stock": 3},
        ]
    )
    server = serve_in_thread(emulator.app)
    http = httpx.Client(base_url=server.url)
    yield Account(emulator, server, http)
    http.close()
    server.stop()


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_lwa_gives_an_hour_long_token_for_the_refresh_token_and_refuses_strangers(
    account: Account,
) -> None:
    good = account.lwa()
    wrong_client = account.lwa(client_secret="guess")
    wrong_grant = account.lwa(refresh_token="Atzr|stolen")

    assert good.status_code == 200
    body = good.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith("Atza|")
    assert (wrong_client.status_code, wrong_client.json()["error"]) == (401, "invalid_client")
    assert (wrong_grant.status_code, wrong_grant.json()["error"]) == (400, "invalid_grant")


def test_every_answer_names_its_request_and_the_rate_applied_to_its_operation(
    account: Account,
) -> None:
    order_id = account.emulator.place_order({"lines": [{"sku": "MUG-RED"}]}, at=ago(10))
    token = account.token()
    answers = {
        "getOrders": account.orders(token, LastUpdatedAfter=z(ago(60))),
        "getOrderItems": account.get(f"{ORDERS}/{order_id}/orderItems", token),
        "getOrder": account.get(f"{ORDERS}/not-an-order", token),
        "createRestrictedDataToken": account.rdt(),
    }
    for operation, answer in answers.items():
        assert answer.headers["x-amzn-RequestId"]
        assert float(answer.headers["x-amzn-RateLimit-Limit"]) == DOCUMENTED[operation][0]
    assert answers["getOrder"].status_code == 404
    assert answers["getOrder"].json()["errors"][0]["code"] == "NotFound"


def test_get_orders_asks_for_one_time_family_and_stays_two_minutes_behind_now(
    account: Account,
) -> None:
    token = account.token()
    cases = {
        "no marketplace": account.http.get(
            ORDERS, params={"LastUpdatedAfter": z(ago(60))}, headers={"x-amz-access-token": token}
        ),
        "no time": account.orders(token),
        "both families": account.orders(
            token, LastUpdatedAfter=z(ago(60)), CreatedAfter=z(ago(60))
        ),
        "until now": account.orders(
            token, LastUpdatedAfter=z(ago(60)), LastUpdatedBefore=z(ago(0))
        ),
        "before after": account.orders(
            token, LastUpdatedAfter=z(ago(30)), LastUpdatedBefore=z(ago(40))
        ),
        "page of 101": account.orders(token, LastUpdatedAfter=z(ago(60)), MaxResultsPerPage="101"),
    }
    for case, answer in cases.items():
        assert answer.status_code == 400, case
        assert answer.json()["errors"][0]["code"] == "InvalidInput", case
    fine = account.orders(token, LastUpdatedAfter=z(ago(60)), LastUpdatedBefore=z(ago(3)))
    assert fine.status_code == 200
    assert fine.json()["payload"]["LastUpdatedBefore"] == z(ago(3))


def test_pages_linked_by_next_token_lose_no_order_that_changes_while_they_are_read(
    account: Account,
) -> None:
    placed = {
        account.emulator.place_order({"lines": [{"sku": "MUG-RED"}]}, at=ago(50 - n / 10))
        for n in range(25)
    }
    token = account.token()
    seen: list[str] = []
    answer = account.orders(token, LastUpdatedAfter=z(ago(60)), MaxResultsPerPage="10")
    while True:
        payload = answer.json()["payload"]
        seen += [o["AmazonOrderId"] for o in payload["Orders"]]
        if len(seen) == 10:  # buyers of two orders already read cancel them
            account.emulator.cancel_order(seen[0], at=ago(30))  # still in the search
            account.emulator.cancel_order(seen[1])  # now out of it
        if "NextToken" not in payload:
            break
        answer = account.orders(token, NextToken=payload["NextToken"])
    assert set(seen) == placed
    assert len(seen) == len(placed) + 1  # the first cancelled again, at its new time


def test_the_address_and_buyer_come_whole_only_with_a_restricted_data_token(
    account: Account,
) -> None:
    order_id = account.emulator.place_order(
        {
            "lines": [{"sku": "TEA-1", "quantity": 2}],
            "buyer": {"name": "Ava Garcia", "email": "ava@marketplace.amazon.com"},
            "receiver": {"name": "Ava Garcia", "line1": "12 Pine St", "phone": "+1 206-555-0101"},
        },
        at=ago(10),
    )
    plain = account.orders(LastUpdatedAfter=z(ago(60))).json()["payload"]["Orders"][0]
    rdt = account.rdt().json()["restrictedDataToken"]
    whole = account.orders(rdt, LastUpdatedAfter=z(ago(60))).json()["payload"]["Orders"][0]
    one = account.rdt(f"{ORDERS}/{{orderId}}", ["shippingAddress"]).json()["restrictedDataToken"]
    by_id = account.get(f"{ORDERS}/{order_id}", one).json()["payload"]
    elsewhere = account.get(f"{ORDERS}/{order_id}/orderItems", rdt)

    assert set(plain["ShippingAddress"]) == {"City", "StateOrRegion", "PostalCode", "CountryCode"}
    assert "BuyerEmail" not in plain["BuyerInfo"]
    assert whole["ShippingAddress"]["AddressLine1"] == "12 Pine St"
    assert whole["ShippingAddress"]["Phone"] == "+1 206-555-0101"
    assert whole["BuyerInfo"]["BuyerEmail"] == "ava@marketplace.amazon.com"
    assert by_id["ShippingAddress"]["Name"] == "Ava Garcia" and by_id["BuyerInfo"] == {}
    assert whole["OrderTotal"] == {"CurrencyCode": "USD", "Amount": "14.50"}
    assert elsewhere.status_code == 403  # an RDT opens only what it names


def test_an_app_without_the_restricted_role_gets_no_rdt_in_amazons_words(
    account: Account,
) -> None:
    account.emulator.configure(pii_role=False)
    refused = account.rdt()
    assert refused.status_code == 400
    assert refused.json()["errors"][0] == {
        "code": "InvalidInput",
        "message": "Application does not have access to one or more requested data elements: "
        "[buyerInfo, shippingAddress]",
        "details": "",
    }


def test_a_pending_order_shows_no_amounts_until_payment_is_authorised(account: Account) -> None:
    order_id = account.emulator.place_order(
        {"lines": [{"sku": "MUG-RED", "quantity": 3}], "status": "Pending"}, at=ago(10)
    )
    token = account.token()
    pending = account.get(f"{ORDERS}/{order_id}", token).json()["payload"]
    [item] = account.get(f"{ORDERS}/{order_id}/orderItems", token).json()["payload"]["OrderItems"]
    account.emulator.set_status(order_id, "Unshipped", at=ago(5))
    paid = account.get(f"{ORDERS}/{order_id}", token).json()["payload"]
    [priced] = account.get(f"{ORDERS}/{order_id}/orderItems", token).json()["payload"]["OrderItems"]

    assert pending["OrderStatus"] == "Pending" and "OrderTotal" not in pending
    assert "ItemPrice" not in item and item["QuantityOrdered"] == 3
    assert paid["OrderStatus"] == "Unshipped" and paid["LastUpdateDate"] > pending["LastUpdateDate"]
    assert priced["ItemPrice"] == {"CurrencyCode": "USD", "Amount": "37.50"}


def test_each_operation_has_its_own_bucket_and_a_spent_one_answers_quota_exceeded(
    account: Account,
) -> None:
    token = account.token()
    answers = [account.orders(token, LastUpdatedAfter=z(ago(60))) for _ in range(21)]
    items = account.get(f"{ORDERS}/none/orderItems", token)

    assert [a.status_code for a in answers] == [200] * 20 + [429]
    assert answers[-1].json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    assert answers[-1].headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert items.status_code == 404  # getOrderItems' bucket is untouched
    account.http.put("/_sandbox/quotas", json={"getOrders": {"rate": 50, "burst": 1}})
    again = account.orders(token, LastUpdatedAfter=z(ago(60)))
    assert again.status_code == 200 and again.headers["x-amzn-RateLimit-Limit"] == "50.0"


def test_an_expired_access_token_is_refused_with_amazons_message(account: Account) -> None:
    token = account.token()
    account.http.post("/_sandbox/tokens/expire")
    answer = account.orders(token, LastUpdatedAfter=z(ago(60)))
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["message"] == "The access token you provided has expired."


def test_a_package_confirmed_twice_ships_once_and_a_shipped_order_takes_no_new_one(
    account: Account,
) -> None:
    order_id = account.emulator.place_order(
        {"lines": [{"sku": "MUG-RED", "quantity": 2}, {"sku": "TEA-1"}]}, at=ago(10)
    )
    token = account.token()
    items = account.get(f"{ORDERS}/{order_id}/orderItems", token).json()["payload"]["OrderItems"]
    mug, tea = (i["OrderItemId"] for i in items)
    first = account.confirm(order_id, token, orderItems=[{"orderItemId": mug, "quantity": 2}])
    status_after_first = account.emulator.order(order_id)["status"]
    again = account.confirm(order_id, token, orderItems=[{"orderItemId": mug, "quantity": 2}])
    numeric = account.confirm(order_id, token, packageReferenceId=2)
    too_many = account.confirm(
        order_id, token, packageReferenceId="2", orderItems=[{"orderItemId": tea, "quantity": 2}]
    )
    rest = account.confirm(
        order_id,
        token,
        packageReferenceId="2",
        carrierCode="Other",
        carrierName="Acme Freight",
        trackingNumber="AF-1",
        orderItems=[{"orderItemId": tea, "quantity": 1}],
    )
    late = account.confirm(
        order_id, token, packageReferenceId="3", orderItems=[{"orderItemId": tea, "quantity": 1}]
    )

    assert (first.status_code, first.content) == (204, b"")
    assert status_after_first == "PartiallyShipped"
    assert again.status_code == 204
    assert numeric.status_code == too_many.status_code == 400
    assert rest.status_code == 204
    assert late.status_code == 400 and "already fulfilled" in late.json()["errors"][0]["message"]
    order = account.emulator.order(order_id)
    assert order["status"] == "Shipped"
    assert [(s["package"], s["tracking_number"]) for s in order["shipments"]] == [
        ("1", "1Z999AA10123456784"),
        ("2", "AF-1"),
    ]
    assert [ln["shipped"] for ln in order["lines"]] == [2, 1]


def test_a_canceled_or_pending_order_cannot_be_confirmed(account: Account) -> None:
    token = account.token()
    for status in ("Pending", "Canceled"):
        order_id = account.emulator.place_order(
            {"lines": [{"sku": "TEA-1"}], "status": "Pending"}, at=ago(10)
        )
        if status == "Canceled":
            account.emulator.cancel_order(order_id)
        [item] = account.get(f"{ORDERS}/{order_id}/orderItems", token).json()["payload"][
            "OrderItems"
        ]
        refused = account.confirm(
            order_id, token, orderItems=[{"orderItemId": item["OrderItemId"], "quantity": 1}]
        )
        assert refused.status_code == 400, status
        assert account.emulator.order(order_id)["status"] == status


def test_listings_are_searched_in_pages_and_their_mfn_quantity_is_patched(
    account: Account,
) -> None:
    account.emulator.seed_items([{"sku": f"EXTRA-{n}", "stock": 1} for n in range(3)])
    seller = account.creds["seller_id"]
    market = account.creds["marketplace_id"]
    token = account.token()
    first = account.get(
        f"/listings/2021-08-01/items/{seller}", token, marketplaceIds=market, pageSize="3"
    )
    second = account.get(
        f"/listings/2021-08-01/items/{seller}",
        token,
        marketplaceIds=market,
        pageSize="3",
        pageToken=first.json()["pagination"]["nextToken"],
    )

    def patch(product_type: str, quantity: int) -> httpx.Response:
        body = {
            "productType": product_type,
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
                }
            ],
        }
        return account.http.patch(
            f"/listings/2021-08-01/items/{seller}/MUG-RED",
            params={"marketplaceIds": market},
            json=body,
            headers={"x-amz-access-token": token},
        )

    accepted, invalid = patch("HOME", 42), patch("LUGGAGE", 7)
    unknown = account.http.patch(
        f"/listings/2021-08-01/items/{seller}/NOPE",
        params={"marketplaceIds": market},
        json={"productType": "HOME", "patches": []},
        headers={"x-amz-access-token": token},
    )

    skus = [i["sku"] for i in first.json()["items"] + second.json()["items"]]
    assert first.json()["numberOfResults"] == 5 and sorted(skus) == sorted(account.emulator.stock())
    assert first.json()["items"][0]["summaries"][0]["productType"] == "HOME"
    assert accepted.json()["status"] == "ACCEPTED"
    assert (
        invalid.json()["status"] == "INVALID" and invalid.json()["issues"][0]["severity"] == "ERROR"
    )
    assert unknown.status_code in (400, 404)
    assert account.emulator.stock()["MUG-RED"] == 42
    assert [(p["sku"], p["quantity"]) for p in account.emulator.patches()] == [("MUG-RED", 42)]


def test_refunds_are_listed_as_finances_refund_events_in_pages_two_minutes_behind_now(
    account: Account,
) -> None:
    placed = [
        account.emulator.place_order({"lines": [{"sku": "MUG-RED", "quantity": 2}]}, at=ago(30))
        for _ in range(3)
    ]
    for n, order_id in enumerate(placed):
        account.emulator.refund_order(order_id, {"MUG-RED": 1}, at=ago(20 - n))
    token = account.token()
    path = "/finances/v0/financialEvents"
    assert account.get(path, token).status_code == 400  # PostedAfter is required here
    too_new = account.get(path, token, PostedAfter=z(ago(60)), PostedBefore=z(ago(1)))
    assert too_new.status_code == 400
    assert "2 minutes" in too_new.json()["errors"][0]["message"]

    seen: list[dict[str, Any]] = []
    answer = account.get(path, token, PostedAfter=z(ago(60)), MaxResultsPerPage="2")
    while True:
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-amzn-RateLimit-Limit"] == "0.5"
        payload = answer.json()["payload"]
        seen += payload["FinancialEvents"]["RefundEventList"]
        assert payload["FinancialEvents"]["ShipmentEventList"] == []
        if "NextToken" not in payload:
            break
        answer = account.get(path, token, NextToken=payload["NextToken"])
    assert [e["AmazonOrderId"] for e in seen] == placed
    [item] = seen[0]["ShipmentItemAdjustmentList"]
    assert item["SellerSKU"] == "MUG-RED" and item["QuantityShipped"] == 1
    principal = item["ItemChargeAdjustmentList"][0]
    assert principal == {
        "ChargeType": "Principal",
        "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -12.5},
    }
    items = account.get(f"{ORDERS}/{placed[0]}/orderItems", token).json()["payload"]
    assert item["OrderItemId"] == items["OrderItems"][0]["OrderItemId"]


def test_injected_faults_answer_in_amazons_words(account: Account) -> None:
    token = account.token()
    account.http.put("/_sandbox/faults", json={"rate_limit_rate": 1.0})
    throttled = account.orders(token, LastUpdatedAfter=z(ago(60)))
    account.http.put("/_sandbox/faults", json={"rate_limit_rate": 0.0, "error_rate": 1.0})
    failed = account.orders(token, LastUpdatedAfter=z(ago(60)))
    account.http.delete("/_sandbox/faults")

    assert throttled.status_code == 429
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    assert failed.status_code == 503
    assert failed.json()["errors"][0]["code"] == "ServiceUnavailable"
