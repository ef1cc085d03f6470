"""A seller maps a shop's items in a spreadsheet: pulled, exported, filled in, imported.

The shop is the Taobao emulator over HTTP; the stock the hub pushes after the import is
read back from it, and an order held for an unmapped code flows on once it is mapped.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from orderhub.config import SkuConfig
from orderhub.demo_stack import Stack
from orderhub.domain.access import Principal, Role
from orderhub.sandbox.taobao import TaobaoEmulator
from orderhub.services import queries
from orderhub.services.audit import list_entries
from orderhub.services.listing_files import export_listings, import_listings
from orderhub.services.listings import pull_listings, unmatched_items
from orderhub.services.setup import apply_config
from orderhub.services.sync import pull_orders
from support import wait_until

PERSON = Principal("li", Role.OPERATOR, via="test")


def taobao_stack(make_stack: Callable[..., Stack]) -> tuple[Stack, TaobaoEmulator]:
    """Shop TB1 selling our SKUs and three items the hub does not know: a 2-pack of
    SKU-001, a box that is our bundle BOX (1 × SKU-001 + 3 × SKU-002), and one alien."""
    stack = make_stack(shops=0, marketplaces=("taobao",), ship_delay=3600.0, stock=12)
    shop: TaobaoEmulator = stack.marketplaces["TB1"]
    shop.seed_items(
        [
            {"sku": "MUG-2PACK", "title": "Mug, two of them", "stock": 0},
            {"sku": "GIFT-BOX", "title": "Gift box", "stock": 0},
            {"sku": "ALIEN-1", "title": "Not ours", "stock": 3},
        ]
    )
    bundle = SkuConfig(sku="BOX", title="Mug and saucers", components={"SKU-001": 1, "SKU-002": 3})
    config = stack.hub_config.model_copy(update={"skus": [*stack.hub_config.skus, bundle]})
    apply_config(stack.hub, config)
    return stack, shop


def fill_in(data: bytes, our_skus: dict[str, tuple[str, int | None]]) -> bytes:
    """The exported workbook with our SKU (and multiplier) typed in, as a person would."""
    book = load_workbook(BytesIO(data))
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    code_at, sku_at, times_at = (
        header.index("merchant code"),
        header.index("our SKU"),
        header.index("multiplier"),
    )
    for row in sheet.iter_rows(min_row=2):
        wanted = our_skus.get(str(row[code_at].value))
        if wanted:
            row[sku_at].value, row[times_at].value = wanted
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def rows_of(data: bytes, sheet: int = 0) -> list[tuple[Any, ...]]:
    return list(load_workbook(BytesIO(data)).worksheets[sheet].iter_rows(values_only=True))


def test_a_spreadsheet_round_trip_maps_a_pack_and_a_bundle_and_their_stock_reaches_the_shop(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = taobao_stack(make_stack)
    pulled = pull_listings(stack.hub, "TB1")
    assert sorted(i.channel_sku for i in pulled.unmatched) == ["ALIEN-1", "GIFT-BOX", "MUG-2PACK"]
    kept = unmatched_items(stack.hub, ["TB1"])
    assert [(i.channel_sku, i.title) for i in kept] == [
        ("ALIEN-1", "Not ours"),
        ("GIFT-BOX", "Gift box"),
        ("MUG-2PACK", "Mug, two of them"),
    ]
    assert all(i.platform_ref and i.first_seen <= i.last_seen for i in kept)

    exported = export_listings(stack.hub)
    listed = rows_of(exported)
    assert listed[0] == ("shop", "merchant code", "title", "platform ids", "our SKU", "multiplier")
    by_code = {row[1]: row for row in listed[1:]}
    assert by_code["SKU-001"][4:] == ("SKU-001", 1)
    assert by_code["GIFT-BOX"][4:] == (None, None)  # unmatched: our SKU left blank
    assert rows_of(exported, 1)[1:] == [
        ("BOX", "Mug and saucers", "SKU-001", 1),
        ("BOX", "Mug and saucers", "SKU-002", 3),
    ]

    edited = fill_in(exported, {"MUG-2PACK": ("SKU-001", 2), "GIFT-BOX": ("BOX", None)})
    imported = import_listings(stack.hub, edited, actor=PERSON)

    assert sorted((c.channel_sku, c.sku, c.multiplier) for c in imported.changes) == [
        ("GIFT-BOX", "BOX", 1),
        ("MUG-2PACK", "SKU-001", 2),
    ]
    assert imported.unchanged == len(stack.sku_codes)
    # 12 units of SKU-001 make 6 two-packs; 12 of SKU-002 make 4 boxes of 3.
    wait_until(
        lambda: shop.stock().get("MUG-2PACK") == 6 and shop.stock().get("GIFT-BOX") == 4,
        what=lambda: f"the shop's stock {shop.stock()}",
    )
    assert [i.channel_sku for i in unmatched_items(stack.hub)] == ["ALIEN-1"]
    [entry] = list_entries(stack.hub, action="listings.import")
    assert (entry.actor, entry.target) == ("li", "shops:TB1")
    assert {(x["channel_sku"], x["sku"], x["x"]) for x in entry.after} == {
        ("GIFT-BOX", "BOX", 1),
        ("MUG-2PACK", "SKU-001", 2),
    }
    again = import_listings(stack.hub, edited, actor=PERSON)
    assert (again.changes, len(list_entries(stack.hub, action="listings.import"))) == ((), 1)
    # Another pull keeps the mapped items out of the list, and the alien in it.
    pull_listings(stack.hub, "TB1")
    assert [i.channel_sku for i in unmatched_items(stack.hub)] == ["ALIEN-1"]


def test_an_order_held_for_an_unmapped_code_is_replayed_by_the_import_that_maps_it(
    make_stack: Callable[..., Stack],
) -> None:
    stack, shop = taobao_stack(make_stack)
    pull_listings(stack.hub, "TB1")
    shop.place_order({"lines": [{"sku": "MUG-2PACK", "quantity": 1}]})
    pull_orders(stack.hub, "TB1")
    wait_until(lambda: bool(queries.exception_list(stack.hub)), what="the order to be held")
    [held] = queries.exception_list(stack.hub)
    assert held.code == "unknown_sku"

    edited = fill_in(export_listings(stack.hub, ["TB1"]), {"MUG-2PACK": ("SKU-001", 2)})
    imported = import_listings(stack.hub, edited, actor=PERSON)

    [replayed] = imported.replayed
    assert (replayed.exception_id, replayed.status) == (held.id, "reserved")
    assert queries.exception_list(stack.hub) == []
    order = queries.order_view(stack.hub, replayed.order_id or "")
    assert [(line.sku, line.pack) for line in order.lines] == [("SKU-001", 2)]
