"""The 金蝶云星辰 emulator over real HTTP with our connector: a sale booked once however
often asked, its shipment with the tracking number, refusals in the tenant's words."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orderhub.connectors.base import Rejected
from orderhub.connectors.books import ErpDocument
from orderhub.connectors.jdy import client_from_settings, erp_from_settings
from orderhub.connectors.registry import erp_connector
from orderhub.sandbox.jdy import JdyEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread


@pytest.fixture
def tenant() -> Iterator[tuple[JdyEmulator, RunningServer]]:
    emulator = JdyEmulator()
    emulator.seed(materials=["MUG-1", "TEA-1"], customers=["SHOP1"], stocks=["CK001"])
    server = serve_in_thread(emulator.app)
    yield emulator, server
    server.stop()


def settings(emulator: JdyEmulator, server: RunningServer, **extra: Any) -> dict[str, Any]:
    return {"base_url": server.url, **emulator.credentials, **extra}


def context(sku: str = "TEA-1") -> dict[str, Any]:
    return {
        "erp": {},
        "shop": {"code": "SHOP1", "customer": "SHOP1"},
        "order": {"id": "o-7", "channel_order_id": "1007", "paid_at": "2026-12-04T08:00:00+00:00"},
        "lines": [
            {"sku": sku, "quantity": 3, "unit_price": "8.80", "tax_rate": 13, "stock": "CK001"}
        ],
        "shipment": {
            "carrier": "SF",
            "tracking_no": "SF1234567890",
            "shipped_at": "2026-12-05T02:00:00+00:00",
        },
        "links": {"sale_order": "o-7"},
    }


@pytest.mark.parametrize("key_field", ["bill_no", "remark"])
def test_a_sale_asked_twice_is_one_bill_and_its_shipment_carries_the_tracking_number(
    tenant: tuple[JdyEmulator, RunningServer], key_field: str
) -> None:
    emulator, server = tenant
    connector = erp_connector("jdy", settings(emulator, server, key_field=key_field))
    first = connector.book(ErpDocument("sale_order", "o-7", context()))
    again = connector.book(ErpDocument("sale_order", "o-7", context()))
    assert first.steps == ("saved",) and again.steps == ()
    assert again.bill_no == first.bill_no and again.form == "sal_order"
    [sale] = emulator.bills("sal_order")
    assert sale["customer_number"] == "SHOP1" and sale["bill_date"] == "2026-12-04"
    line = sale["material_entity"][0]
    assert (line["material_number"], line["qty"], line["tax_price"]) == ("TEA-1", 3, 8.8)
    assert connector.find("sale_order", "o-7") == again

    shipped = connector.book(ErpDocument("outbound", "o-7/1", context()))
    connector.book(ErpDocument("outbound", "o-7/1", context()))
    [outbound] = emulator.bills("sal_out_bound")
    assert shipped.bill_no == outbound["bill_no"]
    assert outbound["logistics_number"] == "SF1234567890"
    assert "SF1234567890" in outbound["remark"] and outbound["src_bill_no"] == "o-7"
    assert outbound["material_entity"][0]["stock_number"] == "CK001"
    assert connector.find("outbound", "o-7/2") is None
    with pytest.raises(Rejected, match="void it in 云星辰"):
        connector.void("sale_order", "o-7")
    assert connector.void("sale_order", "never-booked") is None
    connector.close()


def test_an_unknown_material_is_refused_naming_its_code(
    tenant: tuple[JdyEmulator, RunningServer],
) -> None:
    emulator, server = tenant
    connector = erp_from_settings(settings(emulator, server))
    with pytest.raises(Rejected, match="商品编码 NO-SUCH 不存在") as refused:
        connector.book(ErpDocument("sale_order", "o-8", context(sku="NO-SUCH")))
    assert refused.value.code == "2001"
    assert emulator.bills("sal_order") == []
    with pytest.raises(Rejected, match="books no 'return' documents"):
        connector.book(ErpDocument("return", "r-1", context()))


def test_a_bad_signature_or_app_secret_is_refused_and_nothing_is_saved(
    tenant: tuple[JdyEmulator, RunningServer],
) -> None:
    emulator, server = tenant
    wrong = erp_from_settings(settings(emulator, server, client_secret="not-the-secret"))
    with pytest.raises(Rejected, match="X-Api-Signature"):
        wrong.book(ErpDocument("sale_order", "o-9", context()))
    client = client_from_settings(settings(emulator, server, app_secret="not-the-secret"))
    with pytest.raises(Rejected, match="app_signature"):
        client.fetch_token()
    unsigned = httpx.post(f"{server.url}/jdy/v2/scm/sal_order", json={"customer_number": "SHOP1"})
    assert unsigned.status_code == 200 and unsigned.json()["errcode"] == 1001
    assert emulator.bills("sal_order") == []


def test_a_lapsed_token_is_fetched_again_once(tenant: tuple[JdyEmulator, RunningServer]) -> None:
    emulator, server = tenant
    connector = erp_from_settings(settings(emulator, server))
    connector.book(ErpDocument("sale_order", "o-10", context()))
    emulator.tokens.clear()
    assert connector.find("sale_order", "o-10") is not None
    assert connector.client.token_fetches == 2


def test_missing_settings_are_named() -> None:
    with pytest.raises(ValueError, match="'domain' is missing"):
        erp_from_settings(
            {"client_id": "1", "client_secret": "s", "app_key": "k", "app_secret": "a"}
        )
    with pytest.raises(ValueError, match="key_field"):
        erp_from_settings({"key_field": "nope"})


def test_the_cli_serves_a_tenant_whose_ready_line_credentials_book_a_sale() -> None:
    cli = "from orderhub.cli import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", cli, "sandbox", "serve", "jdy", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline().removeprefix("ready "))
        assert ready["platform"] == "jdy"
        connector = erp_from_settings({"base_url": ready["url"], **ready["credentials"]})
        sale = context(sku="SKU-001")
        sale["lines"][0].pop("stock")
        booked = connector.book(ErpDocument("sale_order", "o-11", sale))
        assert booked.bill_no == "o-11" and booked.status == "C"
        connector.close()
    finally:
        process.terminate()
        process.wait(10)
