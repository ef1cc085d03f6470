"""Outbound calls queued, retried or dead."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orderhub.cli._common import JsonFlag, open_hub, out, print_json
from orderhub.domain.errors import OrderhubError

app = typer.Typer(no_args_is_help=True, help="Outbound calls queued, retried or dead.")


@app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="pending, running, done or dead.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Outbox jobs, newest first."""
    from orderhub.services.queries import job_list

    hub = open_hub()
    rows = job_list(hub, status=status)
    hub.close()
    if json_out:
        print_json([r.__dict__ for r in rows])
        return
    table = Table("id", "kind", "status", "attempts", "order", "last error")
    for r in rows:
        table.add_row(
            str(r.id),
            r.kind,
            r.status,
            f"{r.attempts}/{r.max_attempts}",
            r.order_id or "",
            r.last_error or "",
        )
    out.print(table)


@app.command("retry")
def jobs_retry(job_id: Annotated[int, typer.Argument(help="A dead job's id.")]) -> None:
    """Queue a dead-lettered job again with fresh attempts."""
    from orderhub.services.queries import retry_job

    hub = open_hub()
    ok = retry_job(hub, job_id)
    hub.close()
    if not ok:
        raise OrderhubError(f"job {job_id} is not dead-lettered")
    out.print(f"job {job_id} queued again")
