"""The JD (JOS) emulator over real HTTP, called the way JOS documents it.

Calls are signed here by hand from the rule in platform-apis.md §11 (md5 of secret +
sorted k+v + secret, upper hex), not with anything from the emulator, so the test checks
the rule independently.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from orderhub.sandbox.jd import JdEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread

APP_KEY, SECRET, TOKEN = "jd-app-key", "jd-app-secret", "jd-access-token"
GMT8 = timezone(timedelta(hours=8))
SEARCH = "jingdong.pop.order.enSearch"
FIELDS = "orderId,orderState,modified,orderStartTime,consigneeInfo,itemInfoList,refundStatus"
CATALOGUE = [
    {"sku": "MUG-RED", "title": "红色马克杯", "price": "19.90", "stock": 5, "item_id": "mug"},
    {"sku": "MUG-BLUE", "title": "蓝色马克杯", "price": "19.90", "stock": 7, "item_id": "mug"},
    {"sku": "TEA-1", "title": "龙井茶 250g", "price": "88.00", "stock": 3},
    {"sku": "PEN-1", "title": "钢笔", "price": "45.50", "stock": 10},
    {"sku": "INK-1", "title": "墨水", "price": "12.00", "stock": 0},
]


def jd_time(moment: datetime) -> str:
    return moment.astimezone(GMT8).strftime("%Y-%m-%d %H:%M:%S")


def signed(method: str, business: dict[str, Any], **overrides: str) -> dict[str, str]:
    """System parameters for one call, signed with SECRET unless `secret` is overridden."""
    secret = overrides.pop("secret", SECRET)
    params = {
        "method": method,
        "app_key": APP_KEY,
        "access_token": TOKEN,
        "timestamp": jd_time(datetime.now(UTC)),
        "format": "json",
        "v": "2.0",
        "360buy_param_json": json.dumps(business, ensure_ascii=False),
    }
    params.update(overrides)
    text = secret + "".join(k + params[k] for k in sorted(params)) + secret
    params["sign"] = hashlib.md5(text.encode()).hexdigest().upper()
    return params


@dataclass
class Shop:
    emulator: JdEmulator
    server: RunningServer
    http: httpx.Client

    def call(self, method: str, business: dict[str, Any], **overrides: str) -> httpx.Response:
        data = signed(method, business, **overrides)
        return self.http.post("/routerjson", data=data)

    def ok(self, method: str, business: dict[str, Any]) -> dict[str, Any]:
        response = self.call(method, business)
        assert response.status_code == 200, response.text
        body = response.json()
        key = method.replace(".", "_") + "_responce"
        assert body[key]["code"] == "0", body
        inner: dict[str, Any] = body[key]
        return inner

    def search(self, start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
        business = {
            "start_date": jd_time(start),
            "end_date": jd_time(end),
            "order_state": "WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,TRADE_CANCELED",
            "optional_fields": FIELDS,
            "page": "1",
            "page_size": "100",
            **extra,
        }
        result: dict[str, Any] = self.ok(SEARCH, business)["searchorderinfo_result"]
        return result


@pytest.fixture
def shop() -> Iterator[Callable[..., Shop]]:
    started: list[Shop] = []

    def start(**settings: Any) -> Shop:
        emulator = JdEmulator(APP_KEY, SECRET, TOKEN, seed=3, **settings)
        emulator.seed_items(CATALOGUE)
        server = serve_in_thread(emulator.app)
        running = Shop(emulator, server, httpx.Client(base_url=server.url))
        started.append(running)
        return running

    yield start
    for running in started:
        running.http.close()
        running.server.stop()


def test_a_signed_call_is_answered_in_the_responce_envelope_by_post_or_get(
    shop: Callable[..., Shop],
) -> None:
    jd = shop()
    order_id = jd.emulator.place_order({"lines": [{"sku": "TEA-1", "quantity": 2}]})
    now = datetime.now(UTC)
    result = jd.search(now - timedelta(hours=1), now + timedelta(minutes=1))
    assert result["orderTotal"] == 1
    assert result["apiResult"]["success"] is True
    info = result["orderInfoList"][0]
    assert info["orderId"] == order_id and info["orderState"] == "WAIT_SELLER_STOCK_OUT"
    assert set(info) == set(FIELDS.split(","))
    line = info["itemInfoList"][0]
    assert (line["outerSkuId"], line["itemTotal"], line["jdPrice"]) == ("TEA-1", "2", "88.00")
    business = {"order_id": int(order_id), "optional_fields": "orderId,orderTotalPrice"}
    query = signed("jingdong.pop.order.enGet", business)
    got = jd.http.get("/routerjson", params=query).json()
    detail = got["jingdong_pop_order_enGet_responce"]["orderDetailInfo"]
    assert detail["orderInfo"] == {"orderId": order_id, "orderTotalPrice": "176.00"}
    assert jd.emulator.stats()["calls"] == {SEARCH: 1, "jingdong.pop.order.enGet": 1}


def test_bad_credentials_signature_and_timestamp_are_refused_in_error_response(
    shop: Callable[..., Shop],
) -> None:
    jd = shop()
    order_id = jd.emulator.place_order({"lines": [{"sku": "PEN-1"}]})
    ship = {"orderId": order_id, "logiCoprId": "467", "logiNo": "SF1234567890123"}
    method = "jingdong.pop.order.shipment"
    stale = jd_time(datetime.now(UTC) - timedelta(minutes=11))
    cases = {
        "14": jd.call(method, ship, secret="not-the-secret"),
        "5": jd.call(method, ship, timestamp=stale),
        "21": jd.call(method, ship, app_key="someone-else"),
        "19": jd.call(method, ship, access_token="expired"),
        "15": jd.call("jingdong.pop.order.nothing", ship),
    }
    for code, response in cases.items():
        assert response.status_code == 200
        error = response.json()["error_response"]
        assert error["code"] == code, (code, error)
        assert error["zh_desc"] and error["en_desc"]
    unsigned = {k: v for k, v in signed(method, ship).items() if k != "sign"}
    refused = jd.http.post("/routerjson", data=unsigned).json()
    assert refused["error_response"]["code"] == "14"
    assert jd.emulator.order(order_id)["shipments"] == []
    jd.emulator.expire_access_token()
    assert jd.call(method, ship).json()["error_response"]["code"] == "19"


def test_a_window_over_a_month_is_refused_in_the_api_result(shop: Callable[..., Shop]) -> None:
    jd = shop()
    end = datetime.now(UTC)
    wide = jd.search(end - timedelta(days=31), end)
    assert wide["apiResult"]["success"] is False
    assert wide["apiResult"]["numberCode"] == 10100002
    assert wide["orderInfoList"] == [] and wide["orderTotal"] == 0
    assert jd.search(end - timedelta(days=30), end)["apiResult"]["success"] is True
    too_big = jd.search(end - timedelta(days=1), end, page_size="101")
    assert too_big["apiResult"]["success"] is False


def test_paging_by_modified_time_with_totals_order_and_half_open_bounds(
    shop: Callable[..., Shop],
) -> None:
    jd = shop()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    ids = [
        jd.emulator.place_order({"lines": [{"sku": "PEN-1"}]}, at=start + timedelta(minutes=i))
        for i in range(25)
    ]
    end = start + timedelta(minutes=24)
    pages = [jd.search(start, end, page=str(n), page_size="10") for n in (1, 2, 3)]
    assert [p["orderTotal"] for p in pages] == [24, 24, 24]
    seen = [info["orderId"] for p in pages for info in p["orderInfoList"]]
    assert seen == ids[:24]
    newest = jd.search(start, end, page="1", page_size="5", sortType=1)
    assert [i["orderId"] for i in newest["orderInfoList"]] == ids[23:18:-1]
    jd.emulator.modify_order(ids[0], at=start + timedelta(days=1), vender_remark="加急")
    assert jd.search(start, end)["orderTotal"] == 23
    by_created = jd.search(start, end, dateType=1)
    assert by_created["orderTotal"] == 24


def test_page_cap_refuses_pages_past_it_so_the_client_splits(shop: Callable[..., Shop]) -> None:
    jd = shop(page_cap=10)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    for i in range(15):
        jd.emulator.place_order({"lines": [{"sku": "PEN-1"}]}, at=start + timedelta(minutes=i))
    end = start + timedelta(hours=1)
    first = jd.search(start, end, page="1", page_size="10")
    assert first["orderTotal"] == 15 and len(first["orderInfoList"]) == 10
    second = jd.search(start, end, page="2", page_size="10")
    assert second["apiResult"]["success"] is False
    assert second["apiResult"]["numberCode"] == 10100003
    halves = [
        jd.search(start, start + timedelta(minutes=8))["orderTotal"],
        jd.search(start + timedelta(minutes=8), end)["orderTotal"],
    ]
    assert halves == [8, 7]


def test_on_search_runs_before_the_page_is_computed(shop: Callable[..., Shop]) -> None:
    jd = shop()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    order_id = jd.emulator.place_order({"lines": [{"sku": "PEN-1"}]}, at=start)
    jd.emulator.on_search(lambda: jd.emulator.modify_order(order_id, vender_remark="改了"))
    assert jd.search(start, start + timedelta(hours=1))["orderTotal"] == 0
    now = datetime.now(UTC)
    assert jd.search(now - timedelta(minutes=1), now + timedelta(minutes=1))["orderTotal"] == 1


def test_receivers_come_masked_and_the_decrypt_call_gives_them_clear_and_counts(
    shop: Callable[..., Shop],
) -> None:
    jd = shop(decrypt_cap=2)
    receiver = {
        "name": "张伟",
        "mobile": "13812345678",
        "province": "上海",
        "city": "上海市",
        "district": "浦东新区",
        "address": "世纪大道100号",
    }
    order_id = jd.emulator.place_order({"lines": [{"sku": "TEA-1"}], "receiver": receiver})
    now = datetime.now(UTC)
    found = jd.search(now - timedelta(hours=1), now + timedelta(minutes=1))
    consignee = found["orderInfoList"][0]["consigneeInfo"]
    assert consignee["fullname"] == "张*" and consignee["mobile"] == "138****5678"
    assert "世纪大道" not in consignee["fullAddress"] and consignee["province"] == "上海"
    cipher = consignee["encrypt_mobile"]
    assert cipher and cipher != receiver["mobile"] and consignee["encrypt_fullAddress"]
    decrypt = "jingdong.jos.order.oaid.decrypt"
    ask = {"getReceiverInfoListReqVO": {"orderInfos": [{"orderId": order_id, "oaid": cipher}]}}
    clear = jd.ok(decrypt, ask)["returnType"]["data"][0]
    assert clear["customerName"] == "张伟" and clear["consMobilePhone"] == "13812345678"
    assert clear["address"] == "上海上海市浦东新区世纪大道100号"
    assert jd.emulator.stats()["decrypted"] == 1
    forged = {"getReceiverInfoListReqVO": {"orderInfos": [{"orderId": order_id, "oaid": "~x~1~"}]}}
    assert jd.call(decrypt, forged).json()["error_response"]["code"] == "67"
    two = {"getReceiverInfoListReqVO": {"orderInfos": [{"orderId": order_id, "oaid": cipher}] * 2}}
    assert jd.call(decrypt, two).json()["error_response"]["code"] == "10600001"
    assert jd.emulator.stats()["decrypted"] == 1


def test_shipment_moves_the_order_and_a_second_waybill_is_refused(
    shop: Callable[..., Shop],
) -> None:
    jd = shop()
    order_id = jd.emulator.place_order({"lines": [{"sku": "PEN-1"}, {"sku": "INK-1"}]})
    method = "jingdong.pop.order.shipment"
    unknown = jd.ok(method, {"orderId": order_id, "logiCoprId": 99, "logiNo": "X1"})
    assert unknown["sopjosshipment_result"]["success"] is False
    assert unknown["sopjosshipment_result"]["errorCode"] == "10400020"
    missing = jd.call(method, {"orderId": order_id, "logiCoprId": 467})
    assert missing.json()["error_response"]["code"] == "67"
    done = jd.ok(method, {"orderId": int(order_id), "logiCoprId": 467, "logiNo": "SF100200300"})
    assert done["sopjosshipment_result"]["success"] is True
    snapshot = jd.emulator.orders()[order_id]
    assert snapshot["status"] == "WAIT_GOODS_RECEIVE_CONFIRM"
    assert snapshot["shipments"][0]["carrier_code"] == "467"
    assert snapshot["shipments"][0]["tracking_no"] == "SF100200300"
    assert snapshot["shipments"][0]["lines"] == [0, 1]
    again = jd.ok(method, {"orderId": order_id, "logiCoprId": "463", "logiNo": "YT1"})
    assert again["sopjosshipment_result"]["errorCode"] == "10400021"
    get = {"order_id": order_id, "optional_fields": "waybill,logisticsId,orderState"}
    info = jd.ok("jingdong.pop.order.enGet", get)["orderDetailInfo"]["orderInfo"]
    assert info == {
        "waybill": "SF100200300",
        "logisticsId": "467",
        "orderState": "WAIT_GOODS_RECEIVE_CONFIRM",
    }


def test_refunds_cancel_before_shipment_and_progress_after(shop: Callable[..., Shop]) -> None:
    jd = shop()
    early = jd.emulator.place_order({"lines": [{"sku": "PEN-1", "quantity": 2}]})
    jd.emulator.refund(early, quantity=1)
    assert jd.emulator.order(early)["status"] == "TRADE_CANCELED"
    late = jd.emulator.place_order({"lines": [{"sku": "PEN-1"}]})
    ship = {"orderId": late, "logiCoprId": "1499", "logiNo": "7555"}
    jd.ok("jingdong.pop.order.shipment", ship)
    get = {"order_id": late, "optional_fields": "refundStatus,orderState"}
    states = []
    for _ in range(2):
        jd.emulator.refund(late, returned=True)
        states.append(jd.ok("jingdong.pop.order.enGet", get)["orderDetailInfo"]["orderInfo"])
    assert [s["refundStatus"] for s in states] == ["1", "2"]
    assert jd.emulator.order(late)["refund_state"] == "refunded"


def test_stock_update_sets_the_whole_figure_by_jd_sku_id(shop: Callable[..., Shop]) -> None:
    jd = shop()
    ids = {item["sku"]: item["sku_id"] for item in jd.emulator.items()}
    method = "jingdong.stock.write.updateSkuStock"
    reply = jd.ok(method, {"skuId": int(ids["TEA-1"]), "stockNum": 42})
    assert reply["success"] is True
    assert jd.emulator.stock()["TEA-1"] == 42
    unknown = jd.call(method, {"skuId": 1, "stockNum": 5}).json()["error_response"]
    assert unknown["code"] == "10200004"
    negative = jd.call(method, {"skuId": ids["PEN-1"], "stockNum": -1}).json()
    assert negative["error_response"]["code"] == "67"
    assert jd.emulator.stock()["PEN-1"] == 10


def test_the_sku_listing_pages_with_merchant_codes(shop: Callable[..., Shop]) -> None:
    jd = shop()
    method = "jingdong.sku.read.searchSkuList"
    rows = []
    for page in (1, 2, 3):
        reply = jd.ok(method, {"pageNo": page, "page_size": 2})["page"]
        assert reply["totalItem"] == 5 and reply["pageNo"] == page
        rows.extend(reply["data"])
    assert sorted(row["outerId"] for row in rows) == sorted(str(i["sku"]) for i in CATALOGUE)
    mugs = [row for row in rows if row["outerId"].startswith("MUG")]
    assert mugs[0]["wareId"] == mugs[1]["wareId"] and mugs[0]["skuId"] != mugs[1]["skuId"]
    assert isinstance(rows[0]["skuId"], int)
    one = jd.ok(method, {"outId": ["TEA-1"]})["page"]["data"]
    assert [(r["outerId"], r["jdPrice"], r["stockNum"]) for r in one] == [("TEA-1", 88.0, 3)]


def test_rate_limits_and_server_errors_in_jd_words(shop: Callable[..., Shop]) -> None:
    jd = shop()
    now = datetime.now(UTC)
    business = {"start_date": jd_time(now - timedelta(hours=1)), "end_date": jd_time(now)}
    jd.emulator.faults.update({"rate_limit_rate": 1.0, "retry_after": 2})
    limited = jd.call(SEARCH, business)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json()["error_response"]["code"] == "66"
    jd.emulator.faults.update({"rate_limit_rate": 0.0, "error_rate": 1.0})
    failed = jd.call(SEARCH, business)
    assert failed.status_code == 503 and failed.json()["error_response"]["code"] == "1"
    assert jd.http.delete("/_sandbox/faults").json()["error_rate"] == 0.0
    assert jd.call(SEARCH, business).status_code == 200
    assert jd.http.get("/_sandbox/stats").json()["calls"] == {SEARCH: 1}


def test_unpaid_orders_stay_hidden_until_paid_and_control_routes_work(
    shop: Callable[..., Shop],
) -> None:
    jd = shop()
    http = jd.http
    placed = http.post("/_sandbox/orders", json={"lines": [{"sku": "TEA-1"}], "paid": False})
    assert placed.status_code == 201
    order_id = placed.json()["order_id"]
    now = datetime.now(UTC)
    window = (now - timedelta(minutes=5), now + timedelta(minutes=5))
    assert jd.search(*window)["orderTotal"] == 0
    http.post(f"/_sandbox/orders/{order_id}/modify", json={"paid": True}).raise_for_status()
    assert jd.search(*window)["orderTotal"] == 1
    assert http.get(f"/_sandbox/orders/{order_id}").json()["paid"] is True
    assert order_id in http.get("/_sandbox/orders").json()
    assert http.get("/_sandbox/orders/404").status_code == 404
    assert http.get("/_sandbox/stock").json()["TEA-1"] == 3


def test_run_prints_a_ready_line_with_jd_credential_names() -> None:
    code = "from orderhub.sandbox.jd import run; run(0)"
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
    finally:
        process.terminate()
        process.wait(10)
    ready = json.loads(line.removeprefix("ready "))
    assert ready["platform"] == "jd"
    assert set(ready["credentials"]) == {"app_key", "app_secret", "access_token"}
