"""Golden files: an order exactly as each marketplace returns it, and the canonical order it is.

`tests/golden/<platform>/<case>.raw.json` is the order-detail answer, envelope included;
`<case>.order.json` beside it is the canonical order, read field by field from the raw
one, with the problems the pipeline finds (none) and the units of our SKUs it takes.
Each trade has a gift set (a bundle of a mug and a tee) and a 2-pack listing of the mug,
and on a marketplace a receiver the platform masked and sealed (WooCommerce sends it in
clear, Amazon whole when read with a Restricted Data Token): the order must map, pass every
check the pipeline runs (a masked receiver is not a missing one) and take the stock it names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orderhub.config import HubConfig, ListingConfig, ShopConfig, SkuConfig
from orderhub.connectors.registry import order_mapping
from orderhub.domain.routing import add_needs
from orderhub.domain.stock import expand_bundles
from orderhub.services.hub import Hub
from orderhub.services.preview import preview_orders
from orderhub.services.setup import apply_config
from support import make_hub, offline_warehouse

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SHOPS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    # platform: (shop code, settings, secrets) — a shop that is never reached
    "taobao": ("TB1", {"app_key": "k"}, {"app_secret": "s", "session": "x"}),
    "jd": ("JD1", {"app_key": "k"}, {"app_secret": "s", "access_token": "x"}),
    "pdd": ("PD1", {"client_id": "k"}, {"client_secret": "s", "access_token": "x"}),
    "douyin": ("DY1", {"app_key": "k", "shop_id": "1"}, {"app_secret": "s", "access_token": "x"}),
    "woocommerce": (
        "WC1",
        {"consumer_key": "ck"},
        {"consumer_secret": "cs", "webhook_secret": "w"},
    ),
    "amazon": (
        "AMZ1",
        {"client_id": "k", "seller_id": "A1"},
        {"client_secret": "s", "refresh_token": "x"},
    ),
}
SEALED = {"taobao", "jd", "pdd", "douyin"}
"""Platforms that send the receiver masked, with its ciphertext or OAID."""
BARE: dict[str, Callable[[dict[str, Any]], Any]] = {
    # the order inside each platform's order-detail answer
    "taobao": lambda raw: raw["trade_fullinfo_get_response"]["trade"],
    "jd": lambda raw: raw["jingdong_pop_order_enGet_responce"]["orderDetailInfo"]["orderInfo"],
    "pdd": lambda raw: raw["order_info_get_response"]["order_info"],
    "douyin": lambda raw: raw["data"]["shop_order_detail"],
    "woocommerce": lambda raw: raw,  # GET /orders/{id} answers the bare order
    "amazon": lambda raw: raw["payload"],  # getOrder's payload, its OrderItems beside it
}
CASES = sorted(
    (p.parent.name, p.name.removesuffix(".raw.json")) for p in GOLDEN.glob("*/*.raw.json")
)
LINE_FIELDS = {"line_id", "channel_sku", "sku", "title", "quantity", "unit_price", "pack"}
# What the catalogue decides, so `orderhub map` without one cannot know it.
FROM_CATALOGUE = {"shop", "problems", "units"}


def _case_id(case: tuple[str, str]) -> str:
    return "/".join(case)


def _files(platform: str, case: str) -> tuple[dict[str, Any], dict[str, Any]]:
    folder = GOLDEN / platform
    raw = json.loads((folder / f"{case}.raw.json").read_text(encoding="utf-8"))
    expected = json.loads((folder / f"{case}.order.json").read_text(encoding="utf-8"))
    return raw, expected


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url)
    apply_config(
        h,
        HubConfig(
            shops=[
                ShopConfig(
                    code=code,
                    platform=platform,
                    nodes=["WH1"],
                    settings={"base_url": "http://127.0.0.1:9", **settings},
                    secrets=secrets,
                )
                for platform, (code, settings, secrets) in SHOPS.items()
            ],
            nodes=[offline_warehouse("WH1")],
            skus=[
                SkuConfig(sku="SKU-001"),
                SkuConfig(sku="SKU-002"),
                SkuConfig(sku="GIFTSET", components={"SKU-001": 1, "SKU-002": 1}),
            ],
            listings=[
                ListingConfig(shop=code, channel_sku="MUG-2PACK", sku="SKU-001", multiplier=2)
                for code, _, _ in SHOPS.values()
            ],
        ),
    )
    yield h
    h.close()


def test_every_platform_has_a_golden_order() -> None:
    assert {platform for platform, _ in CASES} >= set(SHOPS)


@pytest.mark.parametrize(("platform", "case"), CASES, ids=map(_case_id, CASES))
def test_an_order_maps_to_its_golden_order(hub: Hub, platform: str, case: str) -> None:
    raw, expected = _files(platform, case)
    shop = SHOPS[platform][0]
    [preview] = preview_orders(hub, [raw], shop=shop)
    assert preview.order is not None, preview.problems
    order = preview.order
    found: dict[str, Any] = order.model_dump(
        mode="json", include={*expected} - {"problems", "units"}
    )
    found["lines"] = [
        {k: v for k, v in line.items() if k in LINE_FIELDS} for line in found["lines"]
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
    if platform in SEALED:
        assert order.receiver.sealed, "the platform's ciphertext or OAID is the receiver"
    else:
        assert not order.receiver.sealed and order.receiver.name


def _orderhub_map(path: Path, platform: str, cwd: Path) -> dict[str, Any]:
    # PYTHONPATH is passed on, so a source tree other than the installed one is what runs.
    source = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
    done = subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()",
         "map", str(path), "--platform", platform],
        capture_output=True, text=True, cwd=cwd, timeout=60,
        env={"ORDERHUB_DATABASE_URL": f"sqlite:///{cwd}/none.db", "PATH": "/usr/bin:/bin",
             **source},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[0])
    return result


@pytest.mark.parametrize(("platform", "case"), CASES, ids=map(_case_id, CASES))
def test_orderhub_map_reads_the_envelope_and_the_bare_order_alike(
    tmp_path: Path, platform: str, case: str
) -> None:
    raw, expected = _files(platform, case)
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(BARE[platform](raw), ensure_ascii=False), encoding="utf-8")
    enveloped = tmp_path / "enveloped.json"
    enveloped.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    from_bare = _orderhub_map(bare, platform, tmp_path)
    from_envelope = _orderhub_map(enveloped, platform, tmp_path)
    assert from_bare == from_envelope
    # Without the shop's catalogue the SKUs stay unresolved; everything else is golden.
    for key in {*expected} - FROM_CATALOGUE - {"lines"}:
        assert from_envelope[key] == expected[key], key
    assert [
        {k: v for k, v in line.items() if k in LINE_FIELDS - {"sku", "pack"}}
        for line in from_envelope["lines"]
    ] == [{k: v for k, v in line.items() if k not in {"sku", "pack"}} for line in expected["lines"]]


def test_a_jd_order_whose_payment_time_is_jos_zero_time_has_none() -> None:
    """A cash-on-delivery order is listed before it is paid, with JOS's zero time."""
    raw, expected = _files("jd", "masked-bundle-pack")
    BARE["jd"](raw)["paymentConfirmTime"] = "0001-01-01 00:00:00"
    order = order_mapping("jd").map(raw, shop="JD1")
    assert order.paid_at is None
    assert order.placed_at.isoformat().replace("+00:00", "Z") == expected["placed_at"]
