"""The WooCommerce emulator over real HTTP on loopback, called the way the REST docs say.

Requests are authenticated here by hand (Basic, keys in the query, and OAuth 1.0a signed
from `_authentication.md`), not with anything from the emulator or the connector, so the
tests check the rules themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.woocommerce import WooCommerceEmulator
from support import wait_until

KEY, SECRET = "ck_test_0123456789", "cs_test_9876543210"
ITEMS = [
    {"sku": "MUG-1", "title": "Ceramic mug", "price": "12.50", "stock": 10},
    {"sku": "TEE-S", "product": "Cotton tee", "option": "S", "price": "20.00", "stock": 4},
    {"sku": "TEE-M", "product": "Cotton tee", "option": "M", "price": "20.00", "stock": 2},
]


@dataclass
class Store:
    emulator: WooCommerceEmulator
    server: RunningServer
    http: httpx.Client = field(default_factory=httpx.Client)

    def url(self, path: str) -> str:
        return f"{self.server.url}/wp-json/wc/v3/{path}"

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(self.url(path), params=params, auth=(KEY, SECRET))

    def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.put(self.url(path), json=body, auth=(KEY, SECRET))

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(self.url(path), json=body, auth=(KEY, SECRET))


@pytest.fixture
def store() -> Iterator[Store]:
    emulator = WooCommerceEmulator(consumer_key=KEY, consumer_secret=SECRET, seed=3)
    emulator.seed_items(ITEMS)
    server = serve_in_thread(emulator.app)
    yield Store(emulator, server)
    server.stop()
    emulator.stop()


@dataclass
class Receiver:
    """A stand-in for a webhook endpoint, keeping what arrived; answers `status`."""

    url: str = ""
    status: int = 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.received.append((dict(request.headers), body))
        return Response(status_code=self.status)

    def signed(self) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return [r for r in self.received if "x-wc-webhook-signature" in r[0]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = serve_in_thread(Starlette(routes=[Route("/hook", found.receive, methods=["POST"])]))
    found.url = f"{server.url}/hook"
    yield found
    server.stop()


def oauth_query(
    method: str, url: str, params: dict[str, str], *, secret: str = SECRET
) -> dict[str, str]:
    """OAuth 1.0a one-legged, as `_authentication.md` describes it, with HMAC-SHA1."""
    signed = {
        **params,
        "oauth_consumer_key": KEY,
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": hashlib.sha1(str(time.perf_counter_ns()).encode()).hexdigest(),
        "oauth_signature_method": "HMAC-SHA1",
    }
    enc = lambda text: quote(text, safe="")  # noqa: E731 - PHP's rawurlencode
    pairs = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(signed.items()))
    base = f"{method}&{enc(url)}&{enc(pairs)}"
    digest = hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha1).digest()
    return {**signed, "oauth_signature": base64.b64encode(digest).decode()}


def test_basic_auth_and_keys_in_the_query_get_in_and_a_wrong_secret_is_named(store: Store) -> None:
    assert store.get("orders").status_code == 200
    by_query = store.http.get(
        store.url("orders"), params={"consumer_key": KEY, "consumer_secret": SECRET}
    )
    assert by_query.status_code == 200
    wrong = store.http.get(store.url("orders"), auth=(KEY, "cs_wrong"))
    assert wrong.status_code == 401
    assert wrong.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer secret is invalid.",
        "data": {"status": 401},
    }


@pytest.mark.parametrize(
    ("verb", "path", "code"),
    [
        ("GET", "orders", "woocommerce_rest_cannot_view"),
        ("PUT", "products/100", "woocommerce_rest_cannot_edit"),
        ("POST", "webhooks", "woocommerce_rest_cannot_create"),
    ],
)
def test_a_caller_without_a_known_key_is_refused_as_anonymous(
    store: Store, verb: str, path: str, code: str
) -> None:
    for auth in (None, ("ck_unknown", SECRET)):
        answer = store.http.request(verb, store.url(path), json={}, auth=auth)
        assert answer.status_code == 401
        assert answer.json()["code"] == code


def test_an_oauth_signed_request_over_http_gets_in_once_per_nonce(store: Store) -> None:
    url = store.url("orders")
    query = oauth_query("GET", url, {"per_page": "5"})
    assert store.http.get(url, params=query).status_code == 200
    replayed = store.http.get(url, params=query)
    assert replayed.status_code == 401
    assert replayed.json()["message"] == "Invalid nonce - nonce has already been used."
    forged = store.http.get(url, params=oauth_query("GET", url, {"per_page": "5"}, secret="cs_x"))
    assert forged.json()["message"] == "Invalid signature - provided signature does not match."


def test_per_page_above_100_is_refused_before_anything_else(store: Store) -> None:
    for auth in ((KEY, SECRET), None):
        answer = store.http.get(store.url("orders"), params={"per_page": 101}, auth=auth)
        assert answer.status_code == 400
        body = answer.json()
        assert body["code"] == "rest_invalid_param"
        assert "per_page" in body["data"]["params"]


def test_orders_are_paged_with_totals_and_a_link_to_the_next_page(store: Store) -> None:
    for _ in range(5):
        store.emulator.place_order({"lines": [{"sku": "MUG-1", "quantity": 1}]})
    first = store.get("orders", per_page=2, orderby="id", order="asc")
    assert first.headers["X-WP-Total"] == "5"
    assert first.headers["X-WP-TotalPages"] == "3"
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    assert "consumer_secret" not in first.headers["Link"]
    seen = [o["id"] for o in first.json()]
    for page in (2, 3):
        seen += [
            o["id"]
            for o in store.get("orders", per_page=2, page=page, orderby="id", order="asc").json()
        ]
    assert seen == sorted(seen) and len(set(seen)) == 5
    last = store.get("orders", per_page=2, page=3)
    assert 'rel="prev"' in last.headers["Link"] and 'rel="next"' not in last.headers["Link"]


def test_modified_after_keeps_only_orders_changed_strictly_after_it(store: Store) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    old = store.emulator.place_order({"lines": [{"sku": "MUG-1"}]}, at=now - timedelta(hours=3))
    changed = store.emulator.place_order({"lines": [{"sku": "MUG-1"}]}, at=now - timedelta(hours=3))
    store.emulator.modify_order(changed, at=now - timedelta(hours=1), customer_note="gift wrap")
    bound = (now - timedelta(hours=2)).replace(tzinfo=None).isoformat()
    found = store.get("orders", modified_after=bound, dates_are_gmt="true").json()
    assert [o["id"] for o in found] == [changed]
    exact = (now - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert store.get("orders", modified_after=exact, dates_are_gmt="true").json() == []
    assert old not in [o["id"] for o in found]
    bad = store.get("orders", modified_after="yesterday")
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"


def test_an_order_reads_as_the_docs_show_with_money_as_strings(store: Store) -> None:
    oid = store.emulator.place_order(
        {"lines": [{"sku": "MUG-1", "quantity": 2}, {"sku": "TEE-M"}], "shipping_total": "4.99"}
    )
    order = store.get(f"orders/{oid}").json()
    assert order["status"] == "processing"
    assert order["total"] == "49.99" and order["shipping_total"] == "4.99"
    assert [(x["sku"], x["quantity"], x["subtotal"]) for x in order["line_items"]] == [
        ("MUG-1", 2, "25.00"),
        ("TEE-M", 1, "20.00"),
    ]
    assert order["date_paid_gmt"] and "T" in order["date_modified_gmt"]
    assert order["_links"]["self"][0]["href"].endswith(f"/orders/{oid}")
    missing = store.get("orders/99999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "woocommerce_rest_shop_order_invalid_id"


def test_status_meta_and_notes_are_written_and_a_status_change_leaves_a_note(store: Store) -> None:
    oid = store.emulator.place_order({"lines": [{"sku": "MUG-1"}]})
    item = {"tracking_provider": "ups", "tracking_number": "1Z999", "date_shipped": "1700000000"}
    meta = store.put(
        f"orders/{oid}", {"meta_data": [{"key": "_wc_shipment_tracking_items", "value": [item]}]}
    )
    assert meta.status_code == 200
    assert store.post(f"orders/{oid}/notes", {"note": "Shipped with UPS 1Z999"}).status_code == 201
    done = store.put(f"orders/{oid}", {"status": "completed"}).json()
    assert done["status"] == "completed" and done["date_completed_gmt"]
    assert store.emulator.order(oid)["tracking"] == [item]
    notes = [n["note"] for n in store.get(f"orders/{oid}/notes").json()]
    assert notes == ["Order status changed from Processing to Completed.", "Shipped with UPS 1Z999"]
    wrong = store.put(f"orders/{oid}", {"status": "shipped"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "rest_invalid_param"


def test_stock_is_set_on_a_product_and_on_a_variation_and_sku_search_finds_products_only(
    store: Store,
) -> None:
    [mug] = store.get("products", sku="MUG-1").json()
    assert store.get("products", sku="TEE-S").json() == []  # a variation is not a product
    [tee] = store.get("products", type="variable").json()
    variations = {v["sku"]: v for v in store.get(f"products/{tee['id']}/variations").json()}
    assert set(variations) == {"TEE-S", "TEE-M"}
    store.put(f"products/{mug['id']}", {"manage_stock": True, "stock_quantity": 0})
    small = store.put(
        f"products/{tee['id']}/variations/{variations['TEE-S']['id']}", {"stock_quantity": 7}
    )
    assert small.json()["stock_quantity"] == 7
    assert store.get(f"products/{mug['id']}").json()["stock_status"] == "outofstock"
    assert store.emulator.stock() == {"MUG-1": 0, "TEE-S": 7, "TEE-M": 2}


def test_a_refund_lists_its_lines_negative_and_links_up_to_its_order(store: Store) -> None:
    oid = store.emulator.place_order({"lines": [{"sku": "MUG-1", "quantity": 2}]})
    line = store.get(f"orders/{oid}").json()["line_items"][0]
    made = store.post(
        f"orders/{oid}/refunds",
        {
            "line_items": [{"id": line["id"], "quantity": 1, "refund_total": 12.5}],
            "reason": "chipped",
        },
    )
    assert made.status_code == 201
    refund = made.json()
    assert refund["amount"] == "12.50"
    [item] = refund["line_items"]
    assert item["quantity"] == -1
    assert {"key": "_refunded_item_id", "value": str(line["id"])}.items() <= item["meta_data"][
        0
    ].items()
    assert refund["_links"]["up"][0]["href"].endswith(f"/orders/{oid}")
    order = store.get(f"orders/{oid}").json()
    assert order["refunds"] == [{"id": refund["id"], "reason": "chipped", "total": "-12.50"}]
    assert order["status"] == "processing"  # half of it is still owed
    rest = store.post(f"orders/{oid}/refunds", {"amount": "12.50"})
    assert rest.status_code == 201
    assert store.get(f"orders/{oid}").json()["status"] == "refunded"
    too_much = store.post(f"orders/{oid}/refunds", {"amount": "1.00"})
    assert too_much.status_code == 400


def test_webhooks_ping_on_creation_then_deliver_signed_order_bodies(
    store: Store, receiver: Receiver
) -> None:
    made = store.post(
        "webhooks", {"topic": "order.updated", "delivery_url": receiver.url, "secret": "s3cret"}
    )
    assert made.status_code == 201 and "secret" not in made.json()
    oid = store.emulator.place_order({"lines": [{"sku": "MUG-1"}], "status": "on-hold"})
    store.put(f"orders/{oid}", {"status": "processing"})
    wait_until(lambda: len(receiver.signed()) == 1, what="the order.updated delivery")
    ping = [body for headers, body in receiver.received if "x-wc-webhook-signature" not in headers]
    assert ping == [f"webhook_id={made.json()['id']}".encode()]
    headers, body = receiver.signed()[0]
    expected = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    assert headers["x-wc-webhook-signature"] == expected
    assert headers["x-wc-webhook-topic"] == "order.updated"
    assert (headers["x-wc-webhook-resource"], headers["x-wc-webhook-event"]) == ("order", "updated")
    assert headers["x-wc-webhook-id"] == str(made.json()["id"])
    assert len(headers["x-wc-webhook-delivery-id"]) == 32
    assert b"\\/" in body  # wp_json_encode escapes slashes: verify on the bytes as sent


def test_a_webhook_failing_again_and_again_is_disabled(store: Store, receiver: Receiver) -> None:
    receiver.status = 500
    made = store.post(
        "webhooks", {"topic": "order.created", "delivery_url": receiver.url, "secret": "x"}
    ).json()
    for _ in range(7):
        store.emulator.place_order({"lines": [{"sku": "MUG-1"}]})
    store.emulator.wait_for_webhooks()
    assert store.get(f"webhooks/{made['id']}").json()["status"] == "disabled"
    store.emulator.place_order({"lines": [{"sku": "MUG-1"}]})
    store.emulator.wait_for_webhooks()
    assert len(receiver.signed()) == 7


def test_the_official_error_body_answers_an_unknown_route(store: Store) -> None:
    answer = store.get("shipments")
    assert answer.status_code == 404
    assert answer.json()["code"] == "rest_no_route"


def test_injected_faults_answer_in_wordpress_words(store: Store) -> None:
    store.http.put(
        f"{store.server.url}/_sandbox/faults", json={"error_rate": 1.0, "error_status": 500}
    )
    try:
        failed = store.get("orders")
    finally:
        store.http.delete(f"{store.server.url}/_sandbox/faults")
    assert failed.status_code == 500 and failed.json()["code"] == "internal_server_error"
    assert store.get("orders").status_code == 200


def test_the_control_routes_act_as_buyer_and_merchant_and_show_what_the_hub_did(
    store: Store, receiver: Receiver
) -> None:
    control = f"{store.server.url}/_sandbox"
    placed = store.http.post(f"{control}/orders", json={"lines": [{"sku": "TEE-S", "quantity": 2}]})
    assert placed.status_code == 201
    oid = placed.json()["id"]
    item = {"tracking_provider": "dhl", "tracking_number": "JD014600", "date_shipped": "1700000000"}
    store.put(
        f"orders/{oid}", {"meta_data": [{"key": "_wc_shipment_tracking_items", "value": [item]}]}
    )
    store.put(f"orders/{oid}", {"status": "completed"})
    seen = store.http.get(f"{control}/orders/{oid}").json()
    assert seen["status"] == "completed" and seen["tracking"] == [item]
    refund = store.http.post(f"{control}/orders/{oid}/refunds", json={"lines": [{"sku": "TEE-S"}]})
    assert refund.status_code == 201 and refund.json()["line_items"][0]["quantity"] == -1
    assert store.http.get(f"{control}/stock").json()["TEE-S"] == 3  # 4 - 2 sold + 1 back
    store.post("webhooks", {"topic": "order.updated", "delivery_url": receiver.url, "secret": "k"})
    sent = store.http.post(f"{control}/webhooks/send", json={"order_id": oid})
    assert sent.json() == {"sent": 1}
    wait_until(lambda: len(receiver.signed()) == 1, what="the webhook sent on request")
    headers, body = receiver.signed()[0]
    expected = base64.b64encode(hmac.new(b"k", body, hashlib.sha256).digest()).decode()
    assert headers["x-wc-webhook-signature"] == expected
