"""The `orderhub` command line as an operator runs it: a real process on a SQLite file."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orderhub.demo_stack import Stack
from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.services.audit import list_entries
from support import CHINESE_RECEIVER, TEST_KEYS, api_token, wait_until

Json = dict[str, Any]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The CLI runs against a SQLite file shared with the stack under test."""
    return f"sqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture(scope="module")
def raw_order() -> Iterator[Json]:
    """One raw Shopify order, as the Admin API returns it."""
    shop = ShopifyEmulator(seed=11)
    shop.seed_product({"skus": ["SKU-001", "SKU-002"], "price": "19.90", "stock": 20})
    yield shop.place_order(
        {
            "lines": [{"sku": "SKU-001", "quantity": 2}, {"sku": "SKU-002", "quantity": 1}],
            "customer": {"name": "张三", "phone": "13812348000"},
            "shipping_address": CHINESE_RECEIVER,
            "shipping": "4.99",
        }
    )
    shop.close()


def _cli_env(database_url: str, extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env.update(
        ORDERHUB_DATABASE_URL=database_url,
        ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS,
        ORDERHUB_LOG_LEVEL="warning",
        **(extra or {}),
    )
    return env


def start_cli(
    database_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`orderhub ARGS` started in a fresh process on the given database."""
    return subprocess.Popen(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *args],
        env=_cli_env(database_url, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def run_cli(
    database_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return finish(start_cli(database_url, *args, env=env))


def run_many(database_url: str, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Several commands at once: each start-up takes most of a second."""
    return [finish(p) for p in [start_cli(database_url, *args) for args in commands]]


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The plain lines a refused command printed (exit code 2, no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.stdout, result.stderr)
    return result.stderr.strip().splitlines()


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def hub_order(stack: Stack, shop: str, channel_order_id: Any) -> Any:
    with stack.hub.uow() as uow:
        return uow.orders.by_channel_ref(shop, str(channel_order_id))


def wait_for_status(stack: Stack, placed: Json, status: str) -> str:
    """Wait until the shop's order has `status` in the hub; its hub id."""
    wait_until(
        lambda: (o := hub_order(stack, "SHOP1", placed["id"])) is not None and o.status == status,
        what=f"the order to be {status}",
    )
    return str(hub_order(stack, "SHOP1", placed["id"]).id)


def silence_webhooks(shop: ShopifyEmulator) -> None:
    """Orders placed from now on reach the hub only by pull or import."""
    for hook in list(shop.state.webhooks):
        shop.state.webhooks.pop(hook)


# map and schema: no database needed


def test_map_prints_the_canonical_order_of_a_good_payload(
    tmp_path: Path, database_url: str, raw_order: Json
) -> None:
    path = write_json(tmp_path / "good.json", raw_order)

    order = json.loads(succeeded(run_cli(database_url, "map", "--platform", "shopify", str(path))))

    assert order["channel_order_id"] == str(raw_order["id"])
    assert order["totals"]["grand_total"] == raw_order["total_price"] == "64.69"
    assert order["receiver"]["country"] == "CN" and order["receiver"]["name"] == "张三"
    assert [(x["channel_sku"], x["quantity"]) for x in order["lines"]] == [
        ("SKU-001", 2),
        ("SKU-002", 1),
    ]
    assert order["placed_at"].endswith("Z")
    assert "trace" not in order


def test_a_payload_without_address_and_a_line_without_sku_is_refused_with_every_problem(
    tmp_path: Path, database_url: str, raw_order: Json
) -> None:
    raw = copy.deepcopy(raw_order)
    del raw["shipping_address"]
    raw["line_items"][1]["sku"] = None
    raw["line_items"][1]["name"] = "Gift wrap [/b] [red]"
    path = write_json(tmp_path / "bad.json", raw)

    lines = refused(run_cli(database_url, "map", "--platform", "shopify", str(path)))

    assert lines[-1] == "1 of 1 order(s) cannot become valid orders"
    problems = "\n".join(lines[:-1])
    assert "[missing_address] receiver: the order has no shipping address" in problems
    # Shop text is printed as the shop wrote it, brackets and all.
    assert "lines[1].channel_sku: line 'Gift wrap [/b] [red]' has no SKU" in problems


def test_map_for_an_unknown_platform_says_so_in_one_sentence(
    tmp_path: Path, database_url: str, raw_order: Json
) -> None:
    path = write_json(tmp_path / "x.json", raw_order)

    [line] = refused(run_cli(database_url, "map", "--platform", "nope", str(path)))

    assert "unknown platform 'nope'" in line and "shopify" in line


def test_map_of_a_file_that_is_not_json_names_the_file(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"id": 1, ', encoding="utf-8")

    [line] = refused(run_cli(database_url, "map", "--platform", "shopify", str(path)))

    assert "broken.json is not valid JSON" in line


def test_schema_order_prints_the_canonical_order_json_schema(database_url: str) -> None:
    schema = json.loads(succeeded(run_cli(database_url, "schema", "order")))

    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "Order"
    assert {"channel_order_id", "placed_at", "totals", "receiver", "lines", "trace"} <= set(
        schema["properties"]
    )
    assert "shop" in schema["required"]


def test_retention_purge_now_says_what_it_masked_emptied_and_forgot(database_url: str) -> None:
    done = json.loads(succeeded(run_cli(database_url, "retention", "purge", "--json")))
    assert done == {"orders": 0, "payloads": 0, "jobs": 0}
    said = succeeded(run_cli(database_url, "retention", "purge"))
    assert "0 job(s) finished over 30 days ago deleted" in " ".join(said.split())


# orders, imports, pulls and jobs: against a running stack's database


def test_an_order_is_shown_with_personal_data_masked_unless_an_admin_reveals_it(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack()
    placed = stack.shops["SHOP1"].place_order(
        {
            "lines": [{"sku": "SKU-001", "quantity": 2}],
            "customer": {"name": "张三", "phone": "13812348000"},
            "shipping_address": CHINESE_RECEIVER,
        }
    )
    order_id = wait_for_status(stack, placed, "completed")

    operator = {"ORDERHUB_TOKEN": api_token(stack.hub, "operator")}
    viewer = {"ORDERHUB_TOKEN": api_token(stack.hub, "viewer")}
    anything = {"ORDERHUB_TOKEN": "anything", "ORDERHUB_ADMIN_TOKEN": "anything"}
    shown, table, no_token, revealed, missing, as_viewer, made_up = map(
        finish,
        [
            start_cli(database_url, "orders", "show", order_id, "--json"),
            start_cli(database_url, "orders", "show", order_id),
            start_cli(database_url, "orders", "show", order_id, "--reveal"),
            start_cli(database_url, "orders", "show", order_id, "--reveal", "--json", env=operator),
            start_cli(database_url, "orders", "show", "does-not-exist"),
            start_cli(database_url, "orders", "show", order_id, "--reveal", env=viewer),
            start_cli(database_url, "orders", "show", order_id, "--reveal", env=anything),
        ],
    )

    order = json.loads(succeeded(shown))
    assert (order["id"], order["channel_order_id"]) == (order_id, str(placed["id"]))
    assert (order["receiver"]["name"], order["receiver"]["phone"]) == ("张*", "138****8000")
    assert order["buyer"]["name"] == "张*"
    assert "13812348000" not in json.dumps(order, ensure_ascii=False)
    stages = [(t["stage"], t["status"]) for t in order["trace"]]
    assert {("receive", "ok"), ("push", "ok"), ("confirm", "ok")} <= set(stages)
    assert order["fulfillments"][0]["tracking_no"]

    text = succeeded(table)
    assert "张*" in text and "138****8000" in text
    assert "张三" not in text and "13812348000" not in text

    [line] = refused(no_token)
    assert "--reveal needs ORDERHUB_TOKEN" in line
    clear = json.loads(succeeded(revealed))
    assert (clear["receiver"]["name"], clear["receiver"]["phone"]) == ("张三", "13812348000")
    [line] = refused(as_viewer)
    assert "may not pii.reveal" in line
    [line] = refused(made_up)
    assert "the token is not valid" in line
    [reveal] = [e for e in list_entries(stack.hub) if e.action == "pii.reveal"]
    assert reveal.actor.startswith("operator-") and reveal.target == f"order:{order_id}"

    [line] = refused(missing)
    assert "does-not-exist" in line


def test_a_held_order_shows_why_in_the_shops_own_words(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack()
    placed = stack.shops["SHOP1"].place_order(
        {"lines": [{"sku": None, "title": "Gift wrap [/b]", "quantity": 1}]}
    )
    order_id = wait_for_status(stack, placed, "held")

    exceptions, shown = run_many(
        database_url, ["exceptions", "list", "--json"], ["orders", "show", order_id]
    )

    listed = json.loads(succeeded(exceptions))
    assert listed["total"] == 1
    [exception] = listed["items"]
    assert (exception["code"], exception["order_id"]) == ("line_without_sku", order_id)
    assert "exception [open] line_without_sku: line 'Gift wrap [/b]' has no SKU" in succeeded(shown)


def test_import_ingests_a_list_of_raw_orders_once(
    make_stack: Callable[..., Stack], database_url: str, tmp_path: Path
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    silence_webhooks(shop)
    raw = [shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 1}]}) for _ in range(2)]
    path = write_json(tmp_path / "orders.json", raw)

    imported = succeeded(run_cli(database_url, "import", "--shop", "SHOP1", str(path)))
    again, listed = run_many(
        database_url, ["import", "--shop", "SHOP1", str(path)], ["orders", "list", "--json"]
    )

    assert "2 payload(s) read, 2 new" in imported
    assert "2 payload(s) read, 0 new" in succeeded(again)
    rows = json.loads(succeeded(listed))
    assert sorted(r["channel_order_id"] for r in rows) == sorted(str(o["id"]) for o in raw)
    assert {(r["shop"], r["node"]) for r in rows} == {("SHOP1", "WH1")}
    assert {r["status"] for r in rows} <= {"reserved", "pushed", "shipped", "completed"}


def test_sync_pull_fetches_orders_the_webhooks_missed(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    silence_webhooks(shop)
    placed = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})

    pulled, bad_since = run_many(
        database_url,
        ["sync", "pull", "--shop", "SHOP1"],
        ["sync", "pull", "--shop", "SHOP1", "--since", "soon"],
    )
    listed = run_cli(database_url, "orders", "list", "--json")

    assert "1 order(s) fetched, 1 new" in succeeded(pulled)
    assert [r["channel_order_id"] for r in json.loads(succeeded(listed))] == [str(placed["id"])]
    [line] = refused(bad_since)
    assert "'soon' is not an ISO-8601 time" in line


def test_a_dead_job_is_listed_and_retry_queues_it_again(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack(start_worker=False)
    with stack.hub.uow() as uow:
        uow.outbox.add("shop.pull", {"shop": "SHOP1"}, key="pull:SHOP1:test", max_attempts=1)
        [job] = uow.outbox.claim("test", limit=100, lease=30.0, kinds=["shop.pull"])
        uow.outbox.dead(job, error="shop unreachable", duration_ms=1.0)
        uow.commit()

    dead = json.loads(
        succeeded(run_cli(database_url, "jobs", "list", "--status", "dead", "--json"))
    )
    retried = run_cli(database_url, "jobs", "retry", str(job.id))
    every, retried_twice = run_many(
        database_url, ["jobs", "list", "--json"], ["jobs", "retry", str(job.id)]
    )

    assert [(j["id"], j["kind"], j["last_error"]) for j in dead["items"]] == [
        (job.id, "shop.pull", "shop unreachable")
    ]
    assert f"job {job.id} queued again" in succeeded(retried)
    [again] = [j for j in json.loads(succeeded(every))["items"] if j["id"] == job.id]
    assert (again["status"], again["attempts"], again["last_error"]) == ("pending", 0, None)
    [line] = refused(retried_twice)
    assert f"job {job.id} is not dead-lettered" in line


def test_an_order_is_held_corrected_and_released_from_the_command_line(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    # The merge window keeps the order at the hub long enough for a person's command
    # (a new process) to hold it before its warehouse has it, even on a loaded machine.
    stack = make_stack(routing={"merge_window": 10.0})
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    order_id = wait_for_status(stack, placed, "reserved")

    held = succeeded(run_cli(database_url, "orders", "hold", order_id, "--reason", "wait"))
    assert f"{order_id}: held" in held
    address = [
        *("orders", "address", order_id, "--reason", "the buyer called"),
        *("--set", "phone=13911112222", "--set", "country=CN", "--set", "province=浙江省"),
        *("--set", "city=杭州市", "--set", "address1=西湖区文三路 478 号"),
    ]
    assert f"{order_id}: held" in succeeded(run_cli(database_url, *address))
    [line] = refused(run_cli(database_url, "orders", "route", order_id, "WH9", "--reason", "x"))
    assert "WH9" in line
    succeeded(run_cli(database_url, "orders", "release", order_id, "--reason", "ready"))

    wait_until(lambda: len(stack.warehouses["WH1"].orders()) == 1, what="the order at WH1")
    [sent] = stack.warehouses["WH1"].orders().values()
    assert "13911112222" in str(sent["receiver"]) and "杭州市" in str(sent["receiver"])
    [entry] = [e for e in list_entries(stack.hub) if e.action == "cli orders address"]
    assert "13911112222" not in str(entry) and "139****2222" in str(entry)
    assert {"cli orders hold", "cli orders release"} <= {e.action for e in list_entries(stack.hub)}
