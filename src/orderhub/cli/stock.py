"""Stock levels, ledger, counts and alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, err, open_hub, out, print_json

app = typer.Typer(no_args_is_help=True, help="Stock levels, ledger, counts and alerts.")


@app.command("show")
def stock_show(
    sku: Annotated[str | None, typer.Option(help="Only this SKU.")] = None,
    node: Annotated[str | None, typer.Option(help="Only this node.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Stock per node and SKU, and what each listing shows on its shop."""
    from orderhub.services.queries import stock_view

    hub = open_hub()
    view = stock_view(hub, sku=sku, node=node)
    hub.close()
    if json_out:
        print_json(view)
        return
    table = Table("node", "sku", "on hand", "reserved", "available")
    for row in view["levels"]:
        unlimited = "unlimited" if row["unlimited"] else None
        table.add_row(
            row["node"],
            row["sku"],
            unlimited or str(row["on_hand"]),
            str(row["reserved"]),
            unlimited or str(row["available"]),
        )
    for supplier in view["unlimited"]:
        carries = ", ".join(supplier["skus"]) or "every SKU"
        table.add_row(supplier["node"], carries, "unlimited", "-", "unlimited")
    out.print(table)
    listings = Table("listing", "shop", "channel sku", "sku", "shows", "last pushed")
    for row in view["listings"]:
        listings.add_row(
            str(row["listing_id"]),
            row["shop"],
            row["channel_sku"],
            row["sku"],
            str(row["available_to_sell"]),
            str(row["last_pushed"]),
        )
    out.print(listings)


# A negative delta ("-3") is an argument, not an unknown option.
@app.command("adjust", context_settings={"ignore_unknown_options": True})
def stock_adjust(
    node: Annotated[str, typer.Argument(help="Node code.")],
    sku: Annotated[str, typer.Argument(help="SKU.")],
    delta: Annotated[int, typer.Argument(help="Units to add (negative to remove).")],
    reason: Annotated[str, typer.Option(help="Why, for the ledger.")],
) -> None:
    """Change on-hand stock by hand; the ledger keeps the reason."""
    from orderhub.services.inventory import adjust_stock

    hub = open_hub()
    adjust_stock(hub, node, sku, delta, reason=reason)
    hub.close()
    out.print(f"{sku} at {node}: {delta:+d} ({reason})")


@app.command("import")
def stock_import(
    file: Annotated[Path, typer.Argument(help="Stocktake: CSV or Excel with sku, quantity.")],
    node: Annotated[str, typer.Option(help="The node that was counted.")],
    apply: Annotated[bool, typer.Option(help="Apply; without it only the preview.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Preview (or with --apply, apply) a stocktake: the differences from the hub's stock."""
    from orderhub.services.inventory import apply_stocktake, read_counts, stocktake_preview

    counts = read_counts(file)
    hub = open_hub()
    if apply:
        differences = apply_stocktake(hub, node, counts, reason=f"stocktake {file.name}")
    else:
        differences = stocktake_preview(hub, node, counts)
    hub.close()
    rows = [
        {"node": d.node, "sku": d.sku, "hub": d.hub, "counted": d.counted, "delta": d.delta}
        for d in differences
    ]
    if json_out:
        print_json({"applied": apply, "differences": rows})
        return
    table = Table("sku", "hub", "counted", "difference")
    for row in rows:
        table.add_row(str(row["sku"]), str(row["hub"]), str(row["counted"]), f"{row['delta']:+d}")
    out.print(table)
    out.print(
        f"{len(rows)} difference(s) " + ("applied" if apply else "(preview; --apply to apply)")
    )


@app.command("verify")
def stock_verify() -> None:
    """Prove every stock level equals the sum of its ledger; exits 1 if one does not."""
    from orderhub.services.queries import ledger_mismatches

    hub = open_hub()
    bad = ledger_mismatches(hub)
    hub.close()
    if bad:
        for node, sku, on_hand, ledger_on_hand, reserved, ledger_reserved in bad:
            err.print(
                f"{sku} at {node}: on hand {on_hand} vs ledger {ledger_on_hand}, "
                f"reserved {reserved} vs ledger {ledger_reserved}"
            )
        raise SystemExit(1)
    out.print("every stock level equals its ledger")


@app.command("reconcile")
def stock_reconcile(
    node: Annotated[str, typer.Argument(help="Node code.")],
    apply: Annotated[bool, typer.Option(help="Correct the hub; without it only report.")] = False,
) -> None:
    """Compare the hub's stock with the warehouse's own count (inventory.query)."""
    from orderhub.services.inventory import reconcile_node

    hub = open_hub()
    differences = reconcile_node(hub, node, apply=apply)
    hub.close()
    for d in differences:
        out.print(f"{d.sku}: hub {d.hub}, warehouse {d.counted} ({d.delta:+d})")
    out.print(f"{len(differences)} difference(s)" + (" corrected" if apply else ""))


@app.command("alerts")
def stock_alerts(json_out: JsonFlag = False) -> None:
    """Low stock and how much to reorder, from recent sales."""
    from dataclasses import asdict

    from orderhub.services.inventory import replenishment

    hub = open_hub()
    rows = replenishment(hub)
    hub.close()
    if json_out:
        print_json([asdict(r) for r in rows])
        return
    table = Table("node", "sku", "available", "sold/day", "days of cover", "reorder", "low")
    for r in rows:
        table.add_row(
            r.node,
            r.sku,
            str(r.available),
            str(r.daily_sales),
            "-" if r.days_of_cover is None else str(r.days_of_cover),
            str(r.suggested),
            "LOW" if r.low else "",
        )
    out.print(table)
