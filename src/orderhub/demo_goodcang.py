"""A 谷仓 (GoodCang) overseas warehouse for the demo stack: node GC-UK1 in Great Britain,
configured as a seller configures the real one (app token and key, warehouse UKLH, a
shipping method for every destination abroad), stocking every demo SKU. GoodCang calls
nothing back: the hub polls it (`node.poll`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from orderhub.config import NodeConfig
from orderhub.domain.customs import NodeCustoms
from orderhub.sandbox.goodcang import GoodCangEmulator
from orderhub.sandbox.server import RunningServer

__all__ = ["GOODCANG_METHOD", "GOODCANG_NODE", "start_goodcang", "stock_goodcang"]

GOODCANG_NODE = "GC-UK1"
GOODCANG_METHOD = "DPD-CLASSIC"
_SECRETS = ("app_token", "app_key")


def start_goodcang(
    serve: Callable[[Any], RunningServer], skus: Sequence[str]
) -> tuple[GoodCangEmulator, NodeConfig]:
    """The emulator, served, with the demo SKUs as its products, and the node that reaches it."""
    emulator = GoodCangEmulator(seed=13)
    emulator.seed_products([{"sku": sku, "name": f"Demo item {sku}"} for sku in skus])
    settings: dict[str, Any] = emulator.settings(serve(emulator.app).url)
    secrets = {name: str(settings.pop(name)) for name in _SECRETS}
    node = NodeConfig(
        code=GOODCANG_NODE,
        platform="goodcang",
        name="谷仓 UK (demo)",
        country="GB",
        customs=NodeCustoms(shipping_methods={"*": GOODCANG_METHOD}),
        settings=settings,
        secrets=secrets,
    )
    return emulator, node


def stock_goodcang(emulator: GoodCangEmulator, stock: Mapping[str, Mapping[str, int]]) -> None:
    """Put the opening stock the hub was given for GC-UK1 on the warehouse's shelves too."""
    for sku, quantity in stock.get(GOODCANG_NODE, {}).items():
        emulator.set_stock(sku, quantity)
