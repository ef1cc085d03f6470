"""WooCommerce's own Python client (`woocommerce`, `from woocommerce import API`) works
against the emulator unchanged. Over an http:// store address it signs every request
with OAuth 1.0a (HMAC-SHA256) and repeats the query in the URL, as it does with a real
store; over https:// it would use Basic auth."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from woocommerce import API

from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.woocommerce import WooCommerceEmulator


@pytest.fixture
def store() -> Iterator[tuple[WooCommerceEmulator, RunningServer]]:
    emulator = WooCommerceEmulator(seed=5)
    emulator.seed_items(
        [
            {"sku": "MUG-1", "price": "12.50", "stock": 10},
            {"sku": "TEE-S", "product": "Tee", "option": "S", "price": "20.00", "stock": 3},
        ]
    )
    server = serve_in_thread(emulator.app)
    yield emulator, server
    server.stop()
    emulator.stop()


def client(emulator: WooCommerceEmulator, server: RunningServer, **options: str) -> API:
    keys = {**emulator.credentials, **options}
    return API(
        url=server.url,
        consumer_key=keys["consumer_key"],
        consumer_secret=keys["consumer_secret"],
        wp_api=True,
        version="wc/v3",
        timeout=10,
    )


def test_the_official_client_lists_orders_page_by_page(
    store: tuple[WooCommerceEmulator, RunningServer],
) -> None:
    emulator, server = store
    placed = [emulator.place_order({"lines": [{"sku": "MUG-1"}]}) for _ in range(3)]
    wcapi = client(emulator, server)
    first = wcapi.get("orders", params={"per_page": 2, "orderby": "id", "order": "asc"})
    second = wcapi.get("orders", params={"per_page": 2, "page": 2, "orderby": "id", "order": "asc"})
    assert first.status_code == 200, first.text
    assert first.headers["X-WP-Total"] == "3" and first.headers["X-WP-TotalPages"] == "2"
    assert [o["id"] for o in first.json() + second.json()] == placed


def test_the_official_client_updates_an_order(
    store: tuple[WooCommerceEmulator, RunningServer],
) -> None:
    emulator, server = store
    order_id = emulator.place_order({"lines": [{"sku": "MUG-1"}]})
    answer = client(emulator, server).put(f"orders/{order_id}", {"status": "completed"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "completed"
    assert emulator.order(order_id)["status"] == "completed"


def test_the_official_client_sets_the_stock_of_a_product_and_a_variation(
    store: tuple[WooCommerceEmulator, RunningServer],
) -> None:
    emulator, server = store
    wcapi = client(emulator, server)
    [mug] = wcapi.get("products", params={"sku": "MUG-1"}).json()
    [tee] = wcapi.get("products", params={"type": "variable"}).json()
    [small] = wcapi.get(f"products/{tee['id']}/variations").json()
    assert wcapi.put(f"products/{mug['id']}", {"stock_quantity": 42}).status_code == 200
    answer = wcapi.put(f"products/{tee['id']}/variations/{small['id']}", {"stock_quantity": 8})
    assert answer.status_code == 200, answer.text
    assert emulator.stock() == {"MUG-1": 42, "TEE-S": 8}


def test_the_official_client_with_a_wrong_secret_is_refused(
    store: tuple[WooCommerceEmulator, RunningServer],
) -> None:
    emulator, server = store
    answer = client(emulator, server, consumer_secret="cs_wrong").get("orders")
    assert answer.status_code == 401
    assert answer.json()["code"] == "woocommerce_rest_authentication_error"
