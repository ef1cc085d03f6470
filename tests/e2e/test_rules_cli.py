"""Seller rules from the command line (a real process) and over the HTTP API, on a SQLite
file the test shares with them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from orderhub.api.app import create_app
from orderhub.config import HubConfig
from orderhub.domain.order import Address, Order, Remarks
from orderhub.sandbox.server import serve_in_thread
from orderhub.services.hub import Hub
from orderhub.services.setup import apply_config
from orderhub.store.db import make_engine, upgrade_schema
from support import make_hub, make_order, offline_shop, offline_warehouse, run_orderhub

Result = subprocess.CompletedProcess[str]
EXAMPLE = Path(__file__).parents[2] / "examples" / "rules.yaml"
TOKEN = "rules-token"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A migrated SQLite file the commands and the test share."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    # The nodes the example rules route to: a rule naming an unknown node is not activated.
    hub = make_hub(url)
    apply_config(
        hub,
        HubConfig(
            shops=[offline_shop("S1", nodes=["WH1", "WH-WEST"])],
            nodes=[offline_warehouse("WH1"), offline_warehouse("WH-WEST")],
        ),
    )
    hub.close()
    return url


def ok(result: Result) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def refused(result: Result) -> str:
    """The one line a refused command printed; exit code 2 and no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.stdout, result.stderr)
    [line] = result.stderr.strip().splitlines()
    return line


def yesterday_order(
    channel_order_id: str, province: str, *, days_ago: int = 1, remark: str = ""
) -> Order:
    order = make_order(
        channel_order_id=channel_order_id,
        order_no=f"NO-{channel_order_id}",
        placed_at=datetime.now(UTC) - timedelta(days=days_ago),
        receiver=Address(name="张三", country="CN", province=province, address1="人民路 1 号"),
        remarks=Remarks(buyer=remark),
    )
    for line in order.lines:
        line.node = "WH1"
    return order


def store(hub: Hub, *orders: Order) -> None:
    with hub.uow() as uow:
        for order in orders:
            uow.orders.add(order)
        uow.commit()


def test_the_example_rule_set_is_put_listed_activated_and_shown_back_as_a_file(
    database_url: str, tmp_path: Path
) -> None:
    put = ok(run_orderhub(database_url, "rules", "put", str(EXAMPLE)))
    activated = ok(run_orderhub(database_url, "rules", "activate", "cn-checks"))
    listed = json.loads(ok(run_orderhub(database_url, "rules", "list", "--json")))
    shown = ok(run_orderhub(database_url, "rules", "show", "cn-checks"))
    again = tmp_path / "again.yaml"
    again.write_text(shown, encoding="utf-8")
    put_again = ok(run_orderhub(database_url, "rules", "put", str(again)))
    table = ok(run_orderhub(database_url, "rules", "list"))

    assert put.strip() == "cn-checks v1 stored as a draft"
    assert activated.strip() == "cn-checks v1 is active"
    [row] = listed
    assert (row["name"], row["active"], row["latest"], row["rules"]) == ("cn-checks", 1, 1, 6)
    assert shown.startswith("# cn-checks v1 (active)")
    original = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert [r["when"] for r in yaml.safe_load(shown)["rules"]] == [
        r["when"] for r in original["rules"]
    ]
    assert put_again.strip() == "cn-checks v2 stored as a draft"
    assert any(
        "cn-checks" in line and "v1" in line and "v2 (draft)" in line for line in table.splitlines()
    )


def test_a_rule_that_does_not_compile_is_refused_in_one_sentence_and_not_stored(
    database_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: checks\nrules:\n"
        "  - name: remote\n    when: order.receiver.province in ['新疆'\n"
        "    action: hold\n    reason: 偏远地区\n",
        encoding="utf-8",
    )
    no_node = tmp_path / "no-node.yaml"
    no_node.write_text(
        "name: checks\nrules:\n  - {name: west, when: 'true', action: route, reason: 西部}\n",
        encoding="utf-8",
    )

    syntax = refused(run_orderhub(database_url, "rules", "put", str(broken)))
    route = refused(run_orderhub(database_url, "rules", "put", str(no_node)))
    listed = json.loads(ok(run_orderhub(database_url, "rules", "list", "--json")))

    assert syntax.startswith("orderhub: rule 'remote' of rule set 'checks': line 1, column ")
    assert "Syntax error" in syntax
    assert route == "orderhub: rule 'west' of rule set 'checks': a route rule needs a node"
    assert listed == []


def test_a_dry_run_over_last_week_shows_what_each_rule_would_have_done(
    database_url: str,
) -> None:
    hub = make_hub(database_url)
    store(
        hub,
        yesterday_order("1", "新疆维吾尔自治区"),
        yesterday_order("2", "青海省", remark="请分开发"),
        yesterday_order("3", "浙江省", remark="要发票"),
        yesterday_order("4", "西藏自治区", days_ago=30),
    )
    hub.close()
    ok(run_orderhub(database_url, "rules", "put", str(EXAMPLE)))

    report = json.loads(
        ok(
            run_orderhub(
                database_url, "rules", "test", "cn-checks", "--orders", "last-7d", "--json"
            )
        )
    )
    table = ok(run_orderhub(database_url, "rules", "test", "cn-checks", "--version", "1"))
    bad_window = refused(
        run_orderhub(database_url, "rules", "test", "cn-checks", "--orders", "lately")
    )
    shown = json.loads(ok(run_orderhub(database_url, "rules", "show", "cn-checks", "--json")))

    assert (report["version"], report["status"], report["orders"]) == (1, "draft", 3)
    by_rule = {r["rule"]: r for r in report["rules"]}
    assert (by_rule["west"]["matched"], by_rule["west"]["changed"]) == (2, 2)
    assert by_rule["west"]["examples"] == ["NO-1", "NO-2"]
    assert by_rule["invoice-or-address"]["examples"] == ["NO-3"]
    assert by_rule["ship-apart"]["examples"] == ["NO-2"]
    assert by_rule["big-remote"]["matched"] == 0
    lines = table.splitlines()
    assert any("west" in line and "WH-WEST" in line and "NO-1" in line for line in lines)
    assert lines[-1] == "cn-checks v1 (draft) tested on 3 order(s); nothing was changed"
    assert "lately" in bad_window and "last-7d" in bad_window
    assert shown["status"] == "draft"


@pytest.fixture
def api(database_url: str) -> Iterator[httpx.Client]:
    """The hub's API on loopback, guarded by an API token."""
    hub = make_hub(database_url, api_token=TOKEN)
    server = serve_in_thread(create_app(hub))
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as client:
        yield client
    server.stop()
    hub.close()


def rule_set(**rule: Any) -> dict[str, Any]:
    return {
        "name": "checks",
        "rules": [{"name": "west", "action": "route", "node": "WH-WEST", "reason": "西部", **rule}],
    }


def test_the_api_stores_activates_and_dry_runs_rule_sets(
    api: httpx.Client, database_url: str
) -> None:
    hub = make_hub(database_url)
    store(hub, yesterday_order("1", "新疆"), yesterday_order("2", "浙江省"))
    hub.close()
    west = "order.receiver.province == '新疆'"

    anonymous = httpx.get(f"{api.base_url}/api/v1/rules")
    created = api.post("/api/v1/rules", json=rule_set(when=west))
    broken = api.post("/api/v1/rules", json=rule_set(when="order.receiver.province =="))
    unknown = api.post("/api/v1/rules", json=rule_set(when=west, colour="red"))
    activated = api.post("/api/v1/rules/checks/activate")
    listed = api.get("/api/v1/rules")
    tested = api.post("/api/v1/rules/checks/test", params={"since": "last-7d"})
    missing = api.post("/api/v1/rules/nothing/activate")

    assert anonymous.status_code == 401
    assert (created.status_code, created.json()) == (
        201,
        {"name": "checks", "version": 1, "status": "draft"},
    )
    assert broken.status_code == 422
    assert (broken.json()["rule"], broken.json()["rule_set"]) == ("west", "checks")
    assert broken.json()["problem"].startswith("line 1, column ")
    assert unknown.status_code == 422 and unknown.json()["rule"] == "west"
    assert "colour" in unknown.json()["problem"]
    assert activated.json() == {"name": "checks", "version": 1, "status": "active"}
    assert [(r["name"], r["active"], r["versions"]) for r in listed.json()] == [("checks", 1, 1)]
    [west_report] = tested.json()["rules"]
    assert (tested.json()["orders"], west_report["matched"], west_report["examples"]) == (
        2,
        1,
        ["NO-1"],
    )
    assert missing.status_code == 404
