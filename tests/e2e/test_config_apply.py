"""Looking never acts: the configuration is applied only when asked or at start, and an
unchanged file changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from sqlalchemy import create_engine, func, select

from orderhub.store import tables as t
from support import TEST_KEYS, offline_config

CONFIG = {
    **offline_config(),
    "skus": [{"sku": "SKU-1"}, {"sku": "SKU-2"}],
    "listings": [
        {"shop": "SHOP1", "channel_sku": "A", "sku": "SKU-1"},
        {"shop": "SHOP1", "channel_sku": "B", "sku": "SKU-2"},
    ],
    "stock": [{"node": "WH1", "sku": "SKU-1", "on_hand": 10}],
}


def _orderhub(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env.update(
        ORDERHUB_DATABASE_URL=f"sqlite:///{tmp_path / 'hub.db'}",
        ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS,
        ORDERHUB_CONFIG=str(tmp_path / "hub.yaml"),
        ORDERHUB_LOG_LEVEL="warning",
    )
    return subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _jobs(tmp_path: Path) -> list[tuple[str, str | None]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.outbox_jobs.c.kind, t.outbox_jobs.c.coalesce_key).order_by(t.outbox_jobs.c.id)
        ).all()
        shops = conn.execute(select(func.count()).select_from(t.shops)).scalar_one()
    engine.dispose()
    assert shops == 1
    return [(r.kind, r.coalesce_key) for r in rows]


def _write(tmp_path: Path, config: dict[str, object]) -> None:
    (tmp_path / "hub.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))


def test_reading_with_a_configuration_set_calls_no_shop_and_queues_nothing(
    tmp_path: Path,
) -> None:
    _write(tmp_path, CONFIG)
    first = _orderhub(tmp_path, "config", "apply", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["changed"] is True
    queued = _jobs(tmp_path)
    assert queued  # the first apply pushes the opening stock

    for command in (
        ["orders", "list"],
        ["stock", "show"],
        ["exceptions", "list"],
        ["jobs", "list"],
        ["alerts", "list"],
        ["config", "check"],
    ):
        done = _orderhub(tmp_path, *command)
        assert done.returncode == 0, (command, done.stderr)
    assert _jobs(tmp_path) == queued


def test_applying_an_unchanged_file_changes_nothing_and_a_change_pushes_only_its_sku(
    tmp_path: Path,
) -> None:
    first = json.loads(json.dumps(CONFIG))
    first["listings"] = first["listings"][:1]
    _write(tmp_path, first)
    assert _orderhub(tmp_path, "config", "apply").returncode == 0
    queued = _jobs(tmp_path)
    again = _orderhub(tmp_path, "config", "apply")
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert _jobs(tmp_path) == queued

    _write(tmp_path, CONFIG)  # one listing more
    applied = json.loads(_orderhub(tmp_path, "config", "apply", "--json").stdout)
    assert (applied["listings"], applied["shops"], applied["skus"]) == (1, 0, 0)
    new = _jobs(tmp_path)[len(queued) :]
    assert [key for _, key in new] == ["stock:default:SKU-2"]
