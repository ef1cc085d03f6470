"""The Qimen connector against the Qimen WMS emulator, both over real HTTP on loopback.

A tiny Starlette app plays the hub's callback endpoint: it verifies each callback with
`QimenWarehouse.verify_callback`, parses it, and answers with `callback_reply`.
"""

from __future__ import annotations

import hashlib
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
from starlette.responses import Response
from starlette.routing import Route

from orderhub.connectors.base import (
    NodeEvent,
    OutboundOrder,
    OutboundReceipt,
    RateLimited,
    Rejected,
    ShipmentLine,
    Unavailable,
)
from orderhub.connectors.qimen import QimenWarehouse
from orderhub.sandbox.qimen import QimenEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread
from support import make_outbound as make_order

APP_KEY, SECRET, CUSTOMER = "erp-app-key", "erp-app-secret", "CUST-1"
FAST_RETRIES = (0.05, 0.1, 0.2)


@dataclass
class Hub:
    """The hub's side of the callbacks: verified, parsed events, and a knob to refuse some."""

    wms: QimenWarehouse
    refuse_next: int = 0
    events: list[NodeEvent] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        query = dict(request.query_params)
        if not self.wms.verify_callback(query, body):
            with self.lock:
                self.bad_signatures += 1
            reply, content_type = self.wms.callback_reply(ok=False, message="bad sign")
            return Response(reply, status_code=401, media_type=content_type)
        with self.lock:
            refuse = self.refuse_next > 0
            self.refuse_next -= 1 if refuse else 0
            if not refuse:
                self.events.append(self.wms.parse_callback(query, body))
        reply, content_type = self.wms.callback_reply(ok=not refuse, message="stored")
        return Response(reply, media_type=content_type)


@dataclass
class Env:
    """One emulator, one hub endpoint, and a connector pointed at the emulator."""

    emulator: QimenEmulator
    server: RunningServer
    hub: Hub
    wms: QimenWarehouse

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.server.url}/_sandbox/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def connector(self, **overrides: Any) -> QimenWarehouse:
        return QimenWarehouse(settings(self.server.url, **overrides))


def settings(url: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "base_url": f"{url}/router/qimen/service",
        "app_key": APP_KEY,
        "app_secret": SECRET,
        "customer_id": CUSTOMER,
        "warehouse_code": "WH1",
        "owner_code": "OWNER1",
        "timeout": 5,
        "retry_backoff": 0.02,
    }
    values.update(overrides)
    return values


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def make_env() -> Iterator[Callable[..., Env]]:
    started: list[tuple[RunningServer, RunningServer, list[QimenWarehouse]]] = []

    def factory(**emulator_settings: Any) -> Env:
        emulator_settings.setdefault("callback_retry_delays", FAST_RETRIES)
        emulator = QimenEmulator(APP_KEY, SECRET, CUSTOMER, seed=7, **emulator_settings)
        server = serve_in_thread(emulator)
        hub_wms = QimenWarehouse(settings(server.url))
        hub = Hub(hub_wms)
        hub_server = serve_in_thread(
            Starlette(routes=[Route("/qimen/callback", hub.receive, methods=["POST"])])
        )
        emulator.configure(callback_url=f"{hub_server.url}/qimen/callback")
        wms = QimenWarehouse(settings(server.url))
        started.append((server, hub_server, [hub_wms, wms]))
        return Env(emulator, server, hub, wms)

    yield factory
    for server, hub_server, connectors in started:
        for connector in connectors:
            connector.close()
        server.stop()
        hub_server.stop()


def test_a_repeated_create_makes_one_order_that_ships_and_calls_the_hub_back(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ship_delay=0.2)
    env.control("POST", "stock", {"items": {"SKU-1": 10}})

    first = env.wms.create_outbound(make_order("SO-1"))
    again = env.wms.create_outbound(make_order("SO-1"))

    assert first == again and first.external_id.startswith("DO")
    stats = env.control("GET", "stats")
    assert (stats["create_calls"], stats["distinct_orders"], stats["duplicate_creates"]) == (
        2,
        1,
        1,
    )
    assert stats["create_calls_by_code"] == {"SO-1": 2}

    wait_until(lambda: len(env.hub.events) == 1)
    shipped = env.control("GET", "orders/SO-1")
    shipment = env.hub.events[0].shipment
    assert shipment is not None
    assert shipment.code == "SO-1"
    assert shipment.tracking_no == shipped["tracking_no"] != ""
    assert shipment.carrier == shipped["carrier"]
    assert shipment.carrier in {"SF", "YTO", "ZTO", "STO", "YUNDA", "JD"}
    assert list(shipment.lines) == [ShipmentLine("SKU-1", 2, "1")]
    assert shipment.final and shipment.confirm_id
    assert shipment.shipped_at is not None
    assert abs(shipment.shipped_at - datetime.now(UTC)) < timedelta(minutes=1)
    wait_until(lambda: env.emulator.stats()["callbacks_sent"] == 1)
    assert env.hub.bad_signatures == 0


def test_a_refused_callback_is_delivered_again(make_env: Callable[..., Env]) -> None:
    env = make_env(ship_delay=0.05)
    env.hub.refuse_next = 1
    env.wms.create_outbound(make_order("SO-2"))

    wait_until(lambda: len(env.hub.events) == 1)
    wait_until(lambda: env.emulator.stats()["callbacks_sent"] == 1)
    [log] = env.control("GET", "callbacks")
    assert log["attempts"] == 2
    assert log["history"][0].startswith("failure HUB_ERROR")
    assert log["history"][1] == "ok"


def test_duplicate_webhooks_repeat_the_same_confirm_id(make_env: Callable[..., Env]) -> None:
    env = make_env(ship_delay=0)
    env.control("PUT", "faults", {"duplicate_webhooks": 2, "reorder_webhooks": True})
    env.wms.create_outbound(make_order("SO-3"))
    env.control("POST", "ship/SO-3")

    wait_until(lambda: len(env.hub.events) == 3)
    ids = {e.shipment.confirm_id for e in env.hub.events if e.shipment is not None}
    assert len(ids) == 1


def test_cancel_before_shipping_succeeds_and_the_order_never_ships(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ship_delay=0.3)
    env.wms.create_outbound(make_order("SO-4"))

    result = env.wms.cancel_outbound(code="SO-4", reason="buyer changed their mind")

    assert result.cancelled
    time.sleep(0.5)
    assert env.control("GET", "orders/SO-4")["status"] == "CANCELED"
    assert env.hub.events == []
    assert env.emulator.stats()["shipped"] == 0


def test_cancel_after_shipping_is_refused_with_the_reason(make_env: Callable[..., Env]) -> None:
    env = make_env(ship_delay=0)
    env.wms.create_outbound(make_order("SO-5"))
    env.control("POST", "ship/SO-5")

    result = env.wms.cancel_outbound(code="SO-5", reason="too late")

    assert not result.cancelled
    assert "already shipped" in result.reason
    with pytest.raises(Rejected) as caught:
        env.wms.cancel_outbound(code="SO-404", reason="never sent")
    assert caught.value.code == "ORDER_NOT_FOUND"


def test_inventory_reflects_seeded_stock_minus_shipped(make_env: Callable[..., Env]) -> None:
    env = make_env(ship_delay=0)
    env.control("POST", "stock", {"items": {"SKU-1": 10, "SKU-2": 5}})
    env.wms.create_outbound(make_order("SO-6", [("SKU-1", 3)]))

    before = {level.sku: level for level in env.wms.query_inventory(["SKU-1", "SKU-2", "NOPE"])}
    env.emulator.ship_now("SO-6")
    after = {level.sku: level for level in env.wms.query_inventory(["SKU-1", "SKU-2", "NOPE"])}

    assert (before["SKU-1"].quantity, before["SKU-1"].locked) == (7, 3)
    assert (after["SKU-1"].quantity, after["SKU-1"].locked) == (7, 0)
    assert (after["SKU-2"].quantity, after["NOPE"].quantity) == (5, 0)


def test_a_stock_change_reaches_the_hub_as_a_stock_report(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.control("POST", "stock", {"items": {"SKU-1": 4}})
    env.control("POST", "stockchange", {"items": {"SKU-1": -1}})

    wait_until(lambda: len(env.hub.events) == 1)
    event = env.hub.events[0]
    assert event.method == "stockchange.report"
    [item] = event.raw["items"]
    assert (item["itemCode"], item["quantity"], item["warehouseCode"]) == ("SKU-1", "-1", "WH1")
    assert env.wms.query_inventory(["SKU-1"])[0].quantity == 3


def test_a_missing_field_is_rejected_with_its_name(make_env: Callable[..., Env]) -> None:
    env = make_env()
    order = make_order("SO-7")
    no_phone = OutboundOrder(**{**order.__dict__, "receiver_phone": ""})
    with pytest.raises(Rejected) as caught:
        env.wms.create_outbound(no_phone)
    assert caught.value.code == "MISSING_FIELD"
    assert "receiverInfo.mobile" in caught.value.message


def test_a_wrong_secret_is_refused_as_a_sign_check_failure(make_env: Callable[..., Env]) -> None:
    env = make_env()
    intruder = env.connector(app_secret="guessed")
    try:
        with pytest.raises(Rejected) as caught:
            intruder.create_outbound(make_order("SO-8"))
    finally:
        intruder.close()
    assert (caught.value.code, caught.value.message) == ("sign-check-failure", "Illegal request")
    assert env.emulator.stats()["create_calls"] == 0


def test_server_errors_and_garbled_bodies_surface_as_unavailable(
    make_env: Callable[..., Env],
) -> None:
    env = make_env()
    env.control("PUT", "faults", {"error_rate": 1.0})
    with pytest.raises(Unavailable) as caught:
        env.wms.create_outbound(make_order("SO-9"))
    assert caught.value.status_code == 503
    env.control("DELETE", "faults")
    env.control("PUT", "faults", {"malformed_rate": 1.0})
    with pytest.raises(Unavailable, match="unreadable"):
        env.wms.create_outbound(make_order("SO-9"))
    env.control("DELETE", "faults")
    env.control("PUT", "faults", {"timeout_rate": 1.0, "timeout_seconds": 0.5})
    hasty = env.connector(timeout=0.1, max_retries=0)
    try:
        with pytest.raises(Unavailable, match="timed out"):
            hasty.create_outbound(make_order("SO-9"))
    finally:
        hasty.close()


def test_429_surfaces_as_rate_limited_with_retry_after(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.control("PUT", "faults", {"rate_limit_rate": 1.0, "retry_after": 5})
    with pytest.raises(RateLimited) as caught:
        env.wms.create_outbound(make_order("SO-10"))
    assert caught.value.retry_after == 5.0


def test_the_emulators_own_throttle_answers_429_and_a_short_wait_is_absorbed(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(rate_limit=1)
    impatient = env.connector(max_retries=0)
    try:
        impatient.query_inventory(["SKU-1"])
        with pytest.raises(RateLimited) as caught:
            impatient.query_inventory(["SKU-1"])
        assert caught.value.retry_after == 1.0
    finally:
        impatient.close()
    assert env.wms.query_inventory(["SKU-1"])[0].sku == "SKU-1"


def test_the_emulator_checks_sign_before_xml_and_refuses_doctype(
    make_env: Callable[..., Env],
) -> None:
    env = make_env()
    body = b'<!DOCTYPE r [<!ENTITY x "y">]><request>&x;</request>'
    params = {
        "method": "taobao.qimen.deliveryorder.create",
        "app_key": APP_KEY,
        "customerId": CUSTOMER,
        "format": "xml",
        "v": "2.0",
        "sign_method": "md5",
        "timestamp": datetime.now(UTC)
        .astimezone(timezone(timedelta(hours=8)))
        .strftime("%Y-%m-%d %H:%M:%S"),
    }
    pairs = "".join(f"{k}{v}" for k, v in sorted(params.items()))
    signed = hashlib.md5(SECRET.encode() + pairs.encode() + body + SECRET.encode())
    url = f"{env.server.url}/router/qimen/service"

    unsigned = httpx.post(url, params=params, content=body)
    refused = httpx.post(url, params={**params, "sign": signed.hexdigest().upper()}, content=body)

    assert b"<code>sign-check-failure</code>" in unsigned.content
    assert refused.status_code == 200
    assert b"<flag>failure</flag><code>INVALID_XML</code>" in refused.content
    assert env.emulator.stats()["create_calls"] == 0


def test_a_wms_of_another_dialect_is_reached_by_settings_alone(
    make_env: Callable[..., Env],
) -> None:
    """A 菜鸟-style WMS that takes bare method names and `application/xml` refuses the
    standard's spelling; the same connector, set to its dialect, pushes to it."""
    env = make_env(method_prefix="", content_type="application/xml", ship_delay=0.05)
    env.control("POST", "stock", {"items": {"SKU-1": 10}})

    with pytest.raises(Rejected) as refused:
        env.wms.create_outbound(make_order("SO-D1"))
    assert "INVALID_METHOD" in str(refused.value.code) + str(refused.value)

    dialect = env.connector(method_prefix="", content_type="application/xml;charset=utf-8")
    try:
        receipt = dialect.create_outbound(make_order("SO-D1"))
        assert receipt.external_id.startswith("DO")
        wait_until(lambda: env.control("GET", "orders/SO-D1")["status"] == "DELIVERED")
    finally:
        dialect.close()
    assert env.control("GET", "stats")["distinct_orders"] == 1


def test_a_batch_create_answers_for_each_order_and_refuses_only_the_bad_one(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ship_delay=0.1)
    env.control("POST", "stock", {"items": {"SKU-1": 10}})
    wms = env.connector(batch_create=True, batch_size=10)
    bad = OutboundOrder(**{**make_order("SO-B2").__dict__, "receiver_phone": ""})
    orders = [make_order("SO-B1"), bad, make_order("SO-B3")]

    outcomes = wms.create_outbounds(orders)
    again = wms.create_outbounds([orders[0]])

    first, refused, third = outcomes
    assert isinstance(refused, Rejected) and refused.code == "MISSING_FIELD"
    assert "receiverInfo.mobile" in refused.message
    at_wms = env.control("GET", "orders")
    assert set(at_wms) == {"SO-B1", "SO-B3"}
    assert first == again[0] == OutboundReceipt(at_wms["SO-B1"]["delivery_order_id"])
    assert third == OutboundReceipt(at_wms["SO-B3"]["delivery_order_id"])
    stats = env.control("GET", "stats")
    assert (stats["batch_calls"], stats["batch_sizes"]) == (2, [3, 1])
    assert stats["duplicate_creates"] == 1
    # The orders it took ship and come back as confirms, as after single creates.
    wait_until(lambda: len(env.hub.events) == 2)
    assert {e.shipment.code for e in env.hub.events if e.shipment} == {"SO-B1", "SO-B3"}


def test_a_batch_larger_than_the_wms_takes_is_refused_whole(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(batch_limit=2)
    wms = env.connector(batch_create=True)
    with pytest.raises(Rejected) as caught:
        wms.create_outbounds([make_order(f"SO-L{n}") for n in range(3)])
    assert caught.value.code == "INVALID_FIELD" and "at most 2" in caught.value.message
    assert env.control("GET", "orders") == {}


def test_batch_settings_are_checked_and_off_by_default(make_env: Callable[..., Env]) -> None:
    env = make_env()
    assert env.wms.outbound_batch == 1
    assert env.connector(batch_create="yes", batch_size="20").outbound_batch == 20
    for bad in ({"batch_create": "maybe"}, {"batch_size": 0}, {"batch_size": "many"}):
        with pytest.raises(ValueError, match="batch_"):
            env.connector(**bad)
