"""Shared fixtures: databases (SQLite and the throwaway PostgreSQL), hubs, factories."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from orderhub.config import Settings
from orderhub.crypto import Cipher
from orderhub.domain.order import Address, Buyer, Order, OrderLine, Totals
from orderhub.services.hub import Hub
from orderhub.store.db import Database, make_engine, upgrade_schema

TEST_KEY = base64.b64encode(b"k" * 32).decode()
TEST_KEYS = f"test:{TEST_KEY}"

_template_ready = False


def postgres_admin_url() -> str:
    url = os.environ.get("ORDERHUB_TEST_POSTGRES_URL")
    if not url:
        raise RuntimeError(
            "ORDERHUB_TEST_POSTGRES_URL is not set: run the tests with scripts/test, "
            "which starts a throwaway PostgreSQL"
        )
    return url


def _fresh_postgres_database() -> str:
    """A new database cloned from a migrated template (fast: no migrations per test)."""
    global _template_ready
    admin = make_url(postgres_admin_url())
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not _template_ready:
            conn.execute(text("DROP DATABASE IF EXISTS orderhub_template"))
            conn.execute(text("CREATE DATABASE orderhub_template"))
            template = make_engine(admin.set(database="orderhub_template").render_as_string(False))
            upgrade_schema(template)
            template.dispose()
            _template_ready = True
        name = f"t_{uuid.uuid4().hex[:12]}"
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE orderhub_template"))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    admin = make_url(postgres_admin_url())
    name = make_url(url).database
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'orderhub.db'}"
        engine = make_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        yield url
    else:
        url = _fresh_postgres_database()
        yield url
        _drop_postgres_database(url)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "encryption_keys": TEST_KEYS,
        "stock_push_window": 0.05,
        "backoff_base": 0.05,
        "backoff_cap": 0.5,
        "job_lease": 30.0,
    }
    values.update(overrides)
    return Settings(**values)


def make_hub(database_url: str, **overrides: Any) -> Hub:
    settings = make_settings(database_url, **overrides)
    db = Database(
        make_engine(database_url), Cipher({"test": b"k" * 32}, "test"), tenant=settings.tenant
    )
    return Hub(db, settings)


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url)
    yield h
    h.close()


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
        OrderLine(line_id=str(i + 1), channel_sku=sku, title=sku, quantity=qty,
                  unit_price=Decimal(price))
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
            name="张三", phone="13812348000", country="CN", province="浙江省", city="杭州市",
            district="西湖区", address1="文三路 100 号", postcode="310000",
        ),
        "lines": order_lines,
    }
    values.update(fields)
    return Order(**values)
