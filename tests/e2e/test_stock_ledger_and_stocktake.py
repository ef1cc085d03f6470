"""A SKU's ledger over HTTP, and a stocktake file previewed (changing nothing) then applied
as the same file, against the stock at the moment it is applied."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from orderhub.config import HubConfig, SkuConfig
from orderhub.sandbox.server import RunningServer
from orderhub.services.audit import list_entries
from orderhub.services.hub import Hub
from orderhub.services.inventory import adjust_stock
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from support import api_token, bearer, make_hub, offline_shop, offline_warehouse


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url)
    apply_config(
        h,
        HubConfig(
            shops=[offline_shop("S1", nodes=["WH1", "WH2"])],
            nodes=[offline_warehouse("WH1"), offline_warehouse("WH2")],
            skus=[SkuConfig(sku="SKU-1"), SkuConfig(sku="SKU-2")],
        ),
    )
    adjust_stock(h, "WH1", "SKU-1", 10, reason="first delivery")
    adjust_stock(h, "WH1", "SKU-2", 4, reason="first delivery")
    yield h
    h.close()


def workbook(*rows: tuple[Any, ...]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["node", "sku", "quantity"])
    for row in rows:
        sheet.append(list(row))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def on_hand(hub: Hub, node: str, sku: str) -> int:
    with hub.reader() as uow:
        level = uow.stock.level(node, sku)
        return level.on_hand if level else 0


def ledger_rows(hub: Hub) -> int:
    with hub.reader() as uow:
        return int(
            uow.stock.conn.execute(select(func.count()).select_from(t.stock_ledger)).scalar_one()
        )


def test_a_skus_ledger_lists_every_movement_newest_first_with_the_balance_after_it(
    hub: Hub, api: RunningServer
) -> None:
    with hub.uow() as uow:
        assert uow.stock.reserve("WH1", "SKU-1", 3, order_id="o-1")
        uow.commit()
    adjust_stock(hub, "WH1", "SKU-1", -2, reason="broken in the aisle")
    reader = bearer(api_token(hub, "viewer"))
    with httpx.Client(base_url=api.url, headers=reader) as client:
        first = client.get("/api/v1/stock/WH1/SKU-1/ledger", params={"limit": 2}).json()
        rest = client.get(
            "/api/v1/stock/WH1/SKU-1/ledger", params={"limit": 2, "before": first["next"]}
        ).json()
        unknown = client.get("/api/v1/stock/WH9/SKU-1/ledger")
    anonymous = httpx.get(f"{api.url}/api/v1/stock/WH1/SKU-1/ledger")

    def seen(page: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (r["kind"], r["on_hand_delta"], r["reserved_delta"], r["reason"], r["on_hand_after"])
            for r in page["items"]
        ]

    assert seen(first) == [
        ("adjustment", -2, 0, "broken in the aisle", 8),
        ("reservation", 0, 3, "", 10),
    ]
    assert first["items"][1]["order_id"] == "o-1"
    assert first["items"][1]["reserved_after"] == 3
    assert seen(rest) == [("adjustment", 10, 0, "first delivery", 10)]
    assert rest["next"] is None
    assert unknown.status_code == 404
    assert anonymous.status_code == 401


def test_a_preview_names_each_problem_by_row_and_column_and_changes_nothing(
    hub: Hub, api: RunningServer
) -> None:
    csv = (
        b"node,sku,quantity\n"
        b"WH1,SKU-1,7\n"
        b"WH1,NOPE,1\n"
        b"WH9,SKU-1,1\n"
        b"WH1,SKU-2,two\n"
        b"WH1,SKU-2,2.5\n"
        b"WH1,SKU-1,8\n"
        b",SKU-2,1\n"
    )
    before = ledger_rows(hub)
    with httpx.Client(base_url=api.url, headers=bearer(api_token(hub, "viewer"))) as client:
        preview = client.post("/api/v1/stock/stocktake/preview", content=csv).json()
        empty = client.post("/api/v1/stock/stocktake/preview", content=b"")

    assert [(p["row"], p["column"]) for p in preview["problems"]] == [
        (3, "sku"),
        (4, "node"),
        (5, "quantity"),
        (6, "quantity"),
        (6, "sku"),  # SKU-2 at WH1 is on row 5 too
        (7, "sku"),  # SKU-1 at WH1 is on row 2 too
        (8, "node"),
    ]
    assert "two" in preview["problems"][2]["message"]
    assert [(x["row"], x["on_hand"], x["counted"], x["difference"]) for x in preview["lines"]] == [
        (2, 10, 7, -3)
    ]
    assert preview["digest"] == hashlib.sha256(csv).hexdigest()
    assert empty.status_code == 400
    assert on_hand(hub, "WH1", "SKU-1") == 10
    assert ledger_rows(hub) == before


def test_apply_sets_the_counts_of_the_previewed_file_only(hub: Hub, api: RunningServer) -> None:
    sheet = workbook(("WH1", "SKU-1", 6), ("WH1", "SKU-2", 4), ("WH2", "SKU-2", 5))
    writer = bearer(api_token(hub, "operator"))
    with httpx.Client(base_url=api.url, headers=writer) as client:
        preview = client.post(
            "/api/v1/stock/stocktake/preview", files={"file": ("count.xlsx", sheet)}
        ).json()
        assert [(x["node"], x["sku"], x["difference"]) for x in preview["lines"]] == [
            ("WH1", "SKU-1", -4),
            ("WH1", "SKU-2", 0),
            ("WH2", "SKU-2", 5),
        ]
        # Stock moves between the preview and the apply: the count still wins.
        adjust_stock(hub, "WH1", "SKU-1", 1, reason="found one")
        changed = workbook(("WH1", "SKU-1", 60))
        refused = client.post(
            "/api/v1/stock/stocktake/apply",
            params={"digest": preview["digest"]},
            files={"file": ("count.xlsx", changed)},
        )
        assert on_hand(hub, "WH1", "SKU-1") == 11
        viewer = client.post(
            "/api/v1/stock/stocktake/apply",
            params={"digest": preview["digest"]},
            files={"file": ("count.xlsx", sheet)},
            headers=bearer(api_token(hub, "viewer")),
        )
        applied = client.post(
            "/api/v1/stock/stocktake/apply",
            params={"digest": preview["digest"], "name": "count.xlsx"},
            files={"file": ("count.xlsx", sheet)},
        )
        ledger = client.get("/api/v1/stock/WH1/SKU-1/ledger").json()

    assert refused.status_code == 409
    assert "not the one previewed" in refused.json()["detail"]
    assert viewer.status_code == 403
    assert applied.status_code == 200
    assert [
        (x["node"], x["sku"], x["on_hand"], x["counted"]) for x in applied.json()["applied"]
    ] == [
        ("WH1", "SKU-1", 11, 6),
        ("WH2", "SKU-2", 0, 5),
    ]
    assert on_hand(hub, "WH1", "SKU-1") == 6
    assert on_hand(hub, "WH2", "SKU-2") == 5
    newest = ledger["items"][0]
    assert (newest["kind"], newest["on_hand_delta"], newest["on_hand_after"]) == (
        "stocktake",
        -5,
        6,
    )
    assert "count.xlsx" in newest["reason"] and "operator-" in newest["reason"]
    (entry,) = list_entries(hub, action="stock.stocktake")
    assert entry.actor.startswith("operator-")
    assert entry.after["changed"] == [
        {"node": "WH1", "sku": "SKU-1", "from": 11, "to": 6},
        {"node": "WH2", "sku": "SKU-2", "from": 0, "to": 5},
    ]
    with hub.reader() as uow:
        kinds = uow.stock.conn.execute(select(t.outbox_jobs.c.kind)).scalars().all()
    assert "stock.push" in kinds
