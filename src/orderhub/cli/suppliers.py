"""Drop-ship suppliers and their sheets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, err, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Drop-ship suppliers and their sheets.")


@app.command("export")
def suppliers_export(
    node: Annotated[str, typer.Argument(help="The file supplier's node code.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the sheet.")],
    sheet_format: Annotated[
        str, typer.Option("--format", help="xlsx or csv (UTF-8 with BOM).")
    ] = "xlsx",
) -> None:
    """Write every purchase order not yet sent to the supplier as one sheet."""
    from orderhub.services.suppliers import export_sheet

    if sheet_format not in ("xlsx", "csv"):
        raise OrderhubError(f"--format must be xlsx or csv, not {sheet_format!r}")
    hub = open_hub()
    sheet = export_sheet(hub, node, fmt="csv" if sheet_format == "csv" else "xlsx")
    hub.close()
    out_file.write_bytes(sheet.data)
    out.print(f"{len(sheet.purchase_orders)} purchase order(s) for {node} written to {out_file}")
    if sheet.not_ready:
        out.print(
            f"{len(sheet.not_ready)} more wait for their merge window and go on a later sheet: "
            + ", ".join(sheet.not_ready[:5])
            + (" …" if len(sheet.not_ready) > 5 else "")
        )
    elif not sheet.purchase_orders:
        out.print(f"nothing is waiting for {node}: every purchase order went out on a sheet")


@app.command("import")
def suppliers_import(
    node: Annotated[str, typer.Argument(help="The file supplier's node code.")],
    file: Annotated[Path, typer.Argument(help="The sheet the supplier filled in.")],
    json_out: JsonFlag = False,
) -> None:
    """Read a supplier's sheet of carriers and tracking numbers; rows that cannot be used
    are listed and kept as exceptions."""
    from orderhub.services.suppliers import import_sheet

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise OrderhubError(f"cannot read {file}: {exc.strerror or exc}") from exc
    hub = open_hub()
    result = import_sheet(hub, node, data, file.name)
    hub.close()
    if json_out:
        print_json(result.__dict__)
        return
    if result.duplicate:
        out.print(f"{file} was imported before; nothing changed")
        return
    out.print(f"{result.parcels} parcel(s) for {len(result.orders)} order(s) from {node}")
    for problem in result.problems:
        err.print(problem)


@app.command("scores")
def suppliers_scores(json_out: JsonFlag = False) -> None:
    """How each supplier did in the last 30 days, and the share of orders it gets."""
    from orderhub.services.suppliers import supplier_views

    hub = open_hub()
    rows = supplier_views(hub)
    hub.close()
    if json_out:
        print_json([r.__dict__ for r in rows])
        return
    table = Table(
        "supplier", "POs", "acknowledged", "shipped", "failed", "ack h", "ship h", "score"
    )
    for r in rows:
        table.add_row(
            r.node,
            str(r.pushed),
            str(r.acknowledged),
            str(r.shipped),
            str(r.failed),
            "-" if r.ack_hours is None else f"{r.ack_hours:.1f}",
            "-" if r.ship_hours is None else f"{r.ship_hours:.1f}",
            "-" if r.score is None else f"{r.score:.2f}",
        )
    out.print(table)
