"""What a person saves in the console is what the configuration file says, so the next
start applies the same thing and undoes nothing; the file keeps its comments and never
holds a secret in clear."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.support import make_hub

from orderhub.config import NodeConfig, ShopConfig, load_hub_config
from orderhub.domain.access import Principal, Role
from orderhub.domain.errors import ConfigurationError
from orderhub.services import connections
from orderhub.services.audit import list_entries
from orderhub.services.hub import Hub
from orderhub.services.setup import apply_config

NOWHERE = "http://127.0.0.1:9"
OWNER = Principal("wang", Role.OWNER)

FILE = """\
# Our shops. Keep this comment.
shops:
  - code: S1   # the flagship store
    platform: shopify
    nodes: [WH1]
    settings:
      base_url: http://127.0.0.1:9
      shop_domain: s1.myshopify.com
    secrets:
      access_token: ${S1_TOKEN}
      webhook_secret: ${S1_HOOK}
nodes:
  - code: WH1
    platform: qimen
    settings:
      base_url: http://127.0.0.1:9/router
      app_key: k
      customer_id: c
      owner_code: c
      warehouse_code: WH1
    secrets:
      app_secret: ${WH1_SECRET}
"""


@pytest.fixture
def configured(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Hub, Path]]:
    monkeypatch.setenv("S1_TOKEN", "token-from-env")
    monkeypatch.setenv("S1_HOOK", "hook-from-env")
    monkeypatch.setenv("WH1_SECRET", "wh1-from-env")
    path = tmp_path / "orderhub.yaml"
    path.write_text(FILE, encoding="utf-8")
    hub = make_hub(database_url, config=path)
    apply_config(hub, load_hub_config(path))
    yield hub, path
    hub.close()


def shop_s1(**changes: object) -> ShopConfig:
    base = ShopConfig(
        code="S1",
        platform="shopify",
        nodes=["WH1"],
        settings={"base_url": NOWHERE, "shop_domain": "s1.myshopify.com"},
        secrets={"access_token": "", "webhook_secret": ""},
    )
    return base.model_copy(update=changes)


def restart_changes(hub: Hub, path: Path) -> bool:
    """Whether applying the file on a restart would change anything stored."""
    return apply_config(hub, load_hub_config(path)).changed


def test_a_shop_changed_in_the_console_is_written_back_and_a_restart_keeps_it(
    configured: tuple[Hub, Path],
) -> None:
    hub, path = configured
    changed = shop_s1(name="旗舰店", safety_stock=3, mapping={"fields": {"note": {"path": "note"}}})
    connections.save_shop(hub, OWNER, changed)

    text = path.read_text(encoding="utf-8")
    assert "# Our shops. Keep this comment." in text
    assert "# the flagship store" in text
    written = yaml.safe_load(text)["shops"][0]
    assert written["name"] == "旗舰店"
    assert written["safety_stock"] == 3
    assert written["mapping"] == {"fields": {"note": {"path": "note"}}}
    # The secrets were left empty in the form: the file still points at the environment.
    assert written["secrets"] == {
        "access_token": "${S1_TOKEN}",
        "webhook_secret": "${S1_HOOK}",
    }
    assert not restart_changes(hub, path)
    with hub.reader() as uow:
        stored = uow.catalog.shop("S1")
    assert stored.name == "旗舰店"
    assert stored.secrets["access_token"] == "token-from-env"


def test_a_new_secret_is_written_encrypted_and_read_back_on_start(
    configured: tuple[Hub, Path],
) -> None:
    hub, path = configured
    connections.save_shop(hub, OWNER, shop_s1(secrets={"access_token": "brand-new-token"}))

    text = path.read_text(encoding="utf-8")
    assert "brand-new-token" not in text
    written = yaml.safe_load(text)["shops"][0]["secrets"]
    assert written["access_token"].startswith("v1:")
    assert written["webhook_secret"] == "${S1_HOOK}"
    assert not restart_changes(hub, path)

    # Another hub on the same database and file (a restart) reads the same secret.
    again = make_hub(hub.settings.database_url, config=path)
    try:
        apply_config(again, load_hub_config(path))
        with again.reader() as uow:
            assert uow.catalog.shop("S1").secrets["access_token"] == "brand-new-token"
    finally:
        again.close()


def test_a_node_and_a_new_shop_and_the_sync_switches_are_written_back(
    configured: tuple[Hub, Path],
) -> None:
    hub, path = configured
    node = NodeConfig(
        code="WH2",
        platform="qimen",
        province="浙江省",
        settings={
            "base_url": f"{NOWHERE}/router",
            "app_key": "k2",
            "customer_id": "c",
            "owner_code": "c",
            "warehouse_code": "WH2",
        },
        secrets={"app_secret": "wh2-secret"},
    )
    connections.save_node(hub, OWNER, node)
    connections.save_shop(
        hub,
        OWNER,
        shop_s1(code="S2", nodes=["WH2"]).model_copy(
            update={"secrets": {"access_token": "t2", "webhook_secret": "h2"}}
        ),
    )
    connections.set_sync(hub, "S1", {"stock": False})

    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [s["code"] for s in written["shops"]] == ["S1", "S2"]
    assert [n["code"] for n in written["nodes"]] == ["WH1", "WH2"]
    assert written["nodes"][1]["province"] == "浙江省"
    assert written["shops"][0]["settings"]["sync"]["stock"] is False
    assert not restart_changes(hub, path)

    entries = list_entries(hub, limit=20)
    assert {"node.create", "shop.create"} <= {e.action for e in entries}


def test_when_the_file_cannot_be_written_nothing_is_saved(
    configured: tuple[Hub, Path],
) -> None:
    hub, path = configured
    hub.settings.config = path.parent / "no-such-folder" / "orderhub.yaml"
    with pytest.raises(ConfigurationError, match="cannot be written"):
        connections.save_shop(hub, OWNER, shop_s1(name="renamed"))
    with hub.reader() as uow:
        assert uow.catalog.shop("S1").name == ""


def test_a_node_switched_off_says_so_in_the_file(configured: tuple[Hub, Path]) -> None:
    hub, path = configured
    connections.set_enabled(hub, "node", "WH1", False)
    [node] = yaml.safe_load(path.read_text(encoding="utf-8"))["nodes"]
    assert node["settings"]["enabled"] is False
    assert node["secrets"] == {"app_secret": "${WH1_SECRET}"}
    assert not restart_changes(hub, path)
    connections.set_enabled(hub, "node", "WH1", True)
    [node] = yaml.safe_load(path.read_text(encoding="utf-8"))["nodes"]
    assert "enabled" not in node["settings"]
