"""The supplier API connector against the supplier emulator, over real HTTP on loopback.

A tiny Starlette app plays the hub's node callback endpoint: it merges the request
headers into the mapping it hands the connector (as the hub's route must), verifies
each callback, parses it into a NodeEvent and answers with `callback_reply`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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
    ReturnOrder,
    ShipmentLine,
    Unavailable,
)
from orderhub.connectors.registry import node_connector
from orderhub.connectors.supplier import ApiSupplier
from orderhub.connectors.supplier.client import encode
from orderhub.connectors.supplier.consts import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE
from orderhub.connectors.supplier.sign import signed_headers
from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.supplier import SupplierEmulator
from support import make_outbound

SUPPLIER, SECRET = "SUP-1", "supplier-secret"
FAST_RETRIES = (0.05, 0.1, 0.2)


@dataclass
class Hub:
    """The hub's side of the callbacks: verified, parsed events, and a knob to refuse some."""

    supplier: ApiSupplier
    refuse_next: int = 0
    events: list[NodeEvent] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        query = {**request.query_params, **request.headers}
        if not self.supplier.verify_callback(query, body):
            with self.lock:
                self.bad_signatures += 1
            reply, content_type = self.supplier.callback_reply(ok=False, message="bad signature")
            return Response(reply, status_code=401, media_type=content_type)
        with self.lock:
            refuse = self.refuse_next > 0
            self.refuse_next -= 1 if refuse else 0
            self.bodies.append(body)
            if not refuse:
                self.events.append(self.supplier.parse_callback(query, body))
        reply, content_type = self.supplier.callback_reply(ok=not refuse)
        return Response(reply, status_code=200 if not refuse else 503, media_type=content_type)

    def of(self, method: str) -> list[NodeEvent]:
        with self.lock:
            return [e for e in self.events if e.method == method]


@dataclass
class Env:
    """One emulator, one hub endpoint, and a connector pointed at the emulator."""

    emulator: SupplierEmulator
    server: RunningServer
    hub: Hub
    supplier: ApiSupplier
    extra: list[ApiSupplier] = field(default_factory=list)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.server.url}/_sandbox/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def connector(self, **overrides: Any) -> ApiSupplier:
        supplier = ApiSupplier(settings(self.server.url, **overrides))
        self.extra.append(supplier)
        return supplier


def settings(url: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "base_url": url,
        "supplier_id": SUPPLIER,
        "secret": SECRET,
        "timeout": 5,
        "retry_backoff": 0.02,
    }
    values.update(overrides)
    return values


def make_order(code: str = "PO-1", lines: list[tuple[str, int]] | None = None) -> OutboundOrder:
    return make_outbound(code, lines, grand_total=Decimal("20"), seller_remark="请勿放发票")


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def make_env() -> Iterator[Callable[..., Env]]:
    started: list[tuple[RunningServer, RunningServer, Env]] = []

    def factory(*, hub_secret: str = SECRET, **emulator_settings: Any) -> Env:
        emulator_settings.setdefault("callback_retry_delays", FAST_RETRIES)
        emulator = SupplierEmulator(SUPPLIER, SECRET, seed=7, **emulator_settings)
        server = serve_in_thread(emulator)
        hub = Hub(ApiSupplier(settings(server.url, secret=hub_secret)))
        hub_server = serve_in_thread(
            Starlette(routes=[Route("/callbacks/SUP-1", hub.receive, methods=["POST"])])
        )
        emulator.configure(callback_url=f"{hub_server.url}/callbacks/SUP-1")
        env = Env(emulator, server, hub, ApiSupplier(settings(server.url)))
        started.append((server, hub_server, env))
        return env

    yield factory
    for server, hub_server, env in started:
        for connector in [env.supplier, env.hub.supplier, *env.extra]:
            connector.close()
        server.stop()
        hub_server.stop()


def test_a_repeated_po_is_stored_once_then_acknowledged_and_shipped_back_to_the_hub(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ack_delay=0.05, ship_delay=0.2)

    first = env.supplier.create_outbound(make_order("PO-1"))
    again = env.supplier.create_outbound(make_order("PO-1"))

    assert first == again and first.external_id.startswith("SP")
    stats = env.control("GET", "stats")
    assert (stats["create_calls"], stats["purchase_orders"], stats["duplicate_creates"]) == (
        2,
        1,
        1,
    )
    stored = env.control("GET", "purchase-orders/PO-1")["request"]
    assert stored["ship_to"]["name"] == "李四" and stored["remark"] == "请勿放发票"
    assert stored["sales_order"] == {
        "shop": "shop-1",
        "platform": "tmall",
        "channel_order_id": "TM-PO-1",
        "placed_at": stored["sales_order"]["placed_at"],
        "paid_at": stored["sales_order"]["paid_at"],
    }
    assert stored["lines"] == [
        {"line_no": "1", "sku": "SKU-1", "title": "SKU-1", "quantity": 2, "unit_price": "10.00"}
    ]

    wait_until(lambda: len(env.hub.events) == 2)
    ack, shipped = env.hub.events
    assert (ack.method, ack.acknowledged) == ("acknowledged", "PO-1")
    parcel = env.control("GET", "purchase-orders/PO-1")["parcels"][0]
    shipment = shipped.shipment
    assert shipped.method == "shipped" and shipment is not None
    assert shipment.code == "PO-1"
    assert (shipment.carrier, shipment.tracking_no) == (parcel["carrier"], parcel["tracking_no"])
    assert shipment.carrier in {"SF", "YTO", "ZTO", "STO", "YUNDA", "JD"}
    assert list(shipment.lines) == [ShipmentLine("SKU-1", 2, "1")]
    assert shipment.final and shipment.confirm_id == parcel["shipment_id"]
    assert shipment.shipped_at is not None
    assert abs(shipment.shipped_at - datetime.now(UTC)) < timedelta(minutes=1)
    wait_until(lambda: env.emulator.stats()["callbacks_sent"] == 2)
    assert env.hub.bad_signatures == 0


def test_a_wrong_secret_gets_401_and_nothing_is_stored(make_env: Callable[..., Env]) -> None:
    env = make_env()
    intruder = env.connector(secret="guessed")

    with pytest.raises(Rejected) as caught:
        intruder.create_outbound(make_order("PO-2"))

    assert (caught.value.code, caught.value.status_code) == ("bad_signature", 401)
    stale = signed_headers(supplier_id=SUPPLIER, secret=SECRET, body=b"{}", now=time.time() - 301)
    late = httpx.post(f"{env.server.url}/purchase-orders", content=b"{}", headers=stale)
    assert late.status_code == 401 and late.json()["error"]["code"] == "stale_timestamp"
    assert env.control("GET", "purchase-orders") == {}
    assert env.emulator.stats()["refused_calls"] == 2


def test_a_callback_signed_with_another_secret_is_not_trusted(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(hub_secret="the-hubs-idea-of-the-secret", ack_delay=0)
    env.supplier.create_outbound(make_order("PO-3"))

    wait_until(lambda: env.hub.bad_signatures >= 1)
    assert env.hub.events == []
    [log] = env.control("GET", "callbacks")[:1]
    assert log["history"][0] == "HTTP 401"


def test_a_refused_callback_is_delivered_again_with_the_same_body(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ack_delay=0, paused=True)
    env.hub.refuse_next = 1
    env.supplier.create_outbound(make_order("PO-4"))

    wait_until(lambda: len(env.hub.events) == 1)
    wait_until(lambda: env.emulator.stats()["callbacks_sent"] == 1)
    [log] = env.control("GET", "callbacks")
    assert log["history"] == ["HTTP 503", "ok"]
    assert env.hub.bodies[0] == env.hub.bodies[1]


def test_cancel_before_shipping_succeeds_and_after_shipping_is_refused(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ack_delay=0, paused=True)
    env.supplier.create_outbound(make_order("PO-5"))
    env.supplier.create_outbound(make_order("PO-6"))

    kept = env.supplier.cancel_outbound(code="PO-5", reason="buyer changed their mind")
    env.control("POST", "ship/PO-6")
    late = env.supplier.cancel_outbound(code="PO-6", reason="too late")
    env.control("PUT", "config", {"paused": False, "ship_delay": 0})

    assert kept.cancelled
    assert (late.cancelled, late.reason) == (False, "already shipped")
    wait_until(lambda: len(env.hub.of("shipped")) == 1)
    time.sleep(0.2)
    assert [e.shipment.code for e in env.hub.of("shipped") if e.shipment] == ["PO-6"]
    assert env.control("GET", "purchase-orders/PO-5")["status"] == "cancelled"
    with pytest.raises(Rejected) as caught:
        env.supplier.cancel_outbound(code="PO-404", reason="never sent")
    assert (caught.value.code, caught.value.status_code) == ("po_not_found", 404)


def test_split_lines_ship_one_parcel_per_line_and_only_the_last_is_final(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ack_delay=0, ship_delay=0.3, split_lines=True)
    env.supplier.create_outbound(make_order("PO-7", [("SKU-1", 1), ("SKU-2", 3)]))

    wait_until(lambda: len(env.hub.of("shipped")) == 1)
    refused = env.supplier.cancel_outbound(code="PO-7", reason="half gone")
    wait_until(lambda: len(env.hub.of("shipped")) == 2)

    assert not refused.cancelled
    shipments = [e.shipment for e in env.hub.of("shipped") if e.shipment is not None]
    assert [list(s.lines) for s in shipments] == [
        [ShipmentLine("SKU-1", 1, "1")],
        [ShipmentLine("SKU-2", 3, "2")],
    ]
    assert [s.final for s in shipments] == [False, True]
    assert shipments[0].tracking_no != shipments[1].tracking_no


def test_a_slow_supplier_sits_on_the_po_until_told_otherwise(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ack_delay=0, ship_delay=0)
    env.control("POST", "slow", {"seconds": 600})
    env.supplier.create_outbound(make_order("PO-8"))

    time.sleep(0.3)
    assert env.control("GET", "purchase-orders/PO-8")["status"] == "received"
    assert env.hub.events == []
    env.control("PUT", "config", {"ack_delay": 0, "ship_delay": 0})
    wait_until(lambda: len(env.hub.of("shipped")) == 1)


def test_stock_is_on_hand_minus_open_purchase_orders(make_env: Callable[..., Env]) -> None:
    env = make_env(paused=True)
    env.control("POST", "stock", {"items": {"SKU-1": 10, "SKU-2": 5}})
    env.supplier.create_outbound(make_order("PO-9", [("SKU-1", 3)]))

    levels = {x.sku: x.quantity for x in env.supplier.query_inventory(["SKU-1", "SKU-2", "NOPE"])}

    assert levels == {"SKU-1": 7, "SKU-2": 5, "NOPE": 0}


def test_an_incomplete_po_is_rejected_naming_the_field(make_env: Callable[..., Env]) -> None:
    env = make_env()
    order = make_order("PO-10")
    no_phone = OutboundOrder(**{**order.__dict__, "receiver_phone": ""})

    with pytest.raises(Rejected) as caught:
        env.supplier.create_outbound(no_phone)

    assert (caught.value.code, caught.value.status_code) == ("invalid_request", 400)
    assert "ship_to.phone" in caught.value.message
    assert env.control("GET", "purchase-orders") == {}


def test_throttling_server_errors_and_timeouts_map_to_retryable_errors(
    make_env: Callable[..., Env],
) -> None:
    env = make_env()
    env.control("PUT", "faults", {"rate_limit_rate": 1.0, "retry_after": 5})
    with pytest.raises(RateLimited) as limited:
        env.supplier.create_outbound(make_order("PO-11"))
    assert limited.value.retry_after == 5.0

    env.control("DELETE", "faults")
    env.control("PUT", "faults", {"error_rate": 1.0, "error_status": 502})
    with pytest.raises(Unavailable) as failed:
        env.supplier.query_inventory(["SKU-1"])
    assert failed.value.status_code == 502

    env.control("DELETE", "faults")
    env.control("PUT", "faults", {"malformed_rate": 1.0})
    with pytest.raises(Unavailable, match="unreadable"):
        env.supplier.create_outbound(make_order("PO-11"))

    env.control("DELETE", "faults")
    env.control("PUT", "faults", {"timeout_rate": 1.0, "timeout_seconds": 0.5})
    with pytest.raises(Unavailable, match="timed out"):
        env.connector(timeout=0.1, max_retries=0).create_outbound(make_order("PO-11"))


def test_a_short_error_burst_is_absorbed_by_the_clients_retries(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(paused=True)
    env.control("PUT", "faults", {"rate_limit_rate": 1.0, "retry_after": 0.1})
    threading.Timer(0.05, lambda: env.control("DELETE", "faults")).start()

    receipt = env.connector(max_retries=5).create_outbound(make_order("PO-12"))

    assert receipt.external_id == env.control("GET", "purchase-orders/PO-12")["supplier_ref"]


def test_returns_are_refused_and_the_registry_builds_the_connector(
    make_env: Callable[..., Env],
) -> None:
    env = make_env()
    supplier = node_connector("supplier_api", settings(env.server.url))
    assert isinstance(supplier, ApiSupplier)
    env.extra.append(supplier)
    order = make_order("PO-13")
    back = ReturnOrder(
        code="RT-1",
        original_code=order.code,
        shop_code=order.shop_code,
        channel_order_id=order.channel_order_id,
        sender_name=order.receiver_name,
        sender_phone=order.receiver_phone,
        country=order.country,
        province=order.province,
        city=order.city,
        address=order.address,
        lines=order.lines,
    )
    with pytest.raises(Rejected) as caught:
        supplier.create_return(back)
    assert caught.value.code == "returns_not_supported"
    with pytest.raises(ValueError, match="'secret'"):
        node_connector("supplier_api", {"base_url": env.server.url, "supplier_id": SUPPLIER})


def test_a_batch_create_answers_for_each_po_and_refuses_only_the_bad_one(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(ack_delay=0.05, ship_delay=0.1)
    supplier = env.connector(batch_create=True, batch_size=10)
    bad = OutboundOrder(**{**make_order("PO-B2").__dict__, "receiver_phone": ""})

    first, refused, third = supplier.create_outbounds(
        [make_order("PO-B1"), bad, make_order("PO-B3")]
    )

    with pytest.raises(Rejected) as alone:
        env.supplier.create_outbound(bad)
    # Refused for the same reason a single create gives, and only that one.
    assert isinstance(refused, Rejected)
    assert (refused.code, refused.message) == (alone.value.code, alone.value.message)
    assert refused.code == "invalid_request" and "ship_to.phone" in refused.message
    at_supplier = env.control("GET", "purchase-orders")
    assert set(at_supplier) == {"PO-B1", "PO-B3"}
    assert first == OutboundReceipt(at_supplier["PO-B1"]["supplier_ref"])
    assert third == OutboundReceipt(at_supplier["PO-B3"]["supplier_ref"])
    stats = env.control("GET", "stats")
    assert (stats["batch_calls"], stats["batch_sizes"]) == (1, [3])
    # The POs it took are acknowledged and shipped back to the hub, as after single creates.
    wait_until(lambda: len(env.hub.of("shipped")) == 2)
    assert {e.acknowledged for e in env.hub.of("acknowledged")} == {"PO-B1", "PO-B3"}
    assert {e.shipment.code for e in env.hub.of("shipped") if e.shipment} == {"PO-B1", "PO-B3"}


def test_a_po_sent_again_in_a_batch_is_not_created_twice(make_env: Callable[..., Env]) -> None:
    env = make_env(paused=True)
    order = make_order("PO-R1")
    po = env.supplier.purchase_order(order)
    body = encode({"purchase_orders": [po, po]})
    headers = signed_headers(supplier_id=SUPPLIER, secret=SECRET, body=body)

    twice = httpx.post(f"{env.server.url}/purchase-orders/batch", content=body, headers=headers)
    outcomes = env.connector(batch_create=True).create_outbounds([make_order("PO-R2"), order])
    single = env.supplier.create_outbound(order)

    assert twice.status_code == 200
    created, repeated = twice.json()["results"]
    assert (created["status"], repeated["status"]) == ("created", "exists")
    at_supplier = env.control("GET", "purchase-orders")
    assert set(at_supplier) == {"PO-R1", "PO-R2"}
    ref = at_supplier["PO-R1"]["supplier_ref"]
    assert created["supplier_ref"] == repeated["supplier_ref"] == ref
    assert outcomes == [OutboundReceipt(at_supplier["PO-R2"]["supplier_ref"]), OutboundReceipt(ref)]
    assert single == OutboundReceipt(ref)
    stats = env.control("GET", "stats")
    assert (stats["purchase_orders"], stats["duplicate_creates"]) == (2, 3)
    assert stats["batch_sizes"] == [2, 2]


def test_a_batch_larger_than_the_supplier_takes_is_refused_whole(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(batch_limit=2)
    supplier = env.connector(batch_create=True)

    with pytest.raises(Rejected) as caught:
        supplier.create_outbounds([make_order(f"PO-L{n}") for n in range(3)])

    assert (caught.value.code, caught.value.status_code) == ("invalid_request", 400)
    assert "at most 2" in caught.value.message
    assert env.control("GET", "purchase-orders") == {}
    assert env.control("GET", "stats")["batch_calls"] == 0


def test_a_throttled_or_failing_batch_call_fails_for_the_whole_batch(
    make_env: Callable[..., Env],
) -> None:
    env = make_env()
    supplier = env.connector(batch_create=True, max_retries=0)
    orders = [make_order("PO-F1"), make_order("PO-F2")]

    env.control("PUT", "faults", {"rate_limit_rate": 1.0, "retry_after": 5})
    with pytest.raises(RateLimited) as limited:
        supplier.create_outbounds(orders)
    env.control("DELETE", "faults")
    env.control("PUT", "faults", {"error_rate": 1.0, "error_status": 502})
    with pytest.raises(Unavailable) as failed:
        supplier.create_outbounds(orders)
    intruder = env.connector(batch_create=True, secret="guessed")
    env.control("DELETE", "faults")
    with pytest.raises(Rejected) as unsigned:
        intruder.create_outbounds(orders)

    assert limited.value.retry_after == 5.0
    assert failed.value.status_code == 502
    assert (unsigned.value.code, unsigned.value.status_code) == ("bad_signature", 401)
    assert env.control("GET", "purchase-orders") == {}


def test_a_po_the_batch_answer_leaves_out_is_to_be_sent_again() -> None:
    """A supplier that answers for the first PO only: the other is not lost as taken."""

    async def answer_first(request: Request) -> Response:
        first = json.loads(await request.body())["purchase_orders"][0]["po_number"]
        result = {"po_number": first, "status": "created", "supplier_ref": "REF-1"}
        return Response(json.dumps({"results": [result]}), media_type="application/json")

    server = serve_in_thread(
        Starlette(routes=[Route("/purchase-orders/batch", answer_first, methods=["POST"])])
    )
    supplier = ApiSupplier(settings(server.url, batch_create=True))
    try:
        taken, unanswered = supplier.create_outbounds([make_order("PO-M1"), make_order("PO-M2")])
    finally:
        supplier.close()
        server.stop()

    assert taken == OutboundReceipt("REF-1")
    assert isinstance(unanswered, Unavailable) and "PO-M2" in unanswered.message


def test_a_supplier_counting_millions_is_believed_and_a_count_that_is_no_number_is_named() -> None:
    """Stock as the supplier writes it: 3 million of a cheap item, then a count in words."""
    counts = iter([{"SKU-1": 3_000_000, "SKU-2": "12"}, {"SKU-1": "lots"}])

    async def stock(request: Request) -> Response:
        items = [{"sku": sku, "available": n} for sku, n in next(counts).items()]
        return Response(json.dumps({"items": items}), media_type="application/json")

    server = serve_in_thread(Starlette(routes=[Route("/stock", stock, methods=["GET"])]))
    supplier = ApiSupplier(settings(server.url))
    try:
        levels = {x.sku: x.quantity for x in supplier.query_inventory(["SKU-1", "SKU-2"])}
        with pytest.raises(ValueError, match="SKU-1: available: 'lots' is not a number"):
            supplier.query_inventory(["SKU-1"])
    finally:
        supplier.close()
        server.stop()

    assert levels == {"SKU-1": 3_000_000, "SKU-2": 12}


def test_batch_settings_are_checked_and_off_by_default(make_env: Callable[..., Env]) -> None:
    env = make_env()
    assert env.supplier.outbound_batch == 1
    assert env.connector(batch_size=20).outbound_batch == 1
    assert env.connector(batch_create="yes", batch_size="20").outbound_batch == 20
    assert env.connector(batch_create=True).outbound_batch == DEFAULT_BATCH_SIZE
    for bad in (
        {"batch_create": "maybe"},
        {"batch_size": 0},
        {"batch_size": MAX_BATCH_SIZE + 1},
        {"batch_size": "many"},
    ):
        with pytest.raises(ValueError, match="batch_"):
            env.connector(**bad)
