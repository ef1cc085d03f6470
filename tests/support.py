"""Helpers shared by the tests: settings, hubs, factories, waiting and signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import openpyxl
import pytest

from orderhub.config import (
    HubConfig,
    ListingConfig,
    NodeConfig,
    Settings,
    ShopConfig,
    SkuConfig,
    StockConfig,
)
from orderhub.connectors.base import OutboundLine, OutboundOrder
from orderhub.crypto import Cipher
from orderhub.demo_stack import Stack
from orderhub.domain.errors import NotFound
from orderhub.domain.order import Address, Buyer, Order, OrderLine, Totals
from orderhub.services import queries
from orderhub.services.hub import Hub
from orderhub.store.db import Database, make_engine

TEST_KEY = base64.b64encode(b"k" * 32).decode()
TEST_KEYS = f"test:{TEST_KEY}"


CHINESE_RECEIVER = {
    "first_name": "三",
    "last_name": "张",
    "address1": "西湖区文三路100号",
    "address2": "3栋201室",
    "city": "杭州市",
    "province": "Zhejiang",
    "zip": "310012",
    "country": "China",
    "country_code": "CN",
    "phone": "13812348000",
}


def mute_webhooks(emulator: Any) -> None:
    """Remove a Shopify emulator's webhook subscriptions, so only pulls find its orders."""
    for hook in list(emulator.state.webhooks):
        emulator.state.webhooks.pop(hook)


def postgres_admin_url() -> str:
    url = os.environ.get("ORDERHUB_TEST_POSTGRES_URL")
    if not url:
        raise RuntimeError(
            "ORDERHUB_TEST_POSTGRES_URL is not set: run the tests with scripts/test, "
            "which starts a throwaway PostgreSQL"
        )
    return url


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float = 60.0,
    what: str | Callable[[], str] = "",
) -> None:
    """Poll `condition` until it holds; fail with `what` (text, or a function that
    describes the state at the time of failure) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.005  # most conditions hold within a few milliseconds; look often at first
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(pause)
        pause = min(pause * 1.5, 0.05)
    text = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout}s waiting for {text or condition}")


def shopify_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_order(
    order: dict[str, Any], delivery: str, secret: str = "s"
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a Shopify orders/create webhook for shop S1, signed with
    `secret` (the test shop's, unless given)."""
    body = json.dumps(order).encode()
    headers = {
        "X-Shopify-Hmac-Sha256": shopify_signature(secret, body),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Shop-Domain": "s1.myshopify.com",
        "Content-Type": "application/json",
    }
    return headers, body


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "encryption_keys": TEST_KEYS,
        "stock_push_window": 0.05,
        "duplicate_window": 0.0,
        "alert_digest_window": 0.2,
        "backoff_base": 0.05,
        "backoff_cap": 0.5,
        "job_lease": 30.0,
        "pull_history_hours": 1.0,
    }
    values.update(overrides)
    return Settings(**values)


def make_hub(database_url: str, **overrides: Any) -> Hub:
    settings = make_settings(database_url, **overrides)
    db = Database(
        make_engine(database_url), Cipher({"test": b"k" * 32}, "test"), tenant=settings.tenant
    )
    return Hub(db, settings)


def make_order(
    *,
    shop: str = "S1",
    channel_order_id: str = "1001",
    lines: list[tuple[str, int]] | None = None,
    price: str = "10.00",
    **fields: Any,
) -> Order:
    """A valid paid order; override any field by keyword."""
    items = lines if lines is not None else [("SKU-1", 1)]
    order_lines = [
        OrderLine(
            line_id=str(i + 1), channel_sku=sku, title=sku, quantity=qty, unit_price=Decimal(price)
        )
        for i, (sku, qty) in enumerate(items)
    ]
    subtotal = sum((Decimal(price) * qty for _, qty in items), Decimal("0"))
    values: dict[str, Any] = {
        "shop": shop,
        "platform": "shopify",
        "channel_order_id": channel_order_id,
        "placed_at": datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
        "channel_updated_at": datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
        "currency": "CNY",
        "totals": Totals(items=subtotal, grand_total=subtotal),
        "buyer": Buyer(name="张三", email="zhang@example.com", phone="13812348000"),
        "receiver": Address(
            name="张三",
            phone="13812348000",
            country="CN",
            province="浙江省",
            city="杭州市",
            district="西湖区",
            address1="文三路 100 号",
            postcode="310000",
        ),
        "lines": order_lines,
    }
    values.update(fields)
    return Order(**values)


NOWHERE = "http://127.0.0.1:9"  # nothing listens: calls out fail, database work goes on


def offline_shop(code: str = "S1", **fields: Any) -> ShopConfig:
    """A Shopify shop whose API is never reached (tests of database-only work)."""
    values: dict[str, Any] = {
        "nodes": ["WH1"],
        "settings": {"base_url": NOWHERE, "shop_domain": f"{code.lower()}.myshopify.com"},
        "secrets": {"access_token": "t", "webhook_secret": "s"},
        **fields,
    }
    return ShopConfig(code=code, platform="shopify", **values)


def offline_warehouse(code: str = "WH1", **fields: Any) -> NodeConfig:
    """A Qimen warehouse that is never reached."""
    return NodeConfig(
        code=code,
        platform="qimen",
        settings={
            "base_url": f"{NOWHERE}/router",
            "app_key": "k",
            "customer_id": "c",
            "owner_code": "c",
            "warehouse_code": code,
        },
        secrets={"app_secret": "x"},
        **fields,
    )


def make_outbound(
    code: str = "SO-1", lines: list[tuple[str, int]] | None = None, **fields: Any
) -> OutboundOrder:
    """An order as a node receives it: a Shanghai receiver, SKU-1 × 2 unless `lines` say
    otherwise, each unit at 10."""
    values: dict[str, Any] = {
        "code": code,
        "shop_code": "shop-1",
        "platform": "tmall",
        "channel_order_id": f"TM-{code}",
        "placed_at": datetime.now(UTC),
        "paid_at": datetime.now(UTC),
        "currency": "CNY",
        "grand_total": Decimal("20"),
        "shipping_fee": Decimal("0"),
        "discount": Decimal("0"),
        "receiver_name": "李四",
        "receiver_phone": "13900000000",
        "country": "CN",
        "province": "上海",
        "city": "上海市",
        "district": "浦东新区",
        "address": "世纪大道 100 号",
        "postcode": "200120",
        "lines": [
            OutboundLine(str(n), sku, qty, sku, Decimal("10"))
            for n, (sku, qty) in enumerate(lines or [("SKU-1", 2)], start=1)
        ],
        **fields,
    }
    return OutboundOrder(**values)


def api_token(hub: Hub, role: str = "owner", *, shops: tuple[str, ...] = ()) -> str:
    """A personal API token of a new user with `role` (and shop scope), for API calls."""
    from orderhub.domain.access import Principal, Role
    from orderhub.services.accounts import create_token, create_user

    setter = Principal("test-setup", Role.OWNER, via="test")
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    create_user(hub, name, role, actor=setter, shops=shops, password="a test password")
    return create_token(hub, name, actor=setter).secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# How many route × credential cases the authorisation tests ran, for the summary line.
AUTH_CASES = pytest.StashKey[int]()


def raw_shopify_order(number: int, *, sku: str = "SKU-1", **changes: Any) -> dict[str, Any]:
    """A small raw Shopify order (paid, one line of `sku`), as its API returns it."""
    raw: dict[str, Any] = {
        "id": number,
        "name": f"#{number}",
        "currency": "CNY",
        "created_at": "2026-11-01T08:00:00+08:00",
        "updated_at": "2026-11-01T08:00:00+08:00",
        "financial_status": "paid",
        "total_price": "10.00",
        "line_items": [{"id": 1, "sku": sku, "quantity": 1, "price": "10.00"}],
    }
    raw.update(changes)
    return raw


def offline_config(
    *, shop_url: str = NOWHERE, shop_domain: str = "s1.myshopify.com", **secrets: str
) -> dict[str, Any]:
    """A configuration file's content: shop SHOP1 at `shop_url` and warehouse WH1 that is
    never reached; the shop's secrets default to the offline ones."""
    return {
        "shops": [
            {
                "code": "SHOP1",
                "platform": "shopify",
                "nodes": ["WH1"],
                "settings": {"base_url": shop_url, "shop_domain": shop_domain},
                "secrets": {"access_token": "t", "webhook_secret": "s", **secrets},
            }
        ],
        "nodes": [
            {
                "code": "WH1",
                "platform": "qimen",
                "settings": {
                    "base_url": f"{NOWHERE}/router",
                    "app_key": "k",
                    "customer_id": "c",
                    "owner_code": "c",
                    "warehouse_code": "WH1",
                },
                "secrets": {"app_secret": "x"},
            }
        ],
    }


def fill_in_supplier_sheet(sheet: bytes, tracking: dict[str, str]) -> bytes:
    """The supplier's side: carrier and tracking number typed into the exported sheet."""
    book = openpyxl.load_workbook(io.BytesIO(sheet))
    rows = book.active
    assert rows is not None
    titles = [str(cell.value) for cell in rows[1]]
    po = next(i for i, title in enumerate(titles) if title.startswith("po_number")) + 1
    carrier = next(i for i, title in enumerate(titles) if title.startswith("carrier")) + 1
    number = next(i for i, title in enumerate(titles) if title.startswith("tracking_no")) + 1
    for row in range(2, rows.max_row + 1):
        code = str(rows.cell(row, po).value)
        if tracking.get(code):
            rows.cell(row, carrier).value = "SF"
            rows.cell(row, number).value = tracking[code]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def order_status(stack: Stack, channel_order_id: Any) -> str | None:
    """The hub's status of a shop's order, by the shop's order id (None until it is in)."""
    try:
        return str(queries.order_view(stack.hub, str(channel_order_id)).status)
    except NotFound:
        return None


def api_call(stack: Stack, method: str, path: str, role: str = "owner", **body: Any) -> Any:
    """One API call as a person of `role`; the answer's JSON, after checking it succeeded."""
    answer = httpx.request(
        method,
        f"{stack.api.url}{path}",
        json=body or None,
        headers=bearer(api_token(stack.hub, role)),
    )
    assert answer.status_code < 300, answer.text
    return answer.json()


def run_orderhub(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The `orderhub` command in its own process, on this database, as a person runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env.update(
        ORDERHUB_DATABASE_URL=database_url,
        ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS,
        ORDERHUB_LOG_LEVEL="warning",
    )
    return subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_warehouse_catalogue(shop: str, node: str, stock: dict[str, int]) -> HubConfig:
    """A Shopify shop selling these SKUs from one Qimen warehouse that holds `stock`;
    no server behind either (for tests that only store and process orders)."""
    return HubConfig(
        shops=[offline_shop(shop, nodes=[node])],
        nodes=[offline_warehouse(node)],
        skus=[SkuConfig(sku=sku, title=sku) for sku in stock],
        listings=[ListingConfig(shop=shop, channel_sku=sku, sku=sku) for sku in stock],
        stock=[StockConfig(node=node, sku=sku, on_hand=n) for sku, n in stock.items()],
    )
