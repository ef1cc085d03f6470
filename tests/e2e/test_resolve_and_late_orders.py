"""An operator resolves exceptions and looks at late orders and alerts, through the
`orderhub` command line (a real process) and the HTTP API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from orderhub.api.app import create_app
from orderhub.config import HubConfig, SkuConfig, StockConfig
from orderhub.domain.order import Order
from orderhub.sandbox.server import serve_in_thread
from orderhub.services import queries
from orderhub.services.hub import Hub
from orderhub.services.pipeline import route
from orderhub.services.setup import apply_config
from orderhub.services.sla import scan_sla
from support import (
    api_token,
    bearer,
    make_order,
    offline_shop,
    offline_warehouse,
    run_orderhub,
)


def configure(hub: Hub) -> None:
    apply_config(
        hub,
        HubConfig(
            shops=[offline_shop()],
            nodes=[offline_warehouse()],
            skus=[SkuConfig(sku="SKU-1", title="Mug")],
            stock=[StockConfig(node="WH1", sku="SKU-1", on_hand=10)],
        ),
    )


def ingest(hub: Hub, order: Order) -> str:
    with hub.uow() as uow:
        uow.orders.add(order)
        route(uow, order, uow.catalog.shop(order.shop), stock_window=0.05)
        uow.orders.save(order)
        uow.commit()
    return order.id


def exception_of(hub: Hub, order_id: str) -> Any:
    [record] = [e for e in queries.exception_list(hub) if e.order_id == order_id]
    return record


def test_an_operator_fixes_a_phone_from_the_command_line(hub: Hub, database_url: str) -> None:
    configure(hub)
    order = make_order(channel_order_id="P1")
    order.receiver.phone = ""
    held = exception_of(hub, ingest(hub, order))

    shown = run_orderhub(database_url, "exceptions", "show", held.id)
    wrong = run_orderhub(database_url, "exceptions", "resolve", held.id, "--action", "map_sku")
    fixed = run_orderhub(
        database_url,
        *("exceptions", "resolve", held.id, "--action", "fix_address"),
        *("--set", "receiver.phone=13900001111", "--note", "called the buyer"),
    )

    assert shown.returncode == 0, shown.stderr
    assert "actions: fix_address, cancel, dismiss" in shown.stdout
    assert (wrong.returncode, wrong.stderr.strip()) == (
        2,
        "orderhub: 'map_sku' does not resolve this missing_phone; "
        "allowed: fix_address, cancel, dismiss",
    )
    assert fixed.returncode == 0, fixed.stderr
    assert f"order routed again; order {held.order_id} is reserved" in fixed.stdout
    assert queries.order_view(hub, held.order_id, reveal=True).receiver.phone == "13900001111"


def test_late_orders_and_alerts_are_listed_by_the_cli_and_the_api(
    hub: Hub, database_url: str
) -> None:
    configure(hub)
    late_id = ingest(hub, make_order(channel_order_id="L1", ship_by=datetime.now(UTC)))
    unknown = exception_of(hub, ingest(hub, make_order(channel_order_id="U1", lines=[("X", 2)])))
    scan_sla(hub, now=datetime.now(UTC) + timedelta(minutes=1))
    server = serve_in_thread(create_app(hub))
    api = httpx.Client(base_url=server.url, headers=bearer(api_token(hub)))

    late = run_orderhub(database_url, "orders", "late", "--json")
    alerts = run_orderhub(database_url, "alerts", "list", "--json")
    refused = api.post(
        f"/api/v1/exceptions/{unknown.id}/resolve",
        json={"action": "fix_address", "receiver": {"phone": "1"}},
    )
    resolved = api.post(
        f"/api/v1/exceptions/{unknown.id}/resolve",
        json={"action": "map_sku", "skus": {"X": "SKU-1"}},
    )

    assert late.returncode == 0, late.stderr
    [row] = json.loads(late.stdout)
    assert (row["order_id"], row["state"], row["receiver"]) == (
        late_id,
        "overdue",
        "张*, 杭州市 CN",
    )
    assert alerts.returncode == 0, alerts.stderr
    keys = [a["key"] for a in json.loads(alerts.stdout)]
    assert f"sla_overdue:{late_id}" in keys
    assert [k for k in keys if k.startswith("sla_")] == [f"sla_overdue:{late_id}"]
    assert refused.status_code == 409
    assert refused.json()["error"] == "ActionNotAllowed"
    assert (resolved.status_code, resolved.json()["status"]) == (200, "reserved")
    kinds = sorted(a["kind"] for a in api.get("/api/v1/alerts").json())
    assert kinds == ["order_held", "sla_overdue"]  # the held order, and the late one
    [listed] = api.get("/api/v1/orders/late").json()
    assert listed["order_id"] == late_id
    api.close()
    server.stop()
