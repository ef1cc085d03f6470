"""Golden files: a Taobao trade exactly as TOP returns it, and the canonical order it is.

The trade has a masked receiver sealed by an OAID, a gift set (a bundle of a mug and a
tee) and a 2-pack listing of the mug. The order must map, pass every check the pipeline
runs (a masked receiver is not a missing one), and take 6 mugs and 1 tee of stock.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderhub.config import HubConfig, ListingConfig, ShopConfig, SkuConfig
from orderhub.domain.routing import add_needs
from orderhub.domain.stock import expand_bundles
from orderhub.services.hub import Hub
from orderhub.services.preview import preview_orders
from orderhub.services.setup import apply_config
from support import make_hub, offline_warehouse

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "taobao"
CASES = sorted(p.name.removesuffix(".raw.json") for p in GOLDEN.glob("*.raw.json"))
KEPT = {
    "lines": {
        "__all__": {"line_id", "channel_sku", "sku", "title", "quantity", "unit_price", "pack"}
    }
}


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url)
    apply_config(
        h,
        HubConfig(
            shops=[
                ShopConfig(
                    code="TB1",
                    platform="taobao",
                    nodes=["WH1"],
                    settings={"base_url": "http://127.0.0.1:9", "app_key": "k"},
                    secrets={"app_secret": "s", "session": "x"},
                )
            ],
            nodes=[offline_warehouse("WH1")],
            skus=[
                SkuConfig(sku="SKU-001"),
                SkuConfig(sku="SKU-002"),
                SkuConfig(sku="GIFTSET", components={"SKU-001": 1, "SKU-002": 1}),
            ],
            listings=[
                ListingConfig(shop="TB1", channel_sku="MUG-2PACK", sku="SKU-001", multiplier=2)
            ],
        ),
    )
    yield h
    h.close()


@pytest.mark.parametrize("case", CASES)
def test_a_trade_maps_to_its_golden_order(hub: Hub, case: str) -> None:
    raw = json.loads((GOLDEN / f"{case}.raw.json").read_text())
    expected = json.loads((GOLDEN / f"{case}.order.json").read_text())
    [preview] = preview_orders(hub, [raw], shop="TB1")
    assert preview.order is not None, preview.problems
    order = preview.order
    found: dict[str, Any] = order.model_dump(
        mode="json",
        include={*expected} - {"problems", "units"},
    )
    found["lines"] = [
        {k: v for k, v in line.items() if k in KEPT["lines"]["__all__"]} for line in found["lines"]
    ]
    found["problems"] = [p.code for p in preview.problems]
    with hub.reader() as uow:
        recipes = uow.catalog.bundles([line.sku for line in order.lines if line.sku])
    found["units"] = add_needs(
        expand_bundles({line.sku: line.quantity * line.pack}, recipes)
        for line in order.lines
        if line.sku
    )
    assert found == expected


def test_orderhub_map_reads_the_envelope_and_the_bare_trade_alike(tmp_path: Path) -> None:
    raw = json.loads((GOLDEN / "masked-bundle-pack.raw.json").read_text())
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(raw["trade_fullinfo_get_response"]["trade"]))
    enveloped = tmp_path / "enveloped.json"
    enveloped.write_text(json.dumps(raw))
    outputs = []
    for path in (bare, enveloped):
        done = subprocess.run(
            [sys.executable, "-c", "from orderhub.cli import main; main()",
             "map", str(path), "--platform", "taobao"],
            capture_output=True, text=True, cwd=tmp_path, timeout=60,
            env={"ORDERHUB_DATABASE_URL": f"sqlite:///{tmp_path}/none.db", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
        outputs.append(json.loads(done.stdout.splitlines()[0]))
    assert outputs[0] == outputs[1]
    assert "3920391847261029384" in json.dumps(outputs[0])
