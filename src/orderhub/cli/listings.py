"""What each shop sells, matched to our SKUs by merchant code."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json

app = typer.Typer(no_args_is_help=True, help="What each shop sells, matched to our SKUs.")


@app.command("pull")
def listings_pull(
    shop: Annotated[str, typer.Argument(help="The shop whose items to read.")],
    json_out: JsonFlag = False,
) -> None:
    """Read the shop's SKUs and list every one whose merchant code is one of ours; the
    rest are shown, to map (a listing in the configuration) or to add as SKUs."""
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
