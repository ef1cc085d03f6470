"""The demo's cross-border seller (`orderhub demo --channels all`): every platform sells
one stock; Amazon's US orders ship from the 4PX warehouse in Los Angeles, the Chinese
shops' and the own sites' from the Hangzhou cloud warehouse; every SKU declares what a
parcel abroad needs, and the shops carry the seller's IOSS and UK VAT numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orderhub.config import SkuConfig
from orderhub.demo_fourpx import FOURPX_NODE
from orderhub.domain.customs import ShopCustoms

__all__ = ["DEMO_TAX_NUMBERS", "cross_border_options", "demo_skus"]

HOME_NODE = "WH1"
ABROAD = ("AMAZON",)
"""Shops whose buyers the overseas warehouse serves."""

DEMO_TAX_NUMBERS = ShopCustoms(ioss_number="IM2760000001", vat_numbers={"GB": "GB123456789"})
"""The seller's tax numbers in the demo, so parcels to the EU and the UK clear."""


def demo_skus(codes: Sequence[str], *, customs: bool) -> list[SkuConfig]:
    """The demo's SKUs; with `customs`, each declares what a parcel abroad needs."""
    if not customs:
        return [SkuConfig(sku=code, title=f"Demo item {code}") for code in codes]
    return [
        SkuConfig(
            sku=code,
            title=f"Demo item {code}",
            hs_code="610910",
            customs_description="Cotton T-shirt",
            origin_country="CN",
        )
        for code in codes
    ]


def cross_border_options(skus: Sequence[str], stock: int) -> dict[str, Any]:
    """StackOptions for the cross-border seller: the overseas warehouse shipping by
    itself, which shop ships from where, and the same opening stock at both nodes."""
    return {
        "fourpx": True,
        "fourpx_ship_after": 1.0,
        "customs": True,
        "shop_nodes": {
            "*": [HOME_NODE],
            **{code: [FOURPX_NODE] for code in ABROAD},
        },
        "stock_by_node": {node: {sku: stock for sku in skus} for node in (HOME_NODE, FOURPX_NODE)},
    }
