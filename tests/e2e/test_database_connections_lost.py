"""The hub rides out PostgreSQL dropping every connection (a restart, a failover)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, make_url, text

from orderhub.demo_stack import Stack
from support import postgres_admin_url, wait_until


def _drop_connections(database_url: str) -> int:
    """Terminate every server connection to the database, as a restart would."""
    name = make_url(database_url).database
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            dropped = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar_one()
    finally:
        admin.dispose()
    return int(dropped)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_orders_keep_flowing_and_no_webhook_is_answered_500_after_connections_drop(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: stack.qimen.stats()["distinct_orders"] == 1, what="the first order pushed")

    assert _drop_connections(database_url) > 0
    for _ in range(3):
        shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})

    wait_until(
        lambda: stack.qimen.stats()["distinct_orders"] == 4,
        what=lambda: f"every order pushed after the drop: {stack.qimen.stats()}",
    )
    answers = [a["status_code"] for d in shop.deliveries() for a in d["attempts"]]
    assert 500 not in answers, answers
    # A webhook answered 503 is sent again by the shop, and then taken.
    wait_until(
        lambda: all(d["status"] == "delivered" for d in shop.deliveries()),
        what=lambda: f"every webhook delivered: {[d['status'] for d in shop.deliveries()]}",
    )
    assert stack.qimen.stats()["duplicate_creates"] == 0
