"""The K/3 Cloud emulator over real HTTP: Kingdee's own Python SDK works against it
unchanged, our connector logs in both ways, and it refuses what the ERP refuses, in the
ERP's words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from k3cloud_webapi_sdk.main import K3CloudApiSdk

from orderhub.connectors.base import Rejected, Unavailable
from orderhub.connectors.books import ErpDocument
from orderhub.connectors.k3cloud import client_from_settings, erp_from_settings
from orderhub.sandbox.k3cloud import K3CloudEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread


@pytest.fixture
def erp() -> Iterator[tuple[K3CloudEmulator, RunningServer]]:
    emulator = K3CloudEmulator()
    emulator.seed(materials=["MUG-1", "TEA-1"], customers=["SHOP1"], suppliers=["SUP1"])
    server = serve_in_thread(emulator.app)
    yield emulator, server
    server.stop()


def settings(emulator: K3CloudEmulator, server: RunningServer, **extra: Any) -> dict[str, Any]:
    c = emulator.credentials
    return {
        "base_url": f"{server.url}/k3cloud/",
        "acct_id": c["acct_id"],
        "user_name": c["user_name"],
        "app_id": c["app_id"],
        "app_secret": c["app_secret"],
        "password": c["password"],
        **extra,
    }


SALE = {
    "FBillTypeID": {"FNumber": "XSDD01_SYS"},
    "FDate": "2026-12-04",
    "FCustId": {"FNumber": "SHOP1"},
    "F_OH_OrderNo": "o-1",
    "FSaleOrderEntry": [{"FMaterialId": {"FNumber": "MUG-1"}, "FQty": 2, "FTaxPrice": 12.5}],
}


def test_kingdees_own_sdk_saves_audits_and_queries_unchanged(
    erp: tuple[K3CloudEmulator, RunningServer],
) -> None:
    emulator, server = erp
    c = emulator.credentials
    sdk = K3CloudApiSdk(f"{server.url}/k3cloud/")
    sdk.InitConfig(
        c["acct_id"], c["user_name"], c["app_id"], c["app_secret"], f"{server.url}/k3cloud/"
    )
    saved = json.loads(sdk.Save("SAL_SaleOrder", {"Model": SALE, "NeedReturnFields": ["FBillNo"]}))
    status = saved["Result"]["ResponseStatus"]
    assert status["IsSuccess"] is True
    number = saved["Result"]["Number"]
    assert saved["Result"]["NeedReturnData"] == [{"FBillNo": number}]
    for call in (sdk.Submit, sdk.Audit):
        answer = json.loads(call("SAL_SaleOrder", {"Numbers": [number]}))
        assert answer["Result"]["ResponseStatus"]["IsSuccess"] is True
    rows = json.loads(
        sdk.ExecuteBillQuery(
            {
                "FormId": "SAL_SaleOrder",
                "FieldKeys": "FBillNo,FDocumentStatus,FMaterialId.FNumber,FQty,F_OH_OrderNo",
                "FilterString": "F_OH_OrderNo = 'o-1' AND FDocumentStatus IN ('C')",
            }
        )
    )
    assert rows == [[number, "C", "MUG-1", 2, "o-1"]]
    viewed = json.loads(sdk.View("SAL_SaleOrder", {"Number": number}))["Result"]["Result"]
    assert viewed["DocumentStatus"] == "C"
    assert viewed["CustId"]["Number"] == "SHOP1"
    # An audited sale cannot be changed or deleted, only un-audited first.
    refused = json.loads(sdk.Delete("SAL_SaleOrder", {"Numbers": [number]}))
    status = refused["Result"]["ResponseStatus"]
    assert status["IsSuccess"] is False and "已审核" in status["Errors"][0]["Message"]


def test_a_bad_signature_and_a_wrong_account_are_refused(
    erp: tuple[K3CloudEmulator, RunningServer],
) -> None:
    emulator, server = erp
    c = emulator.credentials
    sdk = K3CloudApiSdk(f"{server.url}/k3cloud/")
    sdk.InitConfig(
        c["acct_id"], c["user_name"], c["app_id"], "not-the-secret", f"{server.url}/k3cloud/"
    )
    answer = json.loads(sdk.Save("SAL_SaleOrder", {"Model": SALE}))
    status = answer["Result"]["ResponseStatus"]
    assert status["IsSuccess"] is False and "X-Kd-Signature" in status["Errors"][0]["Message"]
    assert emulator.bills("SAL_SaleOrder") == []
    login = httpx.post(
        f"{server.url}/k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc",
        json={"parameters": ["no-such-acct", c["user_name"], c["password"], 2052]},
    )
    assert login.status_code == 200
    assert login.json()["LoginResultType"] == -1 and login.json()["IsSuccessByAPI"] is False


@pytest.mark.parametrize("auth", ["app_secret", "password", "signed"])
def test_our_connector_books_once_in_every_login_mode(
    erp: tuple[K3CloudEmulator, RunningServer], auth: str
) -> None:
    emulator, server = erp
    connector = erp_from_settings(settings(emulator, server, auth=auth, org="100"))
    context = {
        "erp": {"org": "100", "tax_rate": 13},
        "shop": {"code": "SHOP1", "customer": "SHOP1"},
        "order": {"id": "o-7", "channel_order_id": "1007", "paid_at": "2026-12-04T08:00:00+00:00"},
        "lines": [{"sku": "TEA-1", "quantity": 3, "unit_price": "8.80", "tax_rate": 13}],
        "links": {},
    }
    first = connector.book(ErpDocument("sale_order", "o-7", context))
    again = connector.book(ErpDocument("sale_order", "o-7", context))
    assert first.steps == ("saved", "submitted", "audited") and again.steps == ()
    assert again.bill_no == first.bill_no and again.status == "C"
    [bill] = emulator.bills("SAL_SaleOrder")
    assert bill["Model"]["FDate"] == "2026-12-04 16:00:00"  # Beijing time
    assert bill["Model"]["FSaleOrderEntry"][0]["FTaxPrice"] == 8.8
    voided = connector.void("sale_order", "o-7")
    assert voided is not None and voided.voided and voided.steps == ("unaudited", "voided")
    assert emulator.bills("SAL_SaleOrder")[0]["CancelStatus"] == "B"
    connector.close()


def test_a_tenant_without_password_login_refuses_it_by_name(
    erp: tuple[K3CloudEmulator, RunningServer],
) -> None:
    emulator, server = erp
    emulator.password_login = False
    client = client_from_settings(settings(emulator, server, auth="password"))
    with pytest.raises(Rejected, match="不允许用户名密码登录"):
        client.login()
    client.transport.close()


def test_refusals_name_the_field_in_the_erps_words(
    erp: tuple[K3CloudEmulator, RunningServer],
) -> None:
    emulator, server = erp
    emulator.ledger.salesman_required = True
    client = client_from_settings(settings(emulator, server))
    bad = {
        **SALE,
        "FNoSuchField": 1,
        "FSaleOrderEntry": [
            {"FMaterialId": {"FNumber": "NOPE-9"}, "FQty": 0, "FTaxPrice": 0},
            {"FMaterialId": "MUG-1", "FQty": 1, "FTaxPrice": 5},
        ],
    }
    with pytest.raises(Rejected) as refused:
        client.operation("Save", "SAL_SaleOrder", {"Model": bad})
    said = str(refused.value)
    for expected in (
        "FNoSuchField",  # 实体不存在此属性
        "“NOPE-9”在系统中不存在",
        "第1行字段“数量”必须大于0",
        "含税单价为0",
        "须写成",  # a reference given as a bare string
        "销售员",
    ):
        assert expected in said, expected
    assert emulator.bills("SAL_SaleOrder") == []
    with pytest.raises(Rejected, match="FNope"):
        client.query({"FormId": "SAL_SaleOrder", "FieldKeys": "FBillNo,FNope"})
    with pytest.raises(Rejected, match="过滤条件"):
        client.query(
            {"FormId": "SAL_SaleOrder", "FieldKeys": "FBillNo", "FilterString": "FBillNo ="}
        )
    client.transport.close()


def test_queries_filter_order_and_page_like_the_erp(
    erp: tuple[K3CloudEmulator, RunningServer],
) -> None:
    emulator, server = erp
    client = client_from_settings(settings(emulator, server))
    for n in range(1, 8):
        model = {**SALE, "F_OH_OrderNo": f"o-{n}"}
        model["FSaleOrderEntry"] = [
            {"FMaterialId": {"FNumber": "MUG-1"}, "FQty": n, "FTaxPrice": 1},
            {"FMaterialId": {"FNumber": "TEA-1"}, "FQty": 1, "FTaxPrice": 2},
        ]
        client.operation("Save", "SAL_SaleOrder", {"Model": model})
    keys = "F_OH_OrderNo,FMaterialId.FNumber,FQty"
    rows = client.query(
        {
            "FormId": "SAL_SaleOrder",
            "FieldKeys": keys,
            "FilterString": "(FQty >= 5 AND FMaterialId.FNumber = 'MUG-1')"
            " OR F_OH_OrderNo LIKE 'o-1%'",
            "OrderString": "FQty DESC",
        }
    )
    assert rows == [
        ["o-7", "MUG-1", 7],
        ["o-6", "MUG-1", 6],
        ["o-5", "MUG-1", 5],
        ["o-1", "MUG-1", 1],
        ["o-1", "TEA-1", 1],
    ]
    page = client.query(
        {"FormId": "SAL_SaleOrder", "FieldKeys": "F_OH_OrderNo", "StartRow": 2, "Limit": 3}
    )
    assert page == [["o-3"], ["o-4"], ["o-5"]]
    client.transport.close()


def test_a_failing_erp_is_unavailable_not_refused_and_nothing_is_saved_twice(
    erp: tuple[K3CloudEmulator, RunningServer],
) -> None:
    emulator, server = erp
    connector = erp_from_settings(settings(emulator, server, timeout=2))
    context = {
        "shop": {"code": "SHOP1", "customer": "SHOP1"},
        "order": {"channel_order_id": "9", "placed_at": "2026-12-04T00:00:00Z"},
        "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": "12.50"}],
    }
    httpx.post(f"{server.url}/_sandbox/faults", json={"error_rate": 1.0, "seed": 3})
    with pytest.raises(Unavailable):
        connector.book(ErpDocument("sale_order", "o-9", context))
    httpx.post(f"{server.url}/_sandbox/faults", json={"error_rate": 0.0, "malformed_rate": 1.0})
    with pytest.raises(Unavailable):
        connector.book(ErpDocument("sale_order", "o-9", context))
    httpx.post(f"{server.url}/_sandbox/faults", json={"malformed_rate": 0.0})
    booked = connector.book(ErpDocument("sale_order", "o-9", context))
    assert booked.status == "C" and len(emulator.bills("SAL_SaleOrder")) == 1
    connector.close()
