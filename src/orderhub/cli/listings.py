"""What each shop sells, matched to our SKUs by merchant code."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, err, open_hub, out, print_json

app = typer.Typer(no_args_is_help=True, help="What each shop sells, matched to our SKUs.")


@app.command("pull")
def listings_pull(
    shop: Annotated[str, typer.Argument(help="The shop whose items to read.")],
    json_out: JsonFlag = False,
) -> None:
    """Read the shop's SKUs and list every one whose merchant code is one of ours; the
    rest are shown and kept (`listings unmatched`), to map or to add as SKUs."""
    from orderhub.services.listings import pull_listings

    hub = open_hub()
    try:
        result = pull_listings(hub, shop)
    finally:
        hub.close()
    unmatched = [
        {"channel_sku": i.channel_sku, "title": i.title, "platform_ref": i.platform_ref}
        for i in result.unmatched
    ]
    if json_out:
        print_json(
            {
                "shop": result.shop,
                "listed": result.listed,
                "created": result.created,
                "unmatched": unmatched,
            }
        )
        return
    out.print(
        f"{shop}: {len(result.created)} listed now, {len(result.listed)} already listed, "
        f"{len(unmatched)} not ours"
    )
    if unmatched:
        table = Table("merchant code", "title", "on the platform")
        for row in unmatched:
            table.add_row(row["channel_sku"], row["title"], row["platform_ref"])
        out.print(table)


@app.command("unmatched")
def listings_unmatched(
    shop: Annotated[str | None, typer.Argument(help="Only this shop's items.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """The items the last pull of each shop found that no listing maps: to map (a
    listing, e.g. by `listings import`) or to add as SKUs."""
    from orderhub.cli._common import seller_zone
    from orderhub.cli._format import when
    from orderhub.services.listings import unmatched_items

    hub = open_hub()
    try:
        items = unmatched_items(hub, None if shop is None else [shop])
    finally:
        hub.close()
    if json_out:
        print_json(
            [
                {
                    "shop": i.shop,
                    "channel_sku": i.channel_sku,
                    "title": i.title,
                    "platform_ref": i.platform_ref,
                    "first_seen": i.first_seen.isoformat(),
                    "last_seen": i.last_seen.isoformat(),
                }
                for i in items
            ]
        )
        return
    zone = seller_zone()
    table = Table("shop", "merchant code", "title", "on the platform", "first seen", "last seen")
    for i in items:
        table.add_row(
            i.shop,
            i.channel_sku,
            i.title,
            i.platform_ref,
            when(i.first_seen, zone),
            when(i.last_seen, zone),
        )
    out.print(table)
    out.print(f"{len(items)} item(s) no listing maps")


@app.command("export")
def listings_export(
    file: Annotated[Path, typer.Argument(help="The .xlsx file to write.")],
    shop: Annotated[str | None, typer.Option(help="Only this shop.")] = None,
) -> None:
    """Write every listing and every unmatched item to a spreadsheet (and the bundles,
    for reference): fill in our SKU, then `listings import` it."""
    from orderhub.services.listing_files import export_listings

    hub = open_hub()
    try:
        data = export_listings(hub, None if shop is None else [shop])
    finally:
        hub.close()
    file.write_bytes(data)
    out.print(f"written to {file}")


@app.command("import")
def listings_import(
    file: Annotated[Path, typer.Argument(help="A spreadsheet as `listings export` writes.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and show; change nothing.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Make each row with our SKU a listing of its shop (multiplier: units per one sold);
    a file with any bad row changes nothing, and every problem is named. Orders held
    for a code now mapped are replayed."""
    from orderhub.domain.errors import OrderhubError
    from orderhub.services.audit import cli_principal
    from orderhub.services.listing_files import import_listings
    from orderhub.services.listing_sheets import SheetRefused

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise OrderhubError(f"cannot read {file}: {exc.strerror}") from None
    hub = open_hub()
    try:
        result = import_listings(hub, data, actor=cli_principal(), dry_run=dry_run)
    except SheetRefused as refused:
        if json_out:
            print_json({"refused": [asdict(p) for p in refused.problems]})
        else:
            err.print(f"{file}: {len(refused.problems)} problem(s); nothing was changed:")
            for problem in refused.problems:
                err.print(f"  - {problem}")
        raise typer.Exit(2) from None
    finally:
        hub.close()
    if json_out:
        print_json(asdict(result))
        return
    table = Table("shop", "merchant code", "our SKU", "multiplier", "was")
    for c in result.changes:
        was = f"{c.before[0]} ×{c.before[1]}" if c.before else "new"
        table.add_row(c.shop, c.channel_sku, c.sku, str(c.multiplier), was)
    if result.changes:
        out.print(table)
    verb = "would be written (dry run)" if result.dry_run else "written"
    out.print(f"{len(result.changes)} listing(s) {verb}, {result.unchanged} unchanged")
    for r in result.replayed:
        out.print(f"order {r.order_id}: {r.outcome} ({r.status})")
    for exception_id, why in result.not_replayed:
        out.print(f"exception {exception_id} not replayed: {why}")
