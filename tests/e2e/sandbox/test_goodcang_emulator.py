"""The 谷仓 (GoodCang) emulator over real HTTP, called the way REST V1 documents it:
POST JSON with `app-token` and `app-key` headers, `ask` Success or Failure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from orderhub.sandbox.goodcang import GoodCangEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread

TOKEN, KEY = "gc-token", "gc-key"


@dataclass
class Account:
    emulator: GoodCangEmulator
    server: RunningServer
    http: httpx.Client

    def call(self, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        sent = {"app-token": TOKEN, "app-key": KEY, **headers}
        reply = self.http.post(f"{self.server.url}/public_open/{path}", json=body, headers=sent)
        assert reply.status_code == 200
        answer: dict[str, Any] = reply.json()
        return answer


@pytest.fixture
def gc() -> Iterator[Account]:
    emulator = GoodCangEmulator(TOKEN, KEY, seed=3)
    emulator.seed_products([{"sku": f"SKU-{n}", "stock": 10} for n in range(1, 4)])
    server = serve_in_thread(emulator.app)
    with httpx.Client(timeout=5) as http:
        yield Account(emulator, server, http)
    server.stop()


def order(reference: str = "D-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference_no": reference,
        "platform": "OTHER",
        "shipping_method": "DPD-CLASSIC",
        "warehouse_code": "UKLH",
        "country_code": "DE",
        "province": "Berlin",
        "city": "Berlin",
        "address1": "Friedrichstr. 10",
        "zipcode": "10117",
        "name": "Anna Schmidt",
        "verify": 1,
        "items": [
            {
                "product_sku": "SKU-1",
                "quantity": 2,
                "hs_code": "6109100010",
                "product_declared_value": 12.5,
            },
        ],
        "vat_change_info": {"ioss_number": "IM2760000001"},
    }
    return {**body, **changes}


def test_wrong_or_missing_keys_are_refused_in_goodcangs_failure_body(gc: Account) -> None:
    for headers in ({"app-key": "nope"}, {"app-token": ""}):
        answer = gc.call("base_data/get_warehouse", {}, **headers)
        assert answer["ask"] == "Failure"
        assert answer["Error"]["errCode"] == "10001" and answer["Error"]["errMessage"]
    assert gc.call("base_data/get_warehouse", {})["data"] == [
        {"warehouse_code": "UKLH", "warehouse_name": "Emulated UKLH", "country_code": "GB"}
    ]
    methods = gc.call("base_data/get_shipping_method", {"warehouse_code": "UKLH"})["data"]
    assert "DPD-CLASSIC" in {m["code"] for m in methods}


@pytest.mark.parametrize("missing", ["shipping_method", "warehouse_code", "zipcode", "name"])
def test_a_create_without_a_required_field_is_refused_naming_it(gc: Account, missing: str) -> None:
    answer = gc.call("order/create_order", order(**{missing: ""}))
    assert answer["ask"] == "Failure" and answer["message"].startswith(missing)
    assert gc.emulator.stats()["create_refused"] == 1


def test_unknown_sku_method_or_warehouse_and_missing_customs_are_refused(gc: Account) -> None:
    item = {"product_sku": "SKU-1", "quantity": 1, "product_declared_value": 3}
    cases = [
        order(items=[{**item, "product_sku": "NOPE", "hs_code": "1"}]),
        order(shipping_method="NOPE"),
        order(warehouse_code="NOPE"),
        order(items=[item]),
        order(items=[{**item, "hs_code": "6109", "product_declared_value": 0}]),
    ]
    messages = [gc.call("order/create_order", body)["message"] for body in cases]
    assert "NOPE" in messages[0] and "NOPE" in messages[1] and "NOPE" in messages[2]
    assert messages[3].startswith("items[0].hs_code")
    assert messages[4].startswith("items[0].product_declared_value")
    domestic = order(country_code="GB", items=[{"product_sku": "SKU-1", "quantity": 1}])
    assert gc.call("order/create_order", domestic)["ask"] == "Success"
    assert gc.emulator.stats()["create_refused"] == 5


def test_a_reference_no_in_use_is_refused_naming_the_order_until_it_is_discarded(
    gc: Account,
) -> None:
    first = gc.call("order/create_order", order())
    assert first["ask"] == "Success" and first["order_code"]
    again = gc.call("order/create_order", order())
    assert again["ask"] == "Failure" and first["order_code"] in again["message"]
    assert again["order_code"] == first["order_code"]
    found = gc.call("order/get_order_by_ref_code", {"reference_no": "D-1"})["data"]
    assert (found["order_code"], found["order_status"]) == (first["order_code"], "W")
    assert found["items"][0]["hs_code"] == "6109100010"
    assert found["vat_change_info"] == {"ioss_number": "IM2760000001"}
    assert gc.emulator.stats()["distinct_orders"] == 1

    cancelled = gc.call("order/cancel_order", {"order_code": first["order_code"]})
    assert cancelled["ask"] == "Success"
    assert gc.emulator.stock()["SKU-1"]["sellable"] == 10
    twice = gc.call("order/cancel_order", {"order_code": first["order_code"]})
    assert twice["ask"] == "Failure" and twice["Error"]["errCode"] == "10103099"
    reused = gc.call("order/create_order", order())
    assert reused["ask"] == "Success" and reused["order_code"] != first["order_code"]


def test_a_shipped_order_cannot_be_cancelled_and_shows_each_parcel(gc: Account) -> None:
    body = order(
        items=[
            {"product_sku": "SKU-1", "quantity": 2, "hs_code": "1", "product_declared_value": 1},
            {"product_sku": "SKU-2", "quantity": 1, "hs_code": "2", "product_declared_value": 1},
        ]
    )
    number = gc.call("order/create_order", body)["order_code"]
    gc.emulator.ship(number, [("TN-A", {"SKU-1": 2})])
    partly = gc.call("order/get_order_by_code", {"order_code": number})["data"]
    assert (partly["order_status"], partly["tracking_no"]) == ("W", "")
    gc.emulator.ship(number, [("TN-B", {"SKU-2": 1})])
    shipped = gc.call("order/get_order_by_code", {"order_code": number})["data"]
    assert (shipped["order_status"], shipped["tracking_no"]) == ("D", "TN-A")
    assert [
        (b["tracking_number"], b["product_barcode"], b["ob_qty"]) for b in shipped["orderBoxInfo"]
    ] == [
        ("TN-A", "G1234-SKU-1", 2),
        ("TN-B", "G1234-SKU-2", 1),
    ]
    refused = gc.call("order/cancel_order", {"order_code": number})
    assert refused["ask"] == "Failure" and refused["order_code"] == number
    assert gc.emulator.stock()["SKU-1"] == {"sellable": 8, "reserved": 0, "shipped": 2}


def test_order_list_and_inventory_are_paged(gc: Account) -> None:
    codes = [gc.call("order/create_order", order(f"R-{n}"))["order_code"] for n in range(5)]
    pages = [gc.call("order/get_order_list", {"page": p, "pageSize": 2}) for p in (1, 2, 3)]
    assert [len(p["data"]) for p in pages] == [2, 2, 1] and pages[0]["count"] == 5
    assert [o["order_code"] for p in pages for o in p["data"]] == codes
    picked = gc.call(
        "order/get_order_list", {"page": 1, "pageSize": 10, "order_code_arr": codes[1:3]}
    )
    assert [o["order_code"] for o in picked["data"]] == codes[1:3]
    too_big = gc.call("order/get_order_list", {"page": 1, "pageSize": 101})
    assert too_big["ask"] == "Failure"

    first = gc.call(
        "inventory/get_product_inventory", {"page": 1, "pageSize": 2, "warehouse_code": "UKLH"}
    )
    second = gc.call(
        "inventory/get_product_inventory", {"page": 2, "pageSize": 2, "warehouse_code": "UKLH"}
    )
    rows = first["data"] + second["data"]
    assert first["count"] == 3 and [r["product_sku"] for r in rows] == ["SKU-1", "SKU-2", "SKU-3"]
    assert (rows[0]["sellable"], rows[0]["reserved"]) == (0, 10)
    one = gc.call(
        "inventory/get_product_inventory", {"page": 1, "pageSize": 10, "product_sku": "SKU-3"}
    )
    assert [(r["product_sku"], r["sellable"]) for r in one["data"]] == [("SKU-3", 10)]
    assert (
        gc.call(
            "inventory/get_product_inventory", {"page": 1, "pageSize": 10, "warehouse_code": "XX"}
        )["ask"]
        == "Failure"
    )
