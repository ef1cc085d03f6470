"""The 4PX emulator over real HTTP, called the way 4PX's open platform documents it.

Calls are signed here by hand (md5 of the system parameters, the body and the secret,
lower hex), not with anything from the emulator or the hub, so the rule is checked on
its own.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orderhub.sandbox.fourpx import FourpxEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread

KEY, SECRET = "4px-key", "4px-secret"
CREATE, CANCEL = "fu.wms.outbound.create", "fu.wms.outbound.cancel"
LIST, STOCK = "fu.wms.outbound.getlist", "fu.wms.inventory.get"


class Account:
    """A signed client of one emulated account."""

    def __init__(self, url: str, emulator: FourpxEmulator) -> None:
        self.url, self.emulator = url, emulator
        self.http = httpx.Client(timeout=10)

    def call(
        self,
        method: str,
        data: dict[str, Any],
        *,
        secret: str = SECRET,
        stamp: int | None = None,
        tamper: bytes = b"",
    ) -> dict[str, Any]:
        body = json.dumps(data, ensure_ascii=False).encode()
        ts = str(stamp if stamp is not None else int(time.time() * 1000))
        text = f"app_key{KEY}formatjsonmethod{method}timestamp{ts}v1.0.0".encode()
        query = {
            "app_key": KEY,
            "v": "1.0.0",
            "timestamp": ts,
            "format": "json",
            "method": method,
            "sign": hashlib.md5(text + body + secret.encode()).hexdigest(),
        }
        reply = self.http.post(
            f"{self.url}/router/api/service", params=query, content=body + tamper
        )
        assert reply.status_code == 200
        answer: dict[str, Any] = reply.json()
        return answer


@pytest.fixture
def account() -> Iterator[Account]:
    emulator = FourpxEmulator(KEY, SECRET, warehouses={"USLAXA": "US"}, seed=3)
    emulator.seed_skus([{"sku": "MUG", "stock": 10}, {"sku": "TEA", "stock": 4}])
    server: RunningServer = serve_in_thread(emulator.app)
    client = Account(server.url, emulator)
    try:
        yield client
    finally:
        client.http.close()
        server.stop()


def outbound(ref_no: str, *, country: str = "US", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ref_no": ref_no,
        "from_warehouse_code": "USLAXA",
        "consignment_type": "S",
        "logistics_service_info": {"logistics_product_code": "F152"},
        "oconsignment_desc": {
            "country": country,
            "state": "CA",
            "city": "Los Angeles",
            "post_code": "90001",
            "street": "1 Main St",
            "first_name": "Ann Lee",
            "phone": "+1 213 555 0100",
            "email": "ann@example.com",
        },
        "oconsignment_sku": [
            {"sku_code": "MUG", "qty": 2, "stock_quality": "G"},
            {"sku_code": "TEA", "qty": 1, "stock_quality": "G"},
        ],
    }
    body.update(changes)
    return body


def error_code(answer: dict[str, Any]) -> str:
    assert answer["result"] == "0" and answer["data"] is None
    return str(answer["errors"][0]["error_code"])


def test_a_bad_sign_a_changed_body_and_a_stale_timestamp_are_refused(account: Account) -> None:
    assert error_code(account.call(STOCK, {}, secret="guess")) == "SIGN_ERROR"
    assert error_code(account.call(STOCK, {}, tamper=b" ")) == "SIGN_ERROR"
    stale = int(time.time() * 1000) - 3600_000
    assert error_code(account.call(STOCK, {}, stamp=stale)) == "TIMESTAMP_EXPIRED"
    assert account.call(STOCK, {})["result"] == "1"
    assert account.emulator.stats()["refusals"] == {"sign": 2, "timestamp": 1}


def test_create_needs_its_fields_known_skus_stock_and_a_known_product(account: Account) -> None:
    cases = [
        (outbound(""), "ERR_OUTBOUND_CONSIGNMENT_REF_NO_EMPTY"),
        (
            outbound("r1", from_warehouse_code=""),
            "ERR_OUTBOUND_CONSIGNMENT_FROM_WAREHOUSE_CODE_EMPTY",
        ),
        (
            outbound("r1", logistics_service_info={}),
            "ERR_OUTBOUND_CONSIGNMENT_LOGISTICS_PRODUCT_EMPTY",
        ),
        (
            outbound("r1", logistics_service_info={"logistics_product_code": "NOPE"}),
            "ERR_LOGISTICS_PRODUCT_NOT_EXIST",
        ),
        (outbound("r1", oconsignment_sku=[]), "ERR_OUTBOUND_CONSIGNMENT_SKU_EMPTY"),
        (
            outbound("r1", oconsignment_sku=[{"sku_code": "MUG", "qty": 0}]),
            "ERR_OUTBOUND_CONSIGNMENT_SKU_QTY_FORMAT",
        ),
        (outbound("r1", oconsignment_sku=[{"sku_code": "CUP", "qty": 1}]), "ERR_SKU_NOT_EXIST"),
        (
            outbound("r1", oconsignment_sku=[{"sku_code": "TEA", "qty": 5}]),
            "AVALIABLE_STOCK_IS_NOT_ENOUGH",
        ),
    ]
    for body, code in cases:
        assert error_code(account.call(CREATE, body)) == code, body
    no_street = outbound("r1")
    no_street["oconsignment_desc"]["street"] = ""
    assert error_code(account.call(CREATE, no_street)) == "ERR_OUTBOUND_CONSIGNMENT_STREET_EMPTY"
    assert account.emulator.stats()["distinct_orders"] == 0


def test_a_parcel_leaving_the_country_must_declare_hs_code_and_value(account: Account) -> None:
    assert (
        error_code(account.call(CREATE, outbound("ca-1", country="CA"))) == "ERR_DECLARE_INFO_EMPTY"
    )
    declared = [
        {
            "sku_code": "MUG",
            "qty": 1,
            "hs_code": "691200",
            "declare_value": "8.50",
            "declare_currency": "USD",
            "declare_name_en": "Ceramic mug",
        },
    ]
    answer = account.call(CREATE, outbound("ca-1", country="CA", oconsignment_sku=declared))
    assert answer["result"] == "1"
    stored = account.emulator.order("ca-1")
    assert stored["lines"][0]["hs_code"] == "691200"


def test_a_ref_no_used_before_is_refused_naming_the_first_consignment(account: Account) -> None:
    first = account.call(CREATE, outbound("ref-9"))
    assert first["result"] == "1" and first["msg"]
    number = first["data"]["consignment_no"]
    assert number.startswith("OC") and first["data"]["4px_tracking_no"]
    again = account.call(CREATE, outbound("ref-9"))
    assert error_code(again) == "ERR_REF_NO_EXIST"
    assert again["errors"][0]["error_data"] == number
    stats = account.emulator.stats()
    assert (stats["create_calls"], stats["distinct_orders"]) == (2, 1)
    assert account.emulator.stock()["MUG"] == {"on_hand": 10, "available": 8, "pending": 2}


def test_getlist_pages_by_ref_numbers_and_shows_every_parcel(account: Account) -> None:
    for n in range(3):
        body = outbound(f"p-{n}", oconsignment_sku=[{"sku_code": "MUG", "qty": 1}])
        assert account.call(CREATE, body)["result"] == "1"
    page = account.call(LIST, {"ref_no": "p-0,p-1,p-2", "page_no": 2, "page_size": 2})["data"]
    assert (page["total"], page["page_no"], [r["ref_no"] for r in page["data"]]) == (
        "3",
        "2",
        ["p-2"],
    )
    today = account.call(LIST, {})["data"]
    assert today["total"] == "3" and today["data"][0]["status"] == "S"
    too_long = {"create_time_start": 0, "create_time_end": 40 * 86400 * 1000}
    assert error_code(account.call(LIST, too_long)) == "ERR_PARAM"

    two = account.call(CREATE, outbound("split"))["data"]["consignment_no"]
    first = account.emulator.ship(two, lines={"MUG": 2}, shipping_no="TRK1")
    row = account.call(LIST, {"consignment_no": two})["data"]["data"][0]
    assert (row["status"], row["shipping_no"], first) == ("P", "TRK1", "TRK1")
    account.emulator.ship(two, shipping_no="TRK2")
    row = account.call(LIST, {"ref_no": "split"})["data"]["data"][0]
    assert row["status"] == "C" and row["complete_time"]
    assert [(p["shipping_no"], p["package_sku"]) for p in row["outboundlist_package"]] == [
        ("TRK1", [{"sku_code": "MUG", "qty": 2}]),
        ("TRK2", [{"sku_code": "TEA", "qty": 1}]),
    ]


def test_cancel_before_a_parcel_left_and_refused_after(account: Account) -> None:
    account.call(CREATE, outbound("c-1"))
    assert (
        error_code(account.call(CANCEL, {"ref_no": "c-1"}))
        == "ERR_OUTBOUND_CONSIGNMENT_CANCEL_TYPE_NOT_EXIST"
    )
    done = account.call(CANCEL, {"ref_no": "c-1", "cancel_type": "OT", "cancel_remark": "buyer"})
    assert done["result"] == "1" and done["data"]["status"] == "X"
    assert error_code(account.call(CANCEL, {"ref_no": "c-1", "cancel_type": "OT"})) == (
        "ERR_OUTBOUND_CONSIGNMENT_REPEAT_CANCEL"
    )
    assert account.emulator.stock()["MUG"]["available"] == 10

    number = account.call(CREATE, outbound("c-2"))["data"]["consignment_no"]
    account.emulator.ship(number, lines={"TEA": 1})
    late = account.call(CANCEL, {"consignment_no": number, "cancel_type": "OT"})
    assert error_code(late) == "ERR_OUTBOUND_CONSIGNMENT_SHIPPED"


def test_inventory_is_paged_per_warehouse(account: Account) -> None:
    account.call(CREATE, outbound("i-1"))
    first = account.call(STOCK, {"warehouse_code": "USLAXA", "page_size": 1})["data"]
    assert first["total"] == "2" and len(first["data"]) == 1
    rows = account.call(STOCK, {"warehouse_code": "USLAXA", "lstsku": ["MUG"]})["data"]["data"]
    assert [(r["sku_code"], r["available_stock"], r["pending_stock"]) for r in rows] == [
        ("MUG", 8, 2)
    ]
    assert (
        error_code(account.call(STOCK, {"warehouse_code": "XXX"})) == "ERR_WAREHOUSE_CODE_NOT_EXIST"
    )
