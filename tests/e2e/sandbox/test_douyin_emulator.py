"""The Douyin Shop emulator over real HTTP on loopback, called the way the docs say.

Requests are signed here by hand from platform-apis.md §6.1 (sorted compact param_json,
`secret + app_key… method… param_json… timestamp… v2 + secret`, lower-hex HMAC-SHA256 or
MD5), not with anything from the emulator, so the tests check the rule itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.douyin import DouyinEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread

APP_KEY, SECRET, TOKEN, SHOP = "7000000000000000042", "test-app-secret", "test-token", 9001
ITEMS = [
    {"sku": "MUG-1", "title": "陶瓷马克杯", "price": "19.90", "stock": 10, "item_id": "MUG"},
    {"sku": "MUG-2", "title": "陶瓷马克杯 大号", "price": "24.50", "stock": 4, "item_id": "MUG"},
    {"sku": "TEE-1", "title": "纯棉T恤", "price": "59.00", "stock": 7},
]


def param_json(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signature(method: str, body: str, ts: str, sign_method: str, secret: str = SECRET) -> str:
    text = f"{secret}app_key{APP_KEY}method{method}param_json{body}timestamp{ts}v2{secret}"
    if sign_method == "md5":
        return hashlib.md5(text.encode()).hexdigest()
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


@dataclass
class Shop:
    emulator: DouyinEmulator
    server: RunningServer
    http: httpx.Client = field(default_factory=httpx.Client)

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        sign_method: str | None = "hmac-sha256",
        ts: str | None = None,
        token: str = TOKEN,
        body: str | None = None,
        sign: str | None = None,
        app_key: str = APP_KEY,
    ) -> httpx.Response:
        body = param_json(params or {}) if body is None else body
        ts = ts or str(int(time.time()))
        query = {"app_key": app_key, "method": method, "access_token": token, "timestamp": ts}
        query["v"] = "2"
        query["sign"] = sign or signature(method, body, ts, sign_method or "md5")
        if sign_method:
            query["sign_method"] = sign_method
        return self.http.post(
            f"{self.server.url}/{method.replace('.', '/')}",
            params=query,
            content=body.encode(),
            headers={"Content-Type": "application/json"},
        )

    def data(self, method: str, params: dict[str, Any] | None = None) -> Any:
        reply = self.call(method, params).json()
        assert reply["code"] == 10000, reply
        return reply["data"]


@pytest.fixture
def shop() -> Iterator[Callable[..., Shop]]:
    started: list[Shop] = []

    def start(**settings: Any) -> Shop:
        emulator = DouyinEmulator(APP_KEY, SECRET, TOKEN, SHOP, seed=3, **settings)
        emulator.seed_items(ITEMS)
        started.append(Shop(emulator, serve_in_thread(emulator.app)))
        return started[-1]

    yield start
    for s in started:
        s.http.close()
        s.server.stop()
        s.emulator.stop()


def test_a_signed_call_is_answered_in_the_success_envelope(shop: Callable[..., Shop]) -> None:
    s = shop()
    china = datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
    hmac_reply = s.call("order.logisticsCompanyList").json()
    md5_reply = s.call("order.logisticsCompanyList", sign_method="md5", ts=china).json()
    default_reply = s.call("order.logisticsCompanyList", sign_method=None).json()

    for reply in (hmac_reply, md5_reply, default_reply):
        assert (reply["code"], reply["msg"], reply["sub_code"], reply["sub_msg"]) == (
            10000,
            "success",
            "",
            "",
        )
        assert reply["log_id"]
    codes = {c["code"] for c in hmac_reply["data"]}
    assert {"shunfeng", "yuantong", "zhongtong", "shentong", "yunda", "ems", "jd"} <= codes


def test_refused_calls_answer_in_the_platform_envelope_and_store_nothing(
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order_id = s.emulator.place_order({"lines": [{"sku": "MUG-1", "quantity": 1}]})
    ship = {"order_id": order_id, "company_code": "yunda", "logistics_code": "4312345678901"}
    stale = str(int(time.time()) - 3600)
    unsorted = json.dumps({"order_id": order_id, "logistics_code": "1", "company_code": "ems"})

    now = str(int(time.time()))
    foreign = signature("order.logisticsAdd", param_json(ship), now, "hmac-sha256", "nope")
    as_sent = signature("order.logisticsAdd", unsorted, now, "hmac-sha256")

    wrong = s.call("order.logisticsAdd", ship, sign="0" * 64).json()
    other_secret = s.call("order.logisticsAdd", ship, sign=foreign, ts=now).json()
    old = s.call("order.logisticsAdd", ship, ts=stale).json()
    not_sorted = s.call("order.logisticsAdd", body=unsorted, sign=as_sent, ts=now).json()
    bad_token = s.call("order.logisticsAdd", ship, token="someone-else").json()
    bad_key = s.call("order.logisticsAdd", ship, app_key="7000000000000000043").json()
    unknown = s.call("order.noSuchThing", {}).json()

    assert (wrong["code"], wrong["sub_code"]) == (40003, "isv.signature-invalid")
    assert wrong["msg"] == "非法的参数（平台校验）" and wrong["sub_msg"] == "签名校验失败"
    assert other_secret["sub_code"] == not_sorted["sub_code"] == "isv.signature-invalid"
    assert (old["code"], old["sub_code"]) == (40003, "isv.timestamp-invalid")
    assert (bad_token["code"], bad_token["sub_code"]) == (40003, "isv.access-token-no-existed")
    assert bad_key["sub_code"] == "isv.access-token-invalid"
    assert (unknown["code"], unknown["sub_code"]) == (70000, "isp.api-service-off")
    assert s.emulator.order(order_id)["shipments"] == []

    s.emulator.rotate_access_token("fresh-token")
    expired = s.call("order.logisticsAdd", ship).json()
    assert (expired["code"], expired["sub_code"]) == (40003, "isv.access-token-expired")
    assert s.call("order.logisticsAdd", ship, token="fresh-token").json()["code"] == 10000
    assert s.emulator.stats()["refused"]["order.logisticsAdd:isv.signature-invalid"] == 3


def test_the_search_window_is_limited_to_one_day(shop: Callable[..., Shop]) -> None:
    s = shop()
    now = int(time.time())
    too_wide = {"page": 0, "size": 10, "update_time_start": now - 86401, "update_time_end": now}
    reply = s.call("order.searchList", too_wide).json()

    assert (reply["code"], reply["sub_code"]) == (40004, "isv.parameter-invalid")
    assert "1天" in reply["sub_msg"]
    one_day = dict(too_wide, update_time_start=now - 86400)
    assert s.call("order.searchList", one_day).json()["code"] == 10000
    big = s.call("order.searchList", {"page": 0, "size": 101}).json()
    assert big["code"] == 40004


def test_paging_through_a_window_by_update_time(shop: Callable[..., Shop]) -> None:
    s = shop(page_cap=6)
    base = datetime.now(UTC) - timedelta(hours=5)
    tee = {"lines": [{"sku": "TEE-1", "quantity": 1}]}
    ids = [s.emulator.place_order(tee, at=base + timedelta(minutes=i)) for i in range(7)]
    outside = s.emulator.place_order({"lines": [{"sku": "TEE-1"}]}, at=base - timedelta(hours=1))
    start, end = int(base.timestamp()), int((base + timedelta(minutes=7)).timestamp())
    window = {"update_time_start": start, "update_time_end": end}
    window.update(order_by="update_time", order_asc=True, size=3)
    touched: list[str] = []

    def during_pull() -> None:
        if not touched:
            s.emulator.modify_order(ids[0], seller_words="加急", at=base + timedelta(minutes=7))
            touched.append(ids[0])

    s.emulator.on_search(during_pull)
    pages = [s.data("order.searchList", dict(window, page=p)) for p in range(2)]
    past_cap = s.call("order.searchList", dict(window, page=2)).json()

    assert [p["total"] for p in pages] == [7, 7]
    assert [(p["page"], p["size"]) for p in pages] == [(0, 3), (1, 3)]
    seen = [o["order_id"] for p in pages for o in p["shop_order_list"]]
    assert seen == ids[1:7] and outside not in seen
    times = [o["update_time"] for p in pages for o in p["shop_order_list"]]
    assert times == sorted(times) and all(start <= t <= end for t in times)
    assert (past_cap["code"], past_cap["sub_code"]) == (40004, "isv.parameter-invalid")

    newest_first = s.data("order.searchList", dict(window, page=0, order_asc=False, size=100))
    assert newest_first["shop_order_list"][0]["order_id"] == ids[0]
    assert newest_first["shop_order_list"][0]["seller_words"] == "加急"


def test_receivers_are_masked_and_decrypted_only_by_batch_decrypt(
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    receiver = {"name": "王小明", "mobile": "13812345678", "province": "广东省", "city": "深圳市"}
    receiver.update(district="南山区", detail="科技园南路88号3栋1201室")
    order_id = s.emulator.place_order(
        {"lines": [{"sku": "MUG-1", "quantity": 2}, {"sku": "TEE-1"}], "receiver": receiver}
    )
    detail = s.data("order.orderDetail", {"shop_order_id": order_id})["shop_order_detail"]

    assert detail["post_receiver"] == detail["mask_post_receiver"] == "王**"
    assert detail["post_tel"] == "138****5678"
    assert "88号3栋" not in detail["post_addr"]["detail"]
    assert detail["post_addr"]["province"] == {"id": "44", "name": "广东省"}
    assert detail["post_addr"]["town"]["name"] == "南山区"
    assert (detail["order_amount"], detail["order_status"]) == (2 * 1990 + 5900, 2)
    assert isinstance(detail["order_id"], str) and isinstance(detail["shop_id"], int)
    [mug, tee] = detail["sku_order_list"]
    assert (mug["code"], mug["origin_amount"], mug["item_num"], mug["sum_amount"]) == (
        "MUG-1",
        1990,
        2,
        3980,
    )
    assert mug["parent_order_id"] == order_id and tee["code"] == "TEE-1"

    ciphers = [
        detail["encrypt_post_receiver"],
        detail["encrypt_post_tel"],
        detail["post_addr"]["encrypt_detail"],
    ]
    infos = [{"auth_id": order_id, "cipher_text": c} for c in ciphers]
    infos.append({"auth_id": "6918000000000000000", "cipher_text": ciphers[0]})
    decrypted = s.data("order.batchDecrypt", {"cipher_infos": infos})["decrypt_infos"]

    assert [d["decrypt_text"] for d in decrypted[:3]] == [
        "王小明",
        "13812345678",
        "科技园南路88号3栋1201室",
    ]
    assert [d["err_no"] for d in decrypted] == [0, 0, 0, 300008]
    stats = s.emulator.stats()
    assert (stats["decrypt_calls"], stats["decrypted"]) == (1, 3)


def test_shipments_whole_and_split_are_recorded_once(shop: Callable[..., Shop]) -> None:
    s = shop()
    whole = s.emulator.place_order({"lines": [{"sku": "MUG-1"}, {"sku": "TEE-1"}]})
    split = s.emulator.place_order({"lines": [{"sku": "MUG-1", "quantity": 3}, {"sku": "MUG-2"}]})
    lines = [line["sku_order_id"] for line in s.emulator.order(split)["lines"]]
    unknown_carrier = {"order_id": whole, "company_code": "pigeon", "logistics_code": "X1"}

    refused = s.call("order.logisticsAdd", unknown_carrier).json()
    s.data(
        "order.logisticsAdd",
        {"order_id": whole, "company_code": "shunfeng", "logistics_code": "SF1234567890123"},
    )
    again = s.call(
        "order.logisticsAdd",
        {"order_id": whole, "company_code": "shunfeng", "logistics_code": "SF1234567890124"},
    ).json()
    first: dict[str, Any] = {"logistics_code": "YT0001", "company_code": "yuantong"}
    first["shipped_order_info"] = [{"shipped_order_id": lines[0], "shipped_num": 2}]
    packed = s.data("order.logisticsAddMultiPack", {"order_id": split, "pack_list": [first]})
    after_first = s.emulator.order(split)["status"]
    second: dict[str, Any] = {"logistics_code": "ZT0002", "company_code": "zhongtong"}
    second["shipped_order_info"] = [
        {"shipped_order_id": lines[0], "shipped_num": 1},
        {"shipped_order_id": lines[1], "shipped_num": 1},
    ]
    s.data("order.logisticsAddMultiPack", {"order_id": split, "pack_list": [second]})
    repeat = s.call("order.logisticsAddMultiPack", {"order_id": split, "pack_list": [first]})

    assert (refused["code"], refused["sub_code"]) == (40004, "isv.parameter-invalid")
    assert (again["code"], again["sub_code"]) == (50002, "isv.business-failed")
    shipped = s.emulator.orders()[whole]
    assert shipped["status"] == 3
    assert [(x["company_code"], x["tracking_no"]) for x in shipped["shipments"]] == [
        ("shunfeng", "SF1234567890123")
    ]
    assert {x["sku"] for x in shipped["shipments"][0]["lines"]} == {"MUG-1", "TEE-1"}
    assert packed["pack_list"][0]["logistics_code"] == "YT0001"
    assert after_first == 101
    done = s.emulator.order(split)
    assert done["status"] == 3
    assert [[(x["sku"], x["quantity"]) for x in p["lines"]] for p in done["shipments"]] == [
        [("MUG-1", 2)],
        [("MUG-1", 1), ("MUG-2", 1)],
    ]
    assert repeat.json()["code"] == 50002
    listed = s.data("order.orderDetail", {"shop_order_id": split})["shop_order_detail"]
    assert [x["tracking_no"] for x in listed["logistics_info"]] == ["YT0001", "ZT0002"]


def test_stock_updates_full_and_incremental(shop: Callable[..., Shop]) -> None:
    s = shop()
    skus = {i["sku"]: i for i in s.emulator.seed_items(ITEMS)}
    tee = skus["TEE-1"]

    s.data("sku.syncStock", {"code": "MUG-1", "stock_num": 42})
    s.data(
        "sku.syncStock", {"sku_id": tee["sku_id"], "product_id": tee["product_id"], "stock_num": 3}
    )
    delta = {"code": "MUG-2", "stock_num": -1, "incremental": True, "idempotent_id": "adj-1"}
    s.data("sku.syncStock", delta)
    twice = s.call("sku.syncStock", delta).json()
    unknown = s.call("sku.syncStock", {"code": "NOPE", "stock_num": 1}).json()
    no_key = s.call("sku.syncStock", {"code": "MUG-2", "stock_num": 1, "incremental": True})

    assert s.emulator.stock() == {"MUG-1": 42, "MUG-2": 3, "TEE-1": 3}
    assert (twice["code"], twice["sub_code"]) == (40003, "isv.idempotent-id-existed")
    assert (unknown["code"], unknown["sub_code"]) == (50002, "isv.business-failed")
    assert no_key.json()["code"] == 40002


def test_items_are_listed_with_their_merchant_codes(shop: Callable[..., Shop]) -> None:
    s = shop()
    first = s.data("product.listV2", {"page": 1, "size": 1})
    second = s.data("product.listV2", {"page": 2, "size": 1})
    products = first["data"] + second["data"]

    assert (first["total"], first["page"], first["size"]) == (2, 1, 1)
    codes = {p["name"]: sorted(k["code"] for k in p["sku_list"]) for p in products}
    assert codes == {"陶瓷马克杯": ["MUG-1", "MUG-2"], "纯棉T恤": ["TEE-1"]}
    mug = next(p for p in products if p["name"] == "陶瓷马克杯")
    skus = s.data("sku.list", {"product_id": mug["product_id"]})
    assert [(k["code"], k["price"], k["stock_num"]) for k in skus] == [
        ("MUG-1", 1990, 10),
        ("MUG-2", 2450, 4),
    ]
    assert all(isinstance(k["id"], int) and k["product_id"] == mug["product_id"] for k in skus)


def test_refunds_close_before_shipment_and_run_their_course_after(
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    early = s.emulator.place_order({"lines": [{"sku": "MUG-1"}]})
    late = s.emulator.place_order({"lines": [{"sku": "TEE-1", "quantity": 2}]})
    s.data("order.logisticsAdd", {"order_id": late, "company_code": "jd", "logistics_code": "JD1"})

    s.emulator.refund(early)
    s.emulator.refund(late, quantity=1, returned=True)
    in_progress = s.emulator.order(late)["lines"][0]["refund"]
    info = s.data("order.orderDetail", {"shop_order_id": late})["shop_order_detail"]
    s.emulator.settle_refund(late)

    closed = s.emulator.order(early)
    assert (closed["status"], closed["refund_state"]) == (4, "success")
    assert in_progress["state"] == "in_progress" and in_progress["amount"] == 5900
    sku_info = info["sku_order_list"][0]["after_sale_info"]
    assert sku_info == {"after_sale_status": 7, "after_sale_type": 0, "refund_status": 1}
    settled = s.emulator.order(late)
    assert (settled["status"], settled["refund_state"]) == (3, "success")
    refused = s.call(
        "order.logisticsAdd", {"order_id": early, "company_code": "jd", "logistics_code": "J2"}
    ).json()
    assert refused["code"] == 50002


def test_throttling_and_server_errors_speak_douyin(shop: Callable[..., Shop]) -> None:
    s = shop()
    httpx.put(f"{s.server.url}/_sandbox/faults", json={"rate_limit_rate": 1.0})
    limited = s.call("order.searchList", {"page": 0, "size": 10})
    httpx.put(f"{s.server.url}/_sandbox/faults", json={"rate_limit_rate": 0, "error_rate": 1})
    broken = s.call("order.searchList", {"page": 0, "size": 10})
    httpx.delete(f"{s.server.url}/_sandbox/faults")

    assert limited.status_code == 429
    assert limited.json()["code"] == 60000
    assert limited.json()["sub_code"] == "isv.traffic-limited"
    assert broken.status_code == 503 and broken.json()["code"] == 20000
    assert s.call("order.searchList", {"page": 0, "size": 10}).json()["code"] == 10000


@dataclass
class Hub:
    """Stands in for the hub's push endpoint: checks event-sign, can refuse some."""

    refuse_next: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    bad_signs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        expected = hashlib.md5(APP_KEY.encode() + body + SECRET.encode()).hexdigest()
        with self.lock:
            if request.headers.get("event-sign") != expected:
                self.bad_signs += 1
                return JSONResponse({"code": 1, "msg": "fail"})
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return JSONResponse({"code": 1, "msg": "fail"})
            self.messages.extend(json.loads(body))
        return JSONResponse({"code": 0, "msg": "success"})


def test_order_messages_are_pushed_signed_and_retried(shop: Callable[..., Shop]) -> None:
    s = shop(push_retry_delays=(0.05, 0.05))
    hub = Hub(refuse_next=1)
    receiver = serve_in_thread(Starlette(routes=[Route("/push", hub.receive, methods=["POST"])]))
    try:
        s.emulator.configure(push_url=f"{receiver.url}/push")
        order_id = s.emulator.place_order({"lines": [{"sku": "MUG-1"}]})
        s.emulator.cancel_order(order_id)
        deadline = time.monotonic() + 5
        while len(hub.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        receiver.stop()

    assert [m["tag"] for m in sorted(hub.messages, key=lambda m: m["msg_id"])] == [
        "100",
        "101",
        "106",
    ]
    created = next(json.loads(m["data"]) for m in hub.messages if m["tag"] == "100")
    assert (created["p_id"], created["shop_id"], created["order_status"]) == (
        int(order_id),
        SHOP,
        1,
    )
    assert len(created["s_ids"]) == 1 and isinstance(created["update_time"], int)
    assert hub.bad_signs == 0
    log = s.emulator.pushes()
    assert log[0]["attempts"] == 2 and log[0]["status"] == "sent"


def test_control_routes_place_show_and_count(shop: Callable[..., Shop]) -> None:
    s = shop()
    control = f"{s.server.url}/_sandbox"
    spec = {"lines": [{"sku": "MUG-2", "quantity": 2}], "buyer_message": "请尽快发货"}
    spec["at"] = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    placed = s.http.post(f"{control}/orders", json=spec)
    order_id = placed.json()["order_id"]
    s.data("order.orderDetail", {"shop_order_id": order_id})
    refunded = s.http.post(f"{control}/orders/{order_id}/refund", json={"line_index": 0})

    assert placed.status_code == 201
    shown = s.http.get(f"{control}/orders/{order_id}").json()
    assert shown["buyer_words"] == "请尽快发货" and shown["lines"][0]["quantity"] == 2
    assert abs(shown["create_time"] - (time.time() - 7200)) < 5
    assert refunded.json()["status"] == 4
    assert list(s.http.get(f"{control}/orders").json()) == [order_id]
    assert s.http.get(f"{control}/orders/nope").status_code == 404
    assert s.http.get(f"{control}/stats").json()["calls"] == {"order.orderDetail": 1}
    changed = s.http.put(f"{control}/config", json={"page_cap": 2, "max_window_seconds": 3600})
    assert (changed.json()["page_cap"], s.emulator.settings.max_window_seconds) == (2, 3600.0)
    assert s.http.put(f"{control}/config", json={"nope": 1}).status_code == 400


def test_run_prints_a_ready_line_whose_credentials_get_in() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from orderhub.sandbox.douyin import run; run(0)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready "), line
        ready = json.loads(line.removeprefix("ready "))
        creds = ready["credentials"]
        body, ts = "{}", str(int(time.time()))
        text = f"{creds['app_secret']}app_key{creds['app_key']}method"
        text += f"order.logisticsCompanyListparam_json{body}timestamp{ts}v2{creds['app_secret']}"
        query = {"app_key": creds["app_key"], "method": "order.logisticsCompanyList"}
        query.update(access_token=creds["access_token"], timestamp=ts, v="2")
        query["sign"] = hashlib.md5(text.encode()).hexdigest()
        reply = httpx.post(f"{ready['url']}/order/logisticsCompanyList", params=query, content=body)
    finally:
        process.terminate()
        process.wait(10)
    assert ready["platform"] == "douyin"
    assert set(creds) == {"app_key", "app_secret", "access_token", "shop_id"}
    assert reply.json()["code"] == 10000
