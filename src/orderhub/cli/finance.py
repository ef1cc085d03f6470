"""The money: reconcile what a shop shipped with what its platform paid."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Payment reconciliation.")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise OrderhubError(f"--date: {text!r} is not a day (YYYY-MM-DD)") from exc


@app.command("reconcile")
def finance_reconcile(
    shop: Annotated[str, typer.Option(help="The shop's code.")],
    day: Annotated[str, typer.Option("--date", help="The seller's day, YYYY-MM-DD.")],
    json_out: JsonFlag = False,
) -> None:
    """Pull the shop's statement and reconcile the day; run again after a late statement."""
    from orderhub.services.audit import cli_principal
    from orderhub.services.reconciliation import reconcile

    hub = open_hub()
    try:
        result = reconcile(hub, shop, _day(day), who=cli_principal())
    finally:
        hub.close()
    if json_out:
        print_json(result)
        return
    out.print(
        f"{shop} {day}: {result['shipped_orders']} order(s) shipped for {result['shipped_value']}; "
        f"received {result['received']}, fees {result['fees']}, refunds {result['refunds']}, "
        f"net {result['net']}"
    )
    table = Table(title=f"{result['differences']} difference(s)")
    for column in ("kind", "ref", "expected", "received", "status", "message"):
        table.add_column(column)
    for found in result["listed"]:
        table.add_row(
            *(
                str(found[c] or "")
                for c in ("kind", "ref", "expected", "received", "status", "message")
            )
        )
    out.print(table)


@app.command("settle")
def finance_settle(
    difference_id: Annotated[str, typer.Argument(help="The difference's id (d…).")],
    note: Annotated[str, typer.Option(help="What was found or done.")],
    keep_open: Annotated[
        bool, typer.Option("--note-only", help="Annotate, leave it open.")
    ] = False,
) -> None:
    """Note what was found about a difference and settle it (or only annotate it)."""
    from orderhub.services.audit import cli_principal
    from orderhub.services.reconciliation import resolve_difference

    hub = open_hub()
    try:
        done = resolve_difference(
            hub, difference_id, note=note, resolve=not keep_open, who=cli_principal()
        )
    finally:
        hub.close()
    out.print(f"difference {difference_id}: {done['status']}")
