"""A 4PX 递四方 overseas warehouse for the demo stack: node 4PX-US1 in Los Angeles
(USLAXA), configured as a seller configures the real one (app key and secret, warehouse
code, default logistics product), stocking every demo SKU. Parcels to the US are
domestic; anywhere else crosses a border and declares customs. 4PX calls nothing back:
the hub polls it (`node.poll`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from orderhub.config import NodeConfig
from orderhub.domain.customs import NodeCustoms
from orderhub.sandbox.fourpx import FourpxEmulator
from orderhub.sandbox.server import RunningServer

__all__ = ["FOURPX_NODE", "FOURPX_PRODUCT", "start_fourpx", "stock_fourpx"]

FOURPX_NODE = "4PX-US1"
FOURPX_PRODUCT = "F152"
"""The logistics product every destination ships with in the demo."""


def start_fourpx(
    serve: Callable[[Any], RunningServer], skus: Sequence[str], *, ship_after: float | None = None
) -> tuple[FourpxEmulator, NodeConfig]:
    """The emulator, served, with the demo SKUs, and the node that reaches it; with
    `ship_after`, its staff ship each order whole that many seconds after it arrives."""
    emulator = FourpxEmulator(warehouses={"USLAXA": "US"}, seed=17, ship_after=ship_after)
    emulator.seed_skus([{"sku": sku, "name": f"Demo item {sku}"} for sku in skus])
    settings: dict[str, Any] = emulator.settings(serve(emulator.app).url)
    secrets = {"app_secret": str(settings.pop("app_secret"))}
    node = NodeConfig(
        code=FOURPX_NODE,
        platform="fourpx",
        name="4PX Los Angeles (demo)",
        country="US",
        province="CA",
        customs=NodeCustoms(shipping_methods={"*": FOURPX_PRODUCT}),
        settings=settings,
        secrets=secrets,
    )
    return emulator, node


def stock_fourpx(emulator: FourpxEmulator, stock: Mapping[str, Mapping[str, int]]) -> None:
    """Put the opening stock the hub was given for 4PX-US1 on the warehouse's shelves too."""
    for sku, quantity in stock.get(FOURPX_NODE, {}).items():
        emulator.set_stock(sku, quantity)
