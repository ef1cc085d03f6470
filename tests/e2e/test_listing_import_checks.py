"""A listings spreadsheet with anything wrong changes nothing and names every problem;
over HTTP a person limited to some shops exports and imports only those shops."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from orderhub.config import HubConfig, ListingConfig, SkuConfig
from orderhub.domain.access import Principal, Role
from orderhub.sandbox.server import RunningServer
from orderhub.services.audit import list_entries
from orderhub.services.hub import Hub
from orderhub.services.listing_files import import_listings
from orderhub.services.listing_sheets import SheetRefused
from orderhub.services.setup import apply_config
from support import (
    api_token,
    bearer,
    make_hub,
    offline_shop,
    offline_warehouse,
    run_orderhub,
)

OWNER = Principal("li", Role.OWNER, via="test")
HEADER = ("shop", "merchant code", "title", "platform ids", "our SKU", "multiplier")


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    h = make_hub(database_url)
    apply_config(
        h,
        HubConfig(
            shops=[offline_shop("S1"), offline_shop("S2")],
            nodes=[offline_warehouse("WH1")],
            skus=[SkuConfig(sku="SKU-1"), SkuConfig(sku="SKU-2")],
            listings=[ListingConfig(shop="S1", channel_sku="OLD", sku="SKU-1", multiplier=3)],
        ),
    )
    with h.uow() as uow:  # what a pull of each shop found
        uow.items.replace("S1", [("A-1", "Item A", "1/11"), ("OLD", "Old one", "1/12")])
        uow.items.replace("S2", [("B-1", "Item B", "2/21")])
        uow.commit()
    yield h
    h.close()


def workbook(*rows: tuple[Any, ...], header: tuple[str, ...] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Listings"
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def listings(hub: Hub) -> list[tuple[str, str, str, int]]:
    with hub.reader() as uow:
        return [(x.shop, x.channel_sku, x.sku, x.multiplier) for x in uow.catalog.listings()]


def test_a_file_with_bad_rows_is_refused_whole_naming_every_problem(hub: Hub) -> None:
    before = listings(hub)
    bad = workbook(
        ("S1", "A-1", "", "", "SKU-2", 2),  # fine, but not applied: other rows are bad
        ("S9", "X-1", "", "", "SKU-1", 1),  # unknown shop
        ("S1", "X-2", "", "", "NOPE", 1),  # unknown SKU
        ("S1", "X-3", "", "", "SKU-1", 0),  # multiplier below 1
        ("S1", "X-4", "", "", "SKU-1", 2.5),  # not whole
        ("S1", "X-5", "", "", "SKU-1", "two"),  # not a number
        ("S1", "A-1", "", "", "SKU-1", 1),  # the same merchant code again
        ("S2", "A-1", "", "", "SKU-1", 1),  # another shop may have the same code
    )
    with pytest.raises(SheetRefused) as refused:
        import_listings(hub, bad, actor=OWNER)

    assert [str(p) for p in refused.value.problems] == [
        "sheet 'Listings', row 3, column A (shop): 'S9' is not a shop of the hub",
        "sheet 'Listings', row 4, column E (our SKU): 'NOPE' is not one of our SKUs",
        "sheet 'Listings', row 5, column F (multiplier): '0' is not a whole number from 1 to 10000",
        "sheet 'Listings', row 6, column F (multiplier): '2.5' is not a whole number from 1 "
        "to 10000",
        "sheet 'Listings', row 7, column F (multiplier): 'two' is not a whole number from 1 "
        "to 10000",
        "sheet 'Listings', row 8, column B (merchant code): merchant code 'A-1' of shop 'S1' "
        "is also on row 2",
    ]
    assert listings(hub) == before
    assert list_entries(hub, action="listings.import") == []


def test_a_file_that_is_no_workbook_or_lacks_a_column_is_refused(hub: Hub) -> None:
    with pytest.raises(SheetRefused, match=r"not an \.xlsx workbook"):
        import_listings(hub, b"shop,merchant code\nS1,A-1\n", actor=OWNER)
    with pytest.raises(SheetRefused) as refused:
        import_listings(hub, workbook(("S1", "A-1"), header=("shop", "code")), actor=OWNER)
    assert [(p.row, p.column) for p in refused.value.problems] == [
        (1, "merchant code"),
        (1, "our SKU"),
    ]


def test_a_dry_run_shows_the_changes_and_makes_none(hub: Hub) -> None:
    before = listings(hub)
    result = import_listings(
        hub,
        workbook(("S1", "A-1", "", "", "SKU-2", None), ("S1", "OLD", "", "", "SKU-2", 3)),
        actor=OWNER,
        dry_run=True,
    )
    assert [(c.channel_sku, c.sku, c.multiplier, c.before) for c in result.changes] == [
        ("A-1", "SKU-2", 1, None),
        ("OLD", "SKU-2", 3, ("SKU-1", 3)),
    ]
    assert listings(hub) == before


def test_a_person_limited_to_one_shop_exports_and_imports_only_that_shop(
    hub: Hub, api: RunningServer
) -> None:
    scoped = bearer(api_token(hub, "operator", shops=("S1",)))
    with httpx.Client(base_url=api.url, headers=scoped) as client:
        unmatched = client.get("/api/v1/listings/unmatched").json()
        other = client.get("/api/v1/listings/unmatched", params={"shop": "S2"})
        exported = client.get("/api/v1/listings/export.xlsx")
        other_export = client.get("/api/v1/listings/export.xlsx", params={"shop": "S2"})
        theirs = client.post(
            "/api/v1/listings/import",
            files={"file": ("l.xlsx", workbook(("S2", "B-1", "", "", "SKU-1", 1)))},
        )
        listed_before = listings(hub)
        mine = client.post(
            "/api/v1/listings/import",
            content=workbook(("S1", "A-1", "Item A", "1/11", "SKU-2", 2)),
        )
        after = client.get("/api/v1/listings/unmatched").json()

    assert [(i["shop"], i["channel_sku"], i["title"]) for i in unmatched] == [
        ("S1", "A-1", "Item A")
    ]
    assert other.status_code == other_export.status_code == 403
    rows = list(load_workbook(BytesIO(exported.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1:] == [
        ("S1", "A-1", "Item A", "1/11", None, None),
        ("S1", "OLD", "Old one", "1/12", "SKU-1", 3),
    ]
    assert theirs.status_code == 422
    assert theirs.json()["problems"] == [
        {"sheet": "Listings", "row": 2, "column": "A (shop)", "message": "'S2' is not one of yours"}
    ]
    assert listed_before == [("S1", "OLD", "SKU-1", 3)]
    assert mine.status_code == 200, mine.text
    assert [(c["channel_sku"], c["sku"], c["multiplier"]) for c in mine.json()["changes"]] == [
        ("A-1", "SKU-2", 2)
    ]
    assert ("S1", "A-1", "SKU-2", 2) in listings(hub)
    assert after == []
    [entry] = list_entries(hub, action="listings.import")
    assert entry.actor.startswith("operator-")


def test_an_import_body_larger_than_allowed_is_refused_unread(hub: Hub, api: RunningServer) -> None:
    owner = bearer(api_token(hub, "owner"))
    big = b"x" * (hub.settings.max_body_bytes + 1)
    answer = httpx.post(f"{api.url}/api/v1/listings/import", content=big, headers=owner)
    assert answer.status_code == 413
    viewer = bearer(api_token(hub, "viewer"))
    refused = httpx.post(f"{api.url}/api/v1/listings/import", content=workbook(), headers=viewer)
    assert refused.status_code == 403


def test_the_command_line_lists_exports_and_imports_audited_as_the_person(
    hub: Hub, database_url: str, tmp_path: Path
) -> None:
    unmatched = run_orderhub(database_url, "listings", "unmatched", "S1", "--json")
    assert [i["channel_sku"] for i in json.loads(unmatched.stdout)] == ["A-1"], unmatched.stderr
    sheet = tmp_path / "listings.xlsx"
    assert (
        run_orderhub(database_url, "listings", "export", str(sheet), "--shop", "S1").returncode == 0
    )
    book = load_workbook(sheet)
    book.worksheets[0]["E2"], book.worksheets[0]["F2"] = "SKU-9", "x"
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    refused = run_orderhub(database_url, "listings", "import", str(bad))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.splitlines()[1:] == [
        "  - sheet 'Listings', row 2, column E (our SKU): 'SKU-9' is not one of our SKUs",
        "  - sheet 'Listings', row 2, column F (multiplier): 'x' is not a whole number from 1 "
        "to 10000",
    ]
    book.worksheets[0]["E2"], book.worksheets[0]["F2"] = "SKU-2", 4
    book.save(sheet)
    dry = run_orderhub(database_url, "listings", "import", str(sheet), "--dry-run")
    assert "1 listing(s) would be written (dry run)" in dry.stdout, dry.stderr
    assert ("S1", "A-1", "SKU-2", 4) not in listings(hub)
    done = run_orderhub(database_url, "listings", "import", str(sheet))
    assert "1 listing(s) written, 1 unchanged" in done.stdout, done.stderr
    assert ("S1", "A-1", "SKU-2", 4) in listings(hub)
    left = json.loads(run_orderhub(database_url, "listings", "unmatched", "--json").stdout)
    assert [(i["shop"], i["channel_sku"]) for i in left] == [("S2", "B-1")]
    entries = list_entries(hub)
    assert [e.action for e in entries if e.actor.startswith("cli:")] == ["listings.import"]
