"""`orderhub demo` as a newcomer runs it: twice in a row, piped, and near real data."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def _demo(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    return subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()", "demo", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**clean, "ORDERHUB_LOG_LEVEL": "warning", **env},
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_database_the_demo_did_not_make_is_refused_and_left_untouched(tmp_path: Path) -> None:
    real = tmp_path / "shop.db"
    with sqlite3.connect(real) as conn:
        conn.execute("CREATE TABLE orders (id TEXT, receiver TEXT)")
        conn.execute("INSERT INTO orders VALUES ('o1', '张三 13812348000')")
    before = _digest(real)

    for env in ({"ORDERHUB_DATABASE_URL": f"sqlite:///{real}"}, {}):
        if not env:  # the default file name, made by someone else
            real.rename(tmp_path / "orderhub-demo.db")
            real = tmp_path / "orderhub-demo.db"
        refused = _demo(tmp_path, "--orders", "3", "--exit-when-done", **env)
        assert refused.returncode == 2
        assert refused.stderr.strip() == (
            f"orderhub: orderhub demo will not use {real}: the file exists and was not made "
            "by the demo; move it away or set ORDERHUB_DATABASE_URL to a new file"
        )
        assert _digest(real) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orderhub-demo.db"]


def test_piped_the_demo_prints_progress_lines_says_when_all_settled_and_runs_again(
    tmp_path: Path,
) -> None:
    first = _demo(tmp_path, "--orders", "20", "--exit-when-done")
    assert first.returncode == 0, first.stderr
    lines = first.stderr.strip().splitlines()
    assert any(line.endswith("oversold 0") and "placed 20" in line for line in lines)
    assert any(line.startswith("all 20 orders settled after") for line in lines)
    assert json.loads(first.stdout)["completed"] == 20

    again = _demo(tmp_path, "--orders", "10", "--exit-when-done", "--json")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["placed"], summary["completed"], summary["oversold"]) == (10, 10, 0)


def test_three_shops_racing_for_stock_finish_soon_after_the_work_is_done(tmp_path: Path) -> None:
    done = _demo(
        tmp_path,
        *("--shops", "3", "--stock", "20", "--orders", "60", "--rate", "60"),
        *("--exit-when-done", "--json"),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["shipped"], summary["held"], summary["oversold"]) == (20, 40, 0)
    # Held orders raise alerts whose digest waits for its window; that wait is not work.
    assert summary["seconds"] < 60


def test_five_platforms_share_one_stock_pool(tmp_path: Path) -> None:
    done = _demo(
        tmp_path,
        *("--channels", "shopify,taobao,douyin,pdd,jd", "--stock", "15"),
        *("--orders", "50", "--rate", "50", "--exit-when-done", "--json"),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    shops = summary["by_shop"]
    assert set(shops) == {"SHOP1", "TB1", "DY1", "PD1", "JD1"}
    for row in shops.values():
        assert row["placed"] == row["received"] == 10
        assert row["confirmed"] == row["shipped"]
    # Fifteen units among five platforms: fifteen ship, the rest wait, none oversold.
    assert (summary["shipped"], summary["held"], summary["oversold"]) == (15, 35, 0)
    assert all(listed == {"SKU-001": 0} for listed in summary["listed_stock"].values())


def test_an_amazon_seller_account_sells_beside_shopify(tmp_path: Path) -> None:
    done = _demo(
        tmp_path,
        *("--channels", "shopify,amazon", "--stock", "30"),
        *("--orders", "20", "--rate", "40", "--exit-when-done", "--json"),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    amazon = summary["by_shop"]["AMAZON"]
    assert amazon["placed"] == amazon["received"] == amazon["shipped"] == amazon["confirmed"] == 10
    assert (summary["held"], summary["oversold"]) == (0, 0)
    assert summary["listed_stock"]["AMAZON"] == {"SKU-001": 10}


def test_every_platform_at_once_with_amazon_shipping_from_the_overseas_warehouse(
    tmp_path: Path,
) -> None:
    done = _demo(
        tmp_path,
        *("--channels", "all", "--stock", "40"),
        *("--orders", "35", "--rate", "40", "--exit-when-done", "--json"),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    shops = summary["by_shop"]
    assert set(shops) == {"SHOP1", "WC1", "TB1", "DY1", "PD1", "JD1", "AMAZON"}
    for code, row in shops.items():
        assert row["placed"] == row["received"] == row["shipped"] == row["confirmed"] == 5, code
    # Amazon's five left the Los Angeles warehouse, the thirty others Hangzhou: one stock
    # view of both, and each shop shows what its own warehouse has left.
    assert summary["stock_at_nodes"] == {"4PX-US1": {"SKU-001": 35}, "WH1": {"SKU-001": 10}}
    assert summary["listed_stock"]["AMAZON"] == {"SKU-001": 35}
    assert summary["listed_stock"]["TB1"] == {"SKU-001": 10}
    assert (summary["held"], summary["oversold"], summary["exceptions"]) == (0, 0, 0)
