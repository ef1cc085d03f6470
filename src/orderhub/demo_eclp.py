"""A 京东云仓 (ECLP) department for the demo stack: node JDL1, configured as a seller
configures the real one (JOS app keys and token, department, warehouse, shop, ISV source),
stocking every demo SKU. ECLP calls nothing back: the hub polls it (`node.poll`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from orderhub.config import NodeConfig
from orderhub.sandbox.eclp import EclpEmulator
from orderhub.sandbox.server import RunningServer

__all__ = ["ECLP_NODE", "start_eclp", "stock_eclp"]

ECLP_NODE = "JDL1"
_SECRETS = ("app_secret", "access_token")


def start_eclp(
    serve: Callable[[Any], RunningServer], skus: Sequence[str]
) -> tuple[EclpEmulator, NodeConfig]:
    """The emulator, served, with the demo SKUs as its goods, and the node that reaches it."""
    emulator = EclpEmulator(seed=11)
    emulator.seed_goods([{"sku": sku, "name": f"Demo item {sku}"} for sku in skus])
    settings: dict[str, Any] = emulator.settings(serve(emulator.app).url)
    secrets = {name: str(settings.pop(name)) for name in _SECRETS}
    node = NodeConfig(
        code=ECLP_NODE,
        platform="eclp",
        name="京东云仓 (demo)",
        country="CN",
        province="广东",
        settings=settings,
        secrets=secrets,
    )
    return emulator, node


def stock_eclp(emulator: EclpEmulator, stock: Mapping[str, Mapping[str, int]]) -> None:
    """Put the opening stock the hub was given for JDL1 on the department's shelves too."""
    for sku, quantity in stock.get(ECLP_NODE, {}).items():
        emulator.set_stock(sku, quantity)
