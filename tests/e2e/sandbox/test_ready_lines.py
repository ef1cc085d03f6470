"""Each emulator started on its own says where it listens and with which credentials, and
a client using exactly those succeeds."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from orderhub.connectors.base import Rejected
from orderhub.connectors.registry import channel_connector, node_connector

CLI = "from orderhub.cli import main; main()"


@contextmanager
def emulator(platform: str) -> Iterator[dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "sandbox", "serve", platform, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready "), line
        yield json.loads(line.removeprefix("ready "))
    finally:
        process.terminate()
        process.wait(10)


def test_the_shopify_emulator_names_its_token_and_a_client_with_it_gets_in() -> None:
    with emulator("shopify") as ready:
        creds = ready["credentials"]
        assert ready["platform"] == "shopify"
        path = f"{ready['url']}/admin/api/{creds['api_version']}/orders.json"
        allowed = httpx.get(path, headers={"X-Shopify-Access-Token": creds["access_token"]})
        refused = httpx.get(path, headers={"X-Shopify-Access-Token": "shpat_wrong"})
    assert allowed.status_code == 200 and allowed.json() == {"orders": []}
    assert refused.status_code == 401


def test_the_qimen_emulator_names_its_keys_and_a_signed_call_with_them_succeeds() -> None:
    with emulator("qimen") as ready:
        creds = ready["credentials"]
        wms = node_connector(
            "qimen",
            {
                "base_url": ready["url"] + creds["gateway"],
                "app_key": creds["app_key"],
                "app_secret": creds["app_secret"],
                "customer_id": creds["customer_id"],
                "owner_code": creds["customer_id"],
                "warehouse_code": creds["warehouse_code"],
            },
        )
        try:
            levels = wms.query_inventory(["SKU-001"])
        finally:
            wms.close()
    assert [(x.sku, x.quantity) for x in levels] == [("SKU-001", 0)]


def test_the_taobao_emulator_names_app_key_secret_and_session_and_a_client_gets_in() -> None:
    with emulator("taobao") as ready:
        creds = ready["credentials"]
        assert ready["platform"] == "taobao"
        assert set(creds) == {"app_key", "app_secret", "session"}
        shop = channel_connector("taobao", {"base_url": ready["url"], **creds})
        wrong = channel_connector("taobao", {"base_url": ready["url"], **creds, "session": "x"})
        try:
            shop.set_stock(channel_sku="SKU-001", available=7)
            with pytest.raises(Rejected) as refused:
                wrong.set_stock(channel_sku="SKU-001", available=7)
        finally:
            shop.close()
            wrong.close()
    assert refused.value.code == "invalid-sessionkey"


def test_the_douyin_emulator_names_its_four_credentials_and_a_signed_call_gets_in() -> None:
    with emulator("douyin") as ready:
        creds = ready["credentials"]
        assert ready["platform"] == "douyin"
        assert set(creds) == {"app_key", "app_secret", "access_token", "shop_id"}

        def call(token: str) -> dict[str, Any]:
            param_json = '{"page":0,"size":10}'
            timestamp = str(int(time.time()))
            secret = creds["app_secret"]
            signed = (
                f"{secret}app_key{creds['app_key']}methodorder.searchList"
                f"param_json{param_json}timestamp{timestamp}v2{secret}"
            )
            query = {
                "app_key": creds["app_key"],
                "method": "order.searchList",
                "access_token": token,
                "timestamp": timestamp,
                "v": "2",
                "sign_method": "md5",
                "sign": hashlib.md5(signed.encode()).hexdigest(),
            }
            answer = httpx.post(
                f"{ready['url']}/order/searchList",
                params=query,
                content=param_json,
                headers={"Content-Type": "application/json"},
            )
            body: dict[str, Any] = answer.json()
            return body

        allowed, refused = call(creds["access_token"]), call("wrong-token")
    assert allowed["code"] == 10000, allowed
    assert refused["code"] != 10000


def test_the_pdd_emulator_names_client_id_secret_and_token_and_a_client_gets_in() -> None:
    with emulator("pdd") as ready:
        creds = ready["credentials"]
        assert ready["platform"] == "pdd"
        assert set(creds) == {"client_id", "client_secret", "access_token"}
        shop = channel_connector("pdd", {"base_url": ready["url"], **creds})
        wrong = channel_connector("pdd", {"base_url": ready["url"], **creds, "access_token": "x"})
        try:
            shop.set_stock(channel_sku="SKU-001", available=7)
            with pytest.raises(Rejected) as refused:
                wrong.set_stock(channel_sku="SKU-001", available=7)
        finally:
            shop.close()
            wrong.close()
    assert refused.value.code == "isv.access-token-invalid"


def test_the_jd_emulator_names_app_key_secret_and_token_and_a_client_gets_in() -> None:
    with emulator("jd") as ready:
        creds = ready["credentials"]
        assert ready["platform"] == "jd"
        assert set(creds) == {"app_key", "app_secret", "access_token"}
        shop = channel_connector("jd", {"base_url": ready["url"], **creds})
        wrong = channel_connector("jd", {"base_url": ready["url"], **creds, "app_secret": "x"})
        try:
            shop.set_stock(channel_sku="SKU-001", available=7)
            with pytest.raises(Rejected):
                wrong.set_stock(channel_sku="SKU-001", available=7)
        finally:
            shop.close()
            wrong.close()


def test_the_k3cloud_emulator_names_its_account_and_app_and_a_booking_with_them_succeeds() -> None:
    from orderhub.connectors.books import ErpDocument
    from orderhub.connectors.registry import erp_connector

    with emulator("k3cloud") as ready:
        creds = ready["credentials"]
        assert ready["platform"] == "k3cloud"
        assert {"acct_id", "user_name", "app_id", "app_secret", "lcid"} <= set(creds)
        settings = {"base_url": ready["url"] + "/k3cloud/", **creds, "org": "100"}
        erp = erp_connector("k3cloud", settings)
        wrong = erp_connector("k3cloud", {**settings, "app_secret": "not-it"})
        context = {
            "shop": {"code": "SHOP1", "customer": "SHOP1"},
            "order": {"channel_order_id": "1", "placed_at": "2026-12-04T00:00:00Z"},
            "lines": [{"sku": "SKU-001", "quantity": 1, "unit_price": "9.90"}],
        }
        try:
            booked = erp.book(ErpDocument("sale_order", "o-ready", context))
            with pytest.raises(Rejected, match="login"):
                wrong.book(ErpDocument("sale_order", "o-wrong", context))
        finally:
            erp.close()
            wrong.close()
    assert booked.status == "C" and booked.bill_no.startswith("XSDD")


def test_the_woocommerce_emulator_names_its_keys_and_a_client_with_them_gets_in() -> None:
    with emulator("woocommerce") as ready:
        creds = ready["credentials"]
        assert ready["platform"] == "woocommerce"
        assert set(creds) == {"consumer_key", "consumer_secret", "webhook_secret"}
        store = channel_connector("woocommerce", {"url": ready["url"], **creds})
        wrong = channel_connector(
            "woocommerce", {"url": ready["url"], **creds, "consumer_secret": "cs_wrong"}
        )
        try:
            items = store.list_items()
            with pytest.raises(Rejected) as refused:
                wrong.list_items()
        finally:
            store.close()
            wrong.close()
    assert items == []
    assert refused.value.status_code == 401
    assert refused.value.code == "woocommerce_rest_authentication_error"


def test_the_17track_emulator_names_its_api_key_and_a_tracker_with_it_gets_in() -> None:
    from orderhub.connectors.track17 import tracker_from_settings

    with emulator("17track") as ready:
        creds = ready["credentials"]
        assert ready["platform"] == "17track"
        assert set(creds) == {"api_key"}
        tracker = tracker_from_settings({"base_url": ready["url"], **creds})
        wrong = tracker_from_settings({"base_url": ready["url"], "api_key": "not-it"})
        try:
            tracker.subscribe(tracking_no="SF1234567890123", carrier="SF", callback_url="")
            found = tracker.track(tracking_no="SF1234567890123", carrier="SF")
            with pytest.raises(Rejected) as refused:
                wrong.track(tracking_no="SF1234567890123", carrier="SF")
        finally:
            tracker.close()
            wrong.close()
    assert found is not None and found.status.value == "pending"
    assert refused.value.code == "-18010002"


def test_the_amazon_emulator_names_its_lwa_client_and_seller_and_a_client_gets_in() -> None:
    with emulator("amazon") as ready:
        creds = ready["credentials"]
        assert ready["platform"] == "amazon"
        assert set(creds) == {
            "client_id",
            "client_secret",
            "refresh_token",
            "seller_id",
            "marketplace_id",
        }
        where = {"endpoint": ready["url"], "lwa_endpoint": ready["url"] + "/auth/o2/token"}
        shop = channel_connector("amazon", {**where, **creds})
        wrong = channel_connector("amazon", {**where, **creds, "refresh_token": "Atzr|x"})
        try:
            shop.set_stock(channel_sku="SKU-001", available=7)
            with pytest.raises(Rejected) as refused:
                wrong.set_stock(channel_sku="SKU-001", available=7)
        finally:
            shop.close()
            wrong.close()
    assert refused.value.code == "invalid_grant"


# Polled warehouses: the keys each names, a key its client gets wrong, and the refusal.
POLLED_WAREHOUSES = [
    (
        "eclp",
        {"app_key", "app_secret", "access_token", "department_no", "warehouse_no"},
        ("access_token", "expired"),
        "19",
    ),
    (
        "fourpx",
        {"app_key", "app_secret", "warehouse_code", "logistics_product_code"},
        ("app_secret", "guess"),
        "SIGN_ERROR",
    ),
    (
        "goodcang",
        {"app_token", "app_key", "warehouse_code", "shipping_method"},
        ("app_key", "expired"),
        "10001",
    ),
]


@pytest.mark.parametrize(("platform", "names", "wrong_key", "refusal"), POLLED_WAREHOUSES)
def test_a_polled_warehouse_emulator_names_its_keys_and_warehouse_and_a_client_gets_in(
    platform: str, names: set[str], wrong_key: tuple[str, str], refusal: str
) -> None:
    with emulator(platform) as ready:
        creds = ready["credentials"]
        assert ready["platform"] == platform
        assert names <= set(creds)
        settings = {"base_url": ready["url"], **creds}
        wms = node_connector(platform, settings)
        wrong = node_connector(platform, {**settings, wrong_key[0]: wrong_key[1]})
        try:
            levels = wms.query_inventory(["SKU-001"])
            with pytest.raises(Rejected) as refused:
                wrong.query_inventory(["SKU-001"])
        finally:
            wms.close()
            wrong.close()
    assert [(x.sku, x.quantity, x.locked) for x in levels] == [("SKU-001", 100, 0)]
    assert refused.value.code == refusal
