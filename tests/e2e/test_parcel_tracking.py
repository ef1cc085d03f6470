"""Every parcel followed by 快递100 over real HTTP: subscribed when its tracking number
arrives, its scans kept as a timeline, delivered marked, a return opened when the
carrier sends it back, a quiet parcel alerted once per window, a forged callback refused,
an unacknowledged one sent again, and the buyer's page in both languages without the
buyer's personal data."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from orderhub.connectors.kuaidi100.consts import CARRIERS
from orderhub.demo_stack import Stack
from orderhub.sandbox.kuaidi100 import Kuaidi100Emulator
from orderhub.services import queries
from orderhub.services.alerts import alert_list
from orderhub.services.tracking import scan_quiet_parcels
from support import api_call, order_status, wait_until


def shipped_parcel(stack: Stack, **order: Any) -> tuple[dict[str, Any], str]:
    """An order shipped by the warehouse and its parcel followed by 快递100."""
    placed = stack.shops["SHOP1"].place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 1}], **order}
    )
    wait_until(lambda: order_status(stack, placed["id"]) == "completed", what="shipped")
    view = queries.order_view(stack.hub, str(placed["id"]))
    [fulfillment] = view.fulfillments
    tracker = tracker_of(stack)
    wait_until(lambda: fulfillment.tracking_no in tracker.parcels, what="subscribed")
    return placed, fulfillment.tracking_no


def tracker_of(stack: Stack) -> Kuaidi100Emulator:
    assert stack.tracker is not None
    return stack.tracker


def parcels(stack: Stack, placed: dict[str, Any]) -> list[dict[str, Any]]:
    order_id = queries.find_order_id(stack.hub, str(placed["id"]))
    found: list[dict[str, Any]] = api_call(stack, "GET", f"/api/v1/orders/{order_id}/parcels")
    return found


def parcel_status(stack: Stack, placed: dict[str, Any]) -> str:
    return str(parcels(stack, placed)[0]["status"])


def test_a_parcel_from_pickup_to_signed_delivery_with_its_timeline_and_buyer_page(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(tracking=True, ship_delay=0.05)
    placed, number = shipped_parcel(stack)
    tracker = tracker_of(stack)
    carrier = queries.order_view(stack.hub, str(placed["id"])).fulfillments[0].carrier
    # The warehouse's carrier code (SF, YTO…) as 快递100 names the carrier.
    assert tracker.parcels[number].company == CARRIERS[carrier]
    assert parcel_status(stack, placed) == "pending"

    shop = stack.shops["SHOP1"]

    def on_the_shop() -> str:
        return str(shop.fulfillments_for(placed["id"])[0]["shipment_status"])

    tracker.scan(number, "1", "顺丰速运 已收取快件", area="杭州市")
    wait_until(lambda: on_the_shop() == "in_transit", what="in transit on the shop")
    tracker.scan(number, "0", "快件到达 【上海浦东中转场】", area="上海市")
    tracker.scan(number, "5", "快件交给王师傅，正在派送途中", area="上海市")
    wait_until(lambda: parcel_status(stack, placed) == "out_for_delivery", what="out")
    wait_until(lambda: on_the_shop() == "out_for_delivery", what="out on the shop")
    tracker.scan(number, "3", "快件已签收，签收人：本人", area="上海市")
    wait_until(lambda: parcel_status(stack, placed) == "delivered", what="delivered")

    [parcel] = parcels(stack, placed)
    assert [e["status"] for e in parcel["events"]] == [
        "in_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert parcel["finished"] is True and parcel["delivered_at"]
    view = queries.order_view(stack.hub, str(placed["id"]))
    assert [f.status for f in view.fulfillments] == ["delivered"]
    # The shop shows the buyer where the parcel is: one event per new status.
    [shopify_parcel] = shop.fulfillments_for(placed["id"])
    wait_until(lambda: on_the_shop() == "delivered", what="delivered on the shop")
    told = shop.fulfillment_events(placed["id"], shopify_parcel["id"])
    assert [e["status"] for e in told] == ["in_transit", "out_for_delivery", "delivered"]
    assert any(t.stage == "deliver" and number in t.message for t in view.trace)
    # 快递100 sent the whole history four times; each scan is kept once, each push taken.
    assert all(a["acknowledged"] for a in tracker.callbacks())

    link = parcel["buyer_link"]
    chinese = httpx.get(link, params={"lang": "zh"})
    english = httpx.get(link, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert chinese.status_code == english.status_code == 200
    assert "已签收" in chinese.text and "快件已签收" in chinese.text
    assert "Delivered" in english.text and "Tracking number" in english.text
    receiver = placed["shipping_address"]
    for personal in (receiver["name"], receiver["phone"], receiver["address1"], receiver["zip"]):
        assert personal and personal not in chinese.text and personal not in english.text
    city = receiver["city"]
    assert (
        f"寄往: {city[:2]}…" in chinese.text if len(city) > 2 else f"寄往: {city}" in chinese.text
    )
    assert httpx.get(link[:-4] + "AAAA").status_code == 404


def test_a_forged_callback_is_refused_and_an_unacknowledged_one_is_sent_again(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(tracking=True, ship_delay=0.05)
    placed, number = shipped_parcel(stack)
    tracker = tracker_of(stack)

    forged = httpx.post(
        f"{stack.api.url}/tracking/KD100",
        data={
            "param": json.dumps({"status": "polling", "lastResult": {"nu": number, "data": []}}),
            "sign": "0" * 32,
        },
    )
    assert forged.status_code == 401
    assert parcel_status(stack, placed) == "pending"

    # The hub cannot verify the next push (the salt is not the one it gave), so it does
    # not acknowledge it; 快递100 sends it again, and the copy it can verify is taken.
    salt = tracker.parcels[number].salt
    tracker.parcels[number].salt = "not-the-hubs-salt"
    tracker.scan(number, "0", "快件在【杭州转运中心】已装车")
    wait_until(lambda: len(tracker.callbacks()) >= 1, what="the first push")
    tracker.parcels[number].salt = salt
    wait_until(lambda: parcel_status(stack, placed) == "in_transit", what="the push sent again")
    attempts = [(a["attempt"], a["status"], a["acknowledged"]) for a in tracker.callbacks()]
    assert attempts[0] == (1, 401, False)
    assert attempts[-1][2] is True and attempts[-1][0] >= 2


def test_a_parcel_sent_back_opens_a_return_and_a_quiet_one_is_alerted_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(tracking=True, ship_delay=0.05, tracking_settings={"stuck_hours": 24})
    back, returned_no = shipped_parcel(stack)
    quiet, quiet_no = shipped_parcel(stack)
    tracker = tracker_of(stack)

    tracker.scan(returned_no, "14", "收件人拒收")
    wait_until(lambda: parcel_status(stack, back) == "exception", what="the refusal")
    tracker.scan(returned_no, "6", "快件已退回寄件人")
    wait_until(lambda: order_status(stack, back["id"]) == "returning", what="a return opened")
    order_id = queries.find_order_id(stack.hub, str(back["id"]))
    with stack.hub.reader() as uow:
        [opened] = uow.returns.of_order(order_id)
    assert "收件人拒收" not in opened.reason and "快件已退回寄件人" in opened.reason
    kinds = {a.kind for a in alert_list(stack.hub)}
    assert {"parcel_exception", "parcel_returned"} <= kinds

    tracker.scan(quiet_no, "0", "快件到达 【杭州转运中心】")
    wait_until(lambda: parcel_status(stack, quiet) == "in_transit", what="the first scan")
    now = datetime.now(UTC)
    assert scan_quiet_parcels(stack.hub, now=now + timedelta(hours=23)) == 0
    assert scan_quiet_parcels(stack.hub, now=now + timedelta(hours=25)) == 1
    assert scan_quiet_parcels(stack.hub, now=now + timedelta(hours=30)) == 0  # same window
    stuck = [a for a in alert_list(stack.hub, kind="parcel_stuck")]
    assert [a.key for a in stuck] == [f"parcel_stuck:{quiet_no}"]
    assert "no scan for 25 hours" in stuck[0].message


def test_a_parcel_abroad_is_followed_by_17track_and_one_at_home_by_kuaidi100(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(tracking=True, tracking_abroad=True, ship_delay=0.05)
    stack.qimen.state.carriers = ["SF"]  # a carrier 17TRACK knows by its key
    _, home_no = shipped_parcel(
        stack,
        shipping_address={
            "first_name": "伟",
            "last_name": "王",
            "address1": "文一西路 969 号",
            "city": "杭州市",
            "province": "浙江省",
            "zip": "310000",
            "country": "China",
            "country_code": "CN",
            "phone": "13912345678",
        },
    )
    abroad_order = stack.shops["SHOP1"].place_order(
        {
            "lines": [{"sku": "SKU-002", "quantity": 1}],
            "shipping_address": {
                "first_name": "Ada",
                "last_name": "Park",
                "address1": "12 Alder St",
                "city": "Portland",
                "province": "OR",
                "zip": "97205",
                "country": "United States",
                "country_code": "US",
                "phone": "+1 503 555 0100",
            },
        }
    )
    wait_until(lambda: order_status(stack, abroad_order["id"]) == "completed", what="shipped")
    [fulfillment] = queries.order_view(stack.hub, str(abroad_order["id"])).fulfillments
    abroad = stack.tracker_abroad
    assert abroad is not None
    wait_until(lambda: fulfillment.tracking_no in abroad.parcels(), what="17TRACK follows it")
    assert fulfillment.tracking_no not in tracker_of(stack).parcels
    assert home_no in tracker_of(stack).parcels and home_no not in abroad.parcels()

    abroad.scan(
        fulfillment.tracking_no,
        status="InTransit",
        sub_status="InTransit_Arrival",
        description="Arrived at Los Angeles gateway",
        location="Los Angeles, CA",
    )
    abroad.scan(
        fulfillment.tracking_no,
        status="Delivered",
        description="Delivered, front door",
        location="Portland, OR",
    )
    wait_until(lambda: parcel_status(stack, abroad_order) == "delivered", what="delivered")
    [parcel] = parcels(stack, abroad_order)
    assert parcel["tracker"] == "T17"
    assert [e["description"] for e in parcel["events"]][-2:] == [
        "Arrived at Los Angeles gateway",
        "Delivered, front door",
    ]
    page = httpx.get(parcel["buyer_link"], params={"lang": "en"})
    assert "Delivered" in page.text and "Ada" not in page.text and "12 Alder" not in page.text
