"""A mistake in configuration stops start-up with one plain sentence, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from orderhub.bootstrap import build_hub, load_cipher, load_settings
from orderhub.config import load_hub_config
from orderhub.domain.errors import ConfigurationError
from support import TEST_KEYS, make_settings


def shop(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": "SHOP1",
        "platform": "shopify",
        "nodes": ["WH1"],
        "settings": {"base_url": "http://127.0.0.1:9", "shop_domain": "a.myshopify.com"},
        "secrets": {"access_token": "shpat_x", "webhook_secret": "shpss_x"},
    }
    values.update(overrides)
    return values


def node(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": "WH1",
        "platform": "qimen",
        "settings": {
            "base_url": "http://127.0.0.1:9/router/qimen/service",
            "app_key": "K",
            "customer_id": "OWNER",
            "warehouse_code": "WH1",
            "owner_code": "OWNER",
        },
        "secrets": {"app_secret": "s"},
    }
    values.update(overrides)
    return values


def write_config(path: Path, **sections: Any) -> Path:
    document = {"shops": [shop()], "nodes": [node()], **sections}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def start_up(workdir: Path, **env: str) -> subprocess.Popen[str]:
    """`orderhub config apply` (or, without a file, `db upgrade`) started in a fresh
    process with only these ORDERHUB_* values."""
    command = ["config", "apply"] if "ORDERHUB_CONFIG" in env else ["db", "upgrade"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    clean.pop("NOT_SET_VAR", None)
    clean.update(
        {
            "ORDERHUB_DATABASE_URL": f"sqlite:///{workdir / 'hub.db'}",
            "ORDERHUB_ENCRYPTION_KEYS": TEST_KEYS,
            **env,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *command],
        env=clean,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


BROKEN_FILES: dict[str, dict[str, Any]] = {
    "unknown platform": {"shops": [shop(platform="tiktok")]},
    "unset variable": {
        "shops": [shop(secrets={"access_token": "${NOT_SET_VAR}", "webhook_secret": "s"})]
    },
    "missing setting": {"shops": [shop(secrets={"webhook_secret": "s"})]},
}


@pytest.fixture(scope="module")
def start_ups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Every broken start-up of the tests below, run at once: each takes most of a second."""
    started: dict[str, subprocess.Popen[str]] = {}
    for name, sections in BROKEN_FILES.items():
        workdir = tmp_path_factory.mktemp("start-up")
        config = write_config(workdir / "orderhub.yaml", **sections)
        started[name] = start_up(workdir, ORDERHUB_CONFIG=str(config))
    workdir = tmp_path_factory.mktemp("start-up")
    started["missing file"] = start_up(workdir, ORDERHUB_CONFIG=str(workdir / "nowhere.yaml"))
    started["unreachable database"] = start_up(
        tmp_path_factory.mktemp("start-up"),
        ORDERHUB_DATABASE_URL="postgresql://x@127.0.0.1:1/db",
    )
    results = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=120)
        results[name] = Result(process.returncode, out, err)
    return results


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def one_sentence(result: Result) -> str:
    """The single line start-up printed before stopping with exit code 2."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_an_unknown_platform_is_named(start_ups: dict[str, Result]) -> None:
    line = one_sentence(start_ups["unknown platform"])

    from orderhub.connectors.registry import CHANNEL_PLATFORMS

    known = ", ".join(sorted(CHANNEL_PLATFORMS))
    assert line == f"orderhub: shop SHOP1: unknown platform 'tiktok'; orderhub knows {known}"


def test_a_secret_from_an_unset_variable_names_the_variable(
    start_ups: dict[str, Result],
) -> None:
    line = one_sentence(start_ups["unset variable"])

    assert "NOT_SET_VAR" in line and "access_token" in line and "not set" in line


def test_an_unreachable_database_is_said_in_one_sentence(start_ups: dict[str, Result]) -> None:
    line = one_sentence(start_ups["unreachable database"])

    assert line.startswith("orderhub: cannot reach the database")


def test_a_missing_shopify_setting_names_the_key(start_ups: dict[str, Result]) -> None:
    line = one_sentence(start_ups["missing setting"])

    assert "access_token" in line and "missing" in line and "SHOP1" in line


def test_a_configuration_file_that_does_not_exist_is_named(start_ups: dict[str, Result]) -> None:
    line = one_sentence(start_ups["missing file"])

    assert "nowhere.yaml" in line and "does not exist" in line


# load_hub_config on its own: expansion and cross-references


def test_secrets_are_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP1_TOKEN", "shpat_from_env")
    secrets = {"access_token": "${SHOP1_TOKEN}", "webhook_secret": "plain"}
    config = load_hub_config(write_config(tmp_path / "c.yaml", shops=[shop(secrets=secrets)]))

    assert config.shops[0].secrets == {
        "access_token": "shpat_from_env",
        "webhook_secret": "plain",
    }


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"shops": [shop(nodes=["WH9"])]}, "shop SHOP1 is served by unknown node WH9"),
        (
            {"shops": [shop(routing={"fixed_sku": {"SKU-1": "WH9"}})], "nodes": [node()]},
            "shop SHOP1 routes to WH9, which does not serve it",
        ),
        (
            {"listings": [{"shop": "SHOP9", "channel_sku": "MUG", "sku": "SKU-1"}]},
            "a listing names unknown shop SHOP9",
        ),
        (
            {"stock": [{"node": "WH9", "sku": "SKU-1", "on_hand": 5}]},
            "opening stock names unknown node WH9",
        ),
    ],
)
def test_a_reference_to_something_not_configured_is_named(
    tmp_path: Path, sections: dict[str, Any], message: str
) -> None:
    path = write_config(tmp_path / "c.yaml", **sections)

    with pytest.raises(ConfigurationError) as caught:
        load_hub_config(path)

    assert str(caught.value) == message


def test_a_misspelt_routing_strategy_stops_start_up_naming_it(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.yaml", shops=[shop(routing={"strategies": ["stock_frist"]})])

    with pytest.raises(ConfigurationError, match="stock_frist") as caught:
        load_hub_config(path)

    assert "shops.0.routing.strategies" in str(caught.value)


def test_a_node_secret_from_an_unset_variable_names_the_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_VAR", raising=False)
    path = write_config(tmp_path / "c.yaml", nodes=[node(secrets={"app_secret": "${NOT_SET_VAR}"})])

    with pytest.raises(ConfigurationError, match=r"node WH1: secret app_secret .*NOT_SET_VAR"):
        load_hub_config(path)


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("shops: [\n", encoding="utf-8")

    with pytest.raises(ConfigurationError, match="is not valid YAML"):
        load_hub_config(path)


def test_a_configuration_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the configuration file"):
        load_hub_config(tmp_path)


def test_a_misspelt_setting_in_the_file_names_where_it_is(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.yaml", shops=[shop(safty_stock=2)])

    with pytest.raises(ConfigurationError, match=r"shops\.0\.safty_stock"):
        load_hub_config(path)


# Start-up on its own: settings from the environment, keys, and the file applied


def test_a_valid_configuration_is_applied_at_start_up(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.yaml")
    hub = build_hub(make_settings(f"sqlite:///{tmp_path / 'hub.db'}", config=path), apply=True)
    try:
        with hub.uow() as uow:
            assert [s.code for s in uow.catalog.shops()] == ["SHOP1"]
    finally:
        hub.close()


def test_an_environment_value_of_the_wrong_kind_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORDERHUB_WORKER_THREADS", "four")

    with pytest.raises(ConfigurationError, match=r"^ORDERHUB_WORKER_THREADS: "):
        load_settings()


def test_a_local_key_file_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings = make_settings(f"sqlite:///{blocker / 'hub.db'}", encryption_keys=None)

    with pytest.raises(ConfigurationError, match="not-a-directory"):
        load_cipher(settings)


def test_postgresql_without_encryption_keys_asks_for_them() -> None:
    settings = make_settings("postgresql://x@127.0.0.1:1/db", encryption_keys=None)

    with pytest.raises(ConfigurationError, match="set ORDERHUB_ENCRYPTION_KEYS"):
        load_cipher(settings)
