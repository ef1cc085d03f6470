"""Reports a manager opens: sales, fulfilment, exceptions, stock, suppliers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Reports: sales, fulfilment, stock, suppliers.")

Day = Annotated[str | None, typer.Option(help="A day, YYYY-MM-DD (the last 30 days by default).")]


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise OrderhubError(f"{option}: {text!r} is not a day (YYYY-MM-DD)") from exc


@app.command("show")
def reports_show(
    name: Annotated[str, typer.Argument(help="sales, fulfilment, exceptions, stock or suppliers")],
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    by: Annotated[
        list[str] | None, typer.Option("--by", help="day, shop, sku or node; repeat to nest.")
    ] = None,
    days: Annotated[int, typer.Option(help="For stock: the days of sales to weigh.")] = 30,
    fmt: Annotated[
        str, typer.Option("--format", help="table, json, csv or xlsx (csv and xlsx need --out).")
    ] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the file here.")] = None,
) -> None:
    """Print a report, or write it as CSV or Excel."""
    from orderhub.services.audit import cli_principal
    from orderhub.services.report_files import report_csv, report_xlsx
    from orderhub.services.reports import report

    if fmt not in ("table", "json", "csv", "xlsx"):
        raise OrderhubError(f"--format must be table, json, csv or xlsx, not {fmt!r}")
    if fmt in ("csv", "xlsx") and out_file is None:
        raise OrderhubError(f"--format {fmt} writes a file: give --out")
    hub = open_hub()
    try:
        found = report(
            hub,
            name,
            who=cli_principal(),
            start=_day(start, "--from"),
            end=_day(end, "--to"),
            by=by or ["day"],
            days=days,
        )
    finally:
        hub.close()
    if fmt == "json":
        print_json(found.as_dict())
        return
    if out_file is not None:
        out_file.write_bytes(report_csv(found) if fmt == "csv" else report_xlsx(found))
        out.print(f"{found.name}: {len(found.rows)} row(s) written to {out_file}")
        return
    table = Table(title=f"{found.name} {found.start or ''} – {found.end or ''}")
    for column in found.columns:
        table.add_column(
            column,
            justify="left"
            if column in ("day", "shop", "sku", "node", "code", "supplier")
            else "right",
        )
    for row in found.as_dict()["rows"]:
        table.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in found.columns])
    out.print(table)
    for note in found.notes:
        out.print(f"[dim]{note}[/dim]")
