"""The example configurations a seller copies from load, and every connection in them
builds: a typo in an example would be copied into a seller's file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orderhub.config import load_hub_config
from orderhub.connectors.qimen import QimenWarehouse
from orderhub.connectors.registry import channel_connector, node_connector

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["hub.yaml", "cainiao.yaml"])
def test_an_example_loads_and_its_connections_build(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (EXAMPLES / name).read_text()
    for variable in set(re.findall(r"\$\{(\w+)\}", text)):
        monkeypatch.setenv(variable, f"example-{variable.lower()}")
    config = load_hub_config(EXAMPLES / name)
    assert config.shops and config.nodes
    for shop in config.shops:
        channel_connector(shop.platform, {**shop.settings, **shop.secrets}).close()
    for node in config.nodes:
        node_connector(node.platform, {**node.settings, **node.secrets}).close()


def test_the_cainiao_example_speaks_each_warehouses_dialect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("TB_APP_SECRET", "TB_SESSION", "CAINIAO_SECRET", "WMS_SECRET"):
        monkeypatch.setenv(variable, "x")
    config = load_hub_config(EXAMPLES / "cainiao.yaml")
    dialects = {}
    for node in config.nodes:
        connector = node_connector(node.platform, {**node.settings, **node.secrets})
        assert isinstance(connector, QimenWarehouse)
        settings = connector.settings
        dialects[node.code] = (settings.method_prefix, settings.content_type.split(";")[0])
        connector.close()
    assert dialects == {
        "CN-HZ": ("", "application/xml"),
        "WMS-SH": ("taobao.qimen.", "text/xml"),
    }
