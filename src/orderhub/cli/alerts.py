"""Alerts raised and digests sent."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json

app = typer.Typer(no_args_is_help=True, help="Alerts raised and digests sent.")


@app.command("list")
def alerts_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    unsent: Annotated[bool, typer.Option(help="Only those not sent yet.")] = False,
    limit: Annotated[int, typer.Option(help="How many.")] = 100,
    json_out: JsonFlag = False,
) -> None:
    """Alerts, most recently raised first, with how often each arose."""
    from orderhub.services.alerts import alert_list

    hub = open_hub()
    rows = alert_list(hub, kind=kind, unsent=unsent, limit=limit)
    hub.close()
    if json_out:
        print_json([r.__dict__ for r in rows])
        return
    table = Table("kind", "severity", "count", "first", "last", "sent", "message")
    for r in rows:
        table.add_row(
            r.kind,
            r.severity,
            str(r.count),
            r.first_at.isoformat(timespec="seconds"),
            r.last_at.isoformat(timespec="seconds"),
            f"{r.sent_via or 'sent'} at {r.sent_at:%Y-%m-%d %H:%M:%S} UTC" if r.sent_at else "",
            r.message,
        )
    out.print(table)
