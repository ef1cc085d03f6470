"""The 京东云仓 (ECLP) emulator over real HTTP, called the way JOS documents it.

Calls are signed here by hand (md5 of secret + sorted k+v + secret, upper hex), not with
anything from the emulator or the hub, so the test checks the rule on its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from orderhub.sandbox.eclp import EclpEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread

APP_KEY, SECRET, TOKEN = "eclp-app-key", "eclp-app-secret", "eclp-access-token"
DEPT, WAREHOUSE, SHOP, ISV = "EBU0000000000101", "110000101", "ESP0000000000101", "ISV01"
GMT8 = timezone(timedelta(hours=8))
ADD, CANCEL = "jingdong.eclp.order.addOrder", "jingdong.eclp.order.cancelOrder"
STATUS, QUERY = "jingdong.eclp.order.queryOrderStatus", "jingdong.eclp.order.queryOrder"
STOCK = "jingdong.eclp.stock.queryStock"


def signed(method: str, business: dict[str, Any], *, secret: str = SECRET) -> dict[str, str]:
    params = {
        "method": method,
        "app_key": APP_KEY,
        "access_token": TOKEN,
        "timestamp": datetime.now(UTC).astimezone(GMT8).strftime("%Y-%m-%d %H:%M:%S"),
        "format": "json",
        "v": "2.0",
        "360buy_param_json": json.dumps(business, ensure_ascii=False),
    }
    text = secret + "".join(k + params[k] for k in sorted(params)) + secret
    params["sign"] = hashlib.md5(text.encode()).hexdigest().upper()
    return params


def order(isv_uuid: str, **changes: Any) -> dict[str, Any]:
    """An addOrder call for two mugs and a pot of tea, as an integrator sends it."""
    return {
        "isvUUID": isv_uuid,
        "isvSource": ISV,
        "shopNo": SHOP,
        "departmentNo": DEPT,
        "warehouseNo": WAREHOUSE,
        "shipperNo": "CYS0000010",
        "salePlatformSource": "6",
        "salesPlatformOrderNo": "SO-" + isv_uuid,
        "consigneeName": "张三",
        "consigneeMobile": "13812348000",
        "addressProvince": "浙江",
        "addressCity": "杭州市",
        "addressCounty": "西湖区",
        "consigneeAddress": "文三路100号",
        "orderMark": "0" * 50,
        "isvGoodsNo": "MUG-RED,TEA-1",
        "quantity": "2,1",
        "price": "19.90,88.00",
        "orderLine": "1,2",
        **changes,
    }


@dataclass
class Warehouse:
    emulator: EclpEmulator
    server: RunningServer
    http: httpx.Client

    def call(self, method: str, business: dict[str, Any], **options: str) -> dict[str, Any]:
        response = self.http.post("/routerjson", data=signed(method, business, **options))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def ok(self, method: str, business: dict[str, Any]) -> dict[str, Any]:
        body = self.call(method, business)
        inner: dict[str, Any] = body[method.replace(".", "_") + "_responce"]
        assert inner["code"] == "0", body
        return inner

    def refused(self, method: str, business: dict[str, Any]) -> dict[str, str]:
        error: dict[str, str] = self.call(method, business)["error_response"]
        return error


@pytest.fixture
def eclp() -> Iterator[Callable[..., Warehouse]]:
    started: list[Warehouse] = []

    def start(**settings: Any) -> Warehouse:
        emulator = EclpEmulator(
            APP_KEY,
            SECRET,
            TOKEN,
            department_no=DEPT,
            warehouse_nos=(WAREHOUSE,),
            shop_no=SHOP,
            isv_source=ISV,
            seed=5,
            **settings,
        )
        emulator.seed_goods(
            [{"sku": "MUG-RED", "name": "红色马克杯", "stock": 10}, {"sku": "TEA-1", "stock": 3}]
        )
        server = serve_in_thread(emulator.app)
        running = Warehouse(emulator, server, httpx.Client(base_url=server.url))
        started.append(running)
        return running

    yield start
    for running in started:
        running.http.close()
        running.server.stop()


def test_a_call_signed_with_another_secret_is_refused_in_jos_words(
    eclp: Callable[..., Warehouse],
) -> None:
    wh = eclp()
    body = wh.call(ADD, order("OUT-1"), secret="not-the-secret")
    assert body == {
        "error_response": {"code": "14", "zh_desc": "签名无效", "en_desc": "Invalid signature"}
    }
    assert wh.emulator.orders() == {}
    assert wh.emulator.stats()["refused"] == {"signature": 1}


def test_add_order_twice_with_one_isv_uuid_makes_one_order(
    eclp: Callable[..., Warehouse],
) -> None:
    wh = eclp()
    first = wh.ok(ADD, order("OUT-1"))["eclpSoNo"]
    again = wh.ok(ADD, order("OUT-1", quantity="5,1"))["eclpSoNo"]
    other = wh.ok(ADD, order("OUT-2"))["eclpSoNo"]
    assert first == again != other and first.startswith("ESL")
    stats = wh.emulator.stats()
    assert (stats["add_order_calls"], stats["distinct_orders"]) == (3, 2)
    placed = wh.emulator.order("OUT-1")
    assert [(x["sku"], x["quantity"], x["order_line"]) for x in placed["lines"]] == [
        ("MUG-RED", 2, "1"),
        ("TEA-1", 1, "2"),
    ]
    assert wh.emulator.stock()["MUG-RED"] == {"total": 10, "usable": 6}


def test_unknown_goods_department_and_warehouse_are_refused_naming_the_field(
    eclp: Callable[..., Warehouse],
) -> None:
    wh = eclp()
    cases = {
        "isvGoodsNo": order("OUT-1", isvGoodsNo="MUG-RED,NOPE-9"),
        "departmentNo": order("OUT-2", departmentNo="EBU-SOMEONE-ELSE"),
        "warehouseNo": order("OUT-3", warehouseNo="999"),
        "quantity": order("OUT-4", quantity="2"),
        "consigneeName": order("OUT-5", consigneeName=""),
        "orderMark": order("OUT-6", orderMark="0"),
    }
    for field, business in cases.items():
        error = wh.refused(ADD, business)
        assert error["en_desc"].startswith(f"{field}:"), error
        assert error["zh_desc"]
    assert wh.refused(ADD, cases["isvGoodsNo"])["code"] == "10100007"
    assert "NOPE-9" in wh.refused(ADD, cases["isvGoodsNo"])["zh_desc"]
    short = wh.refused(ADD, order("OUT-7", quantity="2,4"))
    assert short["code"] == "10100008" and "TEA-1" in short["en_desc"]
    assert wh.emulator.orders() == {}
    assert wh.emulator.stock()["MUG-RED"] == {"total": 10, "usable": 10}


def test_query_order_status_follows_the_warehouse_from_created_to_delivered(
    eclp: Callable[..., Warehouse],
) -> None:
    wh = eclp()
    number = wh.ok(ADD, order("OUT-1"))["eclpSoNo"]

    def codes() -> list[str]:
        result = wh.ok(STATUS, {"eclpSoNo": number})["queryorderstatus_result"]
        assert result["eclpSoNo"] == number and result["isvUUID"] == "OUT-1"
        return [row["soStatusCode"] for row in result["orderStatusList"]]

    assert codes() == ["10010"]
    wh.emulator.pack(number)
    waybill = wh.emulator.ship(number, waybill="JDVA00012345678")
    wh.emulator.deliver(number)
    assert codes() == ["10010", "10017", "10018", "10019"]
    found = wh.ok(QUERY, {"eclpSoNo": number})["queryorder_result"]
    assert (found["isvUUID"], found["wayBill"], found["shipperNo"]) == (
        "OUT-1",
        waybill,
        "CYS0000010",
    )
    assert found["shipperName"] == "京东快递" and found["currentStatus"] == "10019"
    assert [(x["isvGoodsNo"], x["quantity"]) for x in found["orderDetailList"]] == [
        ("MUG-RED", 2),
        ("TEA-1", 1),
    ]
    row = found["orderStatusList"][2]
    assert row["soStatusName"] and len(row["operateTime"]) == len("2026-12-04 10:00:00")
    missing = wh.refused(STATUS, {"eclpSoNo": "ESL-NOPE"})
    assert missing["code"] == "10100009" and missing["en_desc"].startswith("eclpSoNo:")
    assert wh.emulator.stock()["MUG-RED"] == {"total": 8, "usable": 8}


def test_cancel_takes_before_shipment_and_is_refused_after(
    eclp: Callable[..., Warehouse],
) -> None:
    wh = eclp()
    early = wh.ok(ADD, order("OUT-1"))["eclpSoNo"]
    late = wh.ok(ADD, order("OUT-2", quantity="1,1"))["eclpSoNo"]
    wh.emulator.pack(early)
    result = wh.ok(CANCEL, {"eclpSoNo": early})["cancelorder_result"]
    assert result["code"] == 1 and result["msg"]
    assert wh.ok(CANCEL, {"eclpSoNo": early})["cancelorder_result"]["code"] == 1
    wh.emulator.ship(late)
    refused = wh.ok(CANCEL, {"eclpSoNo": late})["cancelorder_result"]
    assert refused["code"] == 2 and refused["msg"]
    assert wh.emulator.order(early)["statuses"] == ["10010", "10017", "10028"]
    assert wh.emulator.order(late)["statuses"] == ["10010", "10018", "10029"]
    assert wh.emulator.stock()["MUG-RED"] == {"total": 9, "usable": 9}
    assert wh.refused(CANCEL, {"eclpSoNo": "ESL-NOPE"})["code"] == "10100009"


def test_stock_query_answers_total_and_usable_per_article(
    eclp: Callable[..., Warehouse],
) -> None:
    wh = eclp()
    wh.ok(ADD, order("OUT-1"))
    query = {"deptNo": DEPT, "warehouseNo": WAREHOUSE, "stockStatus": "1", "stockType": "1"}
    rows = wh.ok(STOCK, query)["querystock_result"]
    goods = {g["sku"]: g["goods_no"] for g in wh.emulator.goods()}
    assert [(r["goodsNo"], r["totalNum"], r["usableNum"]) for r in rows] == [
        (goods["MUG-RED"], 10, 8),
        (goods["TEA-1"], 3, 2),
    ]
    assert rows[0]["warehouseNo"] == WAREHOUSE and rows[0]["deptNo"] == DEPT
    one = wh.ok(STOCK, {**query, "isvSku": "TEA-1"})["querystock_result"]
    assert [r["goodsNo"] for r in one] == [goods["TEA-1"]]
    by_number = wh.ok(STOCK, {**query, "goodsNo": goods["MUG-RED"]})["querystock_result"]
    assert [r["usableNum"] for r in by_number] == [8]
    wh.emulator.set_stock("TEA-1", 0)
    assert wh.ok(STOCK, {**query, "isvSku": "TEA-1"})["querystock_result"] == []
    zero = wh.ok(STOCK, {**query, "isvSku": "TEA-1", "returnZeroStock": "1"})
    assert [(r["totalNum"], r["usableNum"]) for r in zero["querystock_result"]] == [(0, 0)]
    assert wh.refused(STOCK, {**query, "deptNo": "EBU-X"})["en_desc"].startswith("deptNo:")
