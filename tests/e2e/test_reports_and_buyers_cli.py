"""`orderhub reports` and `orderhub buyers` as an operator runs them: a real process on
the database a running stack uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import openpyxl

from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import run_orderhub, wait_until

PHONE = "13600001111"


def test_reports_and_a_buyers_request_from_the_command_line(
    make_stack: Callable[..., Stack], database_url: str, tmp_path: Path
) -> None:
    stack = make_stack(ship_delay=3600)
    shop = stack.shops["SHOP1"]
    customer = {"name": "李娜", "phone": PHONE, "email": "li.na@example.cn"}
    for lines in ([("SKU-001", 2)], [("SKU-001", 1), ("SKU-002", 4)]):
        shop.place_order(
            {"lines": [{"sku": s, "quantity": q} for s, q in lines], "customer": customer}
        )
    wait_until(
        lambda: len([o for o in queries.order_list(stack.hub) if o.status == "pushed"]) == 2,
        what="both orders at the warehouse",
    )

    shown = run_orderhub(
        database_url, "reports", "show", "sales", "--by", "sku", "--format", "json"
    )
    assert shown.returncode == 0, shown.stderr
    units = {r["sku"]: r["units"] for r in json.loads(shown.stdout)["rows"]}
    assert units == {"SKU-001": 3, "SKU-002": 4}
    sheet_file = tmp_path / "sales.xlsx"
    written = run_orderhub(
        database_url,
        "reports",
        "show",
        "sales",
        "--by",
        "shop",
        "--format",
        "xlsx",
        "--out",
        str(sheet_file),
    )
    assert written.returncode == 0, written.stderr
    sheet = openpyxl.load_workbook(sheet_file).active
    assert sheet is not None and sheet["A2"].value == "SHOP1"
    wrong = run_orderhub(database_url, "reports", "show", "sales", "--by", "colour")
    assert wrong.returncode != 0 and "by: choose among day, shop, sku, node" in wrong.stderr

    found = run_orderhub(database_url, "buyers", "find", "--phone", PHONE, "--json")
    assert found.returncode == 0, found.stderr
    buyer = json.loads(found.stdout)
    assert buyer["orders"] == 2
    tagged = run_orderhub(database_url, "buyers", "tag", buyer["id"], "--add", "vip", "--json")
    assert json.loads(tagged.stdout)["tags"] == ["vip"]
    export_file = tmp_path / "buyer.json"
    exported = run_orderhub(
        database_url,
        "buyers",
        "export",
        buyer["id"],
        "--reason",
        "access request",
        "--out",
        str(export_file),
    )
    assert exported.returncode == 0, exported.stderr
    data = json.loads(export_file.read_text(encoding="utf-8"))
    assert {o["buyer"]["phone"] for o in data["orders"]} == {PHONE}
    erased = run_orderhub(
        database_url, "buyers", "erase", buyer["id"], "--reason", "erasure request", "--yes"
    )
    assert erased.returncode == 0, erased.stderr
    assert "2 order(s) emptied" in erased.stdout
    again = run_orderhub(database_url, "buyers", "find", "--phone", PHONE)
    assert again.returncode != 0
