"""The Taobao emulator as any TOP client sees it: signed by hand from TOP's rule.

The signature here is computed from the published rule, not with the emulator's or the
hub's code, so a mistake in either would show.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.taobao import TaobaoEmulator

BEIJING = timezone(timedelta(hours=8))
KEY, SECRET, SESSION = "k-1", "s-1", "session-1"


@pytest.fixture
def shop() -> Iterator[tuple[TaobaoEmulator, RunningServer]]:
    emulator = TaobaoEmulator(KEY, SECRET, SESSION, seed=7, page_cap=300)
    emulator.seed_items([{"sku": "MUG-1", "stock": 3}, {"sku": "TEE-2", "stock": 9}])
    server = serve_in_thread(emulator.app)
    yield emulator, server
    server.stop()


def stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def call(
    server: RunningServer,
    method: str,
    *,
    sign_method: str = "md5",
    secret: str = SECRET,
    timestamp: str | None = None,
    **business: Any,
) -> dict[str, Any]:
    params = {
        "method": method,
        "app_key": KEY,
        "session": SESSION,
        "format": "json",
        "v": "2.0",
        "sign_method": sign_method,
        "timestamp": timestamp or stamp(),
        **{k: str(v) for k, v in business.items()},
    }
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if params[k])
    if sign_method == "md5":
        sign = hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest()
    else:
        digest = hashlib.md5 if sign_method == "hmac" else hashlib.sha256
        sign = hmac.new(secret.encode(), text.encode(), digest).hexdigest()
    params["sign"] = sign.upper()
    answer = httpx.post(f"{server.url}/router/rest", data=params, timeout=10)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize("sign_method", ["md5", "hmac", "hmac-sha256"])
def test_a_signed_call_is_answered_under_its_response_key(
    shop: tuple[TaobaoEmulator, RunningServer], sign_method: str
) -> None:
    emulator, server = shop
    emulator.place_order({"lines": [{"sku": "MUG-1", "quantity": 2}]})
    body = call(
        server,
        "taobao.trades.sold.increment.get",
        sign_method=sign_method,
        fields="tid,modified",
        start_modified=stamp(datetime.now(UTC) - timedelta(hours=1)),
        end_modified=stamp(),
    )
    found = body["trades_sold_increment_get_response"]
    assert found["total_results"] == 1 and len(found["trades"]["trade"]) == 1
    assert set(found["trades"]["trade"][0]) == {"tid", "modified"}


def test_a_wrong_signature_or_an_old_timestamp_is_refused_in_tops_words(
    shop: tuple[TaobaoEmulator, RunningServer],
) -> None:
    emulator, server = shop
    tid = emulator.place_order({"lines": [{"sku": "MUG-1", "quantity": 1}]})
    wrong = call(server, "taobao.trade.fullinfo.get", secret="guess", fields="tid", tid=tid)
    stale = call(
        server,
        "taobao.trade.fullinfo.get",
        fields="tid",
        tid=tid,
        timestamp=stamp(datetime.now(UTC) - timedelta(minutes=30)),
    )
    assert wrong["error_response"]["code"] == 25
    assert wrong["error_response"]["msg"] == "Invalid Signature"
    assert stale["error_response"]["code"] == 31


def test_a_span_over_a_day_and_a_page_past_the_cap_are_refused(
    shop: tuple[TaobaoEmulator, RunningServer],
) -> None:
    _, server = shop
    now = datetime.now(UTC)
    too_long = call(
        server,
        "taobao.trades.sold.increment.get",
        fields="tid",
        start_modified=stamp(now - timedelta(days=2)),
        end_modified=stamp(now),
    )
    too_deep = call(
        server,
        "taobao.trades.sold.increment.get",
        fields="tid",
        page_size=100,
        page_no=4,
        start_modified=stamp(now - timedelta(hours=1)),
        end_modified=stamp(now),
    )
    assert too_long["error_response"]["code"] == 41
    assert "one day" in too_long["error_response"]["sub_msg"]
    assert too_deep["error_response"]["code"] == 41


def test_pages_are_newest_first_with_the_total(shop: tuple[TaobaoEmulator, RunningServer]) -> None:
    emulator, server = shop
    now = datetime.now(UTC)
    for minutes in range(45):
        emulator.place_order(
            {"lines": [{"sku": "MUG-1", "quantity": 1}]}, at=now - timedelta(minutes=minutes)
        )
    pages = [
        call(
            server,
            "taobao.trades.sold.increment.get",
            fields="tid,modified",
            page_size=20,
            page_no=n,
            start_modified=stamp(now - timedelta(hours=1)),
            end_modified=stamp(now),
        )["trades_sold_increment_get_response"]
        for n in (1, 2, 3)
    ]
    modified = [t["modified"] for p in pages for t in p["trades"]["trade"]]
    assert [p["total_results"] for p in pages] == [45, 45, 45]
    assert len(modified) == 45 and modified == sorted(modified, reverse=True)


def test_the_receiver_is_masked_and_only_the_oaid_decrypt_opens_it(
    shop: tuple[TaobaoEmulator, RunningServer],
) -> None:
    emulator, server = shop
    receiver = {"name": "王伟", "mobile": "13812348000", "address_detail": "文一西路 969 号"}
    tid = emulator.place_order({"lines": [{"sku": "MUG-1", "quantity": 1}], "receiver": receiver})
    trade = call(
        server,
        "taobao.trade.fullinfo.get",
        tid=tid,
        include_oaid="true",
        fields="tid,receiver_name,receiver_mobile,receiver_address,receiver_state",
    )["trade_fullinfo_get_response"]["trade"]
    assert (trade["receiver_name"], trade["receiver_mobile"]) == ("王**", "138****8000")
    assert "969" not in trade["receiver_address"]
    opened = call(
        server, "top.oaid.decrypt", query_list=f'[{{"tid": "{tid}", "oaid": "{trade["oaid"]}"}}]'
    )["top_oaid_decrypt_response"]["receiver_list"]["receiver"]
    assert opened[0]["name"] == "王伟" and opened[0]["mobile"] == "13812348000"
    assert emulator.stats()["decrypted"] == 1


def test_a_split_shipment_then_the_rest(shop: tuple[TaobaoEmulator, RunningServer]) -> None:
    emulator, server = shop
    tid = emulator.place_order(
        {"lines": [{"sku": "MUG-1", "quantity": 1}, {"sku": "TEE-2", "quantity": 1}]}
    )
    first, second = (o["oid"] for o in emulator.orders()[tid]["orders"]["order"])
    part = call(
        server,
        "taobao.logistics.offline.send",
        tid=tid,
        out_sid="SF1",
        company_code="SF",
        sub_tid=first,
        is_split=1,
    )
    assert part["logistics_offline_send_response"]["shipping"]["is_success"] is True
    assert emulator.orders()[tid]["status"] == "SELLER_CONSIGNED_PART"
    again = call(
        server,
        "taobao.logistics.offline.send",
        tid=tid,
        out_sid="SF1",
        company_code="SF",
        sub_tid=first,
        is_split=1,
    )
    assert again["error_response"]["sub_code"] == "isv.logistics-offline-service-error"
    unknown = call(
        server, "taobao.logistics.offline.send", tid=tid, out_sid="X", company_code="NOPE"
    )
    assert unknown["error_response"]["sub_code"] == "isv.logistics-company-not-exist"
    call(server, "taobao.logistics.offline.send", tid=tid, out_sid="YT2", company_code="YTO")
    lines = {o["oid"]: o for o in emulator.orders()[tid]["orders"]["order"]}
    assert emulator.orders()[tid]["status"] == "WAIT_BUYER_CONFIRM_GOODS"
    assert (lines[first]["invoice_no"], lines[second]["invoice_no"]) == ("SF1", "YT2")


def test_stock_is_set_by_merchant_code_and_items_list_their_codes(
    shop: tuple[TaobaoEmulator, RunningServer],
) -> None:
    emulator, server = shop
    items = call(server, "taobao.items.onsale.get", fields="num_iid,sku")[
        "items_onsale_get_response"
    ]
    codes = {
        s["outer_id"]: (i["num_iid"], s["sku_id"])
        for i in items["items"]["item"]
        for s in i["skus"]["sku"]
    }
    assert set(codes) == {"MUG-1", "TEE-2"}
    num_iid, _ = codes["TEE-2"]
    call(server, "taobao.item.quantity.update", num_iid=num_iid, outer_id="TEE-2", quantity=4)
    call(
        server,
        "taobao.item.quantity.update",
        num_iid=num_iid,
        outer_id="TEE-2",
        quantity=-1,
        type=2,
    )
    missing = call(
        server, "taobao.item.quantity.update", num_iid=num_iid, outer_id="NOPE", quantity=1
    )
    assert emulator.stock()["TEE-2"] == 3
    assert missing["error_response"]["sub_code"] == "isv.sku-not-exist"


def test_throttling_is_code_7_with_the_ban_in_seconds(
    shop: tuple[TaobaoEmulator, RunningServer],
) -> None:
    emulator, server = shop
    emulator.faults.update({"rate_limit_rate": 1.0, "retry_after": 3})
    limited = call(server, "taobao.items.onsale.get", fields="num_iid")
    assert limited["error_response"]["code"] == 7
    assert limited["error_response"]["sub_msg"] == "This ban will last for 3 more seconds"


def test_the_bill_lists_a_settled_trade_in_fen_newest_first_a_day_at_a_time(
    shop: tuple[TaobaoEmulator, RunningServer],
) -> None:
    emulator, server = shop
    now = datetime.now(UTC)
    tid = emulator.place_order({"lines": [{"sku": "MUG-1", "quantity": 2, "price": "10.00"}]})
    emulator.settle(tid, commission_rate="0.05", at=now - timedelta(hours=2))
    emulator.add_bill(tid, "-5.00", at=now - timedelta(hours=1))
    fields = "bid,account_id,trade_id,amount,pay_time,status"
    body = call(
        server,
        "taobao.bill.bills.get",
        fields=fields,
        start_time=stamp(now - timedelta(hours=3)),
        end_time=stamp(now),
    )["bill_bills_get_response"]
    lines = body["bills"]["bill"]
    # Newest first; the commission was booked after the payment it was taken from.
    assert [(b["account_id"], b["amount"]) for b in lines] == [
        (10001, -500),
        (10002, -100),
        (10001, 2000),
    ]
    assert all(b["trade_id"] == tid and set(b) == set(fields.split(",")) for b in lines)
    assert body["has_next"] is False
    accounts = call(server, "taobao.bill.accounts.get", fields="account_id,account_type")
    types = {
        a["account_id"]: a["account_type"]
        for a in accounts["bill_accounts_get_response"]["accounts"]["account"]
    }
    assert types[10001] == 2 and types[10002] == 3

    too_long = call(
        server,
        "taobao.bill.bills.get",
        fields=fields,
        start_time=stamp(now - timedelta(days=2)),
        end_time=stamp(now),
    )
    no_span = call(server, "taobao.bill.bills.get", fields=fields)
    by_trade = call(server, "taobao.bill.bills.get", fields=fields, trade_id=tid)
    small_page = call(
        server,
        "taobao.bill.bills.get",
        fields=fields,
        page_size=10,
        start_time=stamp(now - timedelta(hours=3)),
        end_time=stamp(now),
    )
    assert too_long["error_response"]["code"] == 41
    assert no_span["error_response"]["code"] == 40
    assert small_page["error_response"]["sub_code"] == "isv.invalid-parameter"
    assert len(by_trade["bill_bills_get_response"]["bills"]["bill"]) == 3
