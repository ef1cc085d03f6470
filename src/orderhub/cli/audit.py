"""The audit log: every change and every reveal, by whom."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Who changed or saw what, and when.")


@app.command("list")
def audit_list(
    actor: Annotated[str | None, typer.Option(help="Only this person or token owner.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only actions starting so, e.g. user. or stock.adjust")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Only this target, e.g. order:ID.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO-8601 time.")] = None,
    before: Annotated[int | None, typer.Option(help="Entries older than this id (paging).")] = None,
    limit: Annotated[int, typer.Option(help="How many (at most 1000).")] = 100,
    json_out: JsonFlag = False,
) -> None:
    """Entries, newest first."""
    from orderhub.services.audit import list_entries

    moment = None
    if since:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError as exc:
            raise OrderhubError(f"--since {since!r} is not an ISO-8601 time") from exc
        if moment.tzinfo is None:
            raise OrderhubError(f"--since {since!r} needs a UTC offset, e.g. +08:00")
    hub = open_hub()
    rows = list_entries(
        hub, actor=actor, action=action, target=target, since=moment, before_id=before, limit=limit
    )
    hub.close()
    if json_out:
        print_json([{**r.__dict__, "at": r.at.isoformat()} for r in rows])
        return
    table = Table("id", "at", "actor", "via", "action", "target", "detail")
    for column in table.columns:
        column.overflow = "fold"
    for r in rows:
        table.add_row(
            str(r.id),
            r.at.isoformat(timespec="seconds"),
            r.actor,
            r.via,
            r.action,
            r.target,
            r.detail,
        )
    out.print(table)
