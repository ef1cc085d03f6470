"""Mistakes an operator makes get one plain sentence, and previews tell the truth.

Each case runs the real command in a fresh process and checks the exit code, the
sentence, and that no traceback is printed.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from support import NOWHERE, TEST_KEYS, offline_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONFIG = {
    **offline_config(),
    "skus": [{"sku": "SKU-001"}],
    "listings": [{"shop": "SHOP1", "channel_sku": "SKU-001", "sku": "SKU-001"}],
    "stock": [{"node": "WH1", "sku": "SKU-001", "on_hand": 10}],
}


def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    clean.update({"ORDERHUB_LOG_LEVEL": "warning", **env})
    return subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean,
    )


def _one_sentence(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    # Retries may be logged on the way; what the operator reads last is one sentence.
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("orderhub: "), result.stderr
    for word in words:
        assert word in line, line


def _hub_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "hub.yaml").write_text(yaml.safe_dump(CONFIG))
    return {
        "ORDERHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "ORDERHUB_ENCRYPTION_KEYS": TEST_KEYS,
        "ORDERHUB_CONFIG": str(tmp_path / "hub.yaml"),
    }


def test_the_preview_holds_what_the_import_holds_and_reads_a_list(tmp_path: Path) -> None:
    env = _hub_env(tmp_path)
    assert _run(tmp_path, "config", "apply", **env).returncode == 0
    raw = json.loads((EXAMPLES / "shopify-orders.json").read_text())[0]
    unknown = copy.deepcopy(raw)
    unknown["id"] = 990001
    for item in unknown["line_items"]:
        item["sku"] = "NOT-OURS"
    known = copy.deepcopy(raw)
    known["id"] = 990002
    for item in known["line_items"]:
        item["sku"] = "SKU-001"
    known["shipping_address"].update(
        phone="13812348000", country_code="CN", province="浙江省", city="杭州市", zip="310000"
    )
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([unknown, known]))

    preview = _run(tmp_path, "map", "--shop", "SHOP1", str(path), **env)
    assert preview.returncode == 2
    assert "unknown_sku" in preview.stderr and "1 of 2 order(s)" in preview.stderr
    assert preview.stdout.count('"channel_order_id"') == 2

    imported = _run(tmp_path, "import", "--shop", "SHOP1", str(path), **env)
    assert imported.returncode == 0, imported.stderr
    listed = json.loads(_run(tmp_path, "exceptions", "list", "--json", **env).stdout)
    assert [e["code"] for e in listed["items"]] == ["unknown_sku"]


def test_the_example_file_of_many_orders_is_previewed_order_by_order(tmp_path: Path) -> None:
    result = _run(tmp_path, "map", "--platform", "shopify", str(EXAMPLES / "shopify-orders.json"))
    count = len(json.loads((EXAMPLES / "shopify-orders.json").read_text()))
    assert result.stdout.count('"channel_order_id"') == count
    assert "is not valid JSON" not in result.stderr


def test_a_csv_or_excel_file_given_as_json_is_named_for_what_it_is(tmp_path: Path) -> None:
    csv = tmp_path / "orders.csv"
    csv.write_text("order,sku,quantity\n1001,SKU-001,2\n")
    xlsx = tmp_path / "orders.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    for command in (["import", "--shop", "SHOP1"], ["map", "--platform", "shopify"]):
        _one_sentence(_run(tmp_path, *command, str(csv)), "is not JSON", "looks like a CSV")
        _one_sentence(_run(tmp_path, *command, str(xlsx)), "is not JSON", "Excel")


def test_a_broken_yaml_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text("shops:\n  - code: SHOP1\n    platform: [shopify\n")
    _one_sentence(_run(tmp_path, "config", "check", "--file", str(path)), "line 4", "hub.yaml")


def test_a_malformed_database_url_is_one_sentence(tmp_path: Path) -> None:
    result = _run(tmp_path, "orders", "list", ORDERHUB_DATABASE_URL="not a url at all")
    _one_sentence(result, "ORDERHUB_DATABASE_URL", "is not a database URL")


def test_a_wrong_key_for_existing_data_says_which_and_what_to_do(tmp_path: Path) -> None:
    env = _hub_env(tmp_path)
    assert _run(tmp_path, "config", "apply", **env).returncode == 0
    other = "other:" + base64.b64encode(b"x" * 32).decode()
    result = _run(tmp_path, "config", "apply", **{**env, "ORDERHUB_ENCRYPTION_KEYS": other})
    _one_sentence(result, "cannot be decrypted", "'test'", "ORDERHUB_ENCRYPTION_KEYS")


def test_reconciling_with_an_unreachable_warehouse_is_one_sentence(tmp_path: Path) -> None:
    env = _hub_env(tmp_path)
    assert _run(tmp_path, "config", "apply", **env).returncode == 0
    result = _run(tmp_path, "stock", "reconcile", "WH1", **env)
    _one_sentence(result, "cannot reconcile WH1", NOWHERE)
